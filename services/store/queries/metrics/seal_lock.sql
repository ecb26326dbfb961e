-- One transaction at a time stores business $1's hours (metrics/seal_hours.sql);
-- true when this one may. Taken before that statement so its snapshot sees
-- everything the previous one stored.
SELECT pg_try_advisory_xact_lock(hashtextextended('sb_conversation_hour_metrics ' || business_id::text, 0))
FROM businesses WHERE business_id = $1::bigint
