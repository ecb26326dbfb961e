-- Conversations offered or assigned to agent $2 of business $1, oldest first.
SELECT COALESCE(json_agg(sb_conversation_json(v) ORDER BY v.id), '[]')::text
FROM conversations v
WHERE v.business_id = $1::bigint AND v.agent_id = $2::bigint AND v.status IN ('offered', 'assigned')
