-- Conversation events (reactions, opt-ins, standalone referrals, ...). A
-- standalone referral sets the referral of the contact's open conversation,
-- or waits on the contact for the next one.
-- $1: [{i, business_id, channel_id, contact, kind, ts, data, referral}].
WITH e AS (
  SELECT *
  FROM json_to_recordset($1::json)
       AS e(i int, business_id bigint, channel_id bigint, contact text, kind text, ts bigint, data jsonb, referral jsonb)
),
target AS MATERIALIZED (
  SELECT e.*, v.id AS conversation_id
  FROM e
  LEFT JOIN contacts c ON c.business_id = e.business_id AND c.channel_id = e.channel_id AND c.external_id = e.contact
  LEFT JOIN conversations v ON v.business_id = c.business_id AND v.contact_id = c.id AND v.status <> 'resolved'
),
ins AS (
  INSERT INTO conversation_events (business_id, conversation_id, channel_id, contact_external_id, kind, data, occurred_at)
  SELECT business_id, conversation_id, channel_id, contact, kind, COALESCE(data, '{}'),
         COALESCE(to_timestamp(ts / 1000.0), now())
  FROM target ORDER BY i
  RETURNING 1
),
ref_open AS (
  UPDATE conversations v SET referral = t.referral
  FROM (SELECT DISTINCT ON (business_id, conversation_id) * FROM target
        WHERE kind = 'referral' AND referral IS NOT NULL AND conversation_id IS NOT NULL
        ORDER BY business_id, conversation_id, i DESC) t
  WHERE v.business_id = t.business_id AND v.id = t.conversation_id
  RETURNING 1
),
ref_next AS (
  INSERT INTO contacts AS c (business_id, channel_id, external_id, pending_referral)
  SELECT DISTINCT ON (business_id, channel_id, contact) business_id, channel_id, contact, referral
  FROM target
  WHERE kind = 'referral' AND referral IS NOT NULL AND conversation_id IS NULL
  ORDER BY business_id, channel_id, contact, i DESC
  ON CONFLICT (business_id, channel_id, external_id) DO UPDATE SET pending_referral = EXCLUDED.pending_referral
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins) AS events
