-- Is $2 a conversation of business $1?
SELECT 1 FROM conversations WHERE business_id = $1::bigint AND id = $2::bigint
