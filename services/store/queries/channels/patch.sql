-- Changes a channel: absent keys keep their value, null clears a nullable
-- one. Every process's channel cache is told (NOTIFY, sent at commit).
-- $1: {business_id, id, name?, account_id?, app_secret_enc?, verify_token_hash?, access_token_enc?,
--      human_agent_enabled?, active?} (secrets hex), $2: public URL.
WITH p AS (SELECT $1::jsonb AS j),
u AS (
  UPDATE channels c
  SET name = CASE WHEN j ? 'name' THEN j ->> 'name' ELSE c.name END,
      account_id = CASE WHEN j ? 'account_id' THEN j ->> 'account_id' ELSE c.account_id END,
      app_secret_enc = CASE WHEN j ? 'app_secret_enc' THEN decode(j ->> 'app_secret_enc', 'hex') ELSE c.app_secret_enc END,
      verify_token_hash = CASE WHEN j ? 'verify_token_hash' THEN decode(j ->> 'verify_token_hash', 'hex')
                               ELSE c.verify_token_hash END,
      access_token_enc = CASE WHEN j ? 'access_token_enc' THEN decode(j ->> 'access_token_enc', 'hex')
                              ELSE c.access_token_enc END,
      human_agent_enabled = COALESCE((j ->> 'human_agent_enabled')::boolean, c.human_agent_enabled),
      active = COALESCE((j ->> 'active')::boolean, c.active),
      deactivated_at = CASE WHEN (j ->> 'active')::boolean IS NULL THEN c.deactivated_at
                            WHEN (j ->> 'active')::boolean THEN NULL
                            ELSE COALESCE(c.deactivated_at, now()) END
  FROM p
  WHERE c.business_id = (j ->> 'business_id')::bigint AND c.id = (j ->> 'id')::bigint
  RETURNING c.*
)
SELECT sb_channel_json(ROW(u.*)::channels, $2)::text, pg_notify('sb_invalidate', '{"channels":true}')
FROM u
