-- A deactivated agent's open conversations go back to waiting in their
-- queue (the routing default when they had none), ahead of newer ones: the
-- customer has been waiting since the conversation opened. $1: business id, $2: agent id.
WITH moved AS (
  UPDATE conversations v
  SET status = 'waiting', agent_id = NULL, assigned_at = NULL, offered_at = NULL, offer_expires_at = NULL,
      sla_due_at = NULL, waiting_since = v.opened_at,
      queue_id = COALESCE(v.queue_id, (SELECT r.default_queue_id FROM routing_rules r WHERE r.business_id = v.business_id))
  WHERE v.business_id = $1::bigint AND v.agent_id = $2::bigint AND v.status IN ('offered', 'assigned')
  RETURNING v.business_id, v.id, v.channel_id
)
INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
SELECT business_id, id, channel_id, 'agent_deactivated', jsonb_build_object('agent_id', $2::bigint) FROM moved
