-- The fetched file of message $2 of business $1: content type $3, bytes $4.
-- Only a row still pending (erasure may have deleted it meanwhile).
UPDATE message_media
SET state = 'kept', content_type = $3, bytes = $4::bytea, size = octet_length($4::bytea), error = NULL,
    fetched_at = now()
WHERE business_id = $1::bigint AND message_id = $2::bigint AND state = 'pending'
RETURNING size
