-- Assignment in one pass, and an agent's load counted instead of kept.
--
-- An agent's load was a column that a trigger kept: every resolve, transfer
-- and reject updated the agent's row, so each one waited for an assignment
-- holding that agent locked, and resolves of one agent waited for each
-- other's commits (sampled under 1,000 conversations/s: two resolves
-- waiting on agent rows at any moment, the API's pooled connections with
-- them). It is now the count of the conversations offered or assigned to
-- them (index conversations_agent), read as `a.load` as before (a function
-- of the agents row). Capacity stays exact: an assignment or a claim locks
-- the agent row first and counts in a later statement, so whoever added to
-- that agent before has committed; only a transfer, which ignores capacity
-- by design, adds without the lock.
DROP TRIGGER conversations_agent_load ON conversations;
DROP FUNCTION sb_agent_load();
ALTER TABLE agents DROP COLUMN load;

CREATE FUNCTION load(a agents) RETURNS int
LANGUAGE sql STABLE
RETURN (SELECT count(*)::int FROM conversations v
        WHERE v.business_id = a.business_id AND v.agent_id = a.id AND v.status IN ('offered', 'assigned'));

-- The business's online agents are locked once, at the start, and the
-- choice for each waiting conversation is made in memory; then the
-- conversations, the agents and the events are written with one statement
-- each. The per-conversation version locked and updated an agent row for
-- every conversation and held those locks for about a millisecond per
-- conversation.
--
-- The order is the one V0009 applied: a returning customer's agent first,
-- who declined the conversation only when nobody else can take it, the
-- least loaded (least_busy), the longest since their last assignment (an
-- agent assigned during this call counts as assigned after every earlier
-- one, so a burst goes round the agents), the lowest id.
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
  cand_load int;
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
  SELECT array_agg(ag.load ORDER BY ag.id) INTO ag_load
  FROM agents ag WHERE ag.business_id = p_business AND ag.id = ANY (ag_id);
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
      cand_load := CASE WHEN c.least_busy THEN ag_load[i] ELSE 0 END;
      IF best = 0 OR (not_returning, declined, cand_load, ag_turn[i], ag_id[i])
                     < (best_not_returning, best_declined, best_load, ag_turn[best], ag_id[best]) THEN
        best := i;
        best_not_returning := not_returning;
        best_declined := declined;
        best_load := cand_load;
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


-- The sequencer numbers the events it picked by their row addresses: the
-- plan PL/pgSQL cached for the join on the key, made while the table was
-- small, walked all of an agent's events for every event numbered (about
-- 20 ms a call at 2,000 events/s). An event changed meanwhile (erasure
-- scrubs payloads) has a new address: it is left for the next run, and the
-- number it was to get stays unused (a gap, never a repeat).
CREATE OR REPLACE FUNCTION sb_sequence_agent_events(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
  top bigint;
  n int;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM agent_events WHERE seq IS NULL) THEN  -- index agent_events_unsequenced
    RETURN 0;
  END IF;
  SELECT last_seq INTO last FROM agent_event_sequencer FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  WITH pending AS (
    SELECT e.ctid AS row_address, row_number() OVER (ORDER BY e.id) AS rn
    FROM agent_events e WHERE e.seq IS NULL
    ORDER BY e.id LIMIT p_limit
  ),
  numbered AS (
    UPDATE agent_events e SET seq = last + p.rn
    FROM pending p WHERE e.ctid = p.row_address AND e.seq IS NULL
    RETURNING e.seq
  )
  SELECT count(*), max(seq) INTO n, top FROM numbered;
  IF n > 0 THEN
    UPDATE agent_event_sequencer SET last_seq = top;  -- the highest number given, gap or not
  END IF;
  RETURN n;
END $$;

-- Rendering a conversation and recording an agent event are called once per
-- request on most paths. As SQL functions they were parsed and planned at
-- every call (a SQL function that is not inlined keeps its plan only for
-- the statement that called it); in PL/pgSQL the plan is kept for the
-- session.
CREATE OR REPLACE FUNCTION sb_conversation_json(v conversations) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT json_build_object(
      'id', v.id,
      'channel', json_build_object('id', v.channel_id, 'kind', ch.kind),
      'contact', json_build_object('id', c.id, 'external_id', c.external_id, 'name', c.name),
      'status', v.status,
      'intent', v.intent,
      'queue_id', v.queue_id,
      'agent_id', v.agent_id,
      'opened_at', sb_iso(v.opened_at),
      'first_response_at', sb_iso(v.first_response_at),
      'resolved_at', sb_iso(v.resolved_at),
      'outcome', v.outcome,
      'amount_cents', v.amount_cents,
      'currency', v.currency,
      'referral', v.referral,
      'last_message_at', sb_iso(v.last_message_at))
    FROM channels ch, contacts c
    WHERE ch.business_id = v.business_id AND ch.id = v.channel_id
      AND c.business_id = v.business_id AND c.id = v.contact_id);
END $$;

CREATE OR REPLACE FUNCTION sb_agent_event(p_business bigint, p_agent bigint, p_type text, p_payload json)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  event_id bigint;
BEGIN
  INSERT INTO agent_events (business_id, agent_id, type, payload)
  VALUES (p_business, p_agent, p_type, p_payload::jsonb)
  RETURNING id INTO event_id;
  RETURN event_id;
END $$;
