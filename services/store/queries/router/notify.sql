-- Numbers committed agent events, then tells every process about the ones
-- given (sb_announce_agent_events, migration V0025).
-- $1: the NOTIFY payloads, [[[business_id, agent_id, event_id], ...], ...].
SELECT sb_announce_agent_events($1::json)
