-- Businesses with conversations waiting for an agent.
SELECT DISTINCT business_id FROM conversations WHERE status = 'waiting' AND queue_id IS NOT NULL LIMIT 1000
