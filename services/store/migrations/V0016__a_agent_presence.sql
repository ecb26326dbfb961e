-- Presence that follows the agent's stream. `status` stays what assignment
-- reads; `chosen_status` is what the agent last asked for. A process holding
-- an agent's WebSocket refreshes `stream_seen_at`; an online agent whose
-- stream (or status change) is older than the presence timeout is moved to
-- away by a sweep, and a reconnecting stream gives back the chosen status.
ALTER TABLE agents
  ADD COLUMN chosen_status text NOT NULL DEFAULT 'offline' CHECK (chosen_status IN ('online', 'away', 'offline')),
  ADD COLUMN stream_seen_at timestamptz,
  ADD COLUMN away_without_stream boolean NOT NULL DEFAULT false;
UPDATE agents SET chosen_status = status;
CREATE INDEX agents_presence ON agents (GREATEST(stream_seen_at, status_changed_at)) WHERE status = 'online';

-- One-time tickets for opening the stream from a browser (which cannot set
-- an Authorization header on a WebSocket): stored hashed, short-lived,
-- deleted when used.
CREATE TABLE stream_tickets (
  ticket_hash bytea PRIMARY KEY,
  business_id bigint NOT NULL,
  agent_id    bigint NOT NULL,
  expires_at  timestamptz NOT NULL,
  FOREIGN KEY (business_id, agent_id) REFERENCES agents
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);

-- Moves online agents without a stream for `p_timeout_s` to away. One
-- process at a time (the others return at once); rows another transaction
-- holds are left for the next sweep. Also drops expired stream tickets.
CREATE FUNCTION sb_presence_sweep(p_timeout_s double precision)
RETURNS TABLE (business_id bigint, agent_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('sb_presence_sweep')) THEN
    RETURN;
  END IF;
  DELETE FROM stream_tickets WHERE expires_at < now();
  RETURN QUERY
  WITH stale AS (
    SELECT a.business_id, a.id FROM agents a
    WHERE a.status = 'online' AND a.active
      AND GREATEST(a.stream_seen_at, a.status_changed_at) < now() - make_interval(secs => p_timeout_s)
    ORDER BY a.business_id, a.id
    FOR UPDATE SKIP LOCKED
  )
  UPDATE agents a SET status = 'away', away_without_stream = true, status_changed_at = now()
  FROM stale WHERE a.business_id = stale.business_id AND a.id = stale.id
  RETURNING a.business_id, a.id;
END $$;
