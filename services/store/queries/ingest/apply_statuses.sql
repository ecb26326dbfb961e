-- Delivery statuses of our outbound messages; never move backwards. A
-- status for an id we have not recorded yet waits in pending_statuses.
-- $1: [{business_id, channel_id, pmid, status, ts, error}].
WITH s AS (
  SELECT DISTINCT ON (business_id, channel_id, pmid) *
  FROM json_to_recordset($1::json)
       AS s(business_id bigint, channel_id bigint, pmid text, status text, ts bigint, error text)
  WHERE sb_status_rank(status) >= 0  -- "played", "ringing", ... are not delivery states
  ORDER BY business_id, channel_id, pmid, sb_status_rank(status) DESC
),
upd AS (
  UPDATE messages m SET status = s.status, error = COALESCE(s.error, m.error)
  FROM s
  WHERE m.business_id = s.business_id AND m.channel_id = s.channel_id AND m.provider_message_id = s.pmid
    AND m.direction = 'out' AND sb_status_rank(m.status) < sb_status_rank(s.status)
  RETURNING 1
),
pend AS (
  INSERT INTO pending_statuses AS p (business_id, channel_id, provider_message_id, status, error, occurred_at)
  SELECT s.business_id, s.channel_id, s.pmid, s.status, s.error, to_timestamp(s.ts / 1000.0)
  FROM s
  WHERE NOT EXISTS (SELECT 1 FROM messages m
                    WHERE m.business_id = s.business_id AND m.channel_id = s.channel_id
                      AND m.provider_message_id = s.pmid AND m.direction = 'out')
  ORDER BY 1, 2, 3
  ON CONFLICT (business_id, channel_id, provider_message_id) DO UPDATE
    SET status = EXCLUDED.status, error = COALESCE(EXCLUDED.error, p.error),
        occurred_at = EXCLUDED.occurred_at, received_at = now()
    WHERE sb_status_rank(p.status) < sb_status_rank(EXCLUDED.status)
  RETURNING 1
)
SELECT (SELECT count(*) FROM upd) AS updated, (SELECT count(*) FROM pend) AS pending
