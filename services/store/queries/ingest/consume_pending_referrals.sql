-- A standalone referral waits on the contact until a conversation opens;
-- the conversation took it, so it is consumed. $1: {"contacts": [{business_id, contact_id}]}.
UPDATE contacts c SET pending_referral = NULL
FROM json_to_recordset($1::json -> 'contacts') AS x(business_id bigint, contact_id bigint)
WHERE c.business_id = x.business_id AND c.id = x.contact_id
