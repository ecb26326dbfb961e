-- $1: {business_id, name, strategy, first_response_sla_s, require_accept, offer_timeout_s, overflow_wait_s}.
WITH p AS (SELECT $1::json AS j),
q AS (
  INSERT INTO queues (business_id, name, strategy, first_response_sla_s, require_accept, offer_timeout_s,
                      overflow_wait_s)
  SELECT (j ->> 'business_id')::bigint, j ->> 'name', j ->> 'strategy', (j ->> 'first_response_sla_s')::int,
         COALESCE((j ->> 'require_accept')::boolean, false), COALESCE((j ->> 'offer_timeout_s')::int, 30),
         (j ->> 'overflow_wait_s')::int
  FROM p
  RETURNING *
)
SELECT json_build_object('id', id, 'name', name, 'strategy', strategy, 'first_response_sla_s', first_response_sla_s,
                         'require_accept', require_accept, 'offer_timeout_s', offer_timeout_s,
                         'overflow_wait_s', overflow_wait_s, 'created_at', sb_iso(created_at))::text
FROM q
