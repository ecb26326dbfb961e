-- Timers of the router, swept every tick by whichever process gets there
-- (rows locked SKIP LOCKED): offers that nobody answered, first-response
-- SLAs that expired, and queue overflow (the Black Friday rule).
DROP INDEX conversations_timers;
CREATE INDEX conversations_offer_expiry ON conversations (offer_expires_at) WHERE status = 'offered';
CREATE INDEX conversations_sla_due ON conversations (sla_due_at) WHERE status = 'assigned' AND sla_due_at IS NOT NULL;

CREATE FUNCTION sb_router_timers(p_limit int)
RETURNS TABLE (business_id bigint, agent_id bigint, event_seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  -- An offer unanswered in time moves on: the conversation waits again and
  -- the agent who let it lapse is asked last.
  FOR c IN
    SELECT v.business_id, v.id, v.agent_id, v.channel_id FROM conversations v
    WHERE v.status = 'offered' AND v.offer_expires_at < now()
    ORDER BY v.offer_expires_at LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  LOOP
    UPDATE conversations v
    SET status = 'waiting', agent_id = NULL, offered_at = NULL, offer_expires_at = NULL,
        declined_by = array_append(v.declined_by, c.agent_id), waiting_since = COALESCE(v.waiting_since, now())
    WHERE v.business_id = c.business_id AND v.id = c.id;
    INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
    VALUES (c.business_id, c.id, c.channel_id, 'offer_expired', jsonb_build_object('agent_id', c.agent_id));
    business_id := c.business_id;
    agent_id := c.agent_id;
    event_seq := sb_agent_event(c.business_id, c.agent_id, 'conversation.updated',
                                (SELECT sb_conversation_json(v) FROM conversations v
                                 WHERE v.business_id = c.business_id AND v.id = c.id));
    RETURN NEXT;
  END LOOP;

  -- A first-response SLA that expires is a breach, recorded once per clock;
  -- the conversation goes to another eligible agent when there is one (the
  -- clock restarts on assignment), else it stays.
  FOR c IN
    SELECT v.business_id, v.id, v.agent_id, v.channel_id, v.queue_id FROM conversations v
    WHERE v.status = 'assigned' AND v.sla_due_at < now()
    ORDER BY v.sla_due_at LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  LOOP
    INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
    VALUES (c.business_id, c.id, c.channel_id, 'sla_breached', jsonb_build_object('agent_id', c.agent_id));
    IF EXISTS (SELECT 1 FROM agents ag
               JOIN agent_queues aq ON aq.business_id = ag.business_id AND aq.agent_id = ag.id
               WHERE ag.business_id = c.business_id AND aq.queue_id = c.queue_id AND ag.id <> c.agent_id
                 AND ag.status = 'online' AND ag.active AND ag.load < ag.capacity) THEN
      UPDATE conversations v
      SET sla_breached = true, sla_due_at = NULL, status = 'waiting', agent_id = NULL, assigned_at = NULL,
          declined_by = array_append(v.declined_by, c.agent_id), waiting_since = now()
      WHERE v.business_id = c.business_id AND v.id = c.id;
      business_id := c.business_id;
      agent_id := c.agent_id;
      event_seq := sb_agent_event(c.business_id, c.agent_id, 'conversation.updated',
                                  (SELECT sb_conversation_json(v) FROM conversations v
                                   WHERE v.business_id = c.business_id AND v.id = c.id));
      RETURN NEXT;
    ELSE
      UPDATE conversations v SET sla_breached = true, sla_due_at = NULL
      WHERE v.business_id = c.business_id AND v.id = c.id;
    END IF;
  END LOOP;

  -- Overflow: when a queue's oldest wait passes its threshold, its waiting
  -- order-status conversations go to the order-status bot first (once each).
  WITH overflowing AS (
    SELECT q.business_id, q.id
    FROM queues q
    WHERE q.overflow_wait_s IS NOT NULL
      AND (SELECT min(w.waiting_since) FROM conversations w
           WHERE w.business_id = q.business_id AND w.queue_id = q.id AND w.status = 'waiting')
          < now() - make_interval(secs => q.overflow_wait_s)
  ),
  moved AS (
    UPDATE conversations v
    SET status = 'bot', bot = 'order_status', routed_at = NULL
    FROM overflowing o
    WHERE v.business_id = o.business_id AND v.queue_id = o.id AND v.status = 'waiting'
      AND v.intent = 'order_status'
      AND NOT EXISTS (SELECT 1 FROM conversation_events e
                      WHERE e.business_id = v.business_id AND e.conversation_id = v.id
                        AND e.kind IN ('overflow', 'bot_answered', 'handover'))
    RETURNING v.business_id, v.id, v.channel_id, v.queue_id
  )
  INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
  SELECT m.business_id, m.id, m.channel_id, 'overflow', jsonb_build_object('queue_id', m.queue_id) FROM moved m;
END $$;
