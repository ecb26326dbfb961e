-- One read of an agent's stream in one statement. A read numbered the
-- committed events, looked up what retention had deleted and read the
-- events, three statements and their round trips; an agent's stream reads
-- each time the notifier announces events for it (dozens of times a second
-- per agent at 1,000 conversations/s). Rows: the events after p_after
-- (at most p_limit, oldest first), each carrying the numbering's result
-- (-1: another transaction is numbering) and the agent's pruned-through
-- number; one row with NULL event columns when there are none; no row for
-- no such agent.
CREATE FUNCTION sb_agent_events_after(p_business bigint, p_agent bigint, p_after bigint, p_limit int)
RETURNS TABLE (numbered int, pruned_through bigint, seq bigint, type text, payload text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  n int := sb_sequence_agent_events(5000);
BEGIN
  RETURN QUERY
  SELECT n, a.events_pruned_seq, e.seq, e.type, e.payload::text
  FROM agents a
  LEFT JOIN LATERAL (
    SELECT x.seq, x.type, x.payload FROM agent_events x
    WHERE x.business_id = a.business_id AND x.agent_id = a.id AND x.seq > p_after
    ORDER BY x.seq LIMIT p_limit
  ) e ON true
  WHERE a.business_id = p_business AND a.id = p_agent
  ORDER BY e.seq;
END
$fn$;

-- The event notifier's announcement in one statement: numbers the committed
-- events, then sends each payload of p_payloads (a JSON array of them) on
-- sb_agent_events, in the transaction that numbered them. The number of
-- events numbered, or -1 while another transaction is numbering.
CREATE FUNCTION sb_announce_agent_events(p_payloads json) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
  n int := sb_sequence_agent_events(5000);
  payload json;
BEGIN
  FOR payload IN SELECT value FROM json_array_elements(p_payloads) LOOP
    PERFORM pg_notify('sb_agent_events', payload::text);
  END LOOP;
  RETURN n;
END
$fn$;
