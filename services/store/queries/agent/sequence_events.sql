-- Numbers up to $1 committed agent events in commit order; -1 while another
-- transaction is doing it.
SELECT sb_sequence_agent_events($1::int)
