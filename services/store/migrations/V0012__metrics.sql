-- Metrics: what ads cost (for ROAS), one metrics row per conversation kept
-- by a trigger on the statements that change a conversation's state, and
-- indexes that count messages by time without reading them.

CREATE TABLE ads (
  business_id bigint NOT NULL REFERENCES businesses,
  ad_id       text NOT NULL,
  name        text,
  campaign    text,
  spend_cents bigint NOT NULL CHECK (spend_cents >= 0),
  currency    text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, ad_id)
);

-- Who has replied in a conversation, set by the statement that queues the
-- reply (router/queue_reply.sql); the metrics row follows.
ALTER TABLE conversations
  ADD COLUMN agent_replied boolean NOT NULL DEFAULT false,
  ADD COLUMN bot_replied boolean NOT NULL DEFAULT false;

-- One row per conversation that the router has looked at, narrow so that a
-- summary over a million conversations reads little. Flags are sticky
-- ("ever"): a conversation that had the order_status intent once stays in
-- that funnel when a later message is about something else.
CREATE TABLE conversation_metrics (
  business_id         bigint NOT NULL,
  conversation_id     bigint NOT NULL,
  opened_at           timestamptz NOT NULL,
  channel_kind        text NOT NULL,
  first_response_s    double precision,  -- first agent/bot reply minus opened_at
  resolution_s        double precision,  -- resolved_at minus opened_at
  resolved            boolean NOT NULL DEFAULT false,
  bot_handled         boolean NOT NULL DEFAULT false,
  escalated           boolean NOT NULL DEFAULT false,
  agent_replied       boolean NOT NULL DEFAULT false,
  sla_breached        boolean NOT NULL DEFAULT false,
  order_status_intent boolean NOT NULL DEFAULT false,
  any_intent          boolean NOT NULL DEFAULT false,
  sale                boolean NOT NULL DEFAULT false,
  amount_cents        bigint,
  currency            text,
  ad_id               text,
  PRIMARY KEY (business_id, conversation_id)
) WITH (fillfactor = 85);  -- room for HOT updates: most changes touch no indexed column
CREATE INDEX conversation_metrics_opened ON conversation_metrics (business_id, opened_at);
-- Sales and ad-attributed conversations are a fraction of all: their sums
-- read only those rows.
CREATE INDEX conversation_metrics_sales ON conversation_metrics (business_id, opened_at) WHERE sale;
CREATE INDEX conversation_metrics_ads ON conversation_metrics (business_id, opened_at) WHERE ad_id IS NOT NULL;

-- Keeps a conversation's metrics row. Runs in the transaction that changes
-- the conversation, so the summary is exact as soon as it commits.
CREATE FUNCTION sb_conversation_metrics() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bot_now boolean := NEW.status = 'bot' OR NEW.bot_replied;
  -- In a queue or with an agent after the router decided.
  queued_now boolean := NEW.status IN ('waiting', 'offered', 'assigned') AND NEW.routed_at IS NOT NULL;
  ad text := NEW.referral ->> 'ad_id';
BEGIN
  UPDATE conversation_metrics m
  SET first_response_s = extract(epoch FROM NEW.first_response_at - NEW.opened_at),
      resolution_s = extract(epoch FROM NEW.resolved_at - NEW.opened_at),
      resolved = NEW.status = 'resolved',
      bot_handled = m.bot_handled OR bot_now,
      escalated = m.escalated OR ((m.bot_handled OR bot_now) AND queued_now),
      agent_replied = NEW.agent_replied,
      sla_breached = NEW.sla_breached,
      order_status_intent = m.order_status_intent OR NEW.intent IS NOT DISTINCT FROM 'order_status',
      any_intent = m.any_intent OR NEW.intent IS NOT NULL,
      sale = NEW.outcome IS NOT DISTINCT FROM 'sale',
      amount_cents = NEW.amount_cents,
      currency = NEW.currency,
      ad_id = ad
  WHERE m.business_id = NEW.business_id AND m.conversation_id = NEW.id;
  IF NOT FOUND THEN
    INSERT INTO conversation_metrics AS m
      (business_id, conversation_id, opened_at, channel_kind, first_response_s, resolution_s, resolved, bot_handled,
       escalated, agent_replied, sla_breached, order_status_intent, any_intent, sale, amount_cents, currency, ad_id)
    SELECT NEW.business_id, NEW.id, NEW.opened_at, ch.kind,
           extract(epoch FROM NEW.first_response_at - NEW.opened_at),
           extract(epoch FROM NEW.resolved_at - NEW.opened_at),
           NEW.status = 'resolved', bot_now, bot_now AND queued_now, NEW.agent_replied, NEW.sla_breached,
           NEW.intent IS NOT DISTINCT FROM 'order_status', NEW.intent IS NOT NULL,
           NEW.outcome IS NOT DISTINCT FROM 'sale', NEW.amount_cents, NEW.currency, ad
    FROM channels ch
    WHERE ch.business_id = NEW.business_id AND ch.id = NEW.channel_id;
  END IF;
  RETURN NULL;
