-- The agent accepts a conversation offered to them. $1 business, $2 agent, $3 conversation.
UPDATE conversations
SET status = 'assigned', assigned_at = now(), offer_expires_at = NULL
WHERE business_id = $1::bigint AND id = $3::bigint AND agent_id = $2::bigint AND status = 'offered'
RETURNING id
