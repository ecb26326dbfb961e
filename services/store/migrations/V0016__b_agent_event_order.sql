-- Agent events numbered in commit order. The number an event got at insert
-- (from one sequence, taken before its transaction commits) does not follow
-- commit order: a stream that had read event 11 could later see event 10
-- commit and never send it, and `?after=11` would skip it as well. So the
-- insert number becomes `id`, and the `seq` clients see is given after
-- commit by a sequencer that one transaction at a time runs (it holds the
-- sequencer row): every run numbers only committed events, after all the
-- numbers of the runs before it.
ALTER TABLE agent_events RENAME COLUMN seq TO id;
ALTER TABLE agent_events ADD COLUMN seq bigint;
UPDATE agent_events SET seq = id;
CREATE UNIQUE INDEX agent_events_delivery ON agent_events (business_id, agent_id, seq);
CREATE INDEX agent_events_unsequenced ON agent_events (id) WHERE seq IS NULL;

CREATE TABLE agent_event_sequencer (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_seq  bigint NOT NULL
);
INSERT INTO agent_event_sequencer (last_seq) SELECT COALESCE(max(id), 0) FROM agent_events;

-- Events older than the retention are deleted; an agent remembers the last
-- number deleted, so a client asking for events after an older one learns
-- that some are gone instead of silently missing them.
ALTER TABLE agents ADD COLUMN events_pruned_seq bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION sb_agent_event(p_business bigint, p_agent bigint, p_type text, p_payload json)
RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO agent_events (business_id, agent_id, type, payload)
  VALUES (p_business, p_agent, p_type, p_payload::jsonb)
  RETURNING id
$$;

-- Numbers up to p_limit committed events, oldest first. Returns how many,
-- or -1 when another transaction is numbering right now (its commit will
-- make them visible; ask again shortly).
CREATE FUNCTION sb_sequence_agent_events(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
  n int;
BEGIN
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

-- Deletes numbered events older than p_keep and remembers, per agent, the
-- newest number deleted. Returns how many were deleted.
CREATE FUNCTION sb_prune_agent_events(p_keep interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  WITH gone AS (
    DELETE FROM agent_events WHERE created_at < now() - p_keep AND seq IS NOT NULL
    RETURNING business_id, agent_id, seq
  ),
  newest AS (
    SELECT business_id, agent_id, max(seq) AS seq, count(*) AS n FROM gone GROUP BY business_id, agent_id
  ),
  marked AS (
    UPDATE agents a SET events_pruned_seq = GREATEST(a.events_pruned_seq, newest.seq)
    FROM newest WHERE a.business_id = newest.business_id AND a.id = newest.agent_id
    RETURNING newest.n
  )
  SELECT COALESCE(sum(marked.n), 0) INTO n FROM marked;
  RETURN n;
END $$;
