-- Core schema. Every tenant table's primary key leads with business_id so
-- the schema can be distributed by business (Citus). The two global
-- lookups (channel by kind + external id, token by hash) are small tables
-- of their own.

CREATE FUNCTION sb_iso(ts timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- Outbound message states only move forward.
CREATE FUNCTION sb_status_rank(status text) RETURNS int
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE status WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2
                     WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE -1 END;

CREATE TABLE businesses (
  business_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  timezone    text NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Global lookup: bearer token hash -> who. Tokens themselves are never stored.
CREATE TABLE api_tokens (
  token_hash  bytea PRIMARY KEY,
  business_id bigint NOT NULL REFERENCES businesses,
  role        text NOT NULL CHECK (role IN ('business', 'agent')),
  agent_id    bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX api_tokens_business ON api_tokens (business_id, role);

CREATE TABLE channels (
  business_id       bigint NOT NULL REFERENCES businesses,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  kind              text NOT NULL CHECK (kind IN ('messenger', 'instagram', 'whatsapp')),
  external_id       text NOT NULL,
  account_id        text,
  name              text,
  app_secret_enc    bytea NOT NULL,
  verify_token_hash bytea NOT NULL,
  access_token_enc  bytea,
  active            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);
CREATE INDEX channels_verify ON channels (kind, verify_token_hash);
CREATE INDEX channels_account ON channels (kind, account_id) WHERE account_id IS NOT NULL;

-- Global lookup: which business owns a channel Meta names.
CREATE TABLE channel_lookup (
  kind        text NOT NULL,
  external_id text NOT NULL,
  business_id bigint NOT NULL,
  channel_id  bigint NOT NULL,
  PRIMARY KEY (kind, external_id),
  FOREIGN KEY (business_id, channel_id) REFERENCES channels
);

CREATE TABLE contacts (
  business_id      bigint NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  channel_id       bigint NOT NULL,
  external_id      text NOT NULL,
  name             text,
  phone            text,
  pending_referral jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, channel_id, external_id),
  FOREIGN KEY (business_id, channel_id) REFERENCES channels
);

CREATE TABLE conversations (
  business_id       bigint NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  channel_id        bigint NOT NULL,
  contact_id        bigint NOT NULL,
  status            text NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('bot', 'waiting', 'offered', 'assigned', 'resolved')),
  intent            text,
  queue_id          bigint,
  agent_id          bigint,
  opened_at         timestamptz NOT NULL DEFAULT now(),
  first_response_at timestamptz,
  resolved_at       timestamptz,
  outcome           text CHECK (outcome IN ('sale', 'no_sale', 'resolved')),
  amount_cents      bigint,
  currency          text,
  referral          jsonb,
  last_message_at   timestamptz NOT NULL DEFAULT now(),
  last_inbound_at   timestamptz,  -- provider time of the customer's last message (messaging window)
  routed_at         timestamptz,
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, contact_id) REFERENCES contacts
);
-- One open conversation per contact; a resolved one stays closed.
CREATE UNIQUE INDEX conversations_one_open ON conversations (business_id, contact_id) WHERE status <> 'resolved';
CREATE INDEX conversations_status ON conversations (business_id, status, id);
CREATE INDEX conversations_unrouted ON conversations (business_id, id) WHERE routed_at IS NULL;

-- Every accepted webhook body, verbatim, once per business it concerns;
-- partitioned by day so retention drops whole partitions.
CREATE TABLE webhook_archive (
  business_id bigint NOT NULL,
  id          bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  kind        text NOT NULL,
  body        text NOT NULL,
  PRIMARY KEY (business_id, received_at, id)
) PARTITION BY RANGE (received_at);
CREATE SEQUENCE webhook_archive_id_seq AS bigint;
CREATE TABLE webhook_archive_default PARTITION OF webhook_archive DEFAULT;
CREATE INDEX webhook_archive_received ON webhook_archive (received_at);

CREATE TABLE messages (
  business_id         bigint NOT NULL,
  id                  bigint GENERATED ALWAYS AS IDENTITY,
  conversation_id     bigint NOT NULL,
  channel_id          bigint NOT NULL,
  contact_id          bigint NOT NULL,
  direction           text NOT NULL CHECK (direction IN ('in', 'out')),
  sender              text NOT NULL CHECK (sender IN ('customer', 'agent', 'bot')),
  agent_id            bigint,
  provider_message_id text,
  type                text NOT NULL,
  text                text,
  payload             text,
  media_id            text,
  media_url           text,
  referral            jsonb,
  order_data          jsonb,
  reply_to            text,
  status              text NOT NULL,
  error               text,
  provider_ts         timestamptz,
  sent_at             timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  archive_id          bigint,
  archive_received_at timestamptz,
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, conversation_id) REFERENCES conversations
);
-- Re-deliveries of one provider message are stored once.
CREATE UNIQUE INDEX messages_provider_id ON messages (business_id, channel_id, provider_message_id);
CREATE INDEX messages_conversation ON messages (business_id, conversation_id, id);

CREATE TABLE conversation_events (
  business_id         bigint NOT NULL,
  id                  bigint GENERATED ALWAYS AS IDENTITY,
  conversation_id     bigint,
  channel_id          bigint NOT NULL,
  contact_external_id text,
  kind                text NOT NULL,
  data                jsonb NOT NULL DEFAULT '{}',
  occurred_at         timestamptz NOT NULL DEFAULT now(),
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);
CREATE INDEX conversation_events_conversation ON conversation_events (business_id, conversation_id, id);

-- Statuses for outbound ids we have not recorded yet; applied when a send
-- records the id, dropped after 24 h.
CREATE TABLE pending_statuses (
  business_id         bigint NOT NULL,
  channel_id          bigint NOT NULL,
  provider_message_id text NOT NULL,
  status              text NOT NULL,
  error               text,
  occurred_at         timestamptz,
  received_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, channel_id, provider_message_id)
);
CREATE INDEX pending_statuses_received ON pending_statuses (received_at);

-- Creates the daily archive partitions from `from_day` for `days` days.
-- Rows already sitting in the default partition for such a day are moved.
CREATE FUNCTION sb_ensure_archive_partitions(from_day date, days int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  d date;
  created int := 0;
  part text;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    d := from_day + i;
    part := format('webhook_archive_%s', to_char(d, 'YYYYMMDD'));
    IF to_regclass(part) IS NULL THEN
      -- Keep writers out of the default partition while its rows move.
      LOCK TABLE webhook_archive_default IN SHARE ROW EXCLUSIVE MODE;
      EXECUTE format('CREATE TABLE %I (LIKE webhook_archive INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
      EXECUTE format('WITH moved AS (DELETE FROM webhook_archive_default WHERE received_at >= %L AND received_at < %L RETURNING *) '
                     'INSERT INTO %I SELECT * FROM moved', d, d + 1, part);
      EXECUTE format('ALTER TABLE webhook_archive ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, d, d + 1);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Drops daily archive partitions entirely older than `keep_days`.
CREATE FUNCTION sb_drop_archive_partitions(keep_days int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  dropped int := 0;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'webhook_archive'::regclass AND c.relname ~ '^webhook_archive_[0-9]{8}$'
  LOOP
    IF to_date(right(r.relname, 8), 'YYYYMMDD') < current_date - keep_days THEN
      EXECUTE format('DROP TABLE %I', r.relname);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END $$;
