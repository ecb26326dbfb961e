-- The highest agent event number given so far: every event a reader will
-- see from now on is numbered after it.
SELECT last_seq FROM agent_event_sequencer
