-- Replaces an agent's queues. $1: business id, $2: agent id, $3: JSON array of queue ids (checked by the caller).
WITH wanted AS (SELECT (json_array_elements_text($3::json))::bigint AS queue_id),
gone AS (
  DELETE FROM agent_queues
  WHERE business_id = $1::bigint AND agent_id = $2::bigint AND queue_id NOT IN (SELECT queue_id FROM wanted)
)
INSERT INTO agent_queues (business_id, agent_id, queue_id)
SELECT $1::bigint, $2::bigint, queue_id FROM wanted
ON CONFLICT DO NOTHING
