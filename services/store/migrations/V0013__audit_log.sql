-- Who changed a business's set-up, what and when. Written in the same
-- transaction as the change it records (store::RecordAudit), so a change
-- without its row, or a row without its change, cannot exist. Never holds
-- a secret or a token: actors are named by agent id or key fingerprint,
-- and summaries are redacted before they are written.
CREATE TABLE audit_log (
  business_id   bigint NOT NULL REFERENCES businesses,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  at            timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type    text NOT NULL CHECK (actor_type IN ('admin', 'business_key', 'agent')),
  actor_id      text,
  action        text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*$'),
  resource_type text NOT NULL CHECK (resource_type ~ '^[a-z][a-z0-9_]*$'),
  resource_id   text,
  summary       jsonb NOT NULL DEFAULT '{}',
  request_id    text,
  PRIMARY KEY (business_id, id)
);
