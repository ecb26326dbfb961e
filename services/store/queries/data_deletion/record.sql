-- Records a completed data-deletion request. $1: confirmation code, $2: contacts erased.
INSERT INTO data_deletion_requests (confirmation_code, contacts, completed_at) VALUES ($1, $2::int, now())
