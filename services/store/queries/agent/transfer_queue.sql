-- Sends a conversation back to a queue. $1 business, $2 conversation, $3 queue.
UPDATE conversations
SET status = 'waiting', queue_id = $3::bigint, agent_id = NULL, assigned_at = NULL, offered_at = NULL,
    offer_expires_at = NULL, waiting_since = now(), declined_by = '{}'
WHERE business_id = $1::bigint AND id = $2::bigint AND status <> 'resolved'
RETURNING id
