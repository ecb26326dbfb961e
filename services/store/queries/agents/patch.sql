-- Changes an agent's name, capacity, skills or reactivates them (queues are
-- set apart). $1: {business_id, id, name?, capacity?, skills?, active?}. Returns the id when found.
WITH p AS (SELECT $1::jsonb AS j)
UPDATE agents a
SET name = COALESCE(j ->> 'name', a.name),
    capacity = COALESCE((j ->> 'capacity')::int, a.capacity),
    skills = CASE WHEN j ? 'skills' THEN ARRAY(SELECT jsonb_array_elements_text(j -> 'skills')) ELSE a.skills END,
    active = a.active OR COALESCE((j ->> 'active')::boolean, false),
    deactivated_at = CASE WHEN (j ->> 'active')::boolean THEN NULL ELSE a.deactivated_at END
FROM p
WHERE a.business_id = (j ->> 'business_id')::bigint AND a.id = (j ->> 'id')::bigint
RETURNING a.id
