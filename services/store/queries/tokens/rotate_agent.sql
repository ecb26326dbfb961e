-- A new token for an active agent; the old ones stop now, in every process
-- (NOTIFY at commit). $1: business id, $2: agent id, $3: new token's SHA-256 hex.
WITH a AS (
  SELECT business_id, id FROM agents WHERE business_id = $1::bigint AND id = $2::bigint AND active FOR UPDATE
),
old AS (
  UPDATE api_tokens t SET revoked_at = now()
  FROM a WHERE t.business_id = a.business_id AND t.role = 'agent' AND t.agent_id = a.id AND t.revoked_at IS NULL
),
created AS (
  INSERT INTO api_tokens (token_hash, business_id, role, agent_id)
  SELECT decode($3, 'hex'), business_id, 'agent', id FROM a
  RETURNING agent_id
)
SELECT agent_id, pg_notify('sb_invalidate', json_build_object('tokens', true, 'agents', json_build_array(agent_id))::text)
FROM created
