-- Tells every process that agent events exist. $1: [[business_id, agent_id, seq], ...].
SELECT pg_notify('sb_agent_events', $1)
