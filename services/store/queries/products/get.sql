-- One product of a business. $1: business id, $2: SKU.
SELECT sb_product_json(p)::text FROM products p WHERE p.business_id = $1::bigint AND p.sku = $2
