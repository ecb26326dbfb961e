-- The metrics summary of business $1 over [$2, $3) (timestamptz), with a
-- series per $4 bucket ('hour', 'day', or '' for none). Definitions: proto/openapi.yaml,
-- GET /v1/metrics/summary. Conversation figures add up the stored figures of whole
-- past hours (conversation_hour_metrics, written by metrics/seal_hours.sql) and the
-- narrow per-conversation metrics rows of every other hour (plus the few
-- conversations the router has not decided on yet); percentiles stay exact.
-- Messages come from hourly counts and the partial indexes on
-- (business_id, created_at). Returns the JSON document.
WITH
biz AS (SELECT timezone AS tz FROM businesses WHERE business_id = $1::bigint),
-- Series buckets: days start at midnight in the business's time zone,
-- hours on the UTC hour; bounds clipped to the range.
zone AS (SELECT CASE WHEN NULLIF($4::text, '') = 'day' THEN biz.tz ELSE 'UTC' END AS z FROM biz),
buckets AS MATERIALIZED (
  SELECT g.ord, g.l AT TIME ZONE zone.z AS start,
         greatest(g.l AT TIME ZONE zone.z, $2::timestamptz) AS lo,
         least((g.l + ('1 ' || NULLIF($4::text, ''))::interval) AT TIME ZONE zone.z, $3::timestamptz) AS hi
  FROM zone,
       generate_series(date_trunc(NULLIF($4::text, ''), $2::timestamptz AT TIME ZONE zone.z),
                       ($3::timestamptz - interval '1 microsecond') AT TIME ZONE zone.z,
                       ('1 ' || NULLIF($4::text, ''))::interval) WITH ORDINALITY AS g(l, ord)
  WHERE NULLIF($4::text, '') IS NOT NULL
),
bucket_starts AS (SELECT array_agg(start ORDER BY ord) AS starts FROM buckets),
-- Conversations opened in the range. Whole UTC hours of the range that
-- ended more than an hour ago (and lie inside one bucket) are read from
-- conversation_hour_metrics (metrics/seal_hours.sql stores them) while no
-- change has been noted for them since they were computed; every other
-- hour is read row by row.
slots AS MATERIALIZED (
  SELECT g.h, greatest(g.h, $2::timestamptz) AS lo, least(g.h + interval '1 hour', $3::timestamptz) AS hi,
         g.h >= $2::timestamptz AND g.h + interval '1 hour' <= $3::timestamptz
           AND g.h + interval '2 hours' <= now()
           AND (bs.starts IS NULL OR width_bucket(g.h, bs.starts)
                                     = width_bucket(g.h + interval '1 hour' - interval '1 microsecond', bs.starts))
           AS sealable,
         CASE WHEN bs.starts IS NULL THEN 0 ELSE width_bucket(g.h, bs.starts) END AS ord
  FROM bucket_starts bs,
       generate_series(date_trunc('hour', $2::timestamptz, 'UTC'), $3::timestamptz - interval '1 microsecond',
                       interval '1 hour') AS g(h)
),
cached AS MATERIALIZED (
  SELECT s.h, s.ord, c.groups, c.fr, c.fr_b, c.fr_at, c.rs, c.rs_b, c.rs_at,
         c.version IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM conversation_hour_changes x WHERE x.business_id = $1::bigint AND x.hour = s.h)
           AS usable
  FROM slots s
  LEFT JOIN conversation_hour_metrics c ON c.business_id = $1::bigint AND c.hour = s.h
  WHERE s.sealable
),
-- Row by row: the conversations of the other hours, plus the few the router
-- has not decided on yet (never cached: they have no metrics row).
live AS MATERIALIZED (
  SELECT CASE WHEN bs.starts IS NULL THEN 0 ELSE width_bucket(m.opened_at, bs.starts) END AS ord,
         m.channel_kind, m.first_response_s, m.resolution_s, m.resolved, m.bot_handled, m.escalated,
         m.agent_replied, m.sla_breached, m.order_status_intent, m.any_intent, m.sale, m.ad_id,
         CASE WHEN m.sale AND m.amount_cents IS NOT NULL AND m.currency IS NOT NULL THEN m.currency END AS currency,
         CASE WHEN m.sale AND m.amount_cents IS NOT NULL AND m.currency IS NOT NULL THEN m.amount_cents END AS amount
  FROM slots s
  CROSS JOIN bucket_starts bs
  CROSS JOIN LATERAL (
    SELECT m.* FROM conversation_metrics m
    WHERE m.business_id = $1::bigint AND m.opened_at >= s.lo AND m.opened_at < s.hi) m
  WHERE NOT EXISTS (SELECT 1 FROM cached c WHERE c.h = s.h AND c.usable)
  UNION ALL
  SELECT CASE WHEN bs.starts IS NULL THEN 0 ELSE width_bucket(v.opened_at, bs.starts) END,
         ch.kind, NULL, NULL, false, false, false, false, false, false, false, false, v.referral ->> 'ad_id', NULL, NULL
  FROM conversations v
  JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
  CROSS JOIN bucket_starts bs
  WHERE v.routed_at IS NULL AND v.business_id = $1::bigint
    AND v.opened_at >= $2::timestamptz AND v.opened_at < $3::timestamptz
    AND NOT EXISTS (SELECT 1 FROM conversation_metrics m WHERE m.business_id = v.business_id AND m.conversation_id = v.id)
),
-- The live rows counted per bucket, ad and sale currency.
live_groups AS MATERIALIZED (
  SELECT ord,
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
  FROM live GROUP BY ord, ad_id, currency
),
-- Every conversation figure below adds up these.
units AS MATERIALIZED (
  SELECT c.ord, g.* FROM cached c, unnest(c.groups) g WHERE c.usable
  UNION ALL
  SELECT l.ord, (l.g).* FROM live_groups l
),
tot AS (
  SELECT COALESCE(sum(conversations), 0)::bigint AS total, COALESCE(sum(messenger), 0)::bigint AS messenger,
         COALESCE(sum(instagram), 0)::bigint AS instagram, COALESCE(sum(whatsapp), 0)::bigint AS whatsapp,
         COALESCE(sum(fr_n), 0)::bigint AS fr_n, COALESCE(sum(rs_n), 0)::bigint AS rs_n,
         COALESCE(sum(handled), 0)::bigint AS handled, COALESCE(sum(contained), 0)::bigint AS contained,
         COALESCE(sum(escalated), 0)::bigint AS escalated, COALESCE(sum(breached), 0)::bigint AS breached,
         COALESCE(sum(sales), 0)::bigint AS sales, COALESCE(sum(os_n), 0)::bigint AS os_n,
         COALESCE(sum(os_sales), 0)::bigint AS os_sales, COALESCE(sum(ai_n), 0)::bigint AS ai_n,
         COALESCE(sum(ai_sales), 0)::bigint AS ai_sales
  FROM units
),
-- Exact continuous percentiles (as percentile_cont): the durations fall in
-- coarse buckets (sb_duration_bucket); the buckets' counts give the bucket
-- and the place in it of each wanted rank, and only that bucket's values
-- are sorted. A cached hour holds its durations sorted with the start of
-- each bucket. Group 0 is the whole range, group n > 0 bucket n of the
-- series (first response only).
pieces AS MATERIALIZED (
  SELECT c.h, c.ord, 'f'::text AS m, u.b, u.a, u.z - u.a AS n
  FROM cached c, unnest(c.fr_b, c.fr_at[:cardinality(c.fr_b)], c.fr_at[2:]) AS u(b, a, z) WHERE c.usable
  UNION ALL
  SELECT c.h, c.ord, 'r', u.b, u.a, u.z - u.a
  FROM cached c, unnest(c.rs_b, c.rs_at[:cardinality(c.rs_b)], c.rs_at[2:]) AS u(b, a, z) WHERE c.usable
),
live_values AS MATERIALIZED (
  SELECT ord, 'f'::text AS m, sb_duration_bucket(first_response_s) AS b, first_response_s AS v
  FROM live WHERE first_response_s IS NOT NULL
  UNION ALL
  SELECT ord, 'r', sb_duration_bucket(resolution_s), resolution_s FROM live WHERE resolution_s IS NOT NULL
),
hist AS MATERIALIZED (
  SELECT grp, m, b, n, (sum(n) OVER (PARTITION BY grp, m ORDER BY b) - n)::bigint AS below,
         (sum(n) OVER (PARTITION BY grp, m))::bigint AS total
  FROM (SELECT x.grp, x.m, x.b, sum(x.n)::bigint AS n
        FROM (SELECT 0 AS grp, m, b, n FROM pieces
              UNION ALL SELECT 0, m, b, 1 FROM live_values
              UNION ALL SELECT ord, m, b, n FROM pieces WHERE m = 'f' AND ord > 0
              UNION ALL SELECT ord, m, b, 1 FROM live_values WHERE m = 'f' AND ord > 0) x
        GROUP BY x.grp, x.m, x.b) y
),
want AS MATERIALIZED (
  SELECT w.grp, w.m, w.p, t.total, floor(w.p * (t.total - 1))::bigint AS k0, ceil(w.p * (t.total - 1))::bigint AS k1
  FROM (SELECT 0 AS grp, m, p FROM (VALUES ('f'), ('r')) AS a(m), (VALUES (0.5::float8), (0.9::float8)) AS q(p)
        UNION ALL
        SELECT DISTINCT grp, 'f', 0.5::float8 FROM hist WHERE grp > 0) w
  JOIN (SELECT DISTINCT grp, m, total FROM hist) t ON t.grp = w.grp AND t.m = w.m
),
-- Each wanted rank (0-based), its bucket and its place in the bucket.
ranks AS MATERIALIZED (
  SELECT DISTINCT r.grp, r.m, r.k, h.b, r.k - h.below AS i
  FROM (SELECT grp, m, k0 AS k FROM want UNION SELECT grp, m, k1 FROM want) r
  JOIN hist h ON h.grp = r.grp AND h.m = r.m AND r.k >= h.below AND r.k < h.below + h.n
),
-- The values of the buckets those ranks fall in, sorted.
targets AS (
  SELECT y.grp, y.m, y.b, array_agg(y.v ORDER BY y.v) AS vs
  FROM (SELECT t.grp, t.m, t.b,
               unnest(CASE WHEN t.m = 'f' THEN c.fr[p.a:p.a + p.n - 1] ELSE c.rs[p.a:p.a + p.n - 1] END) AS v
        FROM (SELECT DISTINCT grp, m, b FROM ranks) t
        JOIN pieces p ON p.m = t.m AND p.b = t.b AND (t.grp = 0 OR p.ord = t.grp)
        JOIN cached c ON c.h = p.h
        UNION ALL
        SELECT t.grp, t.m, t.b, l.v
        FROM (SELECT DISTINCT grp, m, b FROM ranks) t
        JOIN live_values l ON l.m = t.m AND l.b = t.b AND (t.grp = 0 OR l.ord = t.grp)) y
  GROUP BY y.grp, y.m, y.b
),
picked AS (
  SELECT r.grp, r.m, r.k, t.vs[r.i + 1] AS v
  FROM ranks r JOIN targets t ON t.grp = r.grp AND t.m = r.m AND t.b = r.b
),
pct AS (
  SELECT w.grp, w.m, w.p,
         round(CASE WHEN w.k1 = w.k0 THEN v0.v
                    ELSE v0.v + (v1.v - v0.v) * (w.p * (w.total - 1) - w.k0) END::numeric, 3) AS value
  FROM want w
  JOIN picked v0 ON v0.grp = w.grp AND v0.m = w.m AND v0.k = w.k0
  JOIN picked v1 ON v1.grp = w.grp AND v1.m = w.m AND v1.k = w.k1
),
-- Per bucket: conversations opened, sales.
s_conv AS (
  SELECT ord, sum(conversations)::bigint AS conversations, sum(sales)::bigint AS sales FROM units GROUP BY ord
),
rev AS (
  SELECT currency, sum(os_revenue) AS os, sum(ai_revenue) AS ai FROM units WHERE currency IS NOT NULL GROUP BY currency
),
-- Ads: every registered ad and every ad id that opened a conversation.
ad_conv AS (
  SELECT ad_id, sum(conversations)::bigint AS conversations, sum(sales)::bigint AS sales
  FROM units WHERE ad_id IS NOT NULL GROUP BY ad_id
),
ad_rev AS (
  SELECT ad_id, currency, sum(revenue) AS revenue FROM units WHERE ad_id IS NOT NULL AND currency IS NOT NULL
  GROUP BY ad_id, currency
),
ad_all AS (
  SELECT i.ad_id, a.name, a.campaign, a.spend_cents, a.currency AS spend_currency,
         COALESCE(c.conversations, 0) AS conversations, COALESCE(c.sales, 0) AS sales
  FROM (SELECT ad_id FROM ad_conv UNION SELECT ad_id FROM ads WHERE business_id = $1::bigint) i
  LEFT JOIN ads a ON a.business_id = $1::bigint AND a.ad_id = i.ad_id
  LEFT JOIN ad_conv c ON c.ad_id = i.ad_id
),
ad_cur AS (
  SELECT x.ad_id, x.currency, sum(x.revenue)::bigint AS revenue_cents, sum(x.spend)::bigint AS spend_cents
  FROM (SELECT ad_id, currency, revenue, 0 AS spend FROM ad_rev
        UNION ALL
        SELECT ad_id, spend_currency, 0, spend_cents FROM ad_all WHERE spend_currency IS NOT NULL) x
  GROUP BY x.ad_id, x.currency
),
camp_cur AS (
  SELECT a.campaign, c.currency, sum(c.revenue_cents)::bigint AS revenue_cents, sum(c.spend_cents)::bigint AS spend_cents
  FROM ad_cur c JOIN ad_all a ON a.ad_id = c.ad_id
  WHERE a.campaign IS NOT NULL
  GROUP BY a.campaign, c.currency
),
s_rev AS MATERIALIZED (
  SELECT ord, currency, sum(revenue) AS amount FROM units WHERE currency IS NOT NULL GROUP BY ord, currency
),
-- Messages: whole UTC hours that ended more than 10 minutes ago (no
-- transaction that inserts messages lives that long) are counted once into
-- message_hour_counts, by the first summary that needs them; the rest of
-- each range (its partial hours, the last minutes) is counted through the
-- partial indexes on (business_id, created_at). Without buckets the whole
-- range is one piece.
ranges AS MATERIALIZED (
  SELECT r.ord, r.lo, r.hi, h.h0, greatest(h.h0, least(date_trunc('hour', r.hi, 'UTC'), h.seal)) AS h1
  FROM (SELECT ord, lo, hi FROM buckets
        UNION ALL
        SELECT 0, $2::timestamptz, $3::timestamptz WHERE NULLIF($4::text, '') IS NULL) r
  CROSS JOIN LATERAL (
    SELECT date_trunc('hour', r.lo + interval '1 hour' - interval '1 microsecond', 'UTC') AS h0,
           date_trunc('hour', now() - interval '10 minutes', 'UTC') AS seal) h
),
need AS MATERIALIZED (
  SELECT DISTINCT g.h FROM ranges r, generate_series(r.h0, r.h1 - interval '1 hour', interval '1 hour') AS g(h)
  WHERE r.h1 > r.h0
),
have AS MATERIALIZED (
  SELECT c.hour, c.messages_in, c.messages_out FROM message_hour_counts c
  WHERE c.business_id = $1::bigint AND c.hour >= (SELECT min(h0) FROM ranges) AND c.hour < (SELECT max(h1) FROM ranges)
),
computed AS MATERIALIZED (
  SELECT n.h AS hour,
         (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'in'
            AND x.created_at >= n.h AND x.created_at < n.h + interval '1 hour') AS messages_in,
         (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'out'
            AND x.created_at >= n.h AND x.created_at < n.h + interval '1 hour') AS messages_out
  FROM need n WHERE NOT EXISTS (SELECT 1 FROM have WHERE have.hour = n.h)
),
stored AS (
  INSERT INTO message_hour_counts (business_id, hour, messages_in, messages_out)
  SELECT $1::bigint, hour, messages_in, messages_out FROM computed
  ON CONFLICT DO NOTHING
),
hours AS MATERIALIZED (SELECT * FROM have UNION ALL SELECT * FROM computed),
s_msg AS MATERIALIZED (
  SELECT r.ord,
         COALESCE((SELECT sum(messages_in) FROM hours WHERE hour >= r.h0 AND hour < r.h1), 0)
         + (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'in'
              AND x.created_at >= r.lo AND x.created_at < least(r.h0, r.hi))
         + (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'in'
              AND x.created_at >= r.h1 AND x.created_at < r.hi) AS msg_in,
         COALESCE((SELECT sum(messages_out) FROM hours WHERE hour >= r.h0 AND hour < r.h1), 0)
         + (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'out'
              AND x.created_at >= r.lo AND x.created_at < least(r.h0, r.hi))
         + (SELECT count(*) FROM messages x WHERE x.business_id = $1::bigint AND x.direction = 'out'
              AND x.created_at >= r.h1 AND x.created_at < r.hi) AS msg_out
  FROM ranges r
),
msg AS (SELECT COALESCE(sum(msg_in), 0)::bigint AS msg_in, COALESCE(sum(msg_out), 0)::bigint AS msg_out FROM s_msg),
queue_depth AS (
  SELECT q.id, q.name, w.waiting, w.oldest
  FROM queues q
  CROSS JOIN LATERAL (
    SELECT count(*) AS waiting, min(v.waiting_since) AS oldest FROM conversations v
    WHERE v.business_id = q.business_id AND v.queue_id = q.id AND v.status = 'waiting') w
  WHERE q.business_id = $1::bigint
)
SELECT json_build_object(
  'from', sb_iso($2::timestamptz),
  'to', sb_iso($3::timestamptz),
  'bucket', NULLIF($4::text, ''),
  'timezone', (SELECT tz FROM biz),
  'conversations', json_build_object(
    'total', t.total,
    'by_channel', json_build_object('messenger', t.messenger, 'instagram', t.instagram, 'whatsapp', t.whatsapp)),
  'messages', json_build_object('in', (SELECT msg_in FROM msg), 'out', (SELECT msg_out FROM msg)),
  'first_response_s', json_build_object(
    'count', t.fr_n,
    'p50', (SELECT value FROM pct WHERE grp = 0 AND m = 'f' AND p = 0.5),
    'p90', (SELECT value FROM pct WHERE grp = 0 AND m = 'f' AND p = 0.9)),
  'resolution_s', json_build_object(
    'count', t.rs_n,
    'p50', (SELECT value FROM pct WHERE grp = 0 AND m = 'r' AND p = 0.5),
    'p90', (SELECT value FROM pct WHERE grp = 0 AND m = 'r' AND p = 0.9)),
  'bot', json_build_object('handled', t.handled, 'contained', t.contained, 'escalated', t.escalated,
                           'containment_rate', round(t.contained::numeric / NULLIF(t.handled, 0), 4)),
  'sla', json_build_object('breached', t.breached),
  'queues', COALESCE((SELECT json_agg(json_build_object(
                        'queue_id', d.id, 'name', d.name, 'waiting', d.waiting,
                        'oldest_waiting_since', sb_iso(d.oldest),
                        'oldest_wait_s', round(extract(epoch FROM now() - d.oldest)::numeric, 3)) ORDER BY d.id)
                      FROM queue_depth d), '[]'),
  'funnel', json_build_object(
    'order_status', json_build_object(
      'conversations', t.os_n, 'sales', t.os_sales,
      'conversion_rate', round(t.os_sales::numeric / NULLIF(t.os_n, 0), 4),
      'revenue', COALESCE((SELECT json_agg(json_build_object('currency', currency, 'amount_cents', os)
                                           ORDER BY currency)
                           FROM rev WHERE os IS NOT NULL AND os <> 0), '[]')),
    'any_intent', json_build_object(
      'conversations', t.ai_n, 'sales', t.ai_sales,
      'conversion_rate', round(t.ai_sales::numeric / NULLIF(t.ai_n, 0), 4),
      'revenue', COALESCE((SELECT json_agg(json_build_object('currency', currency, 'amount_cents', ai)
                                           ORDER BY currency)
                           FROM rev WHERE ai IS NOT NULL AND ai <> 0), '[]'))),
  'ads', COALESCE((SELECT json_agg(json_build_object(
                     'ad_id', a.ad_id, 'name', a.name, 'campaign', a.campaign,
                     'conversations', a.conversations, 'sales', a.sales,
                     'by_currency', COALESCE((SELECT json_agg(json_build_object(
                                                'currency', c.currency, 'revenue_cents', c.revenue_cents,
                                                'spend_cents', c.spend_cents,
                                                'roas', round(c.revenue_cents::numeric / NULLIF(c.spend_cents, 0), 4))
                                                ORDER BY c.currency)
                                              FROM ad_cur c WHERE c.ad_id = a.ad_id), '[]')) ORDER BY a.ad_id)
                   FROM ad_all a), '[]'),
  'campaigns', COALESCE((SELECT json_agg(json_build_object(
                           'campaign', g.campaign, 'ad_ids', g.ad_ids,
                           'conversations', g.conversations, 'sales', g.sales,
                           'by_currency', COALESCE((SELECT json_agg(json_build_object(
                                                      'currency', c.currency, 'revenue_cents', c.revenue_cents,
                                                      'spend_cents', c.spend_cents,
                                                      'roas', round(c.revenue_cents::numeric
                                                                    / NULLIF(c.spend_cents, 0), 4))
                                                      ORDER BY c.currency)
                                                    FROM camp_cur c WHERE c.campaign = g.campaign), '[]'))
                           ORDER BY g.campaign)
                         FROM (SELECT campaign, json_agg(ad_id ORDER BY ad_id) AS ad_ids,
                                      sum(conversations)::bigint AS conversations, sum(sales)::bigint AS sales
                               FROM ad_all WHERE campaign IS NOT NULL GROUP BY campaign) g), '[]'),
  'series', COALESCE((SELECT json_agg(json_build_object(
                        'start', sb_iso(b.start),
                        'conversations', COALESCE(c.conversations, 0),
                        'messages_in', m.msg_in, 'messages_out', m.msg_out,
                        'sales', COALESCE(c.sales, 0),
                        'revenue', COALESCE((SELECT json_agg(json_build_object('currency', r.currency,
                                                                               'amount_cents', r.amount)
                                                             ORDER BY r.currency)
                                             FROM s_rev r WHERE r.ord = b.ord AND r.amount <> 0), '[]'),
                        'first_response_p50_s', (SELECT value FROM pct WHERE grp = b.ord AND m = 'f')) ORDER BY b.ord)
                      FROM buckets b JOIN s_msg m ON m.ord = b.ord LEFT JOIN s_conv c ON c.ord = b.ord), '[]')
)::text
FROM tot t
