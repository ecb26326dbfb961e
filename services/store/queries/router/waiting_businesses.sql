-- Businesses where a conversation waits in a queue and an online agent has
-- room (sb_waiting_businesses, migration V0033).
SELECT business_id FROM sb_waiting_businesses() AS business_id
