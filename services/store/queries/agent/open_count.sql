-- Conversations offered or assigned to agent $2 of business $1.
SELECT sb_agent_open_count($1::bigint, $2::bigint)
