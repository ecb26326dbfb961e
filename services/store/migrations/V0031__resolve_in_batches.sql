-- Resolves in batches. Under load most of a resolve's cost was the
-- transaction around it, not its rows: parsing and starting the statement,
-- starting each statement inside sb_resolve_conversation, the commit and its
-- WAL flush (profiled at 1,000 resolves a second: about half of every
-- PostgreSQL core the service used). The agent API now gathers the resolves
-- that arrive while one batch commits and sends them as one statement.
--
-- p_items: [{n, business, conversation, agent, outcome, amount_cents,
-- currency}], agent NULL for the business's key. One row comes back for
-- every item, with its n and sb_resolve_conversation's answer. The items
-- that may go ahead (as V0030's update finds them) are resolved by one
-- update, their contacts and agents' events by one statement each; every
-- other item (a refusal to explain, or a conversation named twice) is then
-- answered by sb_resolve_conversation, which sees the batch's resolves.
CREATE FUNCTION sb_resolve_conversations(p_items json)
RETURNS TABLE (n int, refused text, status text, event_agent bigint, event_id bigint, conversation text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  done_n int[];
  done_told bigint[];
  done_event bigint[];
  done_json text[];
BEGIN
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
    FROM items i
    WHERE c.business_id = i.business AND c.id = i.conversation AND c.status <> 'resolved'
      AND (i.agent IS NULL OR (c.status = 'assigned' AND c.agent_id = i.agent))
    RETURNING i.n, c.business_id, c.id, c.contact_id, c.agent_id, COALESCE(c.agent_id, i.agent) AS told,
              sb_conversation_json(c) AS rendered
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
  SELECT array_agg(d.n), array_agg(d.told), array_agg(e.id), array_agg(d.rendered::text)
  INTO done_n, done_told, done_event, done_json
  FROM done d
  LEFT JOIN events e ON e.business_id = d.business_id AND e.conversation_id = d.id;

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
