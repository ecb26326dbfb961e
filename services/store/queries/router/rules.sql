-- The routing rules of the businesses in $1 (JSON array of ids).
SELECT business_id, version, default_queue_id, rules::text
FROM routing_rules
WHERE business_id IN (SELECT (json_array_elements_text($1::json))::bigint)
