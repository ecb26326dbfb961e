-- The agent, locked: capacity decisions about them serialize here. Their
-- open conversations are counted by the next statement (agent/open_count),
-- after the lock is held.
SELECT capacity FROM agents WHERE business_id = $1::bigint AND id = $2::bigint AND active FOR UPDATE
