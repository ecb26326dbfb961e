-- Timers that must run in one process at a time (the router's offer, SLA and
-- overflow sweep; archive partition housekeeping) are owned through a lease
-- row with an expiry: a process that dies stops renewing and another takes
-- over when the lease ends. Session advisory locks would not do: behind
-- pgbouncer in transaction pooling a session is not a process.
-- A small global table (no business_id): on Citus it stays on the
-- coordinator (see deploy/SCALING.md).
CREATE TABLE process_leases (
  name        text PRIMARY KEY,
  holder      text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

-- True when `p_holder` holds lease `p_name` for the rest of the calling
-- transaction: it held it already, nobody did, or the holder's lease expired.
-- Whoever gets true has the row locked until the transaction ends, so the
-- work done under the lease never runs in two processes at once, and a
-- stalled holder whose lease was taken over learns it here before doing
-- anything. Processes that do not hold it only read the row (they never
-- lock it, so the holder never waits for them). A renewal is written only
-- once half the lease is used, not on every call.
CREATE FUNCTION sb_hold_lease(p_name text, p_holder text, p_ttl_ms bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  l process_leases;
  ttl interval := make_interval(secs => p_ttl_ms / 1000.0);
BEGIN
  SELECT * INTO l FROM process_leases WHERE name = p_name;
  IF NOT FOUND THEN
    INSERT INTO process_leases (name, holder, expires_at) VALUES (p_name, p_holder, now() + ttl)
    ON CONFLICT (name) DO NOTHING;  -- another process inserted it first
    RETURN FOUND;
  END IF;
  IF l.holder <> p_holder AND l.expires_at >= now() THEN
    RETURN false;
  END IF;
  -- Ours, or expired: decide again on the locked, latest row (a contender
  -- for an expired lease may have taken it meanwhile).
  SELECT * INTO l FROM process_leases WHERE name = p_name FOR UPDATE;
  IF NOT FOUND THEN
    RETURN false;  -- released meanwhile; taken on a later call
  END IF;
  IF l.holder = p_holder AND l.expires_at >= now() THEN
    IF l.expires_at < now() + ttl / 2 THEN
      UPDATE process_leases SET expires_at = now() + ttl WHERE name = p_name;
    END IF;
    RETURN true;
  END IF;
  IF l.expires_at < now() THEN
    UPDATE process_leases SET holder = p_holder, acquired_at = now(), expires_at = now() + ttl WHERE name = p_name;
    RETURN true;
  END IF;
  RETURN false;
END $$;
