-- Creates or replaces an ad's spend (for ROAS). $1: {business_id, ad_id, name, campaign, spend_cents, currency}.
WITH p AS (SELECT $1::json AS j),
a AS (
  INSERT INTO ads (business_id, ad_id, name, campaign, spend_cents, currency)
  SELECT (j ->> 'business_id')::bigint, j ->> 'ad_id', j ->> 'name', j ->> 'campaign', (j ->> 'spend_cents')::bigint,
         j ->> 'currency'
  FROM p
  ON CONFLICT (business_id, ad_id) DO UPDATE
    SET name = EXCLUDED.name, campaign = EXCLUDED.campaign, spend_cents = EXCLUDED.spend_cents,
        currency = EXCLUDED.currency, active = true, updated_at = now()
  RETURNING *
)
SELECT json_build_object('ad_id', ad_id, 'name', name, 'campaign', campaign, 'spend_cents', spend_cents,
                         'currency', currency, 'updated_at', sb_iso(updated_at))::text
FROM a
