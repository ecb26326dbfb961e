-- Messenger and Instagram webhooks carry no customer name: it comes from a
-- profile lookup through the Graph API, once per contact, cached in the
-- contact row. `profile_checked_at` marks a contact as looked up (claimed).
ALTER TABLE contacts ADD COLUMN profile_checked_at timestamptz;
CREATE INDEX contacts_profile_pending ON contacts (business_id, id) WHERE name IS NULL AND profile_checked_at IS NULL;
