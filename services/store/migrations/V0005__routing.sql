-- Routing: queues, agents and their queues, routing rules, the order and
-- product catalogue the bots answer from, outbound delivery bookkeeping, and
-- the per-agent event outbox that WebSocket pushes are replayed from.

CREATE TABLE queues (
  business_id         bigint NOT NULL REFERENCES businesses,
  id                  bigint GENERATED ALWAYS AS IDENTITY,
  name                text NOT NULL,
  strategy            text NOT NULL CHECK (strategy IN ('round_robin', 'least_busy')),
  first_response_sla_s int CHECK (first_response_sla_s > 0),
  require_accept      boolean NOT NULL DEFAULT false,
  offer_timeout_s     int NOT NULL DEFAULT 30 CHECK (offer_timeout_s > 0),
  overflow_wait_s     int CHECK (overflow_wait_s > 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);

CREATE TABLE agents (
  business_id       bigint NOT NULL REFERENCES businesses,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  name              text NOT NULL,
  capacity          int NOT NULL CHECK (capacity >= 0),
  skills            text[] NOT NULL DEFAULT '{}',
  status            text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
  active            boolean NOT NULL DEFAULT true,
  last_assigned_at  timestamptz,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);

CREATE TABLE agent_queues (
  business_id bigint NOT NULL,
  agent_id    bigint NOT NULL,
  queue_id    bigint NOT NULL,
  PRIMARY KEY (business_id, agent_id, queue_id),
  FOREIGN KEY (business_id, agent_id) REFERENCES agents,
  FOREIGN KEY (business_id, queue_id) REFERENCES queues
);
CREATE INDEX agent_queues_queue ON agent_queues (business_id, queue_id, agent_id);

-- The ordered rules of a business, as PUT /v1/routing stored them.
CREATE TABLE routing_rules (
  business_id      bigint PRIMARY KEY REFERENCES businesses,
  default_queue_id bigint NOT NULL,
  rules            jsonb NOT NULL DEFAULT '[]',
  version          bigint NOT NULL DEFAULT 1,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (business_id, default_queue_id) REFERENCES queues
);

CREATE TABLE orders (
  business_id          bigint NOT NULL REFERENCES businesses,
  order_ref            text NOT NULL,
  customer_external_id text,
  customer_phone       text,
  status               text NOT NULL,
  carrier              text,
  tracking_url         text,
  eta                  text,
  total_cents          bigint NOT NULL,
  currency             text NOT NULL,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, order_ref)
);
CREATE INDEX orders_customer ON orders (business_id, customer_external_id, updated_at) WHERE customer_external_id IS NOT NULL;
CREATE INDEX orders_phone ON orders (business_id, customer_phone, updated_at) WHERE customer_phone IS NOT NULL;

CREATE TABLE products (
  business_id bigint NOT NULL REFERENCES businesses,
  sku         text NOT NULL,
  name        text NOT NULL,
  stock       int NOT NULL,
  price_cents bigint NOT NULL,
  currency    text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, sku)
);

-- Conversations: who and when, for assignment, offers and the SLA clock.
ALTER TABLE conversations
  ADD COLUMN assigned_at timestamptz,
  ADD COLUMN offered_at timestamptz,
  ADD COLUMN offer_expires_at timestamptz,
  ADD COLUMN declined_by bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN waiting_since timestamptz,
  ADD COLUMN sla_due_at timestamptz,
  ADD COLUMN sla_breached boolean NOT NULL DEFAULT false,
  ADD COLUMN bot text;
-- Conversations the router has not looked at yet, oldest first.
CREATE INDEX conversations_unrouted ON conversations (business_id, id) WHERE routed_at IS NULL;
CREATE INDEX conversations_waiting ON conversations (business_id, queue_id, waiting_since) WHERE status = 'waiting';
CREATE INDEX conversations_agent ON conversations (business_id, agent_id) WHERE status IN ('offered', 'assigned');
CREATE INDEX conversations_timers ON conversations (LEAST(offer_expires_at, sla_due_at))
  WHERE status IN ('offered', 'assigned', 'waiting') AND (offer_expires_at IS NOT NULL OR sla_due_at IS NOT NULL);

-- The agent who last served a contact gets them first when they return.
ALTER TABLE contacts ADD COLUMN last_agent_id bigint;

-- Outbound delivery: attempts and the next try for queued messages.
ALTER TABLE messages
  ADD COLUMN attempts int NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at timestamptz,
  ADD COLUMN tag text;
CREATE INDEX messages_outbound_queue ON messages (next_attempt_at) WHERE direction = 'out' AND status = 'queued';

-- Every agent event, numbered per agent: pushed over WebSocket after commit
-- (NOTIFY carries only ids) and replayed from here after a reconnect.
CREATE TABLE agent_events (
  business_id bigint NOT NULL,
  agent_id    bigint NOT NULL,
  seq         bigint NOT NULL,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, agent_id, seq)
);
CREATE INDEX agent_events_created ON agent_events (created_at);
ALTER TABLE agents ADD COLUMN last_event_seq bigint NOT NULL DEFAULT 0;
