-- Statuses for ids no send recorded within 24 h are dropped.
DELETE FROM pending_statuses WHERE received_at < now() - interval '24 hours'
