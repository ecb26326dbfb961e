-- Deactivates an agent: offline, no new work, every token revoked.
-- $1: business id, $2: agent id. Returns the id when found.
WITH a AS (
  UPDATE agents SET active = false, status = 'offline', status_changed_at = now(),
                    deactivated_at = COALESCE(deactivated_at, now())
  WHERE business_id = $1::bigint AND id = $2::bigint
  RETURNING business_id, id
),
revoked AS (
  UPDATE api_tokens t SET revoked_at = now()
  FROM a WHERE t.business_id = a.business_id AND t.role = 'agent' AND t.agent_id = a.id AND t.revoked_at IS NULL
)
SELECT id FROM a
