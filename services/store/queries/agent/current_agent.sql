-- The agent a conversation is offered or assigned to, locking the conversation.
SELECT agent_id FROM conversations WHERE business_id = $1::bigint AND id = $2::bigint FOR UPDATE
