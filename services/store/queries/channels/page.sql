-- A page of a business's channels by id, secrets never included.
-- $1: {business_id, after (id cursor), limit}, $2: public URL; one row more than limit.
SELECT c.id::text, sb_channel_json(c, $2)::text
FROM channels c
WHERE c.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR c.id > ($1::json ->> 'after')::bigint)
ORDER BY c.id
LIMIT ($1::json ->> 'limit')::int + 1
