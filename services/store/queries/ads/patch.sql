-- Changes an ad: absent keys keep their value, null clears a nullable one.
-- $1: {business_id, ad_id, name?, campaign?, spend_cents?, currency?, active?}.
WITH p AS (SELECT $1::jsonb AS j),
u AS (
  UPDATE ads a
  SET name = CASE WHEN j ? 'name' THEN j ->> 'name' ELSE a.name END,
      campaign = CASE WHEN j ? 'campaign' THEN j ->> 'campaign' ELSE a.campaign END,
      spend_cents = COALESCE((j ->> 'spend_cents')::bigint, a.spend_cents),
      currency = COALESCE(j ->> 'currency', a.currency),
      active = COALESCE((j ->> 'active')::boolean, a.active),
      updated_at = now()
  FROM p
  WHERE a.business_id = (j ->> 'business_id')::bigint AND a.ad_id = j ->> 'ad_id'
  RETURNING a.*
)
SELECT sb_ad_json(ROW(u.*)::ads)::text FROM u
