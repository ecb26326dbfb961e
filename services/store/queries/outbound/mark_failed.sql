-- A reply that will not be sent: the provider refused it or retries ran out.
-- $1: business id, $2: message id, $3: error.
UPDATE messages
SET status = 'failed', error = $3::text, next_attempt_at = NULL
WHERE business_id = $1::bigint AND id = $2::bigint AND direction = 'out' AND status = 'queued'
RETURNING id
