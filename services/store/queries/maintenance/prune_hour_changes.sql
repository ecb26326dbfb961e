-- Notes of changes to hours whose conversation figures are not stored
-- (conversation_hour_changes without a conversation_hour_metrics row) mean
-- nothing: such an hour is computed from the rows when it is first stored.
-- Only notes older than an hour go, so none is deleted that a summary
-- storing that hour right now from an older snapshot would still need (no
-- transaction lives that long).
DELETE FROM conversation_hour_changes x
WHERE x.noted_at < now() - interval '1 hour'
  AND NOT EXISTS (SELECT 1 FROM conversation_hour_metrics c WHERE c.business_id = x.business_id AND c.hour = x.hour)
