-- Which of the ids in $2 (a JSON array) are active queues of business $1
-- (a deactivated queue takes no new conversations, agents or rules).
SELECT id FROM queues
WHERE business_id = $1::bigint AND active AND id IN (SELECT (json_array_elements_text($2::json))::bigint)
