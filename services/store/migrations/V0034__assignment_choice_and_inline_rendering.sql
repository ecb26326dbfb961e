-- Two costs of every conversation's assignment and resolve, measured at
-- 1,000 conversations a second with pg_stat_user_functions:
--
-- Rendering. sb_conversation_json(v), PL/pgSQL so that its query's plan is
-- kept, still ran that query (the channel's kind, the contact's name) once
-- for every event: 47 µs a call, 36,000 calls in 18 s, from the
-- assignment's and the resolve batch's agent events. The conversation's
-- shape is now an expression of the row and the two values
-- (sb_conversation_json(v, channel_kind, contact_external_id,
-- contact_name)), which PostgreSQL inlines; those two statements join the
-- channel and the contact themselves, and sb_conversation_json(v) looks
-- them up and calls it, so the shape is written once.
--
-- The assignment's choice. For each waiting conversation sb_assign_waiting
-- compared every membership of an agent with room, in PL/pgSQL: about
-- 0.8 ms of each router turn (the function's own time, outside its statements)
-- for a dozen conversations and 50 agents. When the agents with room serve
-- one queue, the order it compared by (returning agent first, then who has
-- not declined the conversation, then the load under least_busy, then who
-- was assigned to longest ago, then the id) is now kept as one number per
-- agent, and a conversation whose returning agent is not among them and
-- that no agent among them declined takes the agent with the smallest
-- number; a returning agent among them takes it at once. Other
-- conversations, and every conversation when the agents serve several
-- queues, are compared as before. Same choices, in the same order.

CREATE FUNCTION sb_conversation_json(v conversations, channel_kind text, contact_external_id text,
                                     contact_name text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', v.id,
    'channel', json_build_object('id', v.channel_id, 'kind', channel_kind),
    'contact', json_build_object('id', v.contact_id, 'external_id', contact_external_id, 'name', contact_name),
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
$$;

CREATE OR REPLACE FUNCTION sb_conversation_json(v conversations) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT sb_conversation_json(v, ch.kind, c.external_id, c.name)
    FROM channels ch, contacts c
    WHERE ch.business_id = v.business_id AND ch.id = v.channel_id
      AND c.business_id = v.business_id AND c.id = v.contact_id);
END $$;

CREATE OR REPLACE FUNCTION sb_assign_waiting(p_business bigint, p_limit int)
RETURNS TABLE (agent_id bigint, conversation_id bigint, event_seq bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
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
  -- One queue only: for each agent (index into ag_*), its place in the
  -- order among the queue's members with room, as one number (NULL: not a
  -- member, or no room left): the load under least_busy times 1e9, plus
  -- its rank by (last assignment, id), ranks after every first one given
  -- in the order of this call's assignments.
  ag_key bigint[];
  keyed boolean := false;
  load_weight bigint;  -- 1e9 under least_busy, else 0: the load's part of a key
  next_rank bigint;
  smallest bigint;
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
  -- one queue (the usual case) PostgreSQL keeps one plan for it.
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
    IF one_queue IS NOT NULL THEN
      -- The queue's strategy comes with its first conversation (one queue:
      -- the same for every one).
      IF NOT keyed THEN
        load_weight := CASE WHEN c.least_busy THEN 1000000000 ELSE 0 END;
        SELECT array_agg(x.key ORDER BY x.i) INTO ag_key
        FROM (SELECT a.i,
                     CASE WHEN a.i = ANY (member_agent) AND ag_room[a.i] > 0
                          THEN ag_load[a.i] * load_weight
                               + rank() OVER (PARTITION BY a.i = ANY (member_agent) AND ag_room[a.i] > 0
                                              ORDER BY ag_turn[a.i], ag_id[a.i]) END AS key
              FROM generate_subscripts(ag_id, 1) AS a(i)) x;
        next_rank := cardinality(ag_id);
        keyed := true;
      END IF;
      i := array_position(ag_id, c.last_agent_id);
      IF i IS NOT NULL AND ag_key[i] IS NOT NULL THEN
        best := i;  -- the returning agent, in this queue with room, comes first
      ELSIF c.declined_by IS NULL OR NOT (c.declined_by && with_room) THEN
        -- No key left: the queue's members are full (the room left is
        -- that of agents in no queue), and the conversation waits.
        smallest := (SELECT min(x) FROM unnest(ag_key) x);
        IF smallest IS NULL THEN
          CONTINUE;
        END IF;
        best := array_position(ag_key, smallest);
      END IF;
    END IF;
    IF best = 0 THEN
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
    END IF;
    CONTINUE WHEN best = 0;
    turn := turn + 1;
    ag_room[best] := ag_room[best] - 1;
    ag_load[best] := ag_load[best] + 1;
    ag_turn[best] := 1e15 + turn;  -- after every stored time (epoch seconds are about 1.8e9)
    IF keyed THEN
      ag_key[best] := CASE WHEN ag_room[best] > 0 THEN ag_load[best] * load_weight + next_rank + turn END;
    END IF;
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
           sb_conversation_json(v, ch.kind, ct.external_id, ct.name)::jsonb
    FROM unnest(picked_conversation) WITH ORDINALITY AS p(id, n)
    JOIN conversations v ON v.business_id = p_business AND v.id = p.id
    JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
    JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
    ORDER BY p.n
    RETURNING agent_events.agent_id, (agent_events.payload ->> 'id')::bigint AS conversation_id, agent_events.id
  )
  SELECT e.agent_id, e.conversation_id, e.id FROM events e;
