-- The newest event number of agent $2 (business $1), 0 when none.
SELECT COALESCE(max(seq), 0) FROM agent_events WHERE business_id = $1::bigint AND agent_id = $2::bigint
