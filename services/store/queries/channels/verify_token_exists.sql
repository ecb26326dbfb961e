-- Is this the verify token of an active channel of the kind? $1: kind, $2: SHA-256 hex.
SELECT 1 FROM channels WHERE kind = $1 AND verify_token_hash = decode($2, 'hex') AND active LIMIT 1
