-- A failed attempt that will be tried again: stays queued, due after the
-- delay. The later queued replies of its conversation wait behind it (see
-- claim_due) and are dated no earlier, so claims do not keep looking at
-- them while it backs off. Returns the reply's id; no row when it was no
-- longer queued.
-- $1: business id, $2: message id, $3: delay in milliseconds, $4: error.
WITH head AS (
  UPDATE messages
  SET next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0), error = $4::text
  WHERE business_id = $1::bigint AND id = $2::bigint AND direction = 'out' AND status = 'queued'
  RETURNING business_id, id, conversation_id, next_attempt_at
),
behind AS (
  UPDATE messages m SET next_attempt_at = head.next_attempt_at
  FROM head
  WHERE m.business_id = head.business_id AND m.conversation_id = head.conversation_id AND m.id > head.id
    AND m.direction = 'out' AND m.status = 'queued'
    AND (m.next_attempt_at IS NULL OR m.next_attempt_at < head.next_attempt_at)
)
SELECT id FROM head
