"""The schema and the statements are ready to be sharded by business (Citus,
deploy/SCALING.md): after migrating a fresh database, every table's primary
key and unique indexes lead with or include business_id and every foreign
key between tenant tables carries it; every named statement
(services/store/queries/**/*.sql) is bound to one business, except the ones
listed below, each with the reason it may span businesses."""

import os
import re
import unittest

import harness

QUERIES = os.path.join(harness.source_dir(), "services", "store", "queries")

# Tables without business_id, each a small table of its own.
GLOBAL_TABLES = {
    # Global lookup: the channel a webhook names (kind + page/IG/phone id),
    # before its business is known. Citus: reference table.
    "channel_lookup",
    # Global lookup: the business (and agent) of a bearer token, by its hash,
    # before its business is known. Citus: reference table.
    "api_tokens",
    # Lease rows of single-owner timers; a few rows. Citus: coordinator-local.
    "process_leases",
    # The migration runner's ledger. Citus: coordinator-local.
    "schema_migrations",
    # Global lookup: a one-time agent stream ticket by its hash (the ticket is
    # all a browser sends). Citus: reference table, like api_tokens.
    "stream_tickets",
    # Global lookup: Meta's data-deletion status URL names only a confirmation
    # code. A few rows. Citus: reference table.
    "data_deletion_requests",
    # The one row that numbers agent events in commit order across every
    # business. Must become per business before sharding (deploy/SCALING.md).
    "agent_event_sequencer",
}

# Statements not bound to one business, and why.
UNSCOPED_STATEMENTS = {
    # -- the global lookups (before the business is known)
    "channels/resolve": "global lookup: channel_lookup by kind + external id (the account-level branch "
                        "scans channels by kind + WhatsApp account id: multi-shard, see SCALING.md)",
    "tokens/lookup": "global lookup: api_tokens by token hash",
    "channels/verify_token_exists": "Meta's subscribe handshake names only a verify token (rare; multi-shard)",
    # -- background work claimed across every business (SKIP LOCKED); on Citus the claims
    #    become per-business steps (deploy/SCALING.md, "Background claims")
    "router/claim_unrouted": "router: claims unrouted conversations of every business",
    "router/waiting_businesses": "router: finds businesses with waiting conversations and free agents",
    "router/apply_decisions": "router: one batch of decisions, business_id per row",
    "router/turn": "router: a turn's decisions (business_id per row), then every business with room's assignments",
    "router/timers": "router: offer/SLA/overflow sweep over every business (one owner, by lease)",
    "outbound/claim_due": "outbound sender: claims due replies of every business",
    "outbound/apply_late_statuses": "outbound sender: parked statuses of every business",
    "maintenance/prune_pending_statuses": "housekeeping over every business",
    "maintenance/prune_hour_changes": "housekeeping over every business",
    "maintenance/drop_archive_partitions": "housekeeping: partition DDL",
    "maintenance/ensure_archive_partitions": "housekeeping: partition DDL",
    "maintenance/stale_statistics": "catalog statistics",
    "archive/since": "`switchboard reprocess`: archived bodies of every business since a time",
    "agent/sequence_events": "numbers committed agent events of every business (one sequencer row; SCALING.md)",
    "maintenance/prune_agent_events": "housekeeping over every business (and the sequencer)",
    "agent/feed_position": "the sequencer's last number (one row for every business; SCALING.md)",
    "agent/events_since": "a process's feed: every business's agent events after one number (the sequencer's order; "
                          "SCALING.md)",
    "presence/heartbeat": "the agents whose sockets this process holds, business_id per row",
    "presence/sweep": "presence sweep over every business (agents without a stream past the timeout)",
    "profiles/claim": "outbound sender: claims contacts of every business whose profile is unknown",
    "media/claim_due": "media fetcher: claims attachments of every business due for a fetch",
    "queues/depths": "/metrics: the deepest queues of every business (operator view)",
    "secrets/stale": "`switchboard reencrypt-secrets`: channels of every business under an old key",
    # -- global lookups added with stream tickets and Meta's data-deletion callback
    "presence/use_ticket": "global lookup: stream_tickets by ticket hash",
    "data_deletion/candidates": "Meta's callback names an app-scoped user id only: channels of every business "
                                "by kind, then contacts by business (multi-shard; rare)",
    "data_deletion/record": "data_deletion_requests (global, by confirmation code)",
    "data_deletion/status": "data_deletion_requests (global, by confirmation code)",
    # -- group commit: one batch holds many businesses' webhooks; every row carries its business_id
    "ingest/ingest_messages": "group commit: business_id per row of the batch",
    "ingest/archive_bodies": "group commit: business_id per row of the batch",
    "ingest/apply_statuses": "group commit: business_id per row of the batch",
    "ingest/apply_watermarks": "group commit: business_id per row of the batch",
    "ingest/record_events": "group commit: business_id per row of the batch",
    "agent/resolve": "group commit of the agent API's resolves: business per item of the batch",
    # -- no tenant data
    "businesses/create": "creates the tenant (its business_id is born here)",
    "businesses/timezone_exists": "reads pg_timezone_names",
    "health/ping": "SELECT 1",
    "router/notify": "pg_notify",
    "tokens/notify_agent_revoked": "pg_notify",
    "metrics/work_mem": "set_config (transaction-local)",
    "leases/hold": "process_leases (global)",
    "leases/release": "process_leases (global)",
    "schema/applied": "schema_migrations",
    "schema/create_migrations_table": "schema_migrations",
    "schema/lock": "migration advisory lock",
    "schema/migrations_table_exists": "to_regclass (catalog)",
    "schema/record": "schema_migrations",
}

