-- Claims up to $1 attachments due for a fetch, most overdue first, skipping
-- rows other fetchers hold. The claim pushes next_attempt_at out by the
-- lease ($2 milliseconds), so a fetch whose process died is claimed again
-- when the lease ends, and counts the attempt (a file that kills its fetcher
-- cannot loop for ever). Returns what the fetch needs: the message's URL
-- (NULL when erased meanwhile).
WITH due AS (
  SELECT mm.business_id, mm.message_id
  FROM message_media mm
  WHERE mm.state = 'pending' AND mm.next_attempt_at <= now()
  ORDER BY mm.next_attempt_at  -- the order of message_media_due, so LIMIT stops the scan early
  LIMIT $1::int
  FOR UPDATE OF mm SKIP LOCKED
),
claimed AS (
  UPDATE message_media mm
  SET attempts = mm.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::bigint / 1000.0)
  FROM due
  WHERE mm.business_id = due.business_id AND mm.message_id = due.message_id
  RETURNING mm.business_id, mm.message_id, mm.attempts
)
SELECT c.business_id, c.message_id, c.attempts, m.media_url
FROM claimed c
LEFT JOIN messages m ON m.business_id = c.business_id AND m.id = c.message_id
ORDER BY c.business_id, c.message_id
