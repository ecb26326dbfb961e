-- One ad of a business. $1: business id, $2: ad id.
SELECT sb_ad_json(a)::text FROM ads a WHERE a.business_id = $1::bigint AND a.ad_id = $2
