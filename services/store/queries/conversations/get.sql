-- One conversation of a business. $1: business id, $2: conversation id.
SELECT sb_conversation_json(v)::text FROM conversations v WHERE v.business_id = $1::bigint AND v.id = $2::bigint
