-- Hot tables whose statistics lag far behind their contents. Autovacuum
-- gets there within a minute or so; until then a young database plans its
-- cached statements from empty-table statistics.
SELECT quote_ident(relname)
FROM pg_stat_user_tables
WHERE schemaname = current_schema()
  AND relname IN ('messages', 'contacts', 'conversations')
  AND n_mod_since_analyze > GREATEST(200, n_live_tup / 5)
