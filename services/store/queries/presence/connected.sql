-- Agent $2 of business $1 opened a stream: seen now, and the status they chose
-- is back when the lack of a stream had made them away. Returns whether they
-- are online again because of it.
WITH before AS (
  SELECT away_without_stream FROM agents WHERE business_id = $1::bigint AND id = $2::bigint FOR UPDATE
)
UPDATE agents a
SET stream_seen_at = now(),
    status = CASE WHEN a.away_without_stream THEN a.chosen_status ELSE a.status END,
    status_changed_at = CASE WHEN a.away_without_stream THEN now() ELSE a.status_changed_at END,
    away_without_stream = false
FROM before
WHERE a.business_id = $1::bigint AND a.id = $2::bigint
RETURNING before.away_without_stream AND a.status = 'online'
