-- Events of agent $2 (business $1) after number $3, oldest first, at most $4.
SELECT seq, type, payload::text FROM agent_events
WHERE business_id = $1::bigint AND agent_id = $2::bigint AND seq > $3::bigint
ORDER BY seq LIMIT $4::int
