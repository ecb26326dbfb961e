-- Online agents without a stream for $1 seconds become away (one process at a time).
SELECT business_id, agent_id FROM sb_presence_sweep($1::double precision)
