-- Resolves a conversation. $1 business, $2 conversation, $3 outcome, $4 amount, $5 currency.
-- The contact remembers the agent, who gets them first when they return.
WITH v AS (
  UPDATE conversations
  SET status = 'resolved', resolved_at = now(), outcome = $3, amount_cents = $4::bigint, currency = $5,
      offer_expires_at = NULL, sla_due_at = NULL, waiting_since = NULL
  WHERE business_id = $1::bigint AND id = $2::bigint AND status <> 'resolved'
  RETURNING business_id, id, contact_id, agent_id
)
UPDATE contacts c SET last_agent_id = COALESCE(v.agent_id, c.last_agent_id)
FROM v WHERE c.business_id = v.business_id AND c.id = v.contact_id
RETURNING v.id
