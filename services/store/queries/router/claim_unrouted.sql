-- Claims up to $1 conversations the router has not decided on yet, with
-- their businesses' routing rules (sb_claim_unrouted, migration V0033).
SELECT business_id, id, channel_kind, text, payload, ad_id, contact_external_id, contact_phone, status, bot,
       queue_id, rules_version, default_queue_id, rules
FROM sb_claim_unrouted($1::int)
