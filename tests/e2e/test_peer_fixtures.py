"""Other projects' Meta webhook bodies (../shared/peer-fixtures), signed over
their exact bytes and posted: every one is accepted, exactly its customer
messages are stored as inbound messages, and no echo is stored.

The fixtures are read in place and never copied into the project.

Some ids recur across files (`wamid.xyzxyz` in 18 of them). So that every
file is checked against a store that has not seen its ids, the files are
split into rounds in which no customer message id repeats, and each round
runs against a fresh database and server.
"""

import json
import os
import secrets
import unittest

import harness
from harness import sql_literal, uid

APP_SECRET = "peer-fixtures-" + secrets.token_hex(8)


def fixtures_dir():
    d = os.environ.get("SB_PEER_FIXTURES") or os.path.join(harness.source_dir(), "..", "shared",
                                                           "peer-fixtures")
    d = os.path.abspath(d)
    if not os.path.isfile(os.path.join(d, "INDEX.json")):
        raise unittest.SkipTest(f"peer fixtures not found: no INDEX.json in {d} "
                                "(set SB_PEER_FIXTURES or place them at ../shared/peer-fixtures)")
    return d


def load_index():
    d = fixtures_dir()
    with open(os.path.join(d, "INDEX.json"), encoding="utf-8") as f:
        return d, json.load(f)


def read_bytes(d, record):
    with open(os.path.join(d, record["file"]), "rb") as f:
        return f.read()


