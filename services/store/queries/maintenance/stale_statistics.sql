-- Hot tables of a young database whose contents doubled since they were last
-- analyzed (or that never were). Until autovacuum's first pass, cached
-- statements are planned from empty-table statistics; past 100,000 rows
-- autovacuum's own thresholds are the right ones.
SELECT quote_ident(relname)
FROM pg_stat_user_tables
WHERE schemaname = current_schema()
  AND relname IN ('messages', 'contacts', 'conversations')
  AND n_live_tup < 100000
  AND n_mod_since_analyze > GREATEST(200, n_live_tup - n_mod_since_analyze)
