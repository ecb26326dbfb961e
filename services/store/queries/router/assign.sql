-- Assigns waiting conversations of business $1 (at most $2). See sb_assign_waiting.
SELECT agent_id, conversation_id, event_seq FROM sb_assign_waiting($1::bigint, $2::int)