def echo_ids(body_bytes):
    """Ids of echoes in a body: `is_echo` messages and WhatsApp smb_message_echoes."""
    ids = set()

    def walk(node, field=None):
        if isinstance(node, dict):
            if node.get("is_echo") is True and isinstance(node.get("mid"), str):
                ids.add(node["mid"])
            if node.get("field") == "smb_message_echoes" and isinstance(node.get("value"), dict):
                for e in node["value"].get("message_echoes") or []:
                    if isinstance(e, dict) and isinstance(e.get("id"), str):
                        ids.add(e["id"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    try:
        walk(json.loads(body_bytes))
    except ValueError:
        pass
    return ids


def rounds_of(index):
    """Splits records into rounds in which no customer message id repeats."""
    rounds = []
    for rec in index:
        ids = set(rec["customer_message_ids"])
        for rd in rounds:
            if not rd["ids"] & ids:
                rd["ids"] |= ids
                rd["records"].append(rec)
                break
        else:
            rounds.append({"ids": set(ids), "records": [rec]})
    return rounds


def is_iso_time_artefact(rec):
    return "ISO-8601" in rec.get("notes", "")


class PeerFixturesTest(harness.ServerTestCase):
    """Manages its own database and server per round (see the module doc)."""

    @classmethod
    def setUpClass(cls):
        cls.bin_path, cls.cluster = harness.require_env()
        cls.dir, cls.index = load_index()
        cls.servers = []  # the server of the running test, for the log on failure

    @classmethod
    def tearDownClass(cls):
        pass

    def start_round(self):
        db = harness.Database(self.cluster)
        self.addCleanup(db.drop)
        server = harness.Server(db.url, bin_path=self.bin_path).start()
        type(self).servers = [server]
        self.addCleanup(server.stop)
        h = harness.Http(*server.address)
        self.addCleanup(h.close)
        self.db, self.server, self.http, self.api = db, server, h, harness.Api(h)
        self.key = self.api.create_business(name="peer fixtures")["api_key"]
        self.registered = set()

    def register(self, kind, external_id):
        if (kind, external_id) in self.registered:
            return
        ch = self.api.create_channel(self.key, kind, external_id=external_id, app_secret=APP_SECRET,
                                     expect=(201, 409))
        if ch["_status"] == 409:
            self.assertEqual(ch.get("error", {}).get("code"), "channel_exists", ch)
        self.registered.add((kind, external_id))

    def inbound_ids(self, ids):
        if not ids:
            return set()
        rows = self.db.psql("SELECT provider_message_id FROM messages WHERE direction = 'in' AND "
                            "provider_message_id IN (" + ",".join(sql_literal(i) for i in ids) + ")")
        return {r[0] for r in rows}

    def test_every_fixture_is_accepted_and_stores_exactly_its_customer_messages(self):
        rounds = rounds_of(self.index)
        for n, rd in enumerate(rounds, 1):
            self.start_round()
            for rec in rd["records"]:
                with self.subTest(file=rec["file"], round=n):
                    self.check_record(rec, rd["ids"])
            # Stop now rather than at the end of the test: one server at a time.
            self.doCleanups()

    def check_record(self, rec, round_ids):
        kind, ids = rec["kind"], rec["customer_message_ids"]
        for ext in rec["channel_external_ids"]:
            self.register(kind, ext)
        body = read_bytes(self.dir, rec)
        before = self.db.count("SELECT count(*) FROM messages")
        r = self.api.post_webhook(kind, body, secret=APP_SECRET)
        if r.status == 400 and is_iso_time_artefact(rec):
            self.assertError(r, 400, what=rec["file"])
            self.skipTest(f"{rec['file']}: ISO-8601 times (not sent by Meta) answered 400, "
                          f"which the fixtures allow")
        self.assertEqual(r.status, 200, f"{rec['file']} ({kind}, {len(body)} bytes, channels "
                                        f"{rec['channel_external_ids']}): expected 200, got {r!r}")
        self.assertIsInstance(r.json, dict, r)
        if not rec["channel_external_ids"]:
            self.assertEqual(r.json, {"status": "ignored"},
                             f"{rec['file']} names no registered channel (account-level, no WhatsApp "
                             f"channel with that account_id): expected ignored")
        else:
            self.assertEqual(r.json.get("status"), "ok", r.json)
            self.assertEqual(r.json.get("skipped_entries"), 0, f"{rec['file']}: {r.json!r}")
            self.assertEqual(r.json.get("messages"), len(set(ids)),
                             f"{rec['file']}: expected {len(set(ids))} new messages, got {r.json!r}; "
                             f"customer ids {ids}")
            if "within this body" not in rec.get("notes", ""):
                self.assertEqual(r.json.get("duplicates"), 0,
                                 f"{rec['file']}: nothing in it was stored before: {r.json!r}")

        stored = self.inbound_ids(ids)
        self.assertEqual(sorted(set(ids) - stored), [],
                         f"{rec['file']}: customer messages not stored as inbound (direction 'in')")
        echoes = echo_ids(body) - round_ids
        if echoes:
            leaked = self.db.psql("SELECT provider_message_id, direction FROM messages WHERE "
                                  "provider_message_id IN (" + ",".join(sql_literal(i) for i in echoes) + ")")
            self.assertEqual(leaked, [], f"{rec['file']}: echoes were stored")
        after = self.db.count("SELECT count(*) FROM messages")
        self.assertEqual(after - before, len(set(ids)),
                         f"{rec['file']}: expected {len(set(ids))} new message rows (exactly its customer "
                         f"messages), got {after - before}")
        self.assertHealthy(after=rec["file"])


class AccountLevelFixturesTest(harness.ServerTestCase):
    """WhatsApp account-level bodies (no phone_number_id): ignored while no
    WhatsApp channel has that account_id; once one has, accepted and verified
    with that channel's app secret."""

    @classmethod
    def setUpClass(cls):
        cls.dir, index = load_index()
        cls.records = [r for r in index if r["kind"] == "whatsapp" and not r["channel_external_ids"]]
        if not cls.records:
            raise unittest.SkipTest("no account-level WhatsApp fixture in INDEX.json")
        super().setUpClass()

    def test_account_level_bodies_verify_with_the_account_channel(self):
        key = self.api.create_business(name="peer accounts")["api_key"]
        bodies = {rec["file"]: read_bytes(self.dir, rec) for rec in self.records}
        accounts = {f: sorted({e["id"] for e in json.loads(b)["entry"]}) for f, b in bodies.items()}

        for f, body in bodies.items():
            with self.subTest(file=f, step="no channel with this account_id"):
                r = self.api.post_webhook("whatsapp", body, secret=APP_SECRET)
                self.assertEqual((r.status, r.json), (200, {"status": "ignored"}),
                                 f"{f} before any channel has account_id {accounts[f]}: {r!r}")

        for acct in sorted({a for ids in accounts.values() for a in ids}):
            ch = self.api.create_channel(key, "whatsapp", external_id=uid("pn"), account_id=acct,
                                         app_secret=APP_SECRET)
            self.assertEqual(ch.get("account_id"), acct, ch)

        rows_before = self.db.count("SELECT count(*) FROM messages")
        for f, body in bodies.items():
            with self.subTest(file=f, step="channel registered with this account_id"):
                r = self.api.post_webhook("whatsapp", body, secret=APP_SECRET)
                self.assertEqual(r.status, 200, f"{f}: {r!r}")
                self.assertEqual(r.json.get("status"), "ok",
                                 f"{f}: names a registered account_id {accounts[f]}, so it is not "
                                 f"ignored: {r.json!r}")
                self.assertEqual(r.json.get("skipped_entries"), 0, r.json)
                bad = self.api.post_webhook("whatsapp", body, secret=APP_SECRET + "x")
                self.assertError(bad, 401, "invalid_signature",
                                 f"{f} signed with another secret than its account channel's")
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), rows_before,
                         "account-level events are not customer messages")


if __name__ == "__main__":
    unittest.main()
