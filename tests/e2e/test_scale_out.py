"""Scale-out through pgbouncer in transaction pooling (Debian's 1.18).

1. Migrations run through pgbouncer.
2. Two instances split by role: A `--roles gateway`, B `--roles
   router,outbound,api`, both with their pooled statements through
   pgbouncer and LISTEN on a direct connection. The whole agent flow crosses
   them: a webhook in at A -> routed and assigned by B, pushed on the agent's
   WebSocket at B -> the agent's reply, sent by B to a fake Graph API -> the
   delivery status comes back as a webhook at A -> resolve at B. Each
   instance serves only the routes of its roles.
3. Two instances with every role under webhook load; the one holding the
   router-timers lease is SIGKILLed mid-load. Every acknowledged webhook is
   stored (once), and the survivor takes the timers over: an offer that
   expires after the kill is moved on by it.
4. The lease function itself: one holder at a time, renewals written only
   past half the lease, takeover after expiry, release; a holder busy in an
   open transaction neither blocks the others nor loses to them.

Skips (with the reason) when SWITCHBOARD_TEST_DATABASE_URL or
SWITCHBOARD_BIN is unset, or pgbouncer is not installed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
from harness import ADMIN_TOKEN, uid, wait_for
from ws_client import WebSocket

sys.path.insert(0, os.path.join(harness.source_dir(), "tools"))
import sbcluster  # noqa: E402

LEASE_TTL_MS = 2000


class PgBouncerCase(harness.LogsOfProcessesOnFailure, unittest.TestCase):
    """A database, pgbouncer in front of its cluster, migrations through it,
    a fake Graph API."""

    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bin, cluster = harness.require_env()
        if not shutil.which("pgbouncer"):
            raise unittest.SkipTest("pgbouncer is not installed (apt-get install pgbouncer)")
        cls.tmp = tempfile.mkdtemp(prefix="sb-scale-")
        os.chmod(cls.tmp, 0o755)
        cls.db = harness.Database(cluster)
        cls.servers = []
        cls.bouncer = None
        cls.fake = None
        try:
            pg_port = urllib.parse.urlsplit(cluster).port
            cls.bouncer = sbcluster.PgBouncer(os.path.join(cls.tmp, "pgbouncer"), pg_port)
            cls.pooled_url = cls.bouncer.url(cls.db.name)
            harness.migrate(cls.bin, cls.pooled_url, "migrate through pgbouncer")
            cls.fake = harness.FakeGraph().start()
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def cleanup(cls):
        for s in cls.servers:
            try:
                s.stop()
            except AssertionError as e:
                print(f"[{cls.__name__}] {e}", file=sys.stderr)
        if cls.fake is not None:
            cls.fake.stop()
        if cls.bouncer is not None:
            cls.bouncer.stop()
        cls.db.drop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()
        super().tearDownClass()

    @classmethod
    def start(cls, roles, extra_env=None):
        env = {"SWITCHBOARD_LISTEN_DATABASE_URL": cls.db.url,  # LISTEN needs a real session
               "SWITCHBOARD_GRAPH_API_BASE": cls.fake.api_base,
               "SWITCHBOARD_DB_PREPARE": "off"}  # as README says for a transaction-pooling pgbouncer
        env.update(extra_env or {})
        server = harness.Server(cls.pooled_url, extra_env=env, bin_path=cls.bin,
                                args=["--no-migrate", "--roles", roles])
        # The harness drops SWITCHBOARD_LISTEN_DATABASE_URL from its base
        # environment; extra_env puts it back.
        server.start()
        cls.servers.append(server)
        return server

    def print_logs(self):
        super().print_logs()
        print(f"pgbouncer log:\n{type(self).bouncer.log_tail()}", file=sys.stderr)

    def set_up_business(self, api, require_accept=False):
        """A business with a WhatsApp channel, one queue as the default route
        and one agent; returns a dict of what a test needs."""
        biz = api.create_business()
        key = biz["api_key"]
        phone, secret = uid("7"), "secret-" + uid()
        api.create_channel(key, "whatsapp", external_id=phone, app_secret=secret, access_token="EAAG-scale-token")
        queue = api.create_queue(key, "Support", **({"require_accept": True, "offer_timeout_s": 1}
                                                    if require_accept else {}))["id"]
        agent = api.create_agent(key, [queue], capacity=50, name="Ana")
        api.set_routing(key, queue)
        return {"key": key, "phone": phone, "secret": secret, "queue": queue, "agent": agent}


class StatelessPoolingSourceTest(unittest.TestCase):
    """What would break behind transaction pooling does not appear in the
    store: named prepared statements (but in Session, which prepares only
    with SWITCHBOARD_DB_PREPARE=on, off behind pgbouncer), session SETs,
    session advisory locks, LISTEN outside the listener."""

    def test_store_keeps_no_session_state(self):
        store = os.path.join(harness.source_dir(), "services", "store")
        offenders = []
        patterns = [
            (re.compile(r"\bprepare\s*\(|exec_prepared|prepared\s*\("), "named prepared statement"),
            (re.compile(r"pg_advisory_lock|pg_try_advisory_lock\b"), "session advisory lock"),
            (re.compile(r"\"SET (?!LOCAL)", re.I), "session SET"),
            (re.compile(r"\bLISTEN\b"), "LISTEN"),
        ]
        for dirpath, _, files in os.walk(store):
            for name in files:
                if not name.endswith((".cpp", ".hpp", ".sql")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if name.endswith(".sql"):
                    text = re.sub(r"--[^\n]*", "", text)
                else:
                    text = re.sub(r"//[^\n]*", "", text)
                for pattern, what in patterns:
                    # LISTEN belongs to the one direct connection of the event listener.
                    if what == "LISTEN" and name == "event_listener.cpp":
                        continue
                    if what == "named prepared statement" and name == "session.hpp":
                        continue
                    if pattern.search(text):
                        offenders.append(f"{os.path.relpath(path, store)}: {what}")
        self.assertEqual(offenders, [])


class LeaseFunctionTest(unittest.TestCase):
    """sb_hold_lease: one holder at a time, renewals, takeover after expiry,
    release at shutdown (through plain SQL on a migrated database)."""

    @classmethod
    def setUpClass(cls):
        cls.db = harness.migrated_database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def hold(self, holder, ttl_ms=60000):
        return self.db.value(f"SELECT sb_hold_lease('t', '{holder}', {ttl_ms})") == "t"

    def test_one_holder_until_it_expires_or_is_released(self):
        self.assertTrue(self.hold("a"), "nobody held it: a takes it")
        self.assertFalse(self.hold("b"), "a holds it")
        self.assertTrue(self.hold("a"), "a renews")
        self.db.psql("UPDATE process_leases SET expires_at = now() - interval '1 second' WHERE name = 't'")
        self.assertTrue(self.hold("b"), "a's lease expired: b takes over")
        self.assertFalse(self.hold("a"), "a learns it lost the lease")
        self.assertEqual(self.db.value("SELECT holder FROM process_leases WHERE name = 't'"), "b")
        self.db.psql("DELETE FROM process_leases WHERE holder = 'b'")  # leases/release at b's shutdown
        self.assertTrue(self.hold("a"), "released: a takes it at once")

    def test_renewal_is_written_only_past_half_the_lease(self):
        self.assertTrue(self.hold("r", 60000))
        first = self.db.value("SELECT expires_at FROM process_leases WHERE name = 't'")
        self.assertTrue(self.hold("r", 60000))
        self.assertEqual(self.db.value("SELECT expires_at FROM process_leases WHERE name = 't'"), first,
                         "a fresh lease is not rewritten on every tick")
        self.db.psql("UPDATE process_leases SET expires_at = now() + interval '10 seconds' WHERE name = 't'")
        self.assertTrue(self.hold("r", 60000))
        self.assertTrue(self.db.value("SELECT expires_at > now() + interval '50 seconds' FROM process_leases "
                                      "WHERE name = 't'") == "t", "renewed once half of it was used")

    def test_a_busy_holder_neither_blocks_nor_loses_to_others(self):
        self.assertTrue(self.hold("a"))
        # a works under the lease in an open transaction (the row is locked)...
        holder = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", self.db.url], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            holder.stdin.write("BEGIN;\nSELECT sb_hold_lease('t', 'a', 60000);\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "t")
            # ...while b asks: answered at once, and no.
            t0 = time.monotonic()
            self.assertFalse(self.hold("b"))
            self.assertLess(time.monotonic() - t0, 2.0, "a non-holder waited for the holder's transaction")
            holder.stdin.write("COMMIT;\n")
            holder.stdin.close()
            holder.wait(10)
        finally:
            if holder.poll() is None:
                holder.kill()
        self.assertTrue(self.hold("a"))

    def setUp(self):
        self.db.psql("DELETE FROM process_leases WHERE name = 't'")


class SplitRolesTest(PgBouncerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.gateway = cls.start("gateway")
            cls.core = cls.start("router,outbound,api")
        except BaseException:
            cls.cleanup()
            raise

    def test_each_instance_serves_the_routes_of_its_roles(self):
        g = harness.Http(*self.gateway.address)
        c = harness.Http(*self.core.address)
        try:
            self.assertEqual(g.get("/healthz").status, 200)
            self.assertEqual(g.get("/readyz").status, 200, "the gateway reaches the database through pgbouncer")
            self.assertEqual(g.get("/v1/channels", token="x").status, 404, "no API on a gateway-only instance")
            self.assertEqual(c.post("/webhooks/whatsapp", body=b"{}").status, 404,
                             "no webhooks on an instance without the gateway role")
            self.assertEqual(c.get("/readyz").status, 200)
        finally:
            g.close()
            c.close()

    def test_unknown_role_is_refused_before_anything_starts(self):
        p = subprocess.run([self.bin, "serve", "--roles", "gateway,teleporter"], capture_output=True, timeout=30,
                           env=dict(os.environ, SWITCHBOARD_DATABASE_URL=self.pooled_url))
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("unknown role 'teleporter'", p.stderr.decode())

    def test_a_channel_change_reaches_the_gateway_instance_at_once(self):
        # The gateway caches channels for 10 s; the NOTIFY sent by the core
        # instance's change must make it forget them well before that.
        gw = harness.Api(harness.Http(*self.gateway.address))
        api = harness.Api(harness.Http(*self.core.address))
        try:
            b = self.set_up_business(api)
            body = harness.message_body("whatsapp", b["phone"], uid("56"), "wamid." + uid(), "hello")
            r = gw.post_webhook("whatsapp", body, secret=b["secret"])
            self.assertEqual((r.status, (r.json or {}).get("messages")), (200, 1), repr(r))  # now cached
            channel = api.list_all("/v1/channels", b["key"])[0][0]["id"]
            r = api.http.request("DELETE", f"/v1/channels/{channel}", token=b["key"])
            self.assertEqual(r.status, 200, repr(r))
            t0 = time.monotonic()
            fresh = harness.message_body("whatsapp", b["phone"], uid("56"), "wamid." + uid(), "after")
            wait_for(lambda: (gw.post_webhook("whatsapp", fresh, secret=b["secret"]).json or {}).get("status")
                     == "ignored", "the deactivated channel's webhooks ignored by the gateway", timeout=4.0)
            print(f"gateway ignored the deactivated channel {time.monotonic() - t0:.2f} s after the change",
                  file=sys.stderr)
        finally:
            gw.http.close()
            api.http.close()

    def test_agent_flow_across_a_gateway_and_a_core_instance(self):
        self.fake.reset()
        gw = harness.Api(harness.Http(*self.gateway.address))
        api = harness.Api(harness.Http(*self.core.address))
        ws = None
        try:
            b = self.set_up_business(api)
            agent_token = b["agent"]["token"]
            ws = WebSocket.connect(self.core.address, "/v1/agent/stream",
                                   headers={"Authorization": f"Bearer {agent_token}"}, name="ana")
            api.set_status(agent_token, "online")

            # 1. The customer writes: the webhook lands on the gateway instance.
            wa_id = uid("56")
            body = harness.message_body("whatsapp", b["phone"], wa_id, "wamid." + uid(), "I need help with a return")
            r = gw.post_webhook("whatsapp", body, secret=b["secret"])
            self.assertEqual(r.status, 200, repr(r))

            # 2. The core instance routes and assigns it; the push reaches the agent's socket there.
            def assigned(messages):
                for _, text in messages:
                    e = json.loads(text)
                    if e.get("type") == "conversation.assigned" and \
                            e["conversation"]["contact"]["external_id"] == wa_id:
                        return e["conversation"]
                return None
            conv = ws.wait_for(assigned, 10)
            self.assertTrue(conv, f"no conversation.assigned on the agent's socket: {ws.snapshot()!r}")
            conv = assigned(ws.snapshot())

            # 3. The agent replies; the outbound sender sends it to the (fake) Graph API.
            r = api.http.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "Sure, happy to help"},
                              token=agent_token)
            self.assertEqual(r.status, 202, repr(r))
            sent = wait_for(lambda: [
                q for q in self.fake.requests()
                if q["path"] == f"/v21.0/{b['phone']}/messages"], "the reply at the Graph API", 10)
            self.assertEqual(sent[0]["body"]["to"], wa_id)
            self.assertEqual(sent[0]["body"]["text"]["body"], "Sure, happy to help")
            self.assertEqual(sent[0]["headers"].get("Authorization"), "Bearer EAAG-scale-token")

            def outbound():
                r = api.http.get(f"/v1/conversations/{conv['id']}/messages", token=b["key"])
                return [m for m in r.json["items"] if m["direction"] == "out" and m["provider_message_id"]]
            provider_id = wait_for(outbound, "the reply marked sent", 10)[0]["provider_message_id"]

            # 4. Its delivery status comes back through the gateway.
            status = harness.whatsapp_status_body(b["phone"], provider_id, "delivered", wa_id)
            r = gw.post_webhook("whatsapp", status, secret=b["secret"])
            self.assertEqual(r.status, 200, repr(r))
            wait_for(lambda: [m for m in outbound() if m["status"] == "delivered"], "status delivered", 10)

            # 5. Resolved as a sale.
            r = api.http.post(f"/v1/conversations/{conv['id']}/resolve",
                              json_body={"outcome": "sale", "amount_cents": 4990, "currency": "EUR"},
                              token=agent_token)
            self.assertEqual(r.status, 200, repr(r))
            got = api.http.get(f"/v1/conversations/{conv['id']}", token=b["key"]).json
            self.assertEqual((got["status"], got["outcome"], got["amount_cents"]), ("resolved", "sale", 4990), got)
        finally:
            if ws is not None:
                ws.close()
            gw.http.close()
            api.http.close()


class PreparedStatementsBehindPgBouncerTest(PgBouncerCase):
    """Left on behind pgbouncer, statement preparation turns itself off at the
    first statement found missing or already there, says so once per pool,
    and from then on every request is served."""

    WARNING = "statements run unprepared from now on"

    def log_text(self, server):
        with open(server.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def test_preparation_turns_itself_off_and_requests_are_served(self):
        server = self.start("gateway,router,outbound,api",
                            {"SWITCHBOARD_DB_PREPARE": "on", "SWITCHBOARD_API_RATE_LIMIT": "0"})
        key = None
        for _ in range(20):  # a set-up request may be the one that meets the mismatch
            h = harness.Http(*server.address)
            try:
                r = h.post("/v1/businesses", json_body={"name": uid("biz-")}, token=ADMIN_TOKEN)
            finally:
                h.close()
            if r.status == 201:
                key = r.json["api_key"]
                break
            self.assertEqual(r.status, 503, f"only the switch-over may fail a request: {r!r}")
        self.assertIsNotNone(key, "a business could be created")

        def requests(count, statuses):
            h = harness.Http(*server.address)
            try:
                for _ in range(count):
                    statuses.append(h.get("/v1/conversations", token=key).status)
                    statuses.append(h.get("/v1/channels", token=key).status)
            finally:
                h.close()

        def in_parallel(count):
            statuses = []
            threads = [threading.Thread(target=requests, args=(count, statuses)) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            return statuses

        # Until the API pool has met the mismatch: its requests on four
        # connections at once, only 200 or 503.
        deadline = time.monotonic() + 60
        while "database: a prepared statement did not stay" not in self.log_text(server):
            self.assertLess(time.monotonic(), deadline, "the API pool met a prepared statement that did not stay")
            statuses = in_parallel(10)
            self.assertEqual(set(statuses) - {200, 503}, set(), statuses)
        # From then on: all served.
        statuses = in_parallel(40)
        self.assertEqual([x for x in statuses if x != 200], [], "requests after the switch-over")
        self.assertEqual(len(statuses), 4 * 80)
        log = self.log_text(server)
        for pool in ("database", "router", "notifier", "ingest"):
            self.assertLessEqual(log.count(f"{pool}: a prepared statement did not stay"), 1, f"said once: {pool}")
        h = harness.Http(*server.address)
        try:
            self.assertEqual(h.get("/readyz").status, 200)
        finally:
            h.close()


class KillOneInstanceTest(PgBouncerCase):
    """Two instances with every role; SIGKILL to the one owning the timers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            lease = {"SWITCHBOARD_LEASE_TTL_MS": str(LEASE_TTL_MS)}
            cls.first = cls.start("all", lease)
            cls.second = cls.start("all", lease)
        except BaseException:
            cls.cleanup()
            raise

    def lease_holder(self):
        rows = self.db.psql("SELECT holder FROM process_leases WHERE name = 'router_timers' AND expires_at > now()")
        return rows[0][0] if rows else None

    def test_sigkill_mid_load_loses_nothing_acknowledged_and_the_timers_move(self):
        api = harness.Api(harness.Http(*self.first.address))
        # The load goes to a business whose agent is offline (its
        # conversations wait); the timer check uses a second one whose queue
        # offers each conversation for 1 s to its online agent.
        b = self.set_up_business(api)
        offers = self.set_up_business(api, require_accept=True)
        api.set_status(offers["agent"]["token"], "online")

        holder = wait_for(self.lease_holder, "a router-timers lease holder", 10)
        pids = {s.proc.pid: s for s in (self.first, self.second)}
        victim = next((s for pid, s in pids.items() if f"/{pid}/" in holder), None)
        self.assertIsNotNone(victim, f"lease holder {holder!r} is neither instance ({list(pids)})")
        survivor = self.second if victim is self.first else self.first

        # Load: customers write to both instances from 4 threads; every 200 is recorded.
        acked, lock, stop = [], threading.Lock(), threading.Event()
        errors = {"refused": 0, "non_200": 0}

        def writer(n):
            clients = {s: harness.Api(harness.Http(*s.address, timeout=10)) for s in (self.first, self.second)}
            i = 0
            while not stop.is_set():
                target = (self.first, self.second)[(i + n) % 2]
                i += 1
                wamid = f"wamid.kill.{n}.{i}.{uid()}"
                body = harness.message_body("whatsapp", b["phone"], uid("57"), wamid, "hello")
                try:
                    r = clients[target].post_webhook("whatsapp", body, secret=b["secret"])
                except OSError:
                    errors["refused"] += 1  # the killed instance: not acknowledged, Meta would retry
                    clients[target].http.close()
                    time.sleep(0.01)
                    continue
                if r.status == 200:
                    with lock:
                        acked.append(wamid)
                else:
                    errors["non_200"] += 1
            for c in clients.values():
                c.http.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            # An offer that expires (1 s) after the kill: only a live timer owner moves it on.
            offered_wa = uid("58")
            body = harness.message_body("whatsapp", offers["phone"], offered_wa, "wamid." + uid(), "a question")
            survivor_api = harness.Api(harness.Http(*survivor.address))
            self.assertEqual(survivor_api.post_webhook("whatsapp", body, secret=offers["secret"]).status, 200)
            survivor_api.http.close()
            conv_id = wait_for(lambda: self.db.psql(
                f"SELECT v.id FROM conversations v JOIN contacts c ON c.business_id = v.business_id "
                f"AND c.id = v.contact_id WHERE c.external_id = '{offered_wa}' AND v.status = 'offered'"),
                "the offer", 10)[0][0]
            acked_before_kill = len(acked)
            victim.kill()
            killed_at = time.monotonic()
            killed_db = self.db.value("SELECT clock_timestamp()")
            time.sleep(1.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreater(acked_before_kill, 20, f"too little load before the kill ({errors})")

        # Nothing acknowledged is lost, and nothing is stored twice.
        self.assertTrue(acked)
        ids = ",".join(harness.sql_literal(a) for a in acked)
        stored = self.db.count(f"SELECT count(*) FROM messages WHERE direction = 'in' "
                               f"AND provider_message_id IN ({ids})")
        self.assertEqual(stored, len(acked), f"acknowledged {len(acked)}, stored {stored} ({errors})")

        # The survivor took the timers over and moved the lapsed offer on.
        new_holder = wait_for(lambda: (
            h if (h := self.lease_holder()) and f"/{survivor.proc.pid}/" in h else None),
            "the survivor holding the router-timers lease", timeout=LEASE_TTL_MS / 1000 + 5)
        takeover = time.monotonic() - killed_at
        wait_for(lambda: self.db.psql(
            f"SELECT 1 FROM conversation_events WHERE conversation_id = {conv_id} AND kind = 'offer_expired' "
            f"AND created_at > '{killed_db}'"), "offer_expired recorded after the kill",
            timeout=LEASE_TTL_MS / 1000 + 5)
        with open(survivor.log_path, errors="replace") as f:
            self.assertIn("router timers: took the lease", f.read())
        print(f"\n[kill] acknowledged {len(acked)} (before the kill {acked_before_kill}), stored {stored}; "
              f"refused {errors['refused']}, non-200 {errors['non_200']}; lease {holder} -> {new_holder} "
              f"within {takeover:.1f} s", file=sys.stderr)
        self.assertTrue(survivor.alive())
        api.http.close()


if __name__ == "__main__":
    unittest.main()
