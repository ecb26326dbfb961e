-- The hot tables of a young database (under 100,000 rows), each with
-- whether to ANALYZE it now and whether it has no statistics of rows yet.
-- Until autovacuum's first pass (a minute at the soonest) PostgreSQL plans
-- from no statistics at all: `business_id = $1` is taken for a few rows of
-- many tenants, and the plans kept for the session then look conversations
-- up by business alone and filter (0.2 ms a row at 1,000 rows; 100-200 ms
-- turns in a benchmark's first two seconds). So a table never analyzed is
-- analyzed as soon as it has a page (the relation's size, which counts at
-- once, where n_live_tup waits up to a second for each backend to report);
-- one analyzed while its first rows were not committed yet (no rows
-- counted) once rows are reported; then whenever its rows double
-- (pg_class.reltuples). Rows, not changes: the router and the agents update
-- each conversation several times, and counting those changes had a table
-- of 20,000 conversations analyzed every second (60 to 120 ms of a core each
-- time) at 1,000 a second. In name order, so that processes analyzing at
-- once lock the tables in one order.
-- Rows: (quoted name, analyze now, no statistics of rows yet).
SELECT quote_ident(t.relname),
       (c.reltuples < 0 AND pg_relation_size(c.oid) > 0)
         OR (c.reltuples = 0 AND t.n_live_tup > 0)
         OR t.n_live_tup > GREATEST(200, 2 * c.reltuples),
       c.reltuples <= 0
FROM pg_stat_user_tables t
JOIN pg_class c ON c.oid = t.relid
WHERE t.schemaname = current_schema()
  AND t.relname IN ('messages', 'contacts', 'conversations')
  AND t.n_live_tup < 100000
ORDER BY t.relname
