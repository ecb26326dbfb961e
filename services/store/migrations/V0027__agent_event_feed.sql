-- One read of every agent's new events for a whole process. Each open
-- stream read its own agent's events whenever the notifier announced some:
-- at 1,000 conversations a second, about 1,900 reads a second from 50
-- streams, each a pooled job that queued behind the API's requests (9.8 ms
-- on average, 53 ms at the 99th percentile). A process now reads what was
-- numbered after the last number it has seen, for all agents at once, and
-- hands each event to the streams of its agent.
-- Numbered events only: an event is inserted unnumbered, and the entry its
-- numbering makes is the one the feed reads.
CREATE INDEX agent_events_numbered ON agent_events (seq) WHERE seq IS NOT NULL;

-- Numbers committed events (as a stream read does), then the events
-- numbered after p_after, oldest first, at most p_limit: (numbered, seq,
-- agent_id, type, payload); `numbered` is -1 while another transaction is
-- numbering. One row with NULL event columns when there are none.
CREATE FUNCTION sb_agent_events_since(p_after bigint, p_limit int)
RETURNS TABLE (numbered int, seq bigint, agent_id bigint, type text, payload text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  n int := sb_sequence_agent_events(5000);
BEGIN
  RETURN QUERY
  SELECT n, e.seq, e.agent_id, e.type, e.payload::text
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (
    SELECT x.seq, x.agent_id, x.type, x.payload FROM agent_events x
    WHERE x.seq > p_after
    ORDER BY x.seq LIMIT p_limit
  ) e ON true
  ORDER BY e.seq;
END
$fn$;
