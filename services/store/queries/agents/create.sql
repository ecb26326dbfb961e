-- An agent, their queues and their token (hash only). The caller checked
-- that every queue id is the business's.
-- $1: {business_id, name, capacity, skills: [...], queue_ids: [...], token_hash (hex)}.
WITH p AS (SELECT $1::json AS j),
a AS (
  INSERT INTO agents (business_id, name, capacity, skills)
  SELECT (j ->> 'business_id')::bigint, j ->> 'name', (j ->> 'capacity')::int,
         ARRAY(SELECT json_array_elements_text(j -> 'skills'))
  FROM p
  RETURNING *
),
aq AS (
  INSERT INTO agent_queues (business_id, agent_id, queue_id)
  SELECT a.business_id, a.id, q::bigint FROM a, p, json_array_elements_text(p.j -> 'queue_ids') AS q
),
t AS (
  INSERT INTO api_tokens (token_hash, business_id, role, agent_id)
  SELECT decode(p.j ->> 'token_hash', 'hex'), a.business_id, 'agent', a.id FROM a, p
)
SELECT json_build_object('id', a.id, 'name', a.name, 'capacity', a.capacity,
                         'queue_ids', (SELECT COALESCE(json_agg((q)::bigint), '[]') FROM p, json_array_elements_text(p.j -> 'queue_ids') AS q),
                         'skills', to_json(a.skills), 'status', a.status, 'created_at', sb_iso(a.created_at))::text
FROM a
