-- Replaces a business's routing rules. $1: business id, $2: default queue id, $3: rules (JSON array).
WITH r AS (
  INSERT INTO routing_rules (business_id, default_queue_id, rules)
  VALUES ($1::bigint, $2::bigint, $3::jsonb)
  ON CONFLICT (business_id) DO UPDATE
    SET default_queue_id = EXCLUDED.default_queue_id, rules = EXCLUDED.rules,
        version = routing_rules.version + 1, updated_at = now()
  RETURNING *
)
SELECT json_build_object('default_queue_id', default_queue_id, 'rules', rules, 'version', version,
                         'updated_at', sb_iso(updated_at))::text
FROM r
