-- A resolve without a separate read. The resolve locked the conversation
-- with SELECT ... FOR UPDATE (a lock written to the row and to the WAL),
-- checked it, then updated it: two statements on the row for every resolve.
-- The update now carries the checks in its WHERE; only when it finds nothing
-- does the function read the row, under its lock, to say why, and when the
-- row changed in between so that the resolve may go ahead after all, the
-- update runs again under that lock. Answers are as V0026 gives them. The
-- contact's remembered agent is written only when it changes.
CREATE OR REPLACE FUNCTION sb_resolve_conversation(p_business bigint, p_conversation bigint, p_agent bigint,
                                                   p_outcome text, p_amount_cents bigint, p_currency text)
RETURNS TABLE (refused text, status text, event_agent bigint, event_id bigint, conversation text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  v conversations;
  rendered json;
  told bigint;
  event_ref bigint;
BEGIN
  LOOP
    -- An open conversation resolved by the agent it is assigned to, or by
    -- the business's key. Under concurrent change PostgreSQL checks these
    -- conditions again on the row's newest version.
    UPDATE conversations c
    SET status = 'resolved', resolved_at = now(), outcome = p_outcome, amount_cents = p_amount_cents,
        currency = p_currency, offer_expires_at = NULL, sla_due_at = NULL, waiting_since = NULL
    WHERE c.business_id = p_business AND c.id = p_conversation AND c.status <> 'resolved'
      AND (p_agent IS NULL OR (c.status = 'assigned' AND c.agent_id = p_agent))
    RETURNING * INTO v;
    EXIT WHEN FOUND;

    SELECT * INTO v FROM conversations c
    WHERE c.business_id = p_business AND c.id = p_conversation
    FOR UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text;
      RETURN;
    END IF;
    IF p_agent IS NOT NULL THEN
      -- What an agent sees (agent/visible.sql): offered or assigned to them,
      -- or waiting in one of their queues.
      IF v.agent_id IS DISTINCT FROM p_agent
         AND NOT (v.status = 'waiting'
                  AND EXISTS (SELECT 1 FROM agent_queues aq
                              WHERE aq.business_id = p_business AND aq.agent_id = p_agent
                                AND aq.queue_id = v.queue_id)) THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text;
        RETURN;
      END IF;
      IF v.status <> 'assigned' OR v.agent_id IS DISTINCT FROM p_agent THEN
        RETURN QUERY SELECT 'not_assigned'::text, v.status, NULL::bigint, NULL::bigint, NULL::text;
        RETURN;
      END IF;
    END IF;
    IF v.status = 'resolved' THEN
      RETURN QUERY SELECT 'not_found'::text, v.status, NULL::bigint, NULL::bigint, NULL::text;
      RETURN;
    END IF;
    -- Resolvable after all, and now locked: the update above finds it.
  END LOOP;

  -- The contact remembers the agent, who gets them first when they return.
  IF v.agent_id IS NOT NULL THEN
    UPDATE contacts ct SET last_agent_id = v.agent_id
    WHERE ct.business_id = p_business AND ct.id = v.contact_id
      AND ct.last_agent_id IS DISTINCT FROM v.agent_id;
  END IF;

  rendered := sb_conversation_json(v);
  told := COALESCE(v.agent_id, p_agent);
  IF told IS NOT NULL THEN
    event_ref := sb_agent_event(p_business, told, 'conversation.updated', rendered);
  END IF;
  RETURN QUERY SELECT NULL::text, v.status, told, event_ref, rendered::text;
END
$fn$;
