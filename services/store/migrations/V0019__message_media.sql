-- Messenger and Instagram attachments arrive as CDN URLs that expire: the
-- file is fetched once, in the background, and kept here, one row per media
-- message. A row is born 'pending' with the message (the trigger below, in
-- the ingest transaction, so no message is missed and the webhook's answer
-- never waits for a download); the media fetcher claims due rows (SKIP
-- LOCKED) and ends each in 'kept' (the bytes), 'failed' (the CDN refused,
-- or every retry failed), 'too_large' (over SWITCHBOARD_MEDIA_MAX_BYTES,
-- nothing kept) or 'refused' (the URL's host is not on
-- SWITCHBOARD_MEDIA_HOSTS, never fetched).
--
-- bytea rather than large objects: a row and its file are one thing, so
-- erasure (and anything else that deletes the row) cannot leave an orphan
-- behind, the table shards with its business like every other, and it
-- works through pgbouncer unchanged. EXTERNAL storage: media files are
-- compressed already; TOAST need not try again.
CREATE TABLE message_media (
  business_id     bigint NOT NULL,
  message_id      bigint NOT NULL,
  state           text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'kept', 'failed', 'too_large', 'refused')),
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  content_type    text,
  size            bigint,
  bytes           bytea,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  fetched_at      timestamptz,
  PRIMARY KEY (business_id, message_id),
  FOREIGN KEY (business_id, message_id) REFERENCES messages ON DELETE CASCADE,
  CHECK ((state = 'kept') = (bytes IS NOT NULL))
);
ALTER TABLE message_media ALTER COLUMN bytes SET STORAGE EXTERNAL;
-- The fetcher's claim: due pending rows, oldest first.
CREATE INDEX message_media_due ON message_media (next_attempt_at) WHERE state = 'pending';

CREATE FUNCTION sb_message_media_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO message_media (business_id, message_id) VALUES (NEW.business_id, NEW.id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Only customer attachments with a URL (Messenger and Instagram; WhatsApp
-- media has an id instead and is fetched through the Graph API when asked
-- for); a text message costs the WHEN test only.
CREATE TRIGGER messages_media_pending
  AFTER INSERT ON messages
  FOR EACH ROW
  WHEN (NEW.direction = 'in' AND NEW.media_url IS NOT NULL
        AND NEW.type IN ('image', 'audio', 'video', 'document', 'sticker'))
  EXECUTE FUNCTION sb_message_media_pending();
