-- A fetch of message $2 of business $1 failed ($4): due again $3 milliseconds from now.
UPDATE message_media
SET next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0), error = $4
WHERE business_id = $1::bigint AND message_id = $2::bigint AND state = 'pending'
RETURNING 1
