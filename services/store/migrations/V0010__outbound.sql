-- Outbound: whether a Messenger/Instagram channel may use the HUMAN_AGENT
-- tag (it needs Meta's approval; off until the business says so), and the
-- index that keeps "the oldest queued reply of a conversation goes first"
-- cheap when many replies wait.
ALTER TABLE channels ADD COLUMN human_agent_enabled boolean NOT NULL DEFAULT false;
CREATE INDEX messages_outbound_queued_conversation ON messages (business_id, conversation_id, id)
  WHERE direction = 'out' AND status = 'queued';
