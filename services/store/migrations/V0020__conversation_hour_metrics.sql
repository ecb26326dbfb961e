-- Conversation figures per business and UTC hour of opened_at, computed once
-- by the summary that first needs a whole hour that ended more than an hour
-- before, so that a summary over a month reads about 720 rows instead of
-- every conversation_metrics row. A cached hour is used only while no
-- change to one of its conversations has been noted since it was computed:
-- a trigger on conversation_metrics notes the hour of every change to a
-- conversation opened more than 30 minutes before (in the transaction of
-- the change), and the summary recomputes a noted hour from the rows.

-- The counts of the hour's conversations of one ad (NULL: none) and one
-- sale currency (NULL: not a sale with an amount and a currency).
CREATE TYPE sb_metrics_group AS (
  ad_id         text,
  currency      text,
  conversations bigint,
  messenger     bigint,
  instagram     bigint,
  whatsapp      bigint,
  fr_n          bigint,
  rs_n          bigint,
  handled       bigint,
  contained     bigint,
  escalated     bigint,
  breached      bigint,
  sales         bigint,
  os_n          bigint,
  os_sales      bigint,
  ai_n          bigint,
  ai_sales      bigint,
  revenue       bigint,
  os_revenue    bigint,
  ai_revenue    bigint
);

-- Exact percentiles without sorting a month of durations: every duration
-- falls in a coarse bucket (8 per doubling of the seconds, bounds exact
-- binary fractions, so the bucket of a value never depends on the math
-- library); an hour keeps its durations sorted with where each non-empty
-- bucket starts. A summary adds up the buckets' counts to find the bucket
-- of each wanted rank and sorts only that bucket's values.
DO $$
BEGIN
  EXECUTE format(
    'CREATE FUNCTION sb_duration_bucket(v double precision) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE '
    'RETURN width_bucket(v, %L::double precision[])',
    (SELECT array_agg(power(2::double precision, e) * (1 + j / 8.0::double precision) ORDER BY e, j)
     FROM generate_series(-10, 30) e, generate_series(0, 7) j));
END $$;

-- For sorted durations: the buckets present (ascending) and the 1-based
-- index in v where each starts, with cardinality(v) + 1 at the end.
CREATE FUNCTION sb_duration_starts(v double precision[], OUT b int[], OUT at int[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(array_agg(x.b ORDER BY x.b), '{}'), COALESCE(array_agg(x.at ORDER BY x.b), '{}') || (cardinality(v) + 1)
  FROM (SELECT sb_duration_bucket(u.v) AS b, min(u.i)::int AS at FROM unnest(v) WITH ORDINALITY AS u(v, i) GROUP BY 1) x
$$;

CREATE TABLE conversation_hour_metrics (
  business_id bigint NOT NULL,
  hour        timestamptz NOT NULL,
  version     bigint NOT NULL,            -- 1, 2, ...: a recomputation replaces only the version it read
  groups      sb_metrics_group[] NOT NULL,
  fr          double precision[] NOT NULL,  -- first_response_s, sorted
  fr_b        int[] NOT NULL,
  fr_at       int[] NOT NULL,
  rs          double precision[] NOT NULL,  -- resolution_s, sorted
  rs_b        int[] NOT NULL,
  rs_at       int[] NOT NULL,
  PRIMARY KEY (business_id, hour)
);

-- Hours with a change since their figures were computed; the summary that
-- recomputes an hour deletes the notes it saw, housekeeping those of hours
-- that are not stored (maintenance/prune_hour_changes.sql).
CREATE TABLE conversation_hour_changes (
  business_id bigint NOT NULL,
  hour        timestamptz NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  noted_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, hour, id)
);

CREATE FUNCTION sb_conversation_hour_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.opened_at < now() - interval '30 minutes' THEN
    INSERT INTO conversation_hour_changes (business_id, hour)
    VALUES (OLD.business_id, date_trunc('hour', OLD.opened_at, 'UTC'));
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.opened_at < now() - interval '30 minutes'
     AND (TG_OP = 'INSERT' OR NEW.business_id <> OLD.business_id
          OR date_trunc('hour', NEW.opened_at, 'UTC') <> date_trunc('hour', OLD.opened_at, 'UTC')) THEN
    INSERT INTO conversation_hour_changes (business_id, hour)
    VALUES (NEW.business_id, date_trunc('hour', NEW.opened_at, 'UTC'));
  END IF;
  RETURN NULL;
END $$;

-- Only conversations opened more than 30 minutes before: a summary caches
-- an hour once it ended an hour before, so a change that is not noted
-- would have to come from a transaction older than half an hour.
CREATE TRIGGER conversation_metrics_hour_insert AFTER INSERT ON conversation_metrics
  FOR EACH ROW WHEN (NEW.opened_at < now() - interval '30 minutes')
  EXECUTE FUNCTION sb_conversation_hour_changed();
CREATE TRIGGER conversation_metrics_hour_update AFTER UPDATE ON conversation_metrics
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*
                     AND (OLD.opened_at < now() - interval '30 minutes'
                          OR NEW.opened_at < now() - interval '30 minutes'))
  EXECUTE FUNCTION sb_conversation_hour_changed();
CREATE TRIGGER conversation_metrics_hour_delete AFTER DELETE ON conversation_metrics
  FOR EACH ROW WHEN (OLD.opened_at < now() - interval '30 minutes')
  EXECUTE FUNCTION sb_conversation_hour_changed();
