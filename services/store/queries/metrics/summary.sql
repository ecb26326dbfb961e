-- The metrics summary of business $1 over [$2, $3) (timestamptz), with a
-- series per $4 bucket ('hour', 'day', or '' for none). Definitions: proto/openapi.yaml,
-- GET /v1/metrics/summary. Conversation figures read the narrow per-conversation
-- metrics rows (plus the few conversations the router has not decided on yet): one
-- pass for the totals, one for the series, partial indexes for sales and ads;
-- messages come from hourly counts and the partial indexes on
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
-- Conversations opened in the range (inlined where used, so each use reads
-- only what its own conditions select).
cm AS NOT MATERIALIZED (
  SELECT m.opened_at, m.channel_kind, m.first_response_s, m.resolution_s, m.resolved, m.bot_handled, m.escalated,
         m.agent_replied, m.sla_breached, m.order_status_intent, m.any_intent, m.sale, m.amount_cents, m.currency,
         m.ad_id
  FROM conversation_metrics m
  WHERE m.business_id = $1::bigint AND m.opened_at >= $2::timestamptz AND m.opened_at < $3::timestamptz
  UNION ALL
  SELECT v.opened_at, ch.kind, NULL, NULL, false, false, false, false, false, false, false, false, NULL, NULL,
         v.referral ->> 'ad_id'
  FROM conversations v
  JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
  WHERE v.routed_at IS NULL AND v.business_id = $1::bigint
    AND v.opened_at >= $2::timestamptz AND v.opened_at < $3::timestamptz
    AND NOT EXISTS (SELECT 1 FROM conversation_metrics m WHERE m.business_id = v.business_id AND m.conversation_id = v.id)
),
tot AS (
  SELECT count(*) AS total,
         count(*) FILTER (WHERE channel_kind = 'messenger') AS messenger,
         count(*) FILTER (WHERE channel_kind = 'instagram') AS instagram,
         count(*) FILTER (WHERE channel_kind = 'whatsapp') AS whatsapp,
         count(first_response_s) AS fr_n,
         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY first_response_s) AS fr,
         count(resolution_s) AS rs_n,
         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_s) AS rs,
         count(*) FILTER (WHERE bot_handled) AS handled,
         count(*) FILTER (WHERE bot_handled AND resolved AND NOT agent_replied) AS contained,
         count(*) FILTER (WHERE escalated) AS escalated,
         count(*) FILTER (WHERE sla_breached) AS breached,
         count(*) FILTER (WHERE sale) AS sales,
         count(*) FILTER (WHERE order_status_intent) AS os_n,
         count(*) FILTER (WHERE order_status_intent AND sale) AS os_sales,
         count(*) FILTER (WHERE any_intent) AS ai_n,
         count(*) FILTER (WHERE any_intent AND sale) AS ai_sales
  FROM cm
),
-- Per bucket: conversations opened, sales, first-response p50.
s_conv AS (
  SELECT width_bucket(cm.opened_at, bs.starts) AS ord, count(*) AS conversations,
         count(*) FILTER (WHERE cm.sale) AS sales,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY cm.first_response_s) AS fr50
  FROM cm, bucket_starts bs WHERE bs.starts IS NOT NULL GROUP BY 1
),
sales AS MATERIALIZED (
  SELECT m.opened_at, m.order_status_intent, m.any_intent, m.amount_cents, m.currency, m.ad_id
  FROM conversation_metrics m
  WHERE m.business_id = $1::bigint AND m.opened_at >= $2::timestamptz AND m.opened_at < $3::timestamptz
    AND m.sale AND m.amount_cents IS NOT NULL AND m.currency IS NOT NULL
),
rev AS (
  SELECT currency,
         sum(amount_cents) FILTER (WHERE order_status_intent) AS os,
         sum(amount_cents) FILTER (WHERE any_intent) AS ai
  FROM sales GROUP BY currency
),
-- Ads: every registered ad and every ad id that opened a conversation.
ad_conv AS (
  SELECT ad_id, count(*) AS conversations, count(*) FILTER (WHERE sale) AS sales
  FROM cm WHERE ad_id IS NOT NULL GROUP BY ad_id
),
ad_rev AS (
  SELECT ad_id, currency, sum(amount_cents) AS revenue FROM sales WHERE ad_id IS NOT NULL GROUP BY ad_id, currency
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
s_rev AS (
  SELECT width_bucket(s.opened_at, bs.starts) AS ord, s.currency, sum(s.amount_cents) AS amount
  FROM sales s, bucket_starts bs WHERE bs.starts IS NOT NULL GROUP BY 1, 2
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
  'first_response_s', json_build_object('count', t.fr_n, 'p50', round(t.fr[1]::numeric, 3),
                                        'p90', round(t.fr[2]::numeric, 3)),
  'resolution_s', json_build_object('count', t.rs_n, 'p50', round(t.rs[1]::numeric, 3),
                                    'p90', round(t.rs[2]::numeric, 3)),
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
                        'first_response_p50_s', round(c.fr50::numeric, 3)) ORDER BY b.ord)
                      FROM buckets b JOIN s_msg m ON m.ord = b.ord LEFT JOIN s_conv c ON c.ord = b.ord), '[]')
)::text
FROM tot t
