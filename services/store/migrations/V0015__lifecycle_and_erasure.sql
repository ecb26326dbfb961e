-- Day-two operations: set-up resources are deactivated, never deleted (the
-- conversations and events that name them stay true), keys rotate, and a
-- contact's personal data can be erased while the conversation skeleton
-- that metrics count stays.

ALTER TABLE channels ADD COLUMN deactivated_at timestamptz;
ALTER TABLE agents ADD COLUMN deactivated_at timestamptz;
ALTER TABLE queues ADD COLUMN active boolean NOT NULL DEFAULT true, ADD COLUMN deactivated_at timestamptz;
ALTER TABLE orders ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE products ADD COLUMN active boolean NOT NULL DEFAULT true;
-- A deactivated ad has stopped running; its spend still counts for ROAS.
ALTER TABLE ads ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE contacts ADD COLUMN erased_at timestamptz;
-- Meta's data-deletion callback names a user, not a business.
CREATE INDEX contacts_external ON contacts (external_id);

-- A channel also says whether replies can be sent (an access token is
-- set, never shown), whether it may use HUMAN_AGENT, and since when it is off.
CREATE OR REPLACE FUNCTION sb_channel_json(c channels, public_url text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', c.id,
    'kind', c.kind,
    'external_id', c.external_id,
    'account_id', c.account_id,
    'name', c.name,
    'active', c.active,
    'has_access_token', c.access_token_enc IS NOT NULL,
    'human_agent_enabled', c.human_agent_enabled,
    'webhook_url', public_url || '/webhooks/' || c.kind,
    'created_at', sb_iso(c.created_at),
    'deactivated_at', sb_iso(c.deactivated_at))
$$;

CREATE FUNCTION sb_queue_json(q queues) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', q.id, 'name', q.name, 'strategy', q.strategy, 'first_response_sla_s', q.first_response_sla_s,
    'require_accept', q.require_accept, 'offer_timeout_s', q.offer_timeout_s, 'overflow_wait_s', q.overflow_wait_s,
    'active', q.active, 'created_at', sb_iso(q.created_at), 'deactivated_at', sb_iso(q.deactivated_at))
$$;

CREATE FUNCTION sb_agent_json(a agents) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', a.id, 'name', a.name, 'capacity', a.capacity,
    'queue_ids', (SELECT COALESCE(json_agg(aq.queue_id ORDER BY aq.queue_id), '[]') FROM agent_queues aq
                  WHERE aq.business_id = a.business_id AND aq.agent_id = a.id),
    'skills', to_json(a.skills), 'status', a.status, 'load', a.load, 'active', a.active,
    'created_at', sb_iso(a.created_at), 'deactivated_at', sb_iso(a.deactivated_at))
$$;

CREATE FUNCTION sb_order_json(o orders) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'order_ref', o.order_ref, 'customer_external_id', o.customer_external_id, 'customer_phone', o.customer_phone,
    'status', o.status, 'carrier', o.carrier, 'tracking_url', o.tracking_url, 'eta', o.eta,
    'total_cents', o.total_cents, 'currency', o.currency, 'active', o.active, 'updated_at', sb_iso(o.updated_at))
$$;

CREATE FUNCTION sb_product_json(p products) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'sku', p.sku, 'name', p.name, 'stock', p.stock, 'price_cents', p.price_cents, 'currency', p.currency,
    'active', p.active, 'updated_at', sb_iso(p.updated_at))
$$;

CREATE FUNCTION sb_ad_json(a ads) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'ad_id', a.ad_id, 'name', a.name, 'campaign', a.campaign, 'spend_cents', a.spend_cents, 'currency', a.currency,
    'active', a.active, 'updated_at', sb_iso(a.updated_at))
$$;

-- Erasures are set-up changes in the audit log (who asked, when, counts;
-- never the erased values); Meta's data-deletion callback asks as `meta`.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check
  CHECK (actor_type IN ('admin', 'business_key', 'agent', 'meta'));

-- Meta data-deletion callbacks, by the confirmation code the status URL
-- shows. Holds no user id: only what was done and when.
CREATE TABLE data_deletion_requests (
  confirmation_code text PRIMARY KEY,
  contacts          int NOT NULL,
  requested_at      timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz
);

