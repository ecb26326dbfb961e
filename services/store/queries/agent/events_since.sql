-- Numbers committed agent events, then the events of every agent numbered
-- after $1, oldest first, at most $2 (sb_agent_events_since, migration
-- V0027): (numbered, seq, agent_id, type, payload), one row with NULL event
-- columns when there are none.
SELECT numbered, seq, agent_id, type, payload FROM sb_agent_events_since($1::bigint, $2::int)
