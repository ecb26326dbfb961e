-- Records the router's decisions (sb_apply_routing_decisions, migration
-- V0033). $1: [{business_id, id, intent, queue_id, bot, status, event, detail}].
SELECT sb_apply_routing_decisions($1::json)
