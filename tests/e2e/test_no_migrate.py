"""`switchboard serve --no-migrate`, the way instances start once
`switchboard migrate` (or the Kubernetes Job) has run. It refuses a database
that lacks migrations the binary knows, with exit code 1 and a message
naming them and `switchboard migrate`, before it changes anything: serving
would fail every webhook batch that touches what changed. A database
migrated by a newer binary (more migrations than this one knows) is served,
as in a rolling upgrade; so is one that cannot be reached yet, which gets
503s until it answers.

Skips (with the reason) when SWITCHBOARD_TEST_DATABASE_URL or
SWITCHBOARD_BIN is unset.
"""

import os
import subprocess
import unittest

import harness


class NoMigrateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin, cls.cluster = harness.require_env()

    def database(self, migrated):
        db = harness.migrated_database() if migrated else harness.Database(self.cluster)
        self.addCleanup(db.drop)
        return db

    def serve(self, database_url):
        """Runs `serve --no-migrate`, expecting it to refuse within 30 s."""
        return subprocess.run([self.bin, "serve", "--no-migrate"], capture_output=True, timeout=30,
                              env=dict(os.environ, SWITCHBOARD_DATABASE_URL=database_url,
                                       SWITCHBOARD_LISTEN="127.0.0.1:0"))

    def assertServes(self, server):
        self.addCleanup(server.stop)
        http = harness.Http(*server.address)
        self.addCleanup(http.close)
        self.assertEqual(http.get("/healthz").status, 200)
        return http

    def test_a_database_never_migrated_is_refused_and_left_alone(self):
        db = self.database(migrated=False)
        p = self.serve(db.url)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("run `switchboard migrate` first", err)
        self.assertRegex(err, r"lacks \d+ migration\(s\) this binary needs \(V0001__\S+ to V\d{4}__\S+\)")
        self.assertEqual(db.value("SELECT to_regclass('schema_migrations') IS NULL"), "t",
                         "the refused start created the migrations table")

    def test_a_database_one_migration_behind_is_refused_naming_it(self):
        db = self.database(migrated=True)
        last = db.value("SELECT max(version) FROM schema_migrations")
        db.psql(f"DELETE FROM schema_migrations WHERE version = {harness.sql_literal(last)}")
        p = self.serve(db.url)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 1, err)
        self.assertIn(f"lacks 1 migration(s) this binary needs ({last})", err)

    def test_a_database_migrated_by_a_newer_binary_is_served(self):
        db = self.database(migrated=True)
        db.psql("INSERT INTO schema_migrations (version) VALUES ('V9999__from_a_newer_binary.sql')")
        self.assertServes(harness.Server(db.url, args=["--no-migrate"]).start())

    def test_a_database_not_reachable_yet_is_served_with_503s(self):
        closed = f"postgresql://postgres@127.0.0.1:{harness.free_port()}/switchboard"
        server = harness.Server(closed, args=["--no-migrate"]).start()
        http = self.assertServes(server)
        self.assertEqual(http.get("/readyz").status, 503)
        self.assertIn("could not check the database's migrations", server.log_tail())


if __name__ == "__main__":
    unittest.main()
