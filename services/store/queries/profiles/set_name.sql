-- The profile lookup's name for contact $2 of business $1, unless a name came
-- meanwhile or the contact was erased while the lookup ran.
UPDATE contacts SET name = $3 WHERE business_id = $1::bigint AND id = $2::bigint AND name IS NULL
  AND erased_at IS NULL
