-- Who a bearer token belongs to, and in how many ms it expires (NULL: never).
-- An agent token works only while the agent is active. $1: the token's SHA-256 in hex.
SELECT t.business_id, t.role, t.agent_id,
       (EXTRACT(EPOCH FROM t.expires_at - now()) * 1000)::bigint AS expires_in_ms
FROM api_tokens t
WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
  AND (t.role <> 'agent'
       OR EXISTS (SELECT 1 FROM agents a WHERE a.business_id = t.business_id AND a.id = t.agent_id AND a.active))