END $$;

-- The resolve batch (V0031) as it was, its events rendered inline and its
-- metrics rows written in one statement (sb_write_conversation_metrics).
CREATE OR REPLACE FUNCTION sb_resolve_conversations(p_items json)
RETURNS TABLE (n int, refused text, status text, event_agent bigint, event_id bigint, conversation text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
  done_n int[];
  done_told bigint[];
  done_event bigint[];
  done_json text[];
  done_business bigint[];
  done_id bigint[];
  metrics_was text := current_setting('sb.conversation_metrics', true);
BEGIN
  -- Every conversation the update resolves has its metrics row written
  -- after it, in one statement (sb_write_conversation_metrics, V0033).
  PERFORM set_config('sb.conversation_metrics', 'by_statement', true);
  WITH items AS (
    -- A conversation named twice: the first item resolves it, the others
    -- are answered below (resolved already). Sorted, so that batches lock
    -- conversations in one order.
    SELECT DISTINCT ON (i.business, i.conversation) i.*
    FROM json_to_recordset(p_items) AS i(n int, business bigint, conversation bigint, agent bigint, outcome text,
                                          amount_cents bigint, currency text)
    ORDER BY i.business, i.conversation, i.n
  ), done AS (
    UPDATE conversations c
    SET status = 'resolved', resolved_at = now(), outcome = i.outcome, amount_cents = i.amount_cents,
        currency = i.currency, offer_expires_at = NULL, sla_due_at = NULL, waiting_since = NULL
    FROM items i, channels ch, contacts ct
    WHERE c.business_id = i.business AND c.id = i.conversation AND c.status <> 'resolved'
      AND (i.agent IS NULL OR (c.status = 'assigned' AND c.agent_id = i.agent))
      AND ch.business_id = c.business_id AND ch.id = c.channel_id
      AND ct.business_id = c.business_id AND ct.id = c.contact_id
    RETURNING i.n, c.business_id, c.id, c.contact_id, c.agent_id, COALESCE(c.agent_id, i.agent) AS told,
              sb_conversation_json(c, ch.kind, ct.external_id, ct.name) AS rendered
  ), remembered AS (
    -- The contact remembers the agent, who gets them first when they return.
    UPDATE contacts ct SET last_agent_id = d.agent_id
    FROM done d
    WHERE d.agent_id IS NOT NULL AND ct.business_id = d.business_id AND ct.id = d.contact_id
      AND ct.last_agent_id IS DISTINCT FROM d.agent_id
  ), events AS (
    INSERT INTO agent_events (business_id, agent_id, type, payload)
    SELECT d.business_id, d.told, 'conversation.updated', d.rendered::jsonb
    FROM done d
    WHERE d.told IS NOT NULL
    ORDER BY d.n
    RETURNING agent_events.id, agent_events.business_id, (agent_events.payload ->> 'id')::bigint AS conversation_id
  )
  SELECT array_agg(d.n), array_agg(d.told), array_agg(e.id), array_agg(d.rendered::text), array_agg(d.business_id),
         array_agg(d.id)
  INTO done_n, done_told, done_event, done_json, done_business, done_id
  FROM done d
  LEFT JOIN events e ON e.business_id = d.business_id AND e.conversation_id = d.id;
  PERFORM sb_write_conversation_metrics(done_business, done_id);
  PERFORM set_config('sb.conversation_metrics', COALESCE(metrics_was, ''), true);

  RETURN QUERY
  SELECT x.n, NULL::text, 'resolved'::text, x.told, x.event_id, x.rendered
  FROM unnest(done_n, done_told, done_event, done_json) AS x(n, told, event_id, rendered);

  RETURN QUERY
  SELECT i.n, r.refused, r.status, r.event_agent, r.event_id, r.conversation
  FROM json_to_recordset(p_items) AS i(n int, business bigint, conversation bigint, agent bigint, outcome text,
                                        amount_cents bigint, currency text)
  CROSS JOIN LATERAL sb_resolve_conversation(i.business, i.conversation, i.agent, i.outcome, i.amount_cents,
                                             i.currency) r
  WHERE NOT (i.n = ANY (COALESCE(done_n, '{}')));
END
$fn$;
