-- Where the file of message $2 of business $1 comes from: its conversation,
-- channel kind, WhatsApp media id and the channel's sealed access token;
-- for a Messenger/Instagram attachment, where its kept copy stands (the
-- state and the last error; NULL when there is none).
SELECT m.conversation_id, ch.kind, m.media_id, encode(ch.access_token_enc, 'hex'), mm.state, mm.error
FROM messages m
JOIN channels ch ON ch.business_id = m.business_id AND ch.id = m.channel_id
LEFT JOIN message_media mm ON mm.business_id = m.business_id AND mm.message_id = m.id
WHERE m.business_id = $1::bigint AND m.id = $2::bigint
