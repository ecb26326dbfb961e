-- Uses a stream ticket ($1: its SHA-256 in hex): it is gone afterwards, valid
-- or not. Returns its agent when it had not expired and the agent is active.
WITH t AS (
  DELETE FROM stream_tickets WHERE ticket_hash = decode($1, 'hex') RETURNING business_id, agent_id, expires_at
)
SELECT t.business_id, t.agent_id FROM t
JOIN agents a ON a.business_id = t.business_id AND a.id = t.agent_id AND a.active
WHERE t.expires_at > now()
