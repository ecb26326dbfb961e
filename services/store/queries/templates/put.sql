-- Creates or replaces template $2 in language $3 of business $1. $4 category,
-- $5 body parameter count, $6 body examples (JSON array of strings).
INSERT INTO message_templates AS t (business_id, name, language, category, body_parameter_count, body_examples)
VALUES ($1::bigint, $2, $3, $4, $5::int, $6::jsonb)
ON CONFLICT (business_id, name, language) DO UPDATE
  SET category = EXCLUDED.category, body_parameter_count = EXCLUDED.body_parameter_count,
      body_examples = EXCLUDED.body_examples, updated_at = now()
RETURNING json_build_object('name', t.name, 'language', t.language, 'category', t.category,
                            'body_parameter_count', t.body_parameter_count, 'body_examples', t.body_examples,
                            'updated_at', sb_iso(t.updated_at))::text
