-- Records an event for agent $2 with conversation $3 rendered as it is now.
-- $1 business, $4 type. Returns the event number and the rendering.
-- MATERIALIZED: the rendering is used twice below, and an inlined CTE would
-- render the conversation once for each use.
WITH r AS MATERIALIZED (
  SELECT sb_conversation_json(v) AS j FROM conversations v WHERE v.business_id = $1::bigint AND v.id = $3::bigint
)
SELECT sb_agent_event($1::bigint, $2::bigint, $4, r.j), r.j::text FROM r
