-- Channels holding a secret sealed under another key than the current one,
-- after the cursor, locked for re-encryption (other processes skip them).
-- $1: current key id (1..255), $2/$3: cursor (business_id, id), $4: limit.
SELECT business_id, id, encode(app_secret_enc, 'hex'), encode(access_token_enc, 'hex')
FROM channels
WHERE (get_byte(app_secret_enc, 0) <> $1::int
       OR (access_token_enc IS NOT NULL AND get_byte(access_token_enc, 0) <> $1::int))
  AND (business_id, id) > ($2::bigint, $3::bigint)
ORDER BY business_id, id
LIMIT $4::int
FOR UPDATE SKIP LOCKED
