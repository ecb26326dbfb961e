-- Changes a queue: absent keys keep their value, null clears a nullable one.
-- $1: {business_id, id, name?, strategy?, first_response_sla_s?, require_accept?, offer_timeout_s?,
--      overflow_wait_s?, active?}.
WITH p AS (SELECT $1::jsonb AS j),
u AS (
  UPDATE queues q
  SET name = COALESCE(j ->> 'name', q.name),
      strategy = COALESCE(j ->> 'strategy', q.strategy),
      first_response_sla_s = CASE WHEN j ? 'first_response_sla_s' THEN (j ->> 'first_response_sla_s')::int
                                  ELSE q.first_response_sla_s END,
      require_accept = COALESCE((j ->> 'require_accept')::boolean, q.require_accept),
      offer_timeout_s = COALESCE((j ->> 'offer_timeout_s')::int, q.offer_timeout_s),
      overflow_wait_s = CASE WHEN j ? 'overflow_wait_s' THEN (j ->> 'overflow_wait_s')::int ELSE q.overflow_wait_s END,
      active = COALESCE((j ->> 'active')::boolean, q.active),
      deactivated_at = CASE WHEN (j ->> 'active')::boolean IS NULL THEN q.deactivated_at
                            WHEN (j ->> 'active')::boolean THEN NULL
                            ELSE COALESCE(q.deactivated_at, now()) END
  FROM p
  WHERE q.business_id = (j ->> 'business_id')::bigint AND q.id = (j ->> 'id')::bigint
  RETURNING q.*
)
SELECT sb_queue_json(ROW(u.*)::queues)::text FROM u
