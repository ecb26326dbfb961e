-- A resolve in one statement. An agent's resolve was two pooled jobs: one
-- read whether the agent may act on the conversation, the next locked it,
-- resolved it and recorded the agent's event, eight round trips between
-- them (each BEGIN and COMMIT one); at 1,000 resolves a second they kept
-- all eight pooled connections busy with a hundred jobs queued behind them.
-- The check now runs under the conversation's lock, in the transaction that
-- resolves, so nothing can change between the two.
--
-- p_agent: the agent acting (NULL for the business's key, which may resolve
-- any conversation of the business). One row:
--   refused: NULL when resolved; 'not_found' (no such conversation, or the
--            agent may not see it, or it is resolved already) or
--            'not_assigned' (the agent sees it but it is not assigned to
--            them: `status` says what it is);
--   event_agent, event_id: the agent told (conversation.updated), if any;
--   conversation: the resolved conversation as the API renders it.
CREATE FUNCTION sb_resolve_conversation(p_business bigint, p_conversation bigint, p_agent bigint,
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

  UPDATE conversations c
  SET status = 'resolved', resolved_at = now(), outcome = p_outcome, amount_cents = p_amount_cents,
      currency = p_currency, offer_expires_at = NULL, sla_due_at = NULL, waiting_since = NULL
  WHERE c.business_id = p_business AND c.id = p_conversation
  RETURNING * INTO v;
  -- The contact remembers the agent, who gets them first when they return.
  IF v.agent_id IS NOT NULL THEN
    UPDATE contacts ct SET last_agent_id = v.agent_id
    WHERE ct.business_id = p_business AND ct.id = v.contact_id;
  END IF;

  rendered := sb_conversation_json(v);
  told := COALESCE(v.agent_id, p_agent);
  IF told IS NOT NULL THEN
    event_ref := sb_agent_event(p_business, told, 'conversation.updated', rendered);
  END IF;
  RETURN QUERY SELECT NULL::text, v.status, told, event_ref, rendered::text;
END
$fn$;
