-- Offers, SLAs and overflow that are due (see sb_router_timers). $1: limit per kind.
SELECT business_id, agent_id, event_seq FROM sb_router_timers($1::int)
