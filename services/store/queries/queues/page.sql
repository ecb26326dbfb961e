-- A page of a business's queues by id. $1: {business_id, after, limit}; one row more than limit.
SELECT q.id::text, sb_queue_json(q)::text
FROM queues q
WHERE q.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR q.id > ($1::json ->> 'after')::bigint)
ORDER BY q.id
LIMIT ($1::json ->> 'limit')::int + 1
