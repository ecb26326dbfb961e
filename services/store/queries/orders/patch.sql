-- Changes an order: absent keys keep their value, null clears a nullable one.
-- $1: {business_id, order_ref, customer_external_id?, customer_phone?, status?, carrier?, tracking_url?,
--      eta?, total_cents?, currency?, active?}.
WITH p AS (SELECT $1::jsonb AS j),
u AS (
  UPDATE orders o
  SET customer_external_id = CASE WHEN j ? 'customer_external_id' THEN j ->> 'customer_external_id'
                                  ELSE o.customer_external_id END,
      customer_phone = CASE WHEN j ? 'customer_phone' THEN j ->> 'customer_phone' ELSE o.customer_phone END,
      status = COALESCE(j ->> 'status', o.status),
      carrier = CASE WHEN j ? 'carrier' THEN j ->> 'carrier' ELSE o.carrier END,
      tracking_url = CASE WHEN j ? 'tracking_url' THEN j ->> 'tracking_url' ELSE o.tracking_url END,
      eta = CASE WHEN j ? 'eta' THEN j ->> 'eta' ELSE o.eta END,
      total_cents = COALESCE((j ->> 'total_cents')::bigint, o.total_cents),
      currency = COALESCE(j ->> 'currency', o.currency),
      active = COALESCE((j ->> 'active')::boolean, o.active),
      updated_at = now()
  FROM p
  WHERE o.business_id = (j ->> 'business_id')::bigint AND o.order_ref = j ->> 'order_ref'
  RETURNING o.*
)
SELECT sb_order_json(ROW(u.*)::orders)::text FROM u
