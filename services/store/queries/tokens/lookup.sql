-- Who a bearer token belongs to. $1: the token's SHA-256 in hex.
SELECT business_id, role, agent_id
FROM api_tokens
WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
