-- Conversations the router has not decided on yet (new ones, and bot
-- conversations with a new customer message), with what the rules look at:
-- the latest inbound message, the channel kind, the referral's ad id, and
-- the contact (the bots look orders up by it). Locked SKIP LOCKED: each
-- process routes its own share. $1: limit.
SELECT v.business_id, v.id, ch.kind, COALESCE(m.text, ''), COALESCE(m.payload, ''), v.referral ->> 'ad_id',
       ct.external_id, ct.phone, v.status, v.bot, v.queue_id
FROM conversations v
JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id
LEFT JOIN LATERAL (
  SELECT x.text, x.payload FROM messages x
  WHERE x.business_id = v.business_id AND x.conversation_id = v.id AND x.direction = 'in'
  ORDER BY x.id DESC LIMIT 1
) m ON true
WHERE v.routed_at IS NULL AND v.status <> 'resolved'
ORDER BY v.id
LIMIT $1::int
FOR UPDATE OF v SKIP LOCKED
