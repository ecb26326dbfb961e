-- A business and its first API key (stored as a hash).
-- $1: {name, timezone, token_hash (hex)}.
WITH b AS (
  INSERT INTO businesses (name, timezone)
  VALUES ($1::json ->> 'name', COALESCE($1::json ->> 'timezone', 'UTC'))
  RETURNING *
),
t AS (
  INSERT INTO api_tokens (token_hash, business_id, role)
  SELECT decode($1::json ->> 'token_hash', 'hex'), b.business_id, 'business' FROM b
)
SELECT json_build_object('id', business_id, 'name', name, 'timezone', timezone,
                         'created_at', sb_iso(created_at))::text
FROM b
