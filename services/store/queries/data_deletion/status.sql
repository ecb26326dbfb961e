-- A data-deletion request by its confirmation code. $1: the code.
SELECT json_build_object('confirmation_code', confirmation_code,
                         'status', CASE WHEN completed_at IS NULL THEN 'pending' ELSE 'completed' END,
                         'contacts_erased', contacts, 'requested_at', sb_iso(requested_at),
                         'completed_at', sb_iso(completed_at))::text
FROM data_deletion_requests WHERE confirmation_code = $1
