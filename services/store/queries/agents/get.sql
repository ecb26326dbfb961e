-- One agent of a business. $1: business id, $2: agent id.
SELECT sb_agent_json(a)::text FROM agents a WHERE a.business_id = $1::bigint AND a.id = $2::bigint
