-- The summary sorts up to a million durations for its percentiles: room to
-- sort them in memory, for this transaction only.
SELECT set_config('work_mem', '128MB', true)
