-- Takes the oldest conversation waiting in one of the agent's queues (or in
-- queue $3 when given). $1: business, $2: agent, $3: queue id or NULL.
WITH c AS (
  SELECT v.business_id, v.id FROM conversations v
  WHERE v.business_id = $1::bigint AND v.status = 'waiting'
    AND v.queue_id IN (SELECT queue_id FROM agent_queues WHERE business_id = $1::bigint AND agent_id = $2::bigint)
    AND ($3::bigint IS NULL OR v.queue_id = $3::bigint)
  ORDER BY v.waiting_since, v.id
  LIMIT 1
  FOR UPDATE OF v SKIP LOCKED
)
UPDATE conversations v
SET status = 'assigned', agent_id = $2::bigint, assigned_at = now(), waiting_since = NULL,
    offered_at = NULL, offer_expires_at = NULL
FROM c WHERE v.business_id = c.business_id AND v.id = c.id
RETURNING v.id
