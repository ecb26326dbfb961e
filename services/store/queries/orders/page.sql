-- A page of a business's orders by reference. $1: {business_id, after, limit}; one row more than limit.
SELECT o.order_ref, sb_order_json(o)::text
FROM orders o
WHERE o.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR o.order_ref > $1::json ->> 'after')
ORDER BY o.order_ref
LIMIT ($1::json ->> 'limit')::int + 1
