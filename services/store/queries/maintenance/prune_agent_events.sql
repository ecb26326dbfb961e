-- Deletes agent events older than $1 hours (after numbering what is pending).
SELECT sb_sequence_agent_events(100000), sb_prune_agent_events(make_interval(hours => $1::int))
