-- Records a message.created event for agent $2. $1 business, $3 message JSON.
SELECT sb_agent_event($1::bigint, $2::bigint, 'message.created', $3::json)
