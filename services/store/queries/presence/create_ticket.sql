-- A one-time stream ticket for agent $2 of business $1: $3 its SHA-256 in hex,
-- valid for $4 seconds. Returns when it expires.
INSERT INTO stream_tickets (ticket_hash, business_id, agent_id, expires_at)
SELECT decode($3, 'hex'), a.business_id, a.id, now() + make_interval(secs => $4::int)
FROM agents a WHERE a.business_id = $1::bigint AND a.id = $2::bigint AND a.active
RETURNING sb_iso(expires_at)
