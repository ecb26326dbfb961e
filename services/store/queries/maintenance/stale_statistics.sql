-- Hot tables of a young database that grew to twice the rows they had when
-- last analyzed or vacuumed (pg_class.reltuples; or that never were). Until autovacuum's first pass, cached
-- statements are planned from empty-table statistics; past 100,000 rows
-- autovacuum's own thresholds are the right ones. Rows, not changes: the
-- router and the agents update each conversation several times, and
-- counting those changes had a table of 20,000 conversations analyzed
-- every second (60 to 120 ms of a core each time) at 1,000 a second.
SELECT quote_ident(t.relname)
FROM pg_stat_user_tables t
JOIN pg_class c ON c.oid = t.relid
WHERE t.schemaname = current_schema()
  AND t.relname IN ('messages', 'contacts', 'conversations')
  AND t.n_live_tup < 100000
  AND t.n_live_tup > GREATEST(200, 2 * c.reltuples)
