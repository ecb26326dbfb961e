-- The rest of a router's turn: records the decisions $1 (as
-- router/apply_decisions), assigns waiting conversations of every business
-- with room, at most $2 each, and announces them (sb_router_turn,
-- migration V0033). Rows: business_id, agent_id, event_id, announce_error
-- (NULL when announced).
SELECT business_id, agent_id, event_id, announce_error
FROM sb_router_turn($1::json, $2::int)
