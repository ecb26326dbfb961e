-- Changes a product: absent keys keep their value. $1: {business_id, sku, name?, stock?, price_cents?,
-- currency?, active?}.
WITH p AS (SELECT $1::jsonb AS j),
u AS (
  UPDATE products r
  SET name = COALESCE(j ->> 'name', r.name),
      stock = COALESCE((j ->> 'stock')::int, r.stock),
      price_cents = COALESCE((j ->> 'price_cents')::bigint, r.price_cents),
      currency = COALESCE(j ->> 'currency', r.currency),
      active = COALESCE((j ->> 'active')::boolean, r.active),
      updated_at = now()
  FROM p
  WHERE r.business_id = (j ->> 'business_id')::bigint AND r.sku = j ->> 'sku'
  RETURNING r.*
)
SELECT sb_product_json(ROW(u.*)::products)::text FROM u
