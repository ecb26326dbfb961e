-- An agent's load is no longer a column that a trigger keeps: it is the
-- count of the conversations offered or assigned to them (index
-- conversations_agent), taken where a decision needs it. The column made
-- every resolve, transfer and reject update the agent's row, so each one
-- waited for an assignment holding that agent locked, and resolves of one
-- agent waited for each other's commits (sampled under 1,000
-- conversations/s: two resolves waiting on agent rows at any moment, the
-- API's pooled connections with them). Capacity stays exact: an assignment
-- or a claim locks the agent row first and counts after, so whoever added
-- to that agent before has committed; only a transfer, which ignores
-- capacity by design, adds without the lock.
DROP TRIGGER conversations_agent_load ON conversations;
DROP FUNCTION sb_agent_load();
ALTER TABLE agents DROP COLUMN load;

CREATE FUNCTION sb_agent_open_count(p_business bigint, p_agent bigint) RETURNS int
LANGUAGE sql STABLE
RETURN (SELECT count(*)::int FROM conversations v
        WHERE v.business_id = p_business AND v.agent_id = p_agent AND v.status IN ('offered', 'assigned'));

CREATE OR REPLACE FUNCTION sb_agent_json(a agents) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', a.id, 'name', a.name, 'capacity', a.capacity,
    'queue_ids', (SELECT COALESCE(json_agg(aq.queue_id ORDER BY aq.queue_id), '[]') FROM agent_queues aq
                  WHERE aq.business_id = a.business_id AND aq.agent_id = a.id),
    'skills', to_json(a.skills), 'status', a.status, 'load', sb_agent_open_count(a.business_id, a.id),
    'active', a.active, 'created_at', sb_iso(a.created_at), 'deactivated_at', sb_iso(a.deactivated_at))
$$;

