-- For this transaction only: room to sort the summary's durations in
-- memory, and no merge joins. The planner's row estimates for the
-- summary's hour-by-hour reads are far too high, so it would sort whole
-- inputs (a month of durations when no hour is stored) to merge-join them
-- with a few dozen rows; hash joins do that without sorting.
SELECT set_config('work_mem', '128MB', true), set_config('enable_mergejoin', 'off', true)
