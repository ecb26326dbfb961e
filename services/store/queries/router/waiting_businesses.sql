-- Businesses where an online agent has room and a conversation waits in a
-- queue. Starts from the agents (a small table): at a burst, tens of
-- thousands of conversations may wait while nobody can take them.
SELECT DISTINCT a.business_id
FROM agents a
WHERE a.status = 'online' AND a.active AND a.load < a.capacity
  AND EXISTS (SELECT 1 FROM conversations v
              WHERE v.business_id = a.business_id AND v.status = 'waiting' AND v.queue_id IS NOT NULL)
LIMIT 1000
