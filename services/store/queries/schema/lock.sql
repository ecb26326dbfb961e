-- Serializes migration runs of all Switchboard processes (any fixed key).
SELECT pg_advisory_xact_lock(7318520417)
