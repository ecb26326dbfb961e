-- A business's products, for the in_stock bot to match against.
SELECT sku, name, stock, price_cents, currency FROM products WHERE business_id = $1::bigint AND active ORDER BY sku LIMIT 5000