# What "bound to one business" looks like in our statements:
BUSINESS_BOUND = [
    # WHERE x.business_id = $1 / = $2::bigint / = ($1::json ->> 'business_id')::bigint
    re.compile(r"business_id\s*=\s*\(?\s*\$\d"),
    # WHERE business_id IN (SELECT ... $1 ...): a list of businesses given by the caller
    re.compile(r"business_id\s+IN\s*\(\s*SELECT[^;]*?\$\d"),
    # the business id travels in the JSON parameter (INSERT ... SELECT (j ->> 'business_id')::bigint)
    re.compile(r"->>\s*'business_id'"),
    # INSERT INTO t (business_id, ...) VALUES ($1::bigint, ...)
    re.compile(r"\(\s*business_id\s*,[^)]*\)\s*VALUES\s*\(\s*\$\d", re.S),
    # a function of ours whose first argument is the business id (sb_assign_waiting, sb_agent_event, ...)
    re.compile(r"\bsb_\w+\(\s*\$1::bigint"),
]


def statements():
    out = {}
    for group in sorted(os.listdir(QUERIES)):
        for name in sorted(os.listdir(os.path.join(QUERIES, group))):
            if name.endswith(".sql"):
                with open(os.path.join(QUERIES, group, name), encoding="utf-8") as f:
                    text = f.read()
                out[f"{group}/{name[:-4]}"] = re.sub(r"--[^\n]*", "", text)
    return out


class StatementScopeTest(unittest.TestCase):
    """Static: needs neither server nor database."""

    def test_every_statement_is_bound_to_one_business_or_listed(self):
        stmts = statements()
        self.assertGreater(len(stmts), 40, "the statement list was not found")
        unbound = [name for name, text in stmts.items()
                   if name not in UNSCOPED_STATEMENTS and not any(p.search(text) for p in BUSINESS_BOUND)]
        self.assertEqual(unbound, [], "statements that do not filter on business_id (bind it to a parameter, or "
                                      "list them in UNSCOPED_STATEMENTS with the reason they span businesses)")

    def test_the_allow_list_names_existing_statements(self):
        stale = sorted(set(UNSCOPED_STATEMENTS) - set(statements()))
        self.assertEqual(stale, [], "UNSCOPED_STATEMENTS names statements that no longer exist")

    def test_the_checker_tells_bound_from_unbound(self):
        bound = "SELECT 1 FROM conversations v WHERE v.business_id = $1::bigint AND v.id = $2"
        unbound = ("SELECT 1 FROM conversations v JOIN channels c ON c.business_id = v.business_id "
                   "WHERE v.id = $1")
        self.assertTrue(any(p.search(bound) for p in BUSINESS_BOUND))
        self.assertFalse(any(p.search(unbound) for p in BUSINESS_BOUND),
                         "a join on business_id alone must not count as a filter")


class SchemaShardingTest(unittest.TestCase):
    """Reads the catalog of a freshly migrated database."""

    @classmethod
    def setUpClass(cls):
        cls.db = harness.migrated_database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def tables(self):
        rows = self.db.psql("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1""")
        return [r[0] for r in rows]

    def test_primary_keys_lead_with_business_id(self):
        tables = self.tables()
        self.assertIn("messages", tables)
        for t in sorted(GLOBAL_TABLES):
            self.assertIn(t, tables, f"global table {t} is allow-listed but does not exist")
        rows = self.db.psql("""
            SELECT c.relname, COALESCE((SELECT a.attname FROM pg_attribute a
                                        WHERE a.attrelid = c.oid AND a.attnum = k.conkey[1]), '(no primary key)')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition""")
        wrong = {t: first for t, first in rows if t not in GLOBAL_TABLES and first != "business_id"}
        self.assertEqual(wrong, {}, "tables whose primary key does not lead with business_id (first column shown)")

    def test_business_id_is_a_not_null_column_of_every_tenant_table(self):
        rows = self.db.psql("""
            SELECT table_name, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'business_id'""")
        have = {t: nullable for t, nullable in rows}
        for t in self.tables():
            if t in GLOBAL_TABLES or t == "businesses":
                continue
            self.assertIn(t, have, f"{t} has no business_id column")
            self.assertEqual(have[t], "NO", f"{t}.business_id may be NULL")

    def test_unique_indexes_include_business_id(self):
        # Citus enforces a unique index only when it contains the distribution column.
        rows = self.db.psql("""
            SELECT c.relname, i.relname,
                   EXISTS (SELECT 1 FROM unnest(x.indkey) k JOIN pg_attribute a
                           ON a.attrelid = c.oid AND a.attnum = k WHERE a.attname = 'business_id')
            FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND x.indisunique AND NOT c.relispartition""")
        self.assertTrue(rows)
        wrong = [f"{t}.{i}" for t, i, has in rows if t not in GLOBAL_TABLES and has != "t"]
        self.assertEqual(wrong, [], "unique indexes without business_id")

    def test_foreign_keys_between_tenant_tables_carry_business_id(self):
        # Citus: a foreign key between distributed tables must include the
        # distribution column, so both rows live on the same shard.
        rows = self.db.psql("""
            SELECT conrelid::regclass::text, confrelid::regclass::text,
                   EXISTS (SELECT 1 FROM unnest(conkey) k JOIN pg_attribute a
                           ON a.attrelid = conrelid AND a.attnum = k WHERE a.attname = 'business_id')
            FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace""")
        self.assertTrue(rows)
        wrong = [f"{src} -> {dst}" for src, dst, has in rows
                 if src not in GLOBAL_TABLES and dst not in GLOBAL_TABLES and has != "t"]
        self.assertEqual(wrong, [], "foreign keys between tenant tables without business_id")


if __name__ == "__main__":
    unittest.main()
