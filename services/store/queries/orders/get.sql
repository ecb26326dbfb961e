-- One order of a business. $1: business id, $2: order reference.
SELECT sb_order_json(o)::text FROM orders o WHERE o.business_id = $1::bigint AND o.order_ref = $2
