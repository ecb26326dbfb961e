-- A status that arrives while the send recording its id commits is parked in
-- pending_statuses after MarkSent looked there (neither statement sees the
-- other's uncommitted row). Recent parked statuses whose id a send has
-- recorded since are applied here and consumed; never backwards. SKIP LOCKED
-- and the sorted lock order keep concurrent sweeps out of each other's way.
-- $1: how far back to look, in milliseconds.
WITH p0 AS (
  SELECT ps.business_id, ps.channel_id, ps.provider_message_id
  FROM pending_statuses ps
  WHERE ps.received_at > now() - make_interval(secs => $1::bigint / 1000.0)
    AND EXISTS (SELECT 1 FROM messages m
                WHERE m.business_id = ps.business_id AND m.channel_id = ps.channel_id
                  AND m.provider_message_id = ps.provider_message_id AND m.direction = 'out')
  ORDER BY 1, 2, 3
  FOR UPDATE SKIP LOCKED
),
p AS (
  DELETE FROM pending_statuses ps USING p0
  WHERE ps.business_id = p0.business_id AND ps.channel_id = p0.channel_id
    AND ps.provider_message_id = p0.provider_message_id
  RETURNING ps.business_id, ps.channel_id, ps.provider_message_id, ps.status, ps.error
),
upd AS (
  UPDATE messages m SET status = p.status, error = COALESCE(p.error, m.error)
  FROM p
  WHERE m.business_id = p.business_id AND m.channel_id = p.channel_id AND m.provider_message_id = p.provider_message_id
    AND m.direction = 'out' AND sb_status_rank(m.status) < sb_status_rank(p.status)
  RETURNING 1
)
SELECT (SELECT count(*) FROM p) AS consumed, (SELECT count(*) FROM upd) AS applied
