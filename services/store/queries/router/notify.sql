-- Tells every process that agent events exist. $1: [[business_id, agent_id, event_id], ...].
SELECT pg_notify('sb_agent_events', $1)
