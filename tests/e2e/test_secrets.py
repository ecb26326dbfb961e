"""Secrets at rest and in logs, end to end.

- After a full run (set-up, webhook handshake and messages, routing, an
  agent's reply sent through a fake Graph API, a provider error, bad
  signatures, bad and wrong-role tokens), no secret, token or API key is
  found in plain text in any column of any table, nor in the server's log
  (at debug level).
- Key rotation: values sealed under an old key id still open; `switchboard
  reencrypt-secrets` seals them with the current key (after which the old key
  is not needed); `switchboard rotate-secret-key` rotates the key file, and a
  running server that shares the file reads the new key when it meets it.
"""

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import unittest

import harness
from harness import ADMIN_TOKEN, uid, wait_for


def encodings(secret):
    """The forms a leaked secret could take: as is, hex (a bytea column), base64."""
    raw = secret.encode()
    return {secret, raw.hex(), base64.b64encode(raw).decode().rstrip("=")}


def all_rows_as_text(db):
    """{table: [row as text, ...]} for every table of the database (bytea shows as hex)."""
    tables = [r[0] for r in db.psql(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")]
    out = {}
    for t in tables:
        out[t] = [r[0] for r in db.psql(f"SELECT t::text FROM ONLY {t} AS t")]
    return out


class NoSecretInDatabaseOrLogTest(harness.ServerTestCase):
    with_fake_graph = True
    server_env = {"SWITCHBOARD_LOG_LEVEL": "debug"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.keep_logs = True  # read after the server stopped; removed in tearDownClass

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.server.dir, ignore_errors=True)

    def full_run(self):
        """Everything a business does; returns {name: secret} of every secret it used."""
        h, found = self.http, {}
        found["admin token"] = ADMIN_TOKEN
        found["secret key"] = harness.SECRET_KEY
        biz = self.api.create_business(name="Secret Shop")
        found["api key"] = biz["api_key"]
        other = self.api.create_business()
        found["other api key"] = other["api_key"]
        key = biz["api_key"]

        phone = uid("9")
        wa = {"app_secret": "wa-app-secret-" + secrets.token_hex(12), "verify_token": "wa-verify-" + secrets.token_hex(8),
              "access_token": "EAAGwa" + secrets.token_hex(16)}
        self.api.create_channel(key, "whatsapp", external_id=phone, account_id="waba-" + phone, **wa)
        page = uid("page")
        ms = {"app_secret": "ms-app-secret-" + secrets.token_hex(12), "verify_token": "ms-verify-" + secrets.token_hex(8),
              "access_token": "EAAGms" + secrets.token_hex(16)}
        self.api.create_channel(key, "messenger", external_id=page, **ms)
        for name, value in list(wa.items()) + list(ms.items()):
            found[f"channel {name} ({value[:6]})"] = value

        # The handshake, right and wrong.
        r = h.get(f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={wa['verify_token']}&hub.challenge=42")
        self.assertEqual((r.status, r.body), (200, b"42"), r)
        self.assertEqual(h.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").status,
                         403)

        queue = self.api.create_queue(key, "Support")["id"]
        agent = self.api.create_agent(key, [queue], name="Ana")["token"]
        found["agent token"] = agent
        self.api.set_routing(key, queue)
        self.api.set_status(agent, "online")

        # A customer writes; the agent is assigned and replies through the fake Graph API.
        contact = "1555" + str(secrets.randbelow(10**7)).zfill(7)
        body = harness.message_body("whatsapp", phone, contact, uid("wamid."), "the customer's words")
        self.assertEqual(self.api.post_webhook("whatsapp", body, secret=wa["app_secret"]).status, 200)
        conv = wait_for(lambda: next(
            (c for c in h.get("/v1/agent/conversations", token=agent).json["items"]
             if c["contact"]["external_id"] == contact), None), "assignment")
        r = h.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "On its way"}, token=agent)
        self.assertEqual(r.status, 202, r)
        wait_for(lambda: [
            x for x in self.fake.requests()
            if x["headers"].get("Authorization") == "Bearer " + wa["access_token"]],
            "the reply at the fake Graph API")
        # A provider error that is not retried, so its failure is logged.
        self.fake.script({"status": 400, "body": {"error": {"message": "Invalid parameter", "code": 100}}})
        r = h.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "second"}, token=agent)
        self.assertEqual(r.status, 202, r)
        wait_for(lambda: [
            m for m in h.get(f"/v1/conversations/{conv['id']}/messages", token=key).json["items"]
            if m["status"] == "failed"], "the failed send")

        # Errors: bad signatures, unknown and wrong-role tokens, another tenant's ids.
        self.assertEqual(self.api.post_webhook("whatsapp", body, secret="not-the-secret").status, 401)
        self.assertEqual(self.api.post_webhook("whatsapp", body, signature="sha256=" + "0" * 64).status, 401)
        bogus = "sbk_" + secrets.token_urlsafe(32)
        found["an unknown bearer token"] = bogus
        self.assertEqual(h.get("/v1/channels", token=bogus).status, 401)
        self.assertEqual(h.get("/v1/channels", token=agent).status, 403)
        self.assertEqual(h.post("/v1/businesses", json_body={"name": "x"}, token=key).status, 403)
        self.assertEqual(h.get(f"/v1/conversations/{conv['id']}", token=other["api_key"]).status, 404)
        r = h.post("/v1/channels", json_body={"kind": "whatsapp", "external_id": phone, **wa}, token=key)
        self.assertEqual(r.status, 409, r)
        r = h.post("/v1/channels", json_body={"kind": "whatsapp", "external_id": uid("x"), "app_secret": wa["app_secret"],
                                              "verify_token": wa["verify_token"], "bogus": 1}, token=key)
        self.assertEqual(r.status, 400, r)
        # Audit rows are written for the set-up above; they must not hold secrets either.
        self.assertGreater(self.db.count("SELECT count(*) FROM audit_log"), 0)
        return found, contact

    def test_no_secret_in_any_table_or_in_the_log(self):
        found, contact = self.full_run()
        rows = all_rows_as_text(self.db)
        # The scan sees what it should: customer text in a text column, and
        # the hash of the API key (hex) in a bytea column.
        import hashlib
        everything = "\n".join(r for t in rows.values() for r in t)
        self.assertIn("the customer's words", everything, "the scan does not see text columns")
        self.assertIn(hashlib.sha256(found["api key"].encode()).hexdigest(), everything,
                      "the scan does not see bytea columns (the key's hash)")
        self.assertIn("audit_log", " ".join(rows), "the audit log is among the tables scanned")

        leaks = []
        for table, texts in rows.items():
            for name, secret in found.items():
                for form in encodings(secret):
                    if any(form in t for t in texts):
                        leaks.append(f"{name} found in table {table}")
        self.assertEqual(leaks, [], "secrets stored in plain text:\n" + "\n".join(leaks))

        self.server.stop()
        with open(self.server.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("switchboard serving", log, "the log of the run is not where it was expected")
        leaks = [f"{name} found in the server log" for name, secret in found.items()
                 for form in encodings(secret) if form in log]
        self.assertEqual(leaks, [], "secrets in the server log:\n" + "\n".join(sorted(set(leaks))))


def run_cli(bin_path, command, env):
    p = subprocess.run([bin_path, command], env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    out = p.stdout.decode()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return p.returncode, (json.loads(lines[-1]) if lines else None), out + p.stderr.decode()


class KeyRotationTest(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.bin, cluster = harness.require_env()
        self.db = harness.Database(cluster)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            try:
                s.stop()
            except AssertionError as e:
                print(e, file=sys.stderr)
        self.db.drop()

    def serve(self, env):
        s = harness.Server(self.db.url, bin_path=self.bin, extra_env=env).start()
        self.servers.append(s)
        return s, harness.Api(harness.Http(*s.address))

    def key_ids(self):
        return sorted({int(r[0]) for r in self.db.psql(
            "SELECT get_byte(app_secret_enc, 0) FROM channels UNION ALL "
            "SELECT get_byte(access_token_enc, 0) FROM channels WHERE access_token_enc IS NOT NULL")})

    def channel_with_message(self, api, key):
        phone, secret = uid("9"), "secret-" + secrets.token_hex(8)
        api.create_channel(key, "whatsapp", external_id=phone, app_secret=secret, access_token="EAAG" + uid())
        return phone, secret

    def stored(self, api, phone, secret):
        body = harness.message_body("whatsapp", phone, "15550001234", uid("wamid."), "hello")
        r = api.post_webhook("whatsapp", body, secret=secret)
        return r.status == 200 and (r.json or {}).get("messages") == 1, r

    def test_environment_keys_rotate_with_reencrypt_secrets(self):
        k1, k2 = secrets.token_hex(32), secrets.token_hex(32)
        server, api = self.serve({"SWITCHBOARD_SECRET_KEY": k1})
        key = api.create_business()["api_key"]
        channels = [self.channel_with_message(api, key) for _ in range(3)]
        server.stop()
        self.assertEqual(self.key_ids(), [1])

        env = dict(server.env)
        env.update({"SWITCHBOARD_SECRET_KEY": k2, "SWITCHBOARD_SECRET_KEY_ID": "2",
                    "SWITCHBOARD_OLD_SECRET_KEYS": "1:" + k1})
        code, report, out = run_cli(self.bin, "reencrypt-secrets", env)
        self.assertEqual(code, 0, out)
        self.assertEqual(report, {"key_id": 2, "channels_reencrypted": 3, "channels_unreadable": 0}, out)
        self.assertEqual(self.key_ids(), [2], "every secret is sealed under the new key")
        code, report, out = run_cli(self.bin, "reencrypt-secrets", env)
        self.assertEqual(report["channels_reencrypted"], 0, f"a second run has nothing to do: {out}")

        # The old key is no longer needed: a server with only the new key verifies every channel.
        _, api2 = self.serve({"SWITCHBOARD_SECRET_KEY": k2, "SWITCHBOARD_SECRET_KEY_ID": "2"})
        for phone, secret in channels:
            ok, r = self.stored(api2, phone, secret)
            self.assertTrue(ok, f"a webhook for a re-encrypted channel: {r!r}")

    def test_serve_reencrypts_at_start_and_unreadable_secrets_are_reported(self):
        k1, k2 = secrets.token_hex(32), secrets.token_hex(32)
        server, api = self.serve({"SWITCHBOARD_SECRET_KEY": k1})
        key = api.create_business()["api_key"]
        phone, secret = self.channel_with_message(api, key)
        server.stop()
        # Without the old key, nothing can be re-encrypted, and the command says so.
        env = dict(server.env)
        env.update({"SWITCHBOARD_SECRET_KEY": k2, "SWITCHBOARD_SECRET_KEY_ID": "2"})
        code, report, out = run_cli(self.bin, "reencrypt-secrets", env)
        self.assertEqual((code, report["channels_unreadable"]), (2, 1), out)
        self.assertEqual(self.key_ids(), [1], "an unreadable secret is left as it is")
        # With the old key, `serve` re-encrypts at start.
        _, api2 = self.serve({"SWITCHBOARD_SECRET_KEY": k2, "SWITCHBOARD_SECRET_KEY_ID": "2",
                              "SWITCHBOARD_OLD_SECRET_KEYS": "1:" + k1})
        self.assertEqual(self.key_ids(), [2])
        ok, r = self.stored(api2, phone, secret)
        self.assertTrue(ok, r)

    def test_key_file_rotation_is_picked_up_by_a_running_server(self):
        tmp = self.db.name
        key_file = os.path.join("/tmp", f"sb-e2e-{tmp}.key")
        self.addCleanup(lambda: os.path.exists(key_file) and os.unlink(key_file))
        env = {"SWITCHBOARD_SECRET_KEY": "", "SWITCHBOARD_SECRET_KEY_FILE": key_file}
        server, api = self.serve(env)
        with open(key_file) as f:
            lines = f.read().split()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^1:[0-9a-f]{64}$", "a generated key file holds key 1")
        self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
        key = api.create_business()["api_key"]
        phone, secret = self.channel_with_message(api, key)  # not looked up by the server yet

        code, report, out = run_cli(self.bin, "rotate-secret-key", server.env)
        self.assertEqual(code, 0, out)
        self.assertEqual(report["key_id"], 2, out)
        self.assertEqual(report["channels_reencrypted"], 1, out)
        with open(key_file) as f:
            lines = f.read().split()
        self.assertEqual([line.split(":")[0] for line in lines], ["2", "1"], "the new key first, the old one kept")
        self.assertEqual(self.key_ids(), [2])
        # The running server started with key 1 only; it reads the file again.
        ok, r = self.stored(api, phone, secret)
        self.assertTrue(ok, f"the running server must open a secret sealed with the rotated key: {r!r}")


if __name__ == "__main__":
    unittest.main()
