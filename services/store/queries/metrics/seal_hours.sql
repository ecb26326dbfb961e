-- Stores the conversation figures (conversation_hour_metrics) of at most $4
-- whole UTC hours of business $1 inside [$2, $3) that ended more than an
-- hour ago and are not stored yet or had a change noted since; the oldest
-- first. Returns how many hours it stored. Runs after metrics/seal_lock.sql
-- (one at a time per business); a recomputation still replaces only the
-- version it read. It deletes the change notes it saw of the hours it
-- stored, and those of hours that are not stored (they mean nothing: such
-- an hour is computed from the rows when it is first stored); notes
-- committed after this statement began stay for the next one.
WITH
todo AS MATERIALIZED (
  SELECT g.h, COALESCE(c.version, 0) + 1 AS version
  FROM generate_series(date_trunc('hour', $2::timestamptz + interval '1 hour' - interval '1 microsecond', 'UTC'),
                       least($3::timestamptz, now() - interval '1 hour') - interval '1 hour',
                       interval '1 hour') AS g(h)
  LEFT JOIN conversation_hour_metrics c ON c.business_id = $1::bigint AND c.hour = g.h
  WHERE c.version IS NULL
     OR EXISTS (SELECT 1 FROM conversation_hour_changes x WHERE x.business_id = $1::bigint AND x.hour = g.h)
  ORDER BY g.h
  LIMIT $4::int
),
rows AS MATERIALIZED (
  SELECT t.h, m.channel_kind, m.first_response_s, m.resolution_s, m.resolved, m.bot_handled, m.escalated,
         m.agent_replied, m.sla_breached, m.order_status_intent, m.any_intent, m.sale, m.ad_id,
         CASE WHEN m.sale AND m.amount_cents IS NOT NULL AND m.currency IS NOT NULL THEN m.currency END AS currency,
         CASE WHEN m.sale AND m.amount_cents IS NOT NULL AND m.currency IS NOT NULL THEN m.amount_cents END AS amount
  FROM todo t
  CROSS JOIN LATERAL (
    SELECT m.* FROM conversation_metrics m
    WHERE m.business_id = $1::bigint AND m.opened_at >= t.h AND m.opened_at < t.h + interval '1 hour') m
),
groups AS (
  SELECT g.h, array_agg(g.g) AS groups
  FROM (SELECT h,
               ROW(ad_id, currency, count(*),
                   count(*) FILTER (WHERE channel_kind = 'messenger'),
                   count(*) FILTER (WHERE channel_kind = 'instagram'),
                   count(*) FILTER (WHERE channel_kind = 'whatsapp'),
                   count(first_response_s), count(resolution_s),
                   count(*) FILTER (WHERE bot_handled),
                   count(*) FILTER (WHERE bot_handled AND resolved AND NOT agent_replied),
                   count(*) FILTER (WHERE escalated),
                   count(*) FILTER (WHERE sla_breached),
                   count(*) FILTER (WHERE sale),
                   count(*) FILTER (WHERE order_status_intent),
                   count(*) FILTER (WHERE order_status_intent AND sale),
                   count(*) FILTER (WHERE any_intent),
                   count(*) FILTER (WHERE any_intent AND sale),
                   COALESCE(sum(amount), 0),
                   COALESCE(sum(amount) FILTER (WHERE order_status_intent), 0),
                   COALESCE(sum(amount) FILTER (WHERE any_intent), 0))::sb_metrics_group AS g
        FROM rows GROUP BY h, ad_id, currency) g
  GROUP BY g.h
),
durations AS (
  SELECT h, COALESCE(array_agg(first_response_s ORDER BY first_response_s)
                       FILTER (WHERE first_response_s IS NOT NULL), '{}') AS fr,
            COALESCE(array_agg(resolution_s ORDER BY resolution_s) FILTER (WHERE resolution_s IS NOT NULL), '{}') AS rs
  FROM rows GROUP BY h
),
stored AS (
  INSERT INTO conversation_hour_metrics AS c (business_id, hour, version, groups, fr, fr_b, fr_at, rs, rs_b, rs_at)
  SELECT $1::bigint, t.h, t.version, COALESCE(g.groups, '{}'), d.fr, fb.b, fb.at, d.rs, rb.b, rb.at
  FROM todo t
  LEFT JOIN groups g ON g.h = t.h
  LEFT JOIN durations d0 ON d0.h = t.h
  CROSS JOIN LATERAL (SELECT COALESCE(d0.fr, '{}') AS fr, COALESCE(d0.rs, '{}') AS rs) d
  CROSS JOIN LATERAL sb_duration_starts(d.fr) fb
  CROSS JOIN LATERAL sb_duration_starts(d.rs) rb
  ON CONFLICT (business_id, hour) DO UPDATE
    SET version = excluded.version, groups = excluded.groups, fr = excluded.fr, fr_b = excluded.fr_b,
        fr_at = excluded.fr_at, rs = excluded.rs, rs_b = excluded.rs_b, rs_at = excluded.rs_at
    WHERE c.version = excluded.version - 1
  RETURNING c.hour
),
cleared AS (
  DELETE FROM conversation_hour_changes x USING stored s WHERE x.business_id = $1::bigint AND x.hour = s.hour
),
unstored AS (
  DELETE FROM conversation_hour_changes x
  WHERE x.business_id = $1::bigint
    AND NOT EXISTS (SELECT 1 FROM conversation_hour_metrics c WHERE c.business_id = x.business_id AND c.hour = x.hour)
    AND NOT EXISTS (SELECT 1 FROM todo t WHERE t.h = x.hour)
)
SELECT count(*) FROM todo
