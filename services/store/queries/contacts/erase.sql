-- Erases a contact's personal data (see sb_erase_contact); NULL when the
-- contact is not the business's or is erased already. $1: business id, $2: contact id.
SELECT sb_erase_contact($1::bigint, $2::bigint)::text
