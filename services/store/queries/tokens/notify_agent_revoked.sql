-- Tells every process (at commit) that agent $1's tokens stopped working.
SELECT pg_notify('sb_invalidate', json_build_object('tokens', true, 'agents', json_build_array($1::bigint))::text)