-- A referral keeps what metrics count per ad (source, ad id); click ids,
-- refs, URLs and ad texts that lead back to one person go.
CREATE FUNCTION sb_referral_skeleton(r jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r IS NULL OR jsonb_typeof(r) <> 'object' THEN NULL
              ELSE jsonb_build_object('source', r -> 'source', 'ad_id', r -> 'ad_id', 'ctwa_clid', NULL, 'ref', NULL) END
$$;

-- Removes from every array of `j` the elements that still name `needle`
-- once their own arrays are scrubbed: in a webhook body that is the event,
-- message, status or contact card of that person, while the entries and
-- changes that carry other people's events stay.
CREATE FUNCTION sb_scrub_json(j jsonb, needle text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  out jsonb;
  k text;
  v jsonb;
BEGIN
  IF position(needle IN j::text) = 0 THEN
    RETURN j;
  END IF;
  IF jsonb_typeof(j) = 'object' THEN
    out := '{}';
    FOR k, v IN SELECT * FROM jsonb_each(j) LOOP
      out := out || jsonb_build_object(k, sb_scrub_json(v, needle));
    END LOOP;
    RETURN out;
  ELSIF jsonb_typeof(j) = 'array' THEN
    out := '[]';
    FOR v IN SELECT * FROM jsonb_array_elements(j) LOOP
      v := sb_scrub_json(v, needle);
      CONTINUE WHEN position(needle IN v::text) > 0;
      out := out || jsonb_build_array(v);
    END LOOP;
    RETURN out;
  END IF;
  RETURN j;
END $$;

-- Events left in a Meta webhook body: Messenger/Instagram messaging and
-- standby events, WhatsApp messages and statuses, and any other change.
CREATE FUNCTION sb_webhook_events(j jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (SELECT count(*) FROM jsonb_path_query(j, 'lax $.entry[*].messaging[*]'))
       + (SELECT count(*) FROM jsonb_path_query(j, 'lax $.entry[*].standby[*]'))
       + (SELECT count(*) FROM jsonb_path_query(j, 'lax $.entry[*].changes[*].value.messages[*]'))
       + (SELECT count(*) FROM jsonb_path_query(j, 'lax $.entry[*].changes[*].value.statuses[*]'))
       + (SELECT count(*) FROM jsonb_path_query(
            j, 'lax $.entry[*].changes[*] ? (!exists(@.value.messages) && !exists(@.value.statuses))'))
$$;

-- Erases a contact's personal data; returns what was done, or NULL when
-- the contact is not the business's or was erased already. The caller
-- records who asked in the audit log, in the same transaction.
--
-- Kept (the skeleton metrics count): conversations with their times,
-- status, intent, queue, agent, outcome, amount, currency and channel; the
-- referral's source and ad id; every message row with its direction,
-- sender, type, status and times; conversation events by kind.
-- Gone: the contact's external id, name and phone; message texts,
-- payloads, media ids and URLs, order items, reply-to and provider ids;
-- referral click ids and refs; the contact's ids on orders; the same in
-- agents' event outbox. Archived webhook bodies that mention the contact
-- are rewritten without the contact's events, or deleted when nothing else
-- is left in them (or when they cannot be read as JSON).
CREATE FUNCTION sb_erase_contact(p_business bigint, p_contact bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  c contacts;
  convs bigint[];
  r record;
  scrubbed jsonb;
  n_messages bigint;
  n_rewritten int := 0;
  n_deleted int := 0;
  n_events bigint;
  n_agent_events bigint;
  n_orders bigint;
  counts jsonb;
BEGIN
  SELECT * INTO c FROM contacts WHERE business_id = p_business AND id = p_contact FOR UPDATE;
  IF NOT FOUND OR c.erased_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  SELECT COALESCE(array_agg(id), '{}') INTO convs
  FROM conversations WHERE business_id = p_business AND contact_id = p_contact;

  -- Archived bodies: those the contact's messages came from, and any other
  -- of the business's that names the contact (statuses, events).
  FOR r IN
    SELECT a.received_at, a.id, a.body FROM webhook_archive a
    WHERE a.business_id = p_business
      AND ((a.received_at, a.id) IN (SELECT m.archive_received_at, m.archive_id FROM messages m
                                     WHERE m.business_id = p_business AND m.contact_id = p_contact
                                       AND m.archive_id IS NOT NULL)
           OR position(c.external_id IN a.body) > 0)
    FOR UPDATE
  LOOP
    BEGIN
      scrubbed := sb_scrub_json(r.body::jsonb, c.external_id);
    EXCEPTION WHEN OTHERS THEN
      scrubbed := NULL;  -- not readable as JSON: it goes whole
    END;
    IF scrubbed IS NULL OR position(c.external_id IN scrubbed::text) > 0 OR sb_webhook_events(scrubbed) = 0 THEN
      DELETE FROM webhook_archive WHERE business_id = p_business AND received_at = r.received_at AND id = r.id;
      n_deleted := n_deleted + 1;
    ELSE
      UPDATE webhook_archive SET body = scrubbed::text
      WHERE business_id = p_business AND received_at = r.received_at AND id = r.id;
      n_rewritten := n_rewritten + 1;
    END IF;
  END LOOP;

  -- Replies still queued for the contact are not sent.
  UPDATE messages SET status = 'failed', error = 'contact erased', next_attempt_at = NULL
  WHERE business_id = p_business AND contact_id = p_contact AND direction = 'out' AND status = 'queued';
  UPDATE messages
  SET text = NULL, payload = NULL, media_id = NULL, media_url = NULL, referral = sb_referral_skeleton(referral),
      order_data = NULL, reply_to = NULL, provider_message_id = NULL,
      error = CASE WHEN error IS NULL THEN NULL ELSE 'erased' END,
      archive_id = NULL, archive_received_at = NULL
  WHERE business_id = p_business AND contact_id = p_contact;
  GET DIAGNOSTICS n_messages = ROW_COUNT;

  UPDATE conversations SET referral = sb_referral_skeleton(referral)
  WHERE business_id = p_business AND id = ANY (convs);

  UPDATE conversation_events e
  SET contact_external_id = NULL,
      data = jsonb_strip_nulls(jsonb_build_object(
        'agent_id', e.data -> 'agent_id', 'queue_id', e.data -> 'queue_id', 'intent', e.data -> 'intent',
        'bot', e.data -> 'bot', 'reason', COALESCE(e.data -> 'reason', e.data #> '{detail,reason}'),
        'referral', sb_referral_skeleton(e.data -> 'referral')))
  WHERE e.business_id = p_business
    AND (e.conversation_id = ANY (convs) OR (e.channel_id = c.channel_id AND e.contact_external_id = c.external_id));
  GET DIAGNOSTICS n_events = ROW_COUNT;

  -- A phone matches by its digits: the contact's phone, or a WhatsApp id
  -- (which is the phone number).
  UPDATE orders
  SET customer_external_id = CASE WHEN customer_external_id = c.external_id THEN NULL ELSE customer_external_id END,
      customer_phone = CASE WHEN regexp_replace(customer_phone, '\D', '', 'g')
                                 IN (regexp_replace(c.phone, '\D', '', 'g'), c.external_id)
                            THEN NULL ELSE customer_phone END
  WHERE business_id = p_business
    AND (customer_external_id = c.external_id
         OR regexp_replace(customer_phone, '\D', '', 'g') IN (regexp_replace(c.phone, '\D', '', 'g'), c.external_id));
  GET DIAGNOSTICS n_orders = ROW_COUNT;

  UPDATE contacts
  SET external_id = 'erased:' || id, name = NULL, phone = NULL, pending_referral = NULL, taken_referral = NULL,
      erased_at = now()
  WHERE business_id = p_business AND id = p_contact;

  -- The agents' outbox replays conversations and messages as they were
  -- pushed: those of this contact are replaced by the skeleton.
  UPDATE agent_events e
  SET payload = CASE
        WHEN e.type = 'message.created' THEN
          e.payload || jsonb_build_object('text', NULL, 'payload', NULL, 'order', NULL, 'reply_to', NULL,
                                          'provider_message_id', NULL,
                                          'referral', sb_referral_skeleton(e.payload -> 'referral'))
        ELSE (SELECT sb_conversation_json(v)::jsonb FROM conversations v
              WHERE v.business_id = p_business AND v.id = (e.payload ->> 'id')::bigint)
      END
  WHERE e.business_id = p_business
    AND CASE WHEN e.type = 'message.created' THEN (e.payload ->> 'conversation_id')::bigint = ANY (convs)
             WHEN e.type LIKE 'conversation.%' THEN (e.payload ->> 'id')::bigint = ANY (convs)
             ELSE false END;
  GET DIAGNOSTICS n_agent_events = ROW_COUNT;

  counts := jsonb_build_object('conversations', cardinality(convs), 'messages', n_messages,
                               'archived_bodies_rewritten', n_rewritten, 'archived_bodies_deleted', n_deleted,
                               'conversation_events', n_events, 'agent_events', n_agent_events, 'orders', n_orders);
  RETURN counts;
END $$;
