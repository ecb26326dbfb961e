-- Resolves conversation $2 of business $1 as agent $3 (NULL: the business's
-- key) with outcome $4, amount $5, currency $6, and tells its agent
-- (sb_resolve_conversation, migration V0026): (refused, status, event_agent,
-- event_id, conversation).
SELECT refused, status, event_agent, event_id, conversation
FROM sb_resolve_conversation($1::bigint, $2::bigint, $3::bigint, $4::text, $5::bigint, $6::text)
