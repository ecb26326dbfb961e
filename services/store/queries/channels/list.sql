-- A business's channels, secrets never included. $1: business id, $2: public URL.
SELECT COALESCE(json_agg(sb_channel_json(c, $2) ORDER BY c.id), '[]')::text
FROM channels c
WHERE c.business_id = $1::bigint
