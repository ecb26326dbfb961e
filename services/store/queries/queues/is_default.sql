-- Is queue $2 the default queue of business $1's routing?
SELECT 1 FROM routing_rules WHERE business_id = $1::bigint AND default_queue_id = $2::bigint
