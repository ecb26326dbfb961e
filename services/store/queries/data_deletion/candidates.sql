-- Meta's data-deletion callback names an app-scoped user id and is signed
-- with the app secret: every Messenger and Instagram channel whose secret
-- may have signed it, with the not yet erased contacts of that id.
-- $1: the user id.
SELECT c.business_id, c.id, encode(c.app_secret_enc, 'hex'),
       (SELECT COALESCE(json_agg(ct.id), '[]') FROM contacts ct
        WHERE ct.business_id = c.business_id AND ct.channel_id = c.id AND ct.external_id = $1
          AND ct.erased_at IS NULL)::text
FROM channels c
WHERE c.kind IN ('messenger', 'instagram')
ORDER BY c.business_id, c.id
