-- $1: business id, $2: agent id, $3: online | away | offline, as the agent chose it.
UPDATE agents SET status = $3, chosen_status = $3, away_without_stream = false, status_changed_at = now()
WHERE business_id = $1::bigint AND id = $2::bigint AND active
RETURNING json_build_object('id', id, 'name', name, 'status', status, 'capacity', capacity, 'load', agents.load)::text
