-- Creates or replaces an order. $1: {business_id, order_ref, customer_external_id, customer_phone,
-- status, carrier, tracking_url, eta, total_cents, currency}.
WITH p AS (SELECT $1::json AS j),
o AS (
  INSERT INTO orders (business_id, order_ref, customer_external_id, customer_phone, status, carrier, tracking_url,
                      eta, total_cents, currency)
  SELECT (j ->> 'business_id')::bigint, j ->> 'order_ref', j ->> 'customer_external_id', j ->> 'customer_phone',
         j ->> 'status', j ->> 'carrier', j ->> 'tracking_url', j ->> 'eta', (j ->> 'total_cents')::bigint,
         j ->> 'currency'
  FROM p
  ON CONFLICT (business_id, order_ref) DO UPDATE
    SET customer_external_id = EXCLUDED.customer_external_id, customer_phone = EXCLUDED.customer_phone,
        status = EXCLUDED.status, carrier = EXCLUDED.carrier, tracking_url = EXCLUDED.tracking_url,
        eta = EXCLUDED.eta, total_cents = EXCLUDED.total_cents, currency = EXCLUDED.currency, active = true, updated_at = now()
  RETURNING *
)
SELECT json_build_object('order_ref', order_ref, 'customer_external_id', customer_external_id,
                         'customer_phone', customer_phone, 'status', status, 'carrier', carrier,
                         'tracking_url', tracking_url, 'eta', eta, 'total_cents', total_cents, 'currency', currency,
                         'updated_at', sb_iso(updated_at))::text
FROM o
