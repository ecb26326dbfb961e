-- The router's turn counted each online agent's load with a call of
-- load(agents) per agent, twice: once to find the businesses where someone
-- has room (router/waiting_businesses.sql), once here. Each call is a SQL
-- function run on its own (a subquery keeps it from being inlined); for 50
-- agents the two took about 7 ms of every turn at 1,000 conversations a
-- second. Here the loads are one scan of conversations_agent, grouped by
-- agent, and the waiting conversations are read through a cursor (below);
-- the rest of the function is as V0021 left it.
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
  waiting refcursor;
  one_queue bigint;
  want int;
  fetched int := 0;
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
  SELECT array_agg(COALESCE(n.n_open, 0) ORDER BY x.i) INTO ag_load
  FROM unnest(ag_id) WITH ORDINALITY AS x(id, i)
  LEFT JOIN (SELECT v.agent_id, count(*)::int AS n_open FROM conversations v
             WHERE v.business_id = p_business AND v.status IN ('offered', 'assigned')
               AND v.agent_id = ANY (ag_id)
             GROUP BY v.agent_id) n ON n.agent_id = x.id;
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
  -- newer conversations before it. A cursor locks a row as it is fetched,
  -- so the fetching stops there instead of at a LIMIT: the statement then
  -- has no value that changes its plan, and when the agents with room serve
  -- one queue (the usual case) PostgreSQL keeps one plan for it (the
  -- ANY (array) form was planned again at every call: 0.3 to 0.6 ms of each
  -- router turn).
  want := LEAST(p_limit, room);
  IF (SELECT count(DISTINCT mq) FROM unnest(member_queue) mq) = 1 THEN
    one_queue := member_queue[1];
    OPEN waiting FOR
      SELECT v.id, v.queue_id, v.declined_by, ct.last_agent_id, q.strategy = 'least_busy' AS least_busy
      FROM conversations v
      JOIN queues q ON q.business_id = v.business_id AND q.id = v.queue_id
      JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
      WHERE v.business_id = p_business AND v.status = 'waiting' AND v.queue_id = one_queue
      ORDER BY v.waiting_since, v.id
      FOR UPDATE OF v SKIP LOCKED;
  ELSE
    OPEN waiting FOR
      SELECT v.id, v.queue_id, v.declined_by, ct.last_agent_id, q.strategy = 'least_busy' AS least_busy
      FROM conversations v
      JOIN queues q ON q.business_id = v.business_id AND q.id = v.queue_id
      JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
      WHERE v.business_id = p_business AND v.status = 'waiting' AND v.queue_id = ANY (member_queue)
      ORDER BY v.waiting_since, v.id
      FOR UPDATE OF v SKIP LOCKED;
  END IF;
  LOOP
    EXIT WHEN fetched >= want;
    FETCH waiting INTO c;
    EXIT WHEN NOT FOUND;
    fetched := fetched + 1;
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
  CLOSE waiting;
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
