-- Businesses where a conversation waits in a queue and an online agent has
-- room. Starts from the agents (a small table): at a burst, tens of
-- thousands of conversations may wait while nobody can take them. Whether
-- anything waits is asked first (one probe of conversations_waiting); the
-- agents' loads are counted only then, and only until one has room.
SELECT b.business_id
FROM (SELECT DISTINCT a.business_id FROM agents a WHERE a.status = 'online' AND a.active) b
WHERE EXISTS (SELECT 1 FROM conversations v
              WHERE v.business_id = b.business_id AND v.status = 'waiting' AND v.queue_id IS NOT NULL)
  AND EXISTS (SELECT 1 FROM agents a
              WHERE a.business_id = b.business_id AND a.status = 'online' AND a.active
                AND a.load < a.capacity)
LIMIT 1000
