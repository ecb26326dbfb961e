-- Creates or replaces a product. $1: {business_id, sku, name, stock, price_cents, currency}.
WITH p AS (SELECT $1::json AS j),
r AS (
  INSERT INTO products (business_id, sku, name, stock, price_cents, currency)
  SELECT (j ->> 'business_id')::bigint, j ->> 'sku', j ->> 'name', (j ->> 'stock')::int,
         (j ->> 'price_cents')::bigint, j ->> 'currency'
  FROM p
  ON CONFLICT (business_id, sku) DO UPDATE
    SET name = EXCLUDED.name, stock = EXCLUDED.stock, price_cents = EXCLUDED.price_cents,
        currency = EXCLUDED.currency, active = true, updated_at = now()
  RETURNING *
)
SELECT json_build_object('sku', sku, 'name', name, 'stock', stock, 'price_cents', price_cents,
                         'currency', currency, 'updated_at', sb_iso(updated_at))::text
FROM r
