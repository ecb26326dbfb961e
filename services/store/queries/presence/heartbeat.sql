-- Agents whose stream this process holds: [[business_id, agent_id], ...] in $1.
-- Marks them seen; an agent moved to away for lack of a stream gets the status
-- they chose back. Rows another transaction holds wait for the next beat.
-- Returns the agents whose status came back.
WITH held AS (
  SELECT a.business_id, a.id, a.away_without_stream FROM agents a
  JOIN json_array_elements($1::json) j ON a.business_id = (j->>0)::bigint AND a.id = (j->>1)::bigint
  ORDER BY a.business_id, a.id
  FOR UPDATE OF a SKIP LOCKED
)
UPDATE agents a
SET stream_seen_at = now(),
    status = CASE WHEN held.away_without_stream THEN a.chosen_status ELSE a.status END,
    status_changed_at = CASE WHEN held.away_without_stream THEN now() ELSE a.status_changed_at END,
    away_without_stream = false
FROM held WHERE a.business_id = held.business_id AND a.id = held.id
RETURNING a.business_id, a.id, held.away_without_stream AND a.status = 'online'
