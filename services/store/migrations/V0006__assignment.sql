-- Assignment. An agent's load (conversations offered or assigned to them)
-- lives on the agent row and a trigger keeps it right whatever changes a
-- conversation's agent or status; the capacity check is then a condition
-- on the locked agent row, which PostgreSQL re-checks on the latest row
-- version, so concurrent processes never over-assign.
ALTER TABLE agents ADD COLUMN load int NOT NULL DEFAULT 0;

CREATE FUNCTION sb_agent_load() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.agent_id IS NOT NULL AND OLD.status IN ('offered', 'assigned')
     AND (NEW.agent_id IS DISTINCT FROM OLD.agent_id OR NEW.status NOT IN ('offered', 'assigned')) THEN
    UPDATE agents SET load = load - 1 WHERE business_id = OLD.business_id AND id = OLD.agent_id;
  END IF;
  IF NEW.agent_id IS NOT NULL AND NEW.status IN ('offered', 'assigned')
     AND (NEW.agent_id IS DISTINCT FROM OLD.agent_id OR OLD.status NOT IN ('offered', 'assigned')) THEN
    UPDATE agents SET load = load + 1 WHERE business_id = NEW.business_id AND id = NEW.agent_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER conversations_agent_load AFTER UPDATE OF agent_id, status ON conversations
  FOR EACH ROW EXECUTE FUNCTION sb_agent_load();

-- Event numbers come from one sequence: increasing per agent, no agent lock.
CREATE SEQUENCE agent_events_seq AS bigint;
ALTER TABLE agent_events ALTER COLUMN seq SET DEFAULT nextval('agent_events_seq');
ALTER TABLE agents DROP COLUMN last_event_seq;

-- Records an agent event; returns its number.
CREATE FUNCTION sb_agent_event(p_business bigint, p_agent bigint, p_type text, p_payload json) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO agent_events (business_id, agent_id, type, payload)
  VALUES (p_business, p_agent, p_type, p_payload::jsonb)
  RETURNING seq
$$;

-- Assigns (or offers) up to p_limit waiting conversations of a business,
-- oldest first. Conversations and agents are locked SKIP LOCKED: another
-- process working on them at the same moment is left alone. Returns one
-- row per assignment with the event recorded for the agent.
CREATE FUNCTION sb_assign_waiting(p_business bigint, p_limit int)
RETURNS TABLE (agent_id bigint, conversation_id bigint, event_seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  c record;
  q record;
  chosen bigint;
  returning_agent bigint;
  offered boolean;
BEGIN
  FOR c IN
    SELECT v.business_id, v.id, v.queue_id, v.contact_id, v.declined_by
    FROM conversations v
    WHERE v.business_id = p_business AND v.status = 'waiting' AND v.queue_id IS NOT NULL
    ORDER BY v.waiting_since, v.id
    LIMIT p_limit
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
