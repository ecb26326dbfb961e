-- A page of a business's audit log, newest first.
-- $1: {business_id, before (id cursor), limit}; one row more than limit.
SELECT a.id,
       json_build_object('id', a.id, 'at', sb_iso(a.at),
                         'actor', json_build_object('type', a.actor_type, 'id', a.actor_id),
                         'action', a.action,
                         'resource', json_build_object('type', a.resource_type, 'id', a.resource_id),
                         'summary', a.summary, 'request_id', a.request_id)::text
FROM audit_log a
WHERE a.business_id = ($1::json ->> 'business_id')::bigint
  AND ($1::json ->> 'before' IS NULL OR a.id < ($1::json ->> 'before')::bigint)
ORDER BY a.id DESC
LIMIT ($1::json ->> 'limit')::int + 1
