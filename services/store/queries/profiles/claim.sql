-- Claims up to $1 Messenger/Instagram contacts (not erased) without a name
-- whose profile was never looked up (marked as looked up now; rows other
-- processes hold are skipped). Returns what the lookup needs.
WITH due AS (
  SELECT c.business_id, c.id FROM contacts c
  JOIN channels ch ON ch.business_id = c.business_id AND ch.id = c.channel_id
  WHERE c.name IS NULL AND c.profile_checked_at IS NULL AND c.erased_at IS NULL
    AND ch.kind IN ('messenger', 'instagram') AND ch.active
    AND ch.access_token_enc IS NOT NULL
  ORDER BY c.business_id, c.id
  LIMIT $1::int
  FOR UPDATE OF c SKIP LOCKED
),
claimed AS (
  UPDATE contacts c SET profile_checked_at = now()
  FROM due WHERE c.business_id = due.business_id AND c.id = due.id
  RETURNING c.business_id, c.id, c.channel_id, c.external_id
)
SELECT c.business_id, c.id, c.external_id, ch.kind, encode(ch.access_token_enc, 'hex')
FROM claimed c JOIN channels ch ON ch.business_id = c.business_id AND ch.id = c.channel_id
ORDER BY c.business_id, c.id
