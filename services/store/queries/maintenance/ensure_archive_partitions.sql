-- Daily archive partitions from yesterday to a week ahead.
SELECT sb_ensure_archive_partitions(current_date - 1, 9)
