-- Erases a contact's personal data (see sb_erase_contact) and deletes the
-- attachment files kept for their messages; NULL when the contact is not
-- the business's or is erased already. $1: business id, $2: contact id.
WITH files AS (
  DELETE FROM message_media mm
  USING messages m
  WHERE mm.business_id = $1::bigint AND m.business_id = $1::bigint AND m.contact_id = $2::bigint
    AND mm.message_id = m.id
  RETURNING mm.bytes IS NOT NULL AS kept
)
SELECT (sb_erase_contact($1::bigint, $2::bigint)
        || jsonb_build_object('media_files', (SELECT count(*) FROM files WHERE kept)))::text
