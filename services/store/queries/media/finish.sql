-- Ends the fetch of message $2 of business $1 without a file: state $3
-- ('failed', 'too_large' or 'refused'), why $4. Nothing is kept.
UPDATE message_media
SET state = $3, error = $4, bytes = NULL, fetched_at = now()
WHERE business_id = $1::bigint AND message_id = $2::bigint AND state = 'pending'
RETURNING 1
