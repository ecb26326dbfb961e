-- The agent declines an offer: it waits again, remembering who declined.
UPDATE conversations
SET status = 'waiting', agent_id = NULL, offered_at = NULL, offer_expires_at = NULL,
    declined_by = array_append(declined_by, $2::bigint), waiting_since = COALESCE(waiting_since, now())
WHERE business_id = $1::bigint AND id = $3::bigint AND agent_id = $2::bigint AND status = 'offered'
RETURNING id
