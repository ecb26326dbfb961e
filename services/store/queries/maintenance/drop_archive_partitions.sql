-- Retention: drop archive partitions older than $1 days.
SELECT sb_drop_archive_partitions($1::int)