END $$;


-- Existing history: who replied, from the messages; escalation from the
-- handover events and the current state.
UPDATE conversations v
SET agent_replied = EXISTS (SELECT 1 FROM messages x WHERE x.business_id = v.business_id
                              AND x.conversation_id = v.id AND x.sender = 'agent'),
    bot_replied = EXISTS (SELECT 1 FROM messages x WHERE x.business_id = v.business_id
                            AND x.conversation_id = v.id AND x.sender = 'bot')
WHERE v.first_response_at IS NOT NULL;

INSERT INTO conversation_metrics
  (business_id, conversation_id, opened_at, channel_kind, first_response_s, resolution_s, resolved, bot_handled,
   escalated, agent_replied, sla_breached, order_status_intent, any_intent, sale, amount_cents, currency, ad_id)
SELECT v.business_id, v.id, v.opened_at, ch.kind,
       extract(epoch FROM v.first_response_at - v.opened_at), extract(epoch FROM v.resolved_at - v.opened_at),
       v.status = 'resolved', b.handled,
       b.handled AND (v.status IN ('waiting', 'offered', 'assigned')
                      OR EXISTS (SELECT 1 FROM conversation_events e WHERE e.business_id = v.business_id
                                   AND e.conversation_id = v.id AND e.kind = 'handover')),
       v.agent_replied, v.sla_breached, v.intent IS NOT DISTINCT FROM 'order_status', v.intent IS NOT NULL,
       v.outcome IS NOT DISTINCT FROM 'sale', v.amount_cents, v.currency, v.referral ->> 'ad_id'
FROM conversations v
JOIN channels ch ON ch.business_id = v.business_id AND ch.id = v.channel_id
CROSS JOIN LATERAL (SELECT v.status = 'bot' OR v.bot_replied OR v.bot IS NOT NULL AS handled) b
WHERE v.routed_at IS NOT NULL OR v.status = 'resolved';

-- Not on INSERT: a new conversation (the ingest path) gets its row when the
-- router decides on it; the summary counts the few undecided ones from
-- conversations itself. The WHEN clause keeps the ingest statement's
-- upsert of an existing conversation (it sets routed_at and referral) from
-- doing anything unless they really change.
CREATE TRIGGER conversations_metrics
  AFTER UPDATE OF status, intent, routed_at, first_response_at, resolved_at, outcome, amount_cents, currency,
                  sla_breached, referral, agent_replied, bot_replied
  ON conversations
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.intent IS DISTINCT FROM NEW.intent
        OR (OLD.routed_at IS NULL AND NEW.routed_at IS NOT NULL)
        OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
        OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
        OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.amount_cents IS DISTINCT FROM NEW.amount_cents
        OR OLD.currency IS DISTINCT FROM NEW.currency
        OR OLD.sla_breached IS DISTINCT FROM NEW.sla_breached
        OR OLD.referral IS DISTINCT FROM NEW.referral
        OR OLD.agent_replied IS DISTINCT FROM NEW.agent_replied
        OR OLD.bot_replied IS DISTINCT FROM NEW.bot_replied)
  EXECUTE FUNCTION sb_conversation_metrics();

-- Messages counted by time through these (index-only scans); each message
-- is in exactly one of them.
CREATE INDEX messages_in_created ON messages (business_id, created_at) WHERE direction = 'in';
CREATE INDEX messages_out_created ON messages (business_id, created_at) WHERE direction = 'out';

-- Messages per business and UTC hour, written once per hour by the first
-- summary that needs that hour, and only for hours that ended more than 10
-- minutes before (their counts can no longer change); never by ingest.
CREATE TABLE message_hour_counts (
  business_id  bigint NOT NULL,
  hour         timestamptz NOT NULL,
  messages_in  bigint NOT NULL,
  messages_out bigint NOT NULL,
  PRIMARY KEY (business_id, hour)
);