CREATE OR REPLACE FUNCTION sb_assign_waiting(p_business bigint, p_limit int)
RETURNS TABLE (agent_id bigint, conversation_id bigint, event_seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  ag_id bigint[];
  ag_load int[];
  ag_room int[];
  ag_turn double precision[];  -- last assignment as epoch seconds; -infinity for never
  member_agent int[];          -- (index into ag_*, queue) for each membership
  member_queue bigint[];
  with_room bigint[] := '{}';
  room int;
  c record;
  k int;
  i int;
  best int;
  not_returning boolean;  -- the candidate's sort key, then the best one's
  declined boolean;
  load int;
  best_not_returning boolean;
  best_declined boolean;
  best_load int;
  turn int := 0;
  picked_conversation bigint[] := '{}';
  picked_agent bigint[] := '{}';
BEGIN
  -- SKIP LOCKED: an agent another process is assigning to (or a claim is
  -- locking) is left for this call; nothing here ever waits.
  SELECT array_agg(a.id ORDER BY a.id), array_agg(a.capacity ORDER BY a.id),
         array_agg(COALESCE(extract(epoch FROM a.last_assigned_at)::float8, '-infinity'::float8) ORDER BY a.id)
  INTO ag_id, ag_room, ag_turn
  FROM (SELECT ag.id, ag.capacity, ag.last_assigned_at FROM agents ag
        WHERE ag.business_id = p_business AND ag.status = 'online' AND ag.active AND ag.capacity > 0
        ORDER BY ag.id
        FOR UPDATE SKIP LOCKED) a;
  IF ag_id IS NULL THEN
    RETURN;
  END IF;
  -- Counted after the locks are held (this statement's snapshot is newer):
  -- whoever assigned to these agents before held the same locks and has
  -- committed. A resolve committing meanwhile makes a count one too high,
  -- never too low.
  SELECT array_agg(COALESCE(o.n, 0) ORDER BY u.i) INTO ag_load
  FROM unnest(ag_id) WITH ORDINALITY AS u(id, i)
  LEFT JOIN (SELECT v.agent_id, count(*)::int AS n FROM conversations v
             WHERE v.business_id = p_business AND v.agent_id = ANY (ag_id) AND v.status IN ('offered', 'assigned')
             GROUP BY v.agent_id) o ON o.agent_id = u.id;
  FOR i IN 1 .. cardinality(ag_id) LOOP
    ag_room[i] := GREATEST(ag_room[i] - ag_load[i], 0);
    IF ag_room[i] > 0 THEN
      with_room := array_append(with_room, ag_id[i]);
    END IF;
  END LOOP;
  SELECT sum(r) INTO room FROM unnest(ag_room) r;
  IF room = 0 THEN
    RETURN;
  END IF;
  SELECT array_agg(array_position(ag_id, aq.agent_id)), array_agg(aq.queue_id)
  INTO member_agent, member_queue
  FROM agent_queues aq
  WHERE aq.business_id = p_business AND aq.agent_id = ANY (with_room);
  IF member_agent IS NULL THEN
    RETURN;
  END IF;

  -- Lock no more waiting conversations than the agents have room for: a row
  -- locked here is skipped by every other process, which would then serve
  -- newer conversations before it.
  FOR c IN
    SELECT v.id, v.queue_id, v.declined_by, ct.last_agent_id, q.strategy = 'least_busy' AS least_busy
    FROM conversations v
    JOIN queues q ON q.business_id = v.business_id AND q.id = v.queue_id
    JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
    WHERE v.business_id = p_business AND v.status = 'waiting' AND v.queue_id = ANY (member_queue)
    ORDER BY v.waiting_since, v.id
    LIMIT LEAST(p_limit, room)
    FOR UPDATE OF v SKIP LOCKED
  LOOP
    best := 0;
    FOR k IN 1 .. cardinality(member_agent) LOOP
      CONTINUE WHEN member_queue[k] <> c.queue_id;
      i := member_agent[k];
      CONTINUE WHEN ag_room[i] = 0;
      not_returning := ag_id[i] IS DISTINCT FROM c.last_agent_id;
      declined := ag_id[i] = ANY (c.declined_by);
      load := CASE WHEN c.least_busy THEN ag_load[i] ELSE 0 END;
      IF best = 0 OR (not_returning, declined, load, ag_turn[i], ag_id[i])
                     < (best_not_returning, best_declined, best_load, ag_turn[best], ag_id[best]) THEN
        best := i;
        best_not_returning := not_returning;
        best_declined := declined;
        best_load := load;
      END IF;
    END LOOP;
    CONTINUE WHEN best = 0;
    turn := turn + 1;
    ag_room[best] := ag_room[best] - 1;
    ag_load[best] := ag_load[best] + 1;
    ag_turn[best] := 1e15 + turn;  -- after every stored time (epoch seconds are about 1.8e9)
    picked_conversation := array_append(picked_conversation, c.id);
    picked_agent := array_append(picked_agent, ag_id[best]);
  END LOOP;
  IF cardinality(picked_conversation) = 0 THEN
    RETURN;
  END IF;

  UPDATE conversations v
  SET status = CASE WHEN q.require_accept THEN 'offered' ELSE 'assigned' END,
      agent_id = p.agent_id,
      offered_at = CASE WHEN q.require_accept THEN now() END,
      offer_expires_at = CASE WHEN q.require_accept THEN now() + make_interval(secs => q.offer_timeout_s) END,
      assigned_at = CASE WHEN q.require_accept THEN NULL ELSE now() END,
      sla_due_at = CASE WHEN q.first_response_sla_s IS NOT NULL AND v.first_response_at IS NULL
                        THEN now() + make_interval(secs => q.first_response_sla_s) END,
      waiting_since = NULL
  FROM unnest(picked_conversation, picked_agent) AS p(conversation_id, agent_id), queues q
  WHERE v.business_id = p_business AND v.id = p.conversation_id
    AND q.business_id = v.business_id AND q.id = v.queue_id;
  UPDATE agents ag SET last_assigned_at = now()
  WHERE ag.business_id = p_business AND ag.id = ANY (picked_agent);

  RETURN QUERY
  WITH events AS (
    INSERT INTO agent_events (business_id, agent_id, type, payload)
    SELECT v.business_id, v.agent_id,
           CASE WHEN v.status = 'offered' THEN 'conversation.offered' ELSE 'conversation.assigned' END,
           sb_conversation_json(v)::jsonb
    FROM unnest(picked_conversation) WITH ORDINALITY AS p(id, n)
    JOIN conversations v ON v.business_id = p_business AND v.id = p.id
    ORDER BY p.n
    RETURNING agent_events.agent_id, (agent_events.payload ->> 'id')::bigint AS conversation_id, agent_events.id
  )
  SELECT e.agent_id, e.conversation_id, e.id FROM events e;
END $$;


CREATE OR REPLACE FUNCTION sb_router_timers(p_limit int)
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
                 AND ag.status = 'online' AND ag.active
                 AND sb_agent_open_count(ag.business_id, ag.id) < ag.capacity) THEN
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
