-- Hands a conversation to agent $3 directly (capacity is not checked: the
-- transfer was asked for). $1 business, $2 conversation.
UPDATE conversations v
SET status = 'assigned', agent_id = a.id, assigned_at = now(), offered_at = NULL, offer_expires_at = NULL,
    waiting_since = NULL
FROM agents a
WHERE v.business_id = $1::bigint AND v.id = $2::bigint AND v.status <> 'resolved'
  AND a.business_id = $1::bigint AND a.id = $3::bigint AND a.active
RETURNING v.id
