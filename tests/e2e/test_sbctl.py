"""sbctl against a live server: every subcommand, YAML/JSON/CSV inputs, and
errors that print the server's message and exit non-zero."""

import json
import os
import subprocess
import tempfile
import unittest

import harness
from harness import uid


def sbctl_path():
    path = os.path.join(os.path.dirname(os.path.abspath(harness.require_bin())), "sbctl")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"{path} is not built")
    return path


class SbctlTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = sbctl_path()
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="sb-sbctl-")
        cls.url = f"http://127.0.0.1:{cls.server.port}"
        out = cls.run_sbctl(["businesses", "create", "--name", "Shoe shop"], token=harness.ADMIN_TOKEN)
        cls.key = json.loads(out.stdout)["api_key"]
        cls.business_id = json.loads(out.stdout)["id"]

    def sbctl(self, args, token=None, expect=0, env_url=True, timeout=60):
        r = self.run_sbctl(args, token=self.key if token is None else token, env_url=env_url, timeout=timeout)
        ok = r.returncode != 0 if expect == "nonzero" else r.returncode == expect
        self.assertTrue(ok, f"sbctl {' '.join(args)}: exit {r.returncode}, expected {expect}\n"
                                               f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    @classmethod
    def run_sbctl(cls, args, token, env_url=True, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        if env_url:
            env["SWITCHBOARD_URL"] = cls.url
        if token:
            env["SWITCHBOARD_TOKEN"] = token
        return subprocess.run([cls.bin] + args, env=env, capture_output=True, text=True, timeout=timeout)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def channel(self, kind="whatsapp"):
        ext, secret = uid("5"), "secret-" + uid()
        r = self.sbctl(["channels", "create", "--kind", kind, "--external-id", ext, "--app-secret", secret,
                        "--verify-token", uid("vt"), "--name", "Main line"])
        return json.loads(r.stdout), ext, secret

    def queue(self):
        return json.loads(self.sbctl(["queues", "create", "--name", uid("q"), "--strategy", "least_busy",
                                      "--sla", "300"]).stdout)["id"]

    # ---- help

    def test_every_subcommand_has_help(self):
        top = self.sbctl(["--help"], token="secret-token-value").stdout
        self.assertNotIn("secret-token-value", top, "--help must not print the token")
        for sub in ("businesses", "channels", "queues", "agents", "routing", "orders", "products", "ads", "replay",
                    "tail", "summary"):
            self.assertIn(sub, top)
        for args, words in ((["channels", "create"], "--app-secret"), (["routing", "apply"], "YAML"),
                            (["orders", "import"], "order_ref"), (["replay"], "--app-secret"),
                            (["tail"], "--count"), (["summary"], "--bucket")):
            out = self.sbctl(args + ["--help"], token="").stdout
            self.assertIn(words, out, f"sbctl {' '.join(args)} --help")
        r = self.sbctl(["frobnicate"], token="", expect="nonzero")
        self.assertIn("subcommand", r.stderr)

    # ---- setup

    def test_businesses_create_needs_the_admin_token(self):
        r = self.sbctl(["businesses", "create", "--name", "x"], token=self.key, expect=1)
        self.assertRegex(r.stderr, r"sbctl: POST /v1/businesses: HTTP 40[13] \w+: .+")
        # --token overrides SWITCHBOARD_TOKEN; --url overrides SWITCHBOARD_URL.
        r = self.sbctl(["--url", self.url, "--token", harness.ADMIN_TOKEN, "businesses", "create", "--name", "y",
                        "--timezone", "Europe/Madrid"], token="wrong", env_url=False)
        self.assertEqual(json.loads(r.stdout)["timezone"], "Europe/Madrid")

    def test_channels_create_list_and_conflict(self):
        created, ext, secret = self.channel()
        self.assertTrue(created["webhook_url"].endswith("/webhooks/whatsapp"), created)
        table = self.sbctl(["channels", "list"]).stdout
        self.assertIn("WEBHOOK_URL", table.splitlines()[0])
        self.assertIn(ext, table)
        self.assertNotIn(secret, table)
        listed = json.loads(self.sbctl(["--json", "channels", "list"]).stdout)
        self.assertIn(ext, [c["external_id"] for c in listed["items"]])
        r = self.sbctl(["channels", "create", "--kind", "whatsapp", "--external-id", ext, "--app-secret", "s",
                        "--verify-token", "v"], expect=1)
        self.assertIn("HTTP 409 channel_exists", r.stderr)

    def test_queues_agents_and_routing_from_yaml_and_json(self):
        queue = self.queue()
        agent = json.loads(self.sbctl(["agents", "create", "--name", "Ana", "--capacity", "3", "--queue",
                                       str(queue), "--skill", "es"]).stdout)
        self.assertTrue(agent["token"])
        r = self.sbctl(["agents", "create", "--name", "Bo", "--queue", "999999"], expect=1)
        self.assertIn("HTTP 4", r.stderr)

        yaml_file = self.write("routing.yaml", f"""
# Order questions go to the bot; "007" stays a string.
default_queue_id: {queue}
rules:
  - match: {{intent: order_status}}
    target: {{bot: order_status}}
  - match:
      text_regex: "(?i)agent 007"
      channel_kind: whatsapp
    target:
      queue_id: {queue}
""")
        out = json.loads(self.sbctl(["routing", "apply", yaml_file]).stdout)
        self.assertEqual(out["default_queue_id"], queue, out)
        self.assertEqual(len(out["rules"]), 2, out)
        self.assertEqual(out["rules"][1]["match"]["text_regex"], "(?i)agent 007")

        json_file = self.write("routing.json", json.dumps({"default_queue_id": queue, "rules": []}))
        self.assertEqual(json.loads(self.sbctl(["routing", "apply", json_file]).stdout)["rules"], [])

        bad = self.write("bad-routing.yaml", f"default_queue_id: {queue}\nrules: []\npriority: high\n")
        r = self.sbctl(["routing", "apply", bad], expect=1)
        self.assertIn("HTTP 400", r.stderr)
        self.assertIn("priority", r.stderr)
        broken = self.write("broken.yaml", "rules: [unclosed\n")
        r = self.sbctl(["routing", "apply", broken], expect=1)
        self.assertIn("broken.yaml", r.stderr)

    # ---- CSV imports

    def test_orders_and_products_from_csv(self):
        orders = self.write("orders.csv", "order_ref,status,total_cents,currency,carrier,customer_phone,eta\n"
                                          "A-1,shipped,4500,USD,\"DHL, Express\",15550001111,2026-12-02\n"
                                          "A-2,processing,1299,EUR,,,\n")
        r = self.sbctl(["orders", "import", orders])
        self.assertIn("2 of 2 stored", r.stdout)
        rows = self.db.psql("SELECT order_ref, status, carrier, total_cents FROM orders "
                            f"WHERE business_id = {self.business_id} ORDER BY order_ref")
        self.assertEqual(rows, [["A-1", "shipped", "DHL, Express", "4500"], ["A-2", "processing", "", "1299"]])

        products = self.write("products.csv", "sku,name,stock,price_cents,currency\r\n"
                                              "SKU-1,Red shoes,12,5999,USD\r\nSKU-2,\"Blue \"\"suede\"\" shoes\",0,"
                                              "7999,USD\r\n")
        self.assertIn("2 of 2 stored", self.sbctl(["products", "import", products]).stdout)
        name = self.db.value(f"SELECT name FROM products WHERE business_id = {self.business_id} AND sku = 'SKU-2'")
        self.assertEqual(name, 'Blue "suede" shoes')

        # A malformed file changes nothing.
        before = self.db.count(f"SELECT count(*) FROM products WHERE business_id = {self.business_id}")
        bad = self.write("bad-products.csv", "sku,name,stock,price_cents,currency\nSKU-3,Hat,5,100,USD\n"
                                             "SKU-4,Cap,lots,100,USD\n")
        r = self.sbctl(["products", "import", bad], expect=1)
        self.assertIn("bad-products.csv:3: stock must be a whole number", r.stderr)
        unknown = self.write("unknown-col.csv", "sku,name,colour\nSKU-5,Hat,red\n")
        self.assertIn("unknown column 'colour'", self.sbctl(["products", "import", unknown], expect=1).stderr)
        self.assertEqual(self.db.count(f"SELECT count(*) FROM products WHERE business_id = {self.business_id}"),
                         before)

        # A row the server refuses is reported with its message; the others are stored.
        mixed = self.write("mixed-orders.csv", "order_ref,status,total_cents,currency\nA-3,shipped,100,USD\n"
                                               "A-4,shipped,100,dollars\n")
        r = self.sbctl(["orders", "import", mixed], expect=1)
        self.assertIn("order_ref A-4: HTTP 400 invalid_field", r.stderr)
        self.assertIn("currency", r.stderr)
        self.assertIn("1 of 2 stored", r.stdout)

    def test_ads_spend_from_csv(self):
        ads = self.write("ads.csv", "ad_id,name,campaign,spend_cents,currency\n"
                                    "AD-1,Red shoes,Black Friday,5000,USD\nAD-2,,,0,USD\n")
        self.assertIn("2 of 2 stored", self.sbctl(["ads", "import", ads]).stdout)
        summary = json.loads(self.sbctl(["--json", "summary"]).stdout)
        spend = {a["ad_id"]: a["by_currency"] for a in summary["ads"]}
        self.assertEqual(spend["AD-1"][0]["spend_cents"], 5000, summary["ads"])

    # ---- replay, tail, summary

    def test_replay_tail_and_summary(self):
        _, ext, secret = self.channel()
        queue = self.queue()
        agent = json.loads(self.sbctl(["agents", "create", "--name", "Tailer", "--queue", str(queue)]).stdout)
        routing = self.write("tail-routing.json", json.dumps({"default_queue_id": queue, "rules": []}))
        self.sbctl(["routing", "apply", routing])
        self.api.set_status(agent["token"], "online")

        replay_dir = os.path.join(self.dir, "replay")
        for i in range(3):
            body = harness.message_body("whatsapp", ext, f"1555222{i:04d}", uid("wamid."), f"hi {i}")
            self.write(f"replay/{i:02d}.json", json.dumps(body))
        r = self.sbctl(["replay", replay_dir, "--app-secret", secret])
        self.assertIn("replayed 3 of 3", r.stdout)
        self.assertEqual(self.db.count(f"SELECT count(*) FROM messages WHERE business_id = {self.business_id} "
                                       "AND text LIKE 'hi %'"), 3)
        # Again: stored once (duplicates), still accepted.
        self.assertIn('"duplicates":1', self.sbctl(["replay", replay_dir, "--app-secret", secret]).stdout)
        r = self.sbctl(["replay", replay_dir, "--app-secret", "wrong"], expect=1)
        self.assertIn("HTTP 401 invalid_signature", r.stderr)

        r = self.sbctl(["tail", "--after", "0", "--count", "3", "--for", "20"], token=agent["token"], timeout=30)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([e["type"] for e in events], ["conversation.assigned"] * 3, r.stdout)
        self.assertEqual(len({e["conversation"]["id"] for e in events}), 3)
        r = self.sbctl(["tail", "--count", "1"], token=self.key, expect=1)
        self.assertIn("GET /v1/agent/stream: HTTP 40", r.stderr)

        table = self.sbctl(["summary", "--bucket", "day"]).stdout
        self.assertIn("METRIC", table)
        self.assertRegex(table, r"whatsapp\s+3")
        self.assertIn("Queues now", table)
        summary = json.loads(self.sbctl(["--json", "summary", "--bucket", "hour"]).stdout)
        self.assertEqual(summary["conversations"]["by_channel"]["whatsapp"], 3)
        r = self.sbctl(["summary", "--from", "yesterday"], expect=1)
        self.assertIn("HTTP 400", r.stderr)
        self.assertIn("week", self.sbctl(["summary", "--bucket", "week"], expect="nonzero").stderr)

    def test_unreachable_server(self):
        port = harness.free_port()
        r = self.sbctl(["--url", f"http://127.0.0.1:{port}", "channels", "list"], expect=1)
        self.assertIn("cannot reach", r.stderr)
        r = self.sbctl(["--url", "ftp://x", "channels", "list"], expect=1)
        self.assertIn("invalid server URL", r.stderr)


if __name__ == "__main__":
    unittest.main()
