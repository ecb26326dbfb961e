-- Stores a channel's re-sealed secrets. $1: business id, $2: channel id,
-- $3: app secret (hex), $4: access token (hex) or '' for none.
UPDATE channels
SET app_secret_enc = decode($3, 'hex'), access_token_enc = decode(NULLIF($4, ''), 'hex')
WHERE business_id = $1::bigint AND id = $2::bigint
