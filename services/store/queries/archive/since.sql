-- Archived bodies received at or after $1, oldest first, a page at a time.
-- $1: {since, after_received_at, after_id, limit}.
SELECT business_id, id, received_at::text, kind, body
FROM webhook_archive
WHERE received_at >= ($1::json ->> 'since')::timestamptz
  AND (($1::json ->> 'after_id') IS NULL
       OR (received_at, id) > (($1::json ->> 'after_received_at')::timestamptz, ($1::json ->> 'after_id')::bigint))
ORDER BY received_at, id
LIMIT ($1::json ->> 'limit')::int
