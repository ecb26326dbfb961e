-- Queues an outbound message (bot or agent) and counts it as the
-- conversation's first response when it is one, and notes who replied (the metrics count bot-handled and
-- agent-answered conversations from it). $1: {business_id, conversation_id, sender, agent_id, text (an
-- attachment's caption), tag, type? (default text), payload? (a template's {name, language, params}, an
-- attachment's {url})}. Returns the message as JSON.
WITH p AS (SELECT $1::json AS j),
v AS (
  UPDATE conversations v
  SET first_response_at = COALESCE(v.first_response_at, now()), sla_due_at = NULL, last_message_at = now(),
      agent_replied = v.agent_replied OR j ->> 'sender' = 'agent', bot_replied = v.bot_replied OR j ->> 'sender' = 'bot'
  FROM p
  WHERE v.business_id = (j ->> 'business_id')::bigint AND v.id = (j ->> 'conversation_id')::bigint
  RETURNING v.business_id, v.id, v.channel_id, v.contact_id
),
m AS (
  INSERT INTO messages (business_id, conversation_id, channel_id, contact_id, direction, sender, agent_id, type, text,
                        payload, status, tag, next_attempt_at)
  SELECT v.business_id, v.id, v.channel_id, v.contact_id, 'out', j ->> 'sender', (j ->> 'agent_id')::bigint,
         COALESCE(j ->> 'type', 'text'), j ->> 'text', j ->> 'payload', 'queued', j ->> 'tag', now()
  FROM v, p
  RETURNING *
)
SELECT sb_message_json(m)::text FROM m
