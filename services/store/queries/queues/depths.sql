-- The deepest queues right now (for /metrics): conversations waiting and the
-- oldest wait, from the partial index of waiting conversations. $1: how many
-- queues at most (bounded label cardinality); the totals row (queue_id NULL)
-- always comes first and counts every queue.
WITH w AS (
  SELECT business_id, queue_id, count(*) AS waiting, min(waiting_since) AS oldest
  FROM conversations
  WHERE status = 'waiting'
  GROUP BY business_id, queue_id
)
(SELECT NULL::bigint AS business_id, NULL::bigint AS queue_id, COALESCE(sum(waiting), 0)::bigint AS waiting,
        COALESCE(EXTRACT(EPOCH FROM now() - min(oldest)), 0)::float8 AS oldest_wait_s
 FROM w)
UNION ALL
(SELECT business_id, queue_id, waiting, COALESCE(EXTRACT(EPOCH FROM now() - oldest), 0)::float8
 FROM w
 WHERE queue_id IS NOT NULL
 ORDER BY waiting DESC, queue_id
 LIMIT $1::int)
