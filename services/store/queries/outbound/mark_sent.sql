-- The provider accepted a send: 'sent' with its message id, sent now. A
-- status that arrived for that id before this (pending_statuses) is applied
-- in the same statement and consumed; statuses never move backwards.
-- Returns the status the message now has; no row when it was not queued.
-- $1: business id, $2: message id, $3: provider message id.
WITH m AS (
  SELECT business_id, id, channel_id FROM messages
  WHERE business_id = $1::bigint AND id = $2::bigint AND direction = 'out' AND status = 'queued'
  FOR UPDATE
),
p AS (
  DELETE FROM pending_statuses ps USING m
  WHERE ps.business_id = m.business_id AND ps.channel_id = m.channel_id AND ps.provider_message_id = $3::text
  RETURNING ps.status, ps.error
)
UPDATE messages x
SET status = CASE WHEN sb_status_rank(p.status) > sb_status_rank('sent') THEN p.status ELSE 'sent' END,
    error = p.error, provider_message_id = $3::text, sent_at = now(), next_attempt_at = NULL
FROM m LEFT JOIN p ON true
WHERE x.business_id = m.business_id AND x.id = m.id
RETURNING x.status
