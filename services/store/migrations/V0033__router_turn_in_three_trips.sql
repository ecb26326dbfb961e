-- The router's turn in three round trips instead of eight (a bot's reply,
-- and a bot's order or product lookup, still add one each). A turn was
-- BEGIN, the claim, the routing rules, the decisions, the probe for
-- businesses with room, each business's assignment, the announcement, then
-- COMMIT, each a round trip; with both cores busy, every one of them waits
-- to be scheduled on both sides (about 0.2 ms a wake-up at 1,000
-- conversations a second: a third of the router connection's time in a
-- turn was spent waiting for a core). Now: BEGIN and the claim, which
-- returns each business's rules with its conversations; the decisions, the
-- assignments and their announcement (sb_router_turn); COMMIT. The
-- statements are the ones the turn ran before, moved into functions that
-- the turn and its step-by-step fall-back both call.
--
-- The decisions' metrics rows are written by one statement for the batch
-- (sb_write_conversation_metrics) instead of by the row trigger, a
-- PL/pgSQL call and two statements for every conversation (62 µs each,
-- about half of recording a turn's decisions). The trigger stays for every
-- other update, computing the row with the same function; a statement that
-- writes its rows itself says so for its transaction
-- (sb.conversation_metrics = 'by_statement') and puts the setting back
-- after.

-- Writes the metrics rows of conversations (p_businesses[i], p_ids[i]) from
-- their current state, as V0012's trigger did for one: an existing row is
-- updated (its flags are sticky: "ever"), a missing one inserted.
CREATE FUNCTION sb_write_conversation_metrics(p_businesses bigint[], p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  WITH c AS (
    SELECT v.business_id, v.id, v.opened_at, ch.kind AS channel_kind, v.status, v.agent_replied, v.sla_breached,
           v.intent, v.outcome, v.amount_cents, v.currency, v.referral ->> 'ad_id' AS ad_id,
           extract(epoch FROM v.first_response_at - v.opened_at) AS first_response_s,
           extract(epoch FROM v.resolved_at - v.opened_at) AS resolution_s,
           v.status = 'bot' OR v.bot_replied AS bot_now,
           -- In a queue or with an agent after the router decided.
           v.status IN ('waiting', 'offered', 'assigned') AND v.routed_at IS NOT NULL AS queued_now
    FROM unnest(p_businesses, p_ids) AS p(business_id, id)
    JOIN conversations v ON v.business_id = p.business_id AND v.id = p.id
    JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
  ), updated AS (
    UPDATE conversation_metrics m
    SET first_response_s = c.first_response_s,
        resolution_s = c.resolution_s,
        resolved = c.status = 'resolved',
        bot_handled = m.bot_handled OR c.bot_now,
        escalated = m.escalated OR ((m.bot_handled OR c.bot_now) AND c.queued_now),
        agent_replied = c.agent_replied,
        sla_breached = c.sla_breached,
        order_status_intent = m.order_status_intent OR c.intent IS NOT DISTINCT FROM 'order_status',
        any_intent = m.any_intent OR c.intent IS NOT NULL,
        sale = c.outcome IS NOT DISTINCT FROM 'sale',
        amount_cents = c.amount_cents,
        currency = c.currency,
        ad_id = c.ad_id
    FROM c
    WHERE m.business_id = c.business_id AND m.conversation_id = c.id
    RETURNING m.business_id, m.conversation_id
  )
  INSERT INTO conversation_metrics
    (business_id, conversation_id, opened_at, channel_kind, first_response_s, resolution_s, resolved, bot_handled,
     escalated, agent_replied, sla_breached, order_status_intent, any_intent, sale, amount_cents, currency, ad_id)
  SELECT c.business_id, c.id, c.opened_at, c.channel_kind, c.first_response_s, c.resolution_s,
         c.status = 'resolved', c.bot_now, c.bot_now AND c.queued_now, c.agent_replied, c.sla_breached,
         c.intent IS NOT DISTINCT FROM 'order_status', c.intent IS NOT NULL,
         c.outcome IS NOT DISTINCT FROM 'sale', c.amount_cents, c.currency, c.ad_id
  FROM c
  WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.business_id = c.business_id AND u.conversation_id = c.id);
END $$;

CREATE OR REPLACE FUNCTION sb_conversation_metrics() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sb_write_conversation_metrics(ARRAY[NEW.business_id], ARRAY[NEW.id]);
  RETURN NULL;
END $$;

-- V0029's conditions, and not while a statement writes its rows itself.
DROP TRIGGER conversations_metrics ON conversations;
CREATE TRIGGER conversations_metrics
  AFTER UPDATE OF status, intent, routed_at, first_response_at, resolved_at, outcome, amount_cents, currency,
                  sla_breached, referral, agent_replied, bot_replied
  ON conversations
  FOR EACH ROW
  WHEN (((OLD.status IS DISTINCT FROM NEW.status
          AND NOT (OLD.routed_at IS NOT NULL AND NEW.routed_at IS NOT NULL
                   AND OLD.status IN ('waiting', 'offered', 'assigned')
                   AND NEW.status IN ('waiting', 'offered', 'assigned')))
         OR OLD.intent IS DISTINCT FROM NEW.intent
         OR (OLD.routed_at IS NULL AND NEW.routed_at IS NOT NULL)
         OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
         OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
         OR OLD.outcome IS DISTINCT FROM NEW.outcome
         OR OLD.amount_cents IS DISTINCT FROM NEW.amount_cents
         OR OLD.currency IS DISTINCT FROM NEW.currency
         OR OLD.sla_breached IS DISTINCT FROM NEW.sla_breached
         OR OLD.referral IS DISTINCT FROM NEW.referral
         OR OLD.agent_replied IS DISTINCT FROM NEW.agent_replied
         OR OLD.bot_replied IS DISTINCT FROM NEW.bot_replied)
        AND current_setting('sb.conversation_metrics', true) IS DISTINCT FROM 'by_statement')
  EXECUTE FUNCTION sb_conversation_metrics();

-- Conversations the router has not decided on yet (new ones, and bot
-- conversations with a new customer message), with what the rules look at:
-- the latest inbound message, the channel kind, the referral's ad id, and
-- the contact (the bots look orders up by it). Locked SKIP LOCKED: each
-- process routes its own share. Each row also carries its business's
-- routing rules (version and default queue; the rules themselves on the
-- business's first row only, NULL on the others and when it has none).
CREATE FUNCTION sb_claim_unrouted(p_limit int)
RETURNS TABLE (business_id bigint, id bigint, channel_kind text, text text, payload text, ad_id text,
               contact_external_id text, contact_phone text, status text, bot text, queue_id bigint,
               rules_version bigint, default_queue_id bigint, rules text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH claimed AS (
    SELECT v.business_id, v.id, ch.kind, COALESCE(m.text, '') AS text, COALESCE(m.payload, '') AS payload,
           v.referral ->> 'ad_id' AS ad_id, ct.external_id, ct.phone, v.status, v.bot, v.queue_id
    FROM conversations v
    JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
    JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
    LEFT JOIN LATERAL (
      SELECT x.text, x.payload FROM messages x
      WHERE x.business_id = v.business_id AND x.conversation_id = v.id AND x.direction = 'in'
      ORDER BY x.id DESC LIMIT 1
    ) m ON true
    WHERE v.routed_at IS NULL AND v.status <> 'resolved'
    ORDER BY v.id
    LIMIT p_limit
    FOR UPDATE OF v SKIP LOCKED
  )
  SELECT c.business_id, c.id, c.kind, c.text, c.payload, c.ad_id, c.external_id, c.phone, c.status, c.bot,
         c.queue_id, r.version, r.default_queue_id,
         CASE WHEN row_number() OVER (PARTITION BY c.business_id ORDER BY c.id) = 1 THEN r.rules::text END
  FROM claimed c
  LEFT JOIN routing_rules r ON r.business_id = c.business_id
  ORDER BY c.id;
END $$;

-- Records the router's decisions, as router/apply_decisions did. p:
-- [{business_id, id, intent, queue_id, bot, status, event, detail}] where
-- status is 'bot' (a bot keeps the conversation) or 'waiting' (queued for
-- an agent), and event names what happened (routed, bot_answered,
-- handover); routed is not recorded as an event. A decided queue that was
-- deactivated takes nothing new: the business's default queue gets the
-- conversation instead.
CREATE FUNCTION sb_apply_routing_decisions(p json) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  routed_business bigint[];
  routed_id bigint[];
  metrics_was text := current_setting('sb.conversation_metrics', true);
BEGIN
  -- Every conversation decided moves from unrouted to routed: each one's
  -- metrics row is written below.
  PERFORM set_config('sb.conversation_metrics', 'by_statement', true);
  WITH input AS (
    SELECT * FROM json_to_recordset(p)
         AS d(business_id bigint, id bigint, intent text, queue_id bigint, bot text, status text, event text, detail json)
  ),
  d AS (
    SELECT i.business_id, i.id, i.intent,
           CASE WHEN i.queue_id IS NULL OR q.active THEN i.queue_id
                ELSE (SELECT r.default_queue_id FROM routing_rules r WHERE r.business_id = i.business_id) END AS queue_id,
           i.bot, i.status, i.event, i.detail
    FROM input i
    LEFT JOIN queues q ON q.business_id = i.business_id AND q.id = i.queue_id
  ),
  upd AS (
    UPDATE conversations v
    SET routed_at = now(),
        intent = COALESCE(d.intent, v.intent),
        queue_id = COALESCE(d.queue_id, v.queue_id),
        bot = d.bot,
        status = d.status,
        waiting_since = CASE WHEN d.status = 'waiting' THEN COALESCE(v.waiting_since, now()) END
    FROM d
    WHERE v.business_id = d.business_id AND v.id = d.id
    RETURNING v.business_id, v.id, v.channel_id
  ),
  events AS (
    INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
    SELECT d.business_id, d.id, u.channel_id, d.event,
           json_build_object('intent', d.intent, 'queue_id', d.queue_id, 'bot', d.bot, 'detail', d.detail)::jsonb
    FROM d JOIN upd u ON u.business_id = d.business_id AND u.id = d.id
    -- The plain routing decision is on the conversation itself; bot turns and
    -- handovers are events.
    WHERE d.event <> 'routed'
  )
  SELECT array_agg(u.business_id), array_agg(u.id) INTO routed_business, routed_id FROM upd u;
  PERFORM sb_write_conversation_metrics(routed_business, routed_id);
  PERFORM set_config('sb.conversation_metrics', COALESCE(metrics_was, ''), true);
END $$;

-- Businesses where a conversation waits in a queue and an online agent has
-- room, as router/waiting_businesses found them. Starts from the agents (a
-- small table): at a burst, tens of thousands of conversations may wait
-- while nobody can take them. Whether anything waits is asked first (one
-- probe of conversations_waiting); the agents' loads are counted only then,
-- and only until one has room. The count is written out rather than read
-- as a.load: a SQL function that is not inlined is planned again at each
-- statement that calls it (0.35 ms of every turn at 1,000 conversations a
-- second).
CREATE FUNCTION sb_waiting_businesses() RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
  SELECT b.business_id
  FROM (SELECT DISTINCT a.business_id FROM agents a WHERE a.status = 'online' AND a.active) b
  WHERE EXISTS (SELECT 1 FROM conversations v
                WHERE v.business_id = b.business_id AND v.status = 'waiting' AND v.queue_id IS NOT NULL)
    AND EXISTS (SELECT 1 FROM agents a
                WHERE a.business_id = b.business_id AND a.status = 'online' AND a.active
                  AND a.capacity > (SELECT count(*) FROM conversations v
                                    WHERE v.business_id = a.business_id AND v.agent_id = a.id
                                      AND v.status IN ('offered', 'assigned')))
  LIMIT 1000
$$;

-- Numbers committed agent events and announces p_refs, a JSON array of
-- [business_id, agent_id, event_id], on sb_agent_events: one NOTIFY for
-- every 100 of them (pg_notify refuses payloads of 8,000 bytes or more; a
-- reference is at most about 60), through sb_announce_agent_events. The
-- number of events numbered, or -1 while another transaction is numbering.
-- PL/pgSQL: the statement's plan is kept for the session.
CREATE FUNCTION sb_announce_agent_event_refs(p_refs json) RETURNS int
LANGUAGE plpgsql AS $$
BEGIN
  RETURN sb_announce_agent_events(COALESCE(
    (SELECT json_agg(chunk ORDER BY k)
     FROM (SELECT (r.n - 1) / 100 AS k, json_agg(r.ref ORDER BY r.n) AS chunk
           FROM json_array_elements(p_refs) WITH ORDINALITY AS r(ref, n)
           GROUP BY 1) c),
    '[]'));
END $$;

-- The rest of a router's turn after its decisions were taken, in one
-- statement: records p_decisions (sb_apply_routing_decisions; an empty
-- array records nothing), assigns waiting conversations of every business
-- with room (sb_waiting_businesses, then sb_assign_waiting for each, at
-- most p_per_business each), then numbers and announces the assignments
-- (sb_announce_agent_event_refs). The announcement waits for a lock 200 ms
-- at most (it numbers every committed event, and may meet rows another
-- transaction holds, an erasure's say), and one that fails leaves the
-- turn's work standing: rolled back alone, its error is in announce_error
-- on every row and the caller has the events announced after the commit.
-- Returns the assignments and offers in the order they were made.
CREATE FUNCTION sb_router_turn(p_decisions json, p_per_business int)
RETURNS TABLE (business_id bigint, agent_id bigint, conversation_id bigint, event_id bigint, announce_error text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  b bigint;
  r record;
  ev_business bigint[] := '{}';
  ev_agent bigint[] := '{}';
  ev_conversation bigint[] := '{}';
  ev_id bigint[] := '{}';
  failure text;
  lock_timeout_was text := current_setting('lock_timeout');
BEGIN
  IF json_array_length(p_decisions) > 0 THEN
    PERFORM sb_apply_routing_decisions(p_decisions);
  END IF;
  FOR b IN SELECT w FROM sb_waiting_businesses() w LOOP
    FOR r IN SELECT a.agent_id, a.conversation_id, a.event_seq FROM sb_assign_waiting(b, p_per_business) a LOOP
      ev_business := ev_business || b;
      ev_agent := ev_agent || r.agent_id;
      ev_conversation := ev_conversation || r.conversation_id;
      ev_id := ev_id || r.event_seq;
    END LOOP;
  END LOOP;
  IF cardinality(ev_id) = 0 THEN
    RETURN;
  END IF;
  BEGIN
    PERFORM set_config('lock_timeout', '200', true);
    PERFORM sb_announce_agent_event_refs(
      (SELECT json_agg(json_build_array(e.b, e.a, e.id) ORDER BY e.n)
       FROM unnest(ev_business, ev_agent, ev_id) WITH ORDINALITY AS e(b, a, id, n)));
  EXCEPTION WHEN OTHERS THEN
    failure := SQLERRM;
  END;
  PERFORM set_config('lock_timeout', lock_timeout_was, true);
  RETURN QUERY
  SELECT e.b, e.a, e.c, e.id, failure
  FROM unnest(ev_business, ev_agent, ev_conversation, ev_id) WITH ORDINALITY AS e(b, a, c, id, n)
  ORDER BY e.n;
END $$;
