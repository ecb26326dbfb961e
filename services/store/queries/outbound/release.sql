-- Gives a claimed reply back unsent (the sender is stopping, or its lease is
-- nearly over): due at once, and the attempt it never made is not counted.
-- $1: business id, $2: message id.
UPDATE messages
SET next_attempt_at = now(), attempts = GREATEST(attempts - 1, 0)
WHERE business_id = $1::bigint AND id = $2::bigint AND direction = 'out' AND status = 'queued'
RETURNING id
