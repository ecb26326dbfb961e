-- One channel of a business. $1: business id, $2: channel id, $3: public URL.
SELECT sb_channel_json(c, $3)::text FROM channels c WHERE c.business_id = $1::bigint AND c.id = $2::bigint
