-- Gives claimed attachment $2 of business $1 back unfetched (its fetcher is
-- stopping): due at once, the attempt uncounted.
UPDATE message_media
SET next_attempt_at = now(), attempts = GREATEST(attempts - 1, 0)
WHERE business_id = $1::bigint AND message_id = $2::bigint AND state = 'pending'
RETURNING 1
