-- The router's assignment and the resolve batch keep one plan for each of
-- their statements. PostgreSQL planned some of them again at every call:
-- at 1,000 conversations/s, the assignment's read of the waiting
-- conversations 1,750 times in 1,810 calls (0.28 ms of every router turn),
-- the resolve batch's update 1,683 times in 2,616 (0.32 ms a batch). Their
-- parameters (a business, a queue, a batch as JSON) never change which
-- plan is best, but a custom plan, costed for one value, looked cheaper than
-- the kept one.
ALTER FUNCTION sb_assign_waiting(bigint, int) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION sb_resolve_conversations(json) SET plan_cache_mode = force_generic_plan;
