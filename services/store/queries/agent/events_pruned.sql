-- The newest event number of agent $2 (business $1) deleted by retention; NULL for no such agent.
SELECT events_pruned_seq FROM agents WHERE business_id = $1::bigint AND id = $2::bigint
