-- Numbers committed agent events, then tells every process about the ones
-- given (sb_announce_agent_event_refs, migration V0033).
-- $1: [[business_id, agent_id, event_id], ...].
SELECT sb_announce_agent_event_refs($1::json)
