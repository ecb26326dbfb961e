-- A stream poll numbers agent events before it reads them; with nothing to
-- number (the usual case) it no longer takes the sequencer row, which every
-- poll of every stream would otherwise queue on. Events another transaction
-- is numbering still read as unnumbered until it commits, so that case still
-- answers -1.
CREATE OR REPLACE FUNCTION sb_sequence_agent_events(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
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
    SELECT e.business_id, e.agent_id, e.id, row_number() OVER (ORDER BY e.id) AS rn
    FROM agent_events e WHERE e.seq IS NULL
    ORDER BY e.id LIMIT p_limit
  )
  UPDATE agent_events e SET seq = last + p.rn
  FROM pending p WHERE e.business_id = p.business_id AND e.agent_id = p.agent_id AND e.id = p.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    UPDATE agent_event_sequencer SET last_seq = last + n;
  END IF;
  RETURN n;
END $$;
