-- Records the router's decisions. $1: [{business_id, id, intent, queue_id, bot, status, event}] where
-- status is 'bot' (a bot keeps the conversation) or 'waiting' (queued for an agent), and event names
-- what happened (routed, bot_answered, handover); routed is not recorded as an event.
-- A decided queue that was deactivated takes nothing new: the business's
-- default queue gets the conversation instead.
WITH input AS (
  SELECT * FROM json_to_recordset($1::json)
       AS d(business_id bigint, id bigint, intent text, queue_id bigint, bot text, status text, event text, detail json)
),
d AS (
  SELECT i.business_id, i.id, i.intent,
         CASE WHEN i.queue_id IS NULL OR q.active THEN i.queue_id
              ELSE (SELECT r.default_queue_id FROM routing_rules r WHERE r.business_id = i.business_id) END AS queue_id,
         i.bot, i.status, i.event, i.detail
  FROM input i
  LEFT JOIN queues q ON q.business_id = i.business_id AND q.id = i.queue_id
),
upd AS (
  UPDATE conversations v
  SET routed_at = now(),
      intent = COALESCE(d.intent, v.intent),
      queue_id = COALESCE(d.queue_id, v.queue_id),
      bot = d.bot,
      status = d.status,
      waiting_since = CASE WHEN d.status = 'waiting' THEN COALESCE(v.waiting_since, now()) END
  FROM d
  WHERE v.business_id = d.business_id AND v.id = d.id
  RETURNING v.business_id, v.id, v.channel_id
)
INSERT INTO conversation_events (business_id, conversation_id, channel_id, kind, data)
SELECT d.business_id, d.id, u.channel_id, d.event,
       json_build_object('intent', d.intent, 'queue_id', d.queue_id, 'bot', d.bot, 'detail', d.detail)::jsonb
FROM d JOIN upd u ON u.business_id = d.business_id AND u.id = d.id
-- The plain routing decision is on the conversation itself; bot turns and
-- handovers are events.
WHERE d.event <> 'routed'
