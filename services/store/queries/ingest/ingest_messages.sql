-- One group-commit batch of inbound customer messages, in one round trip:
-- archive the bodies, upsert contacts, open or join conversations, insert
-- messages once per provider id (sb_ingest_messages, migration V0024, holds
-- the statement so its plan is cached).
-- $1: {"archives": [{a, business_id, kind, off, len | id, received_at}],
--      "messages": [{i, a, business_id, channel_id, contact, name, phone, pmid, ts, type, text,
--                    payload, media_id, media_url, referral, order, reply_to}]}
-- $2: the bodies, concatenated (archives[].off/len index into it).
-- Rows: (business, channel, provider id) per message inserted now.
SELECT business_id, channel_id, provider_message_id FROM sb_ingest_messages($1::json, $2::bytea)
