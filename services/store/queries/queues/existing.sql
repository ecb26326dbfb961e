-- Which of the ids in $2 (a JSON array) are queues of business $1.
SELECT id FROM queues
WHERE business_id = $1::bigint AND id IN (SELECT (json_array_elements_text($2::json))::bigint)
