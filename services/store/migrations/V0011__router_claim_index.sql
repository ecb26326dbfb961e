-- The router claims unrouted conversations of every business oldest first:
-- an index led by business_id made that a walk over all conversations.
DROP INDEX conversations_unrouted;
CREATE INDEX conversations_unrouted ON conversations (id) WHERE routed_at IS NULL;
