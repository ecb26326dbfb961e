-- A page of a business's conversations, newest first.
-- $1: {business_id, status, queue_id, before (id cursor), limit}; one row more than limit.
SELECT v.id, sb_conversation_json(v)::text
FROM conversations v
WHERE v.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'status' IS NULL OR v.status = $1::json ->> 'status')
  AND ($1::json ->> 'queue_id' IS NULL OR v.queue_id = ($1::json ->> 'queue_id')::bigint)
  AND ($1::json ->> 'before' IS NULL OR v.id < ($1::json ->> 'before')::bigint)
ORDER BY v.id DESC
LIMIT ($1::json ->> 'limit')::int + 1
