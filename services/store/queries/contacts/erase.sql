-- Erases a contact's personal data (see sb_erase_contact); NULL when the
-- contact is not the business's or is erased already.
-- $1: business id, $2: contact id, $3: who asked, $4: Meta confirmation code or ''.
SELECT sb_erase_contact($1::bigint, $2::bigint, $3, NULLIF($4, ''))::text
