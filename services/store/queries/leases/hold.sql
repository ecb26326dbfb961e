-- Takes or renews a lease for the rest of this transaction (see
-- sb_hold_lease). $1: lease name, $2: holder id, $3: lease length in ms.
SELECT sb_hold_lease($1, $2, $3::bigint)
