-- The kept file of message $2 of business $1: content type and bytes.
SELECT content_type, bytes
FROM message_media
WHERE business_id = $1::bigint AND message_id = $2::bigint AND state = 'kept'
