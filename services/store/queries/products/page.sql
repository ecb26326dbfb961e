-- A page of a business's products by SKU. $1: {business_id, after, limit}; one row more than limit.
SELECT p.sku, sb_product_json(p)::text
FROM products p
WHERE p.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR p.sku > $1::json ->> 'after')
ORDER BY p.sku
LIMIT ($1::json ->> 'limit')::int + 1
