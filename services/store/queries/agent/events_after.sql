-- Numbers committed agent events, then the events of agent $2 (business $1)
-- after number $3, oldest first, at most $4 (sb_agent_events_after,
-- migration V0025): (numbered, pruned_through, seq, type, payload), one row
-- with NULL event columns when there are none, no row for no such agent.
SELECT numbered, pruned_through, seq, type, payload
FROM sb_agent_events_after($1::bigint, $2::bigint, $3::bigint, $4::int)
