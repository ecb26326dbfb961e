-- A page of a business's ads by ad id. $1: {business_id, after, limit}; one row more than limit.
SELECT a.ad_id, sb_ad_json(a)::text
FROM ads a
WHERE a.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR a.ad_id > $1::json ->> 'after')
ORDER BY a.ad_id
LIMIT ($1::json ->> 'limit')::int + 1
