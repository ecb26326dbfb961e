-- Assignment locks at most as many waiting conversations as the online
-- agents have room for, and only those of queues with such an agent, so
-- processes assigning at the same moment keep serving the oldest first.
CREATE OR REPLACE FUNCTION sb_assign_waiting(p_business bigint, p_limit int)
RETURNS TABLE (agent_id bigint, conversation_id bigint, event_seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  c record;
  q record;
  chosen bigint;
  returning_agent bigint;
  offered boolean;
  room int;
BEGIN
  -- Lock no more waiting conversations than agents have room for: a row
  -- locked here is skipped by every other process, which would then serve
  -- newer conversations before it.
  SELECT COALESCE(sum(ag.capacity - ag.load), 0) INTO room
  FROM agents ag
  WHERE ag.business_id = p_business AND ag.status = 'online' AND ag.active AND ag.load < ag.capacity;
  IF room = 0 THEN
    RETURN;
  END IF;
  FOR c IN
    SELECT v.business_id, v.id, v.queue_id, v.contact_id, v.declined_by
    FROM conversations v
    WHERE v.business_id = p_business AND v.status = 'waiting' AND v.queue_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM agent_queues aq JOIN agents ag ON ag.business_id = aq.business_id AND ag.id = aq.agent_id
                  WHERE aq.business_id = v.business_id AND aq.queue_id = v.queue_id
                    AND ag.status = 'online' AND ag.active AND ag.load < ag.capacity)
    ORDER BY v.waiting_since, v.id
    LIMIT LEAST(p_limit, room)
    FOR UPDATE SKIP LOCKED
  LOOP
    SELECT * INTO q FROM queues WHERE business_id = c.business_id AND id = c.queue_id;
    SELECT last_agent_id INTO returning_agent FROM contacts WHERE business_id = c.business_id AND id = c.contact_id;
    SELECT ag.id INTO chosen
    FROM agents ag
    JOIN agent_queues aq ON aq.business_id = ag.business_id AND aq.agent_id = ag.id AND aq.queue_id = c.queue_id
    WHERE ag.business_id = c.business_id AND ag.status = 'online' AND ag.active AND ag.load < ag.capacity
    ORDER BY ag.id IS NOT DISTINCT FROM returning_agent DESC,  -- a returning customer's agent first
             ag.id = ANY (c.declined_by),                       -- who declined it only when nobody else can
             CASE WHEN q.strategy = 'least_busy' THEN ag.load ELSE 0 END,
             ag.last_assigned_at NULLS FIRST,                   -- round robin: longest since last assignment
             ag.id
    LIMIT 1
    FOR UPDATE OF ag SKIP LOCKED;
    CONTINUE WHEN chosen IS NULL;

    offered := q.require_accept;
    UPDATE conversations v
    SET status = CASE WHEN offered THEN 'offered' ELSE 'assigned' END,
        agent_id = chosen,
        offered_at = CASE WHEN offered THEN now() END,
        offer_expires_at = CASE WHEN offered THEN now() + make_interval(secs => q.offer_timeout_s) END,
        assigned_at = CASE WHEN offered THEN NULL ELSE now() END,
        sla_due_at = CASE WHEN q.first_response_sla_s IS NOT NULL AND v.first_response_at IS NULL
                          THEN now() + make_interval(secs => q.first_response_sla_s) END,
        waiting_since = NULL
    WHERE v.business_id = c.business_id AND v.id = c.id;
    UPDATE agents SET last_assigned_at = now() WHERE business_id = c.business_id AND id = chosen;

    agent_id := chosen;
    conversation_id := c.id;
    event_seq := sb_agent_event(c.business_id, chosen,
                                CASE WHEN offered THEN 'conversation.offered' ELSE 'conversation.assigned' END,
                                (SELECT sb_conversation_json(v) FROM conversations v
                                 WHERE v.business_id = c.business_id AND v.id = c.id));
    RETURN NEXT;
  END LOOP;
END $$;
