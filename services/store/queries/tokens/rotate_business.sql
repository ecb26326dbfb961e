-- A new business key; the business's current keys keep working for $3
-- seconds (0: they stop now). Every process's token cache is told.
-- $1: business id, $2: new key's SHA-256 hex, $3: grace in seconds.
WITH old AS (
  UPDATE api_tokens
  SET expires_at = CASE WHEN $3::int = 0 THEN expires_at
                        ELSE LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $3::int)) END,
      revoked_at = CASE WHEN $3::int = 0 THEN now() ELSE revoked_at END
  WHERE business_id = $1::bigint AND role = 'business' AND revoked_at IS NULL
    AND (expires_at IS NULL OR expires_at > now())
  RETURNING 1
),
created AS (
  INSERT INTO api_tokens (token_hash, business_id, role) VALUES (decode($2, 'hex'), $1::bigint, 'business')
  RETURNING created_at
)
SELECT json_build_object('previous_keys', (SELECT count(*) FROM old),
                         'previous_keys_expire_at', sb_iso(now() + make_interval(secs => $3::int)),
                         'created_at', sb_iso(created.created_at))::text,
       pg_notify('sb_invalidate', '{"tokens":true}')
FROM created
