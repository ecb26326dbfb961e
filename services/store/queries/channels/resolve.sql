-- The channels a webhook body names, with their (encrypted) app secrets.
-- $1: {kind, ids: [external ids], accounts: [WhatsApp account ids]}.
SELECT l.external_id, false AS account_level, c.business_id, c.id, encode(c.app_secret_enc, 'hex'), c.active
FROM channel_lookup l
JOIN channels c ON c.business_id = l.business_id AND c.id = l.channel_id
WHERE l.kind = $1::json ->> 'kind'
  AND l.external_id IN (SELECT json_array_elements_text($1::json -> 'ids'))
UNION ALL
SELECT c.account_id, true, c.business_id, c.id, encode(c.app_secret_enc, 'hex'), c.active
FROM channels c
WHERE c.kind = $1::json ->> 'kind'
  AND c.account_id IN (SELECT json_array_elements_text($1::json -> 'accounts'))
