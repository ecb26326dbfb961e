-- A channel and its global lookup row; a second channel with the same kind
-- and external id violates channel_lookup's key.
-- $1: {business_id, kind, external_id, account_id, name, app_secret_enc, verify_token_hash,
--      access_token_enc (hex), public_url}.
WITH p AS (SELECT $1::json AS j),
c AS (
  INSERT INTO channels (business_id, kind, external_id, account_id, name, app_secret_enc, verify_token_hash,
                        access_token_enc)
  SELECT (j ->> 'business_id')::bigint, j ->> 'kind', j ->> 'external_id', j ->> 'account_id', j ->> 'name',
         decode(j ->> 'app_secret_enc', 'hex'), decode(j ->> 'verify_token_hash', 'hex'),
         decode(j ->> 'access_token_enc', 'hex')
  FROM p
  RETURNING *
),
l AS (
  INSERT INTO channel_lookup (kind, external_id, business_id, channel_id)
  SELECT kind, external_id, business_id, id FROM c
)
SELECT sb_channel_json(c, (SELECT j ->> 'public_url' FROM p))::text FROM c
