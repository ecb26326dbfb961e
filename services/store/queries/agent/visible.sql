-- Can agent $2 of business $1 see conversation $3: assigned or offered to
-- them, or waiting in one of their queues? Returns its status, agent,
-- channel kind, the hours since the customer's last message, and whether the
-- channel may use the HUMAN_AGENT tag.
SELECT v.status, v.agent_id, ch.kind, EXTRACT(EPOCH FROM now() - v.last_inbound_at) / 3600, ch.human_agent_enabled
FROM conversations v
JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
WHERE v.business_id = $1::bigint AND v.id = $3::bigint
  AND (v.agent_id = $2::bigint
       OR (v.status = 'waiting'
           AND v.queue_id IN (SELECT queue_id FROM agent_queues WHERE business_id = $1::bigint AND agent_id = $2::bigint)))
