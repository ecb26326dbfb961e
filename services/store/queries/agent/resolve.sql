-- Resolves a batch: $1 = [{n, business, conversation, agent (NULL: the
-- business's key), outcome, amount_cents, currency}]; one row for each item
-- (sb_resolve_conversations, migration V0031): (n, refused, status,
-- event_agent, event_id, conversation).
SELECT n, refused, status, event_agent, event_id, conversation FROM sb_resolve_conversations($1::json)
