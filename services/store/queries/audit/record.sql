-- One audit row. $1: {business_id, actor_type, actor_id, action, resource_type, resource_id, summary (object),
-- request_id}. Run it inside the transaction of the change (store::RecordAudit).
INSERT INTO audit_log (business_id, actor_type, actor_id, action, resource_type, resource_id, summary, request_id)
SELECT (j ->> 'business_id')::bigint, j ->> 'actor_type', j ->> 'actor_id', j ->> 'action', j ->> 'resource_type',
       j ->> 'resource_id', COALESCE(j -> 'summary', '{}')::jsonb, j ->> 'request_id'
FROM (SELECT $1::json AS j) p
