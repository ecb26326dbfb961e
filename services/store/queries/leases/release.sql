-- Gives up every lease of a holder (a process shutting down), so another
-- process takes them over at once instead of when they expire. $1: holder id.
DELETE FROM process_leases WHERE holder = $1
