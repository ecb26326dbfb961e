-- Messenger read watermarks: our outbound messages to the contact sent at or
-- before the watermark are read. $1: [{business_id, channel_id, contact, wm}].
WITH w AS (
  SELECT business_id, channel_id, contact, max(wm) AS wm
  FROM json_to_recordset($1::json) AS w(business_id bigint, channel_id bigint, contact text, wm bigint)
  GROUP BY 1, 2, 3
)
UPDATE messages m SET status = 'read'
FROM w JOIN contacts c ON c.business_id = w.business_id AND c.channel_id = w.channel_id AND c.external_id = w.contact
WHERE m.business_id = c.business_id AND m.contact_id = c.id AND m.direction = 'out'
  AND m.sent_at <= to_timestamp(w.wm / 1000.0) AND sb_status_rank(m.status) BETWEEN 1 AND 2
