-- The body parameter count of template $2 in language $3 of business $1 (no row: no such template).
SELECT body_parameter_count FROM message_templates
WHERE business_id = $1::bigint AND name = $2 AND language = $3
