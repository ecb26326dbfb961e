-- One queue of a business. $1: business id, $2: queue id.
SELECT sb_queue_json(q)::text FROM queues q WHERE q.business_id = $1::bigint AND q.id = $2::bigint
