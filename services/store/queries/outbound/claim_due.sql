-- Claims due outbound replies for one send attempt each, most overdue first
-- (a NULL next_attempt_at counts as due, after the dated ones): queued, due,
-- and the oldest queued reply of their conversation, so a conversation's
-- replies go out in order and one in retry holds back the ones after it.
-- SKIP LOCKED lets several senders claim side by side; the claim pushes
-- next_attempt_at out by the lease, so a reply whose sender died is claimed
-- again when the lease ends, and counts the attempt (a reply that kills its
-- sender cannot loop for ever).
-- $1: how many, $2: lease in milliseconds.
WITH due AS (
  SELECT m.business_id, m.id
  FROM messages m
  WHERE m.direction = 'out' AND m.status = 'queued'
    AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= now())
    AND NOT EXISTS (SELECT 1 FROM messages e
                    WHERE e.business_id = m.business_id AND e.conversation_id = m.conversation_id
                      AND e.id < m.id AND e.direction = 'out' AND e.status = 'queued')
  ORDER BY m.next_attempt_at  -- the order of messages_outbound_queue, so LIMIT stops the scan early
  LIMIT $1::int
  FOR UPDATE OF m SKIP LOCKED
),
claimed AS (
  UPDATE messages m
  SET next_attempt_at = now() + make_interval(secs => $2::bigint / 1000.0), attempts = m.attempts + 1
  FROM due
  WHERE m.business_id = due.business_id AND m.id = due.id
  RETURNING m.business_id, m.id, m.conversation_id, m.channel_id, m.contact_id, m.text, m.tag, m.attempts,
            m.created_at, m.type, m.payload
)
SELECT c.business_id, c.id, c.conversation_id, c.channel_id, ch.kind, ch.external_id, COALESCE(ch.active, false),
       encode(ch.access_token_enc, 'hex'), ct.external_id, c.text, c.tag, c.attempts,
       GREATEST((extract(epoch FROM now() - c.created_at) * 1000)::bigint, 0), c.type, c.payload
FROM claimed c
LEFT JOIN channels ch ON ch.business_id = c.business_id AND ch.id = c.channel_id
LEFT JOIN contacts ct ON ct.business_id = c.business_id AND ct.id = c.contact_id
ORDER BY c.business_id, c.id
