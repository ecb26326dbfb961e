-- Archives accepted bodies that carried no customer message (statuses,
-- events, account updates). $1: [{business_id, kind, off, len | id}],
-- $2: the bodies, concatenated.
INSERT INTO webhook_archive (business_id, id, received_at, kind, body)
SELECT a.business_id, nextval('webhook_archive_id_seq'), now(), a.kind,
       convert_from(substring($2::bytea FROM a.off + 1 FOR a.len), 'UTF8')
FROM json_to_recordset($1::json) AS a(a int, business_id bigint, kind text, off int, len int, id bigint)
WHERE a.id IS NULL  -- re-processed bodies are archived already
