-- A page of a business's agents by id. $1: {business_id, after, limit}; one row more than limit.
SELECT a.id::text, sb_agent_json(a)::text
FROM agents a
WHERE a.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR a.id > ($1::json ->> 'after')::bigint)
ORDER BY a.id
LIMIT ($1::json ->> 'limit')::int + 1
