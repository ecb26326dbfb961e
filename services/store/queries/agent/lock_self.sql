-- The agent, locked: capacity decisions about them serialize here.
SELECT load, capacity FROM agents WHERE business_id = $1::bigint AND id = $2::bigint AND active FOR UPDATE
