-- How conversations and messages look in the HTTP API (DESIGN.md "Resource
-- shapes"), rendered where the rows are.
CREATE INDEX messages_outbound_contact ON messages (business_id, contact_id, sent_at) WHERE direction = 'out';

CREATE FUNCTION sb_conversation_json(v conversations) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', v.id,
    'channel', json_build_object('id', v.channel_id, 'kind', ch.kind),
    'contact', json_build_object('id', c.id, 'external_id', c.external_id, 'name', c.name),
    'status', v.status,
    'intent', v.intent,
    'queue_id', v.queue_id,
    'agent_id', v.agent_id,
    'opened_at', sb_iso(v.opened_at),
    'first_response_at', sb_iso(v.first_response_at),
    'resolved_at', sb_iso(v.resolved_at),
    'outcome', v.outcome,
    'amount_cents', v.amount_cents,
    'currency', v.currency,
    'referral', v.referral,
    'last_message_at', sb_iso(v.last_message_at))
  FROM channels ch, contacts c
  WHERE ch.business_id = v.business_id AND ch.id = v.channel_id
    AND c.business_id = v.business_id AND c.id = v.contact_id
$$;

CREATE FUNCTION sb_message_json(m messages) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', m.id,
    'conversation_id', m.conversation_id,
    'direction', m.direction,
    'sender', m.sender,
    'agent_id', m.agent_id,
    'provider_message_id', m.provider_message_id,
    'type', m.type,
    'text', m.text,
    'payload', m.payload,
    'referral', m.referral,
    'order', m.order_data,
    'reply_to', m.reply_to,
    'status', m.status,
    'error', m.error,
    'provider_timestamp', sb_iso(m.provider_ts),
    'sent_at', sb_iso(m.sent_at),
    'created_at', sb_iso(m.created_at))
$$;

CREATE FUNCTION sb_channel_json(c channels, public_url text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', c.id,
    'kind', c.kind,
    'external_id', c.external_id,
    'account_id', c.account_id,
    'name', c.name,
    'active', c.active,
    'webhook_url', public_url || '/webhooks/' || c.kind,
    'created_at', sb_iso(c.created_at))
$$;
