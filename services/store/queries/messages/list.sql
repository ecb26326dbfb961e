-- A page of a conversation's messages, oldest first.
-- $1: {business_id, conversation_id, after (id cursor), limit}; one row more than limit.
SELECT m.id, sb_message_json(m)::text
FROM messages m
WHERE m.business_id = ($1::json ->> 'business_id')::bigint
  AND m.conversation_id = ($1::json ->> 'conversation_id')::bigint
  AND ($1::json ->> 'after' IS NULL OR m.id > ($1::json ->> 'after')::bigint)
ORDER BY m.id
LIMIT ($1::json ->> 'limit')::int + 1
