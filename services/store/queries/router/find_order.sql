-- The order a bot talks about: by reference when the customer gave one,
-- else the contact's most recent order (by channel id or phone).
-- $1: business id, $2: order ref or NULL, $3: contact external id, $4: contact phone or NULL.
SELECT order_ref, status, carrier, tracking_url, eta
FROM orders
WHERE business_id = $1::bigint AND active
  AND (CASE WHEN $2::text IS NOT NULL THEN order_ref = $2::text
            ELSE customer_external_id = $3::text OR customer_phone = $4::text END)
ORDER BY updated_at DESC
LIMIT 1
