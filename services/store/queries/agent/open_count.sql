-- Conversations offered or assigned to agent $2 of business $1.
SELECT a.load FROM agents a WHERE a.business_id = $1::bigint AND a.id = $2::bigint
