"""PostgreSQL goes away and comes back: the server answers 503 with
Retry-After in time, stays alive, recovers by itself, and every message it
acknowledged with 200 is stored exactly once. Also: SIGTERM ends the process
with exit code 0 within 10 s.

Runs its own PostgreSQL cluster (harness.PrivateCluster) so that stopping it
harms no other test. The same faults under load, with the reconnection time
measured, are in tests/fault/test_db_faults.py.
"""

import socket
import threading
import time
import unittest

import harness
from harness import sql_literal, uid

ANSWER_DEADLINE_S = 6.0   # Meta waits 5 s; the server must answer before that plus slack
READYZ_DEADLINE_S = 3.0   # /readyz is 503 when no query succeeded in the last 2 s
RECOVERY_DEADLINE_S = 15.0


class DbOutageTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin_path, _ = harness.require_env()
        cls.cluster = harness.PrivateCluster()
        try:
            harness.psql(cls.cluster.start(), "CREATE DATABASE sb_outage")
        except BaseException:
            cls.cluster.stop()
            raise
        cls.db_url = harness.with_database(cls.cluster.url, "sb_outage")
        cls.servers = []  # the server of the running test, for the log on failure

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def setUp(self):
        self.pg_start()  # every test starts with PostgreSQL up

    def pg_start(self):
        self.cluster.start()

    def pg_stop(self):
        self.cluster.stop_server("fast")

    def start_server(self):
        server = harness.Server(self.db_url, bin_path=self.bin_path).start()
        type(self).servers = [server]
        self.addCleanup(server.stop)
        h = harness.Http(*server.address, timeout=30)
        self.addCleanup(h.close)
        self.server, self.http, self.api = server, h, harness.Api(h)
        key = self.api.create_business()["api_key"]
        ch = self.api.create_channel(key, "whatsapp", app_secret="outage-secret")
        return key, ch["external_id"]

    def send(self, phone, mid, contact="15550009999"):
        body = harness.message_body("whatsapp", phone, contact, mid, f"text of {mid}")
        t0 = time.monotonic()
        r = self.api.post_webhook("whatsapp", body, secret="outage-secret")
        return r, time.monotonic() - t0

    def assertRetryAfter(self, r, what):
        value = r.header("retry-after")
        self.assertIsNotNone(value, f"{what}: a 503 must carry Retry-After; headers {r.headers}")
        self.assertRegex(value, r"^[1-9][0-9]*$", f"{what}: Retry-After should be seconds, got {value!r}")

    def test_outage_answers_503_and_recovery_loses_nothing(self):
        key, phone = self.start_server()
        acked, attempted = [], []

        mid = uid("wamid.before.")
        attempted.append(mid)
        r, _ = self.send(phone, mid)
        self.assertEqual(r.status, 200, f"with PostgreSQL up: {r!r}")
        acked.append(mid)

        self.pg_stop()
        t_stop = time.monotonic()

        # /readyz turns 503 database_unavailable within 3 s.
        last = None
        while time.monotonic() - t_stop < READYZ_DEADLINE_S:
            last = self.http.get("/readyz", timeout=READYZ_DEADLINE_S)
            if last.status == 503:
                break
            time.sleep(0.1)
        self.assertError(last, 503, "database_unavailable",
                         f"/readyz {time.monotonic() - t_stop:.1f} s after PostgreSQL stopped")

        # A signed POST gets 503 + Retry-After before Meta's 5 s deadline.
        lost_mid = uid("wamid.during.")
        attempted.append(lost_mid)
        r, elapsed = self.send(phone, lost_mid)
        self.assertEqual(r.status, 503, f"a webhook while PostgreSQL is down: expected 503, got {r!r} "
                                        f"after {elapsed:.1f} s")
        self.assertLess(elapsed, ANSWER_DEADLINE_S, f"the 503 took {elapsed:.1f} s")
        err = self.assertError(r, 503, what="webhook during the outage")
        self.assertIn(err["code"], ("database_unavailable", "overloaded"), r.json)
        self.assertRetryAfter(r, "webhook 503")

        r = self.http.get("/v1/channels", token=key, timeout=ANSWER_DEADLINE_S + 5)
        self.assertError(r, 503, "database_unavailable", "GET /v1/channels during the outage")
        self.assertRetryAfter(r, "/v1 503")

        r = self.http.get("/healthz")
        self.assertEqual(r.status, 200, f"/healthz during the outage: {r!r}")
        r = self.http.get("/metrics")
        self.assertEqual(r.status, 200, f"/metrics during the outage: {r!r}")

        # PostgreSQL comes back: posts succeed again within a few seconds.
        self.pg_start()
        t_up = time.monotonic()
        recovered_after = None
        while time.monotonic() - t_up < RECOVERY_DEADLINE_S:
            mid = uid("wamid.after.")
            attempted.append(mid)
            r, _ = self.send(phone, mid)
            if r.status == 200:
                acked.append(mid)
                recovered_after = time.monotonic() - t_up
                break
            self.assertEqual(r.status, 503, f"while recovering, expected 503 or 200, got {r!r}")
            time.sleep(0.25)
        self.assertIsNotNone(recovered_after,
                             f"no 200 within {RECOVERY_DEADLINE_S} s of PostgreSQL's restart (last {r!r})")

        # Meta retries what got 503; more traffic flows.
        r, _ = self.send(phone, lost_mid)
        self.assertEqual(r.status, 200, f"the retried delivery after recovery: {r!r}")
        acked.append(lost_mid)
        for i in range(5):
            mid = uid(f"wamid.later{i}.")
            attempted.append(mid)
            r, _ = self.send(phone, mid, contact=f"1555000{i:04d}")
            self.assertEqual(r.status, 200, f"after recovery: {r!r}")
            acked.append(mid)

        deadline = time.monotonic() + READYZ_DEADLINE_S
        while True:
            r = self.http.get("/readyz")
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 200, f"/readyz after recovery: {r!r}")

        rows = harness.psql(self.db_url, "SELECT provider_message_id, count(*) FROM messages WHERE "
                            "provider_message_id IN (" + ",".join(sql_literal(m) for m in attempted)
                            + ") GROUP BY 1")
        counts = {m: int(c) for m, c in rows}
        missing = [m for m in acked if counts.get(m, 0) != 1]
        self.assertEqual(missing, [], f"messages acknowledged with 200 but not stored exactly once: "
                                      f"{ {m: counts.get(m, 0) for m in missing} }")
        dupes = {m: c for m, c in counts.items() if c > 1}
        self.assertEqual(dupes, {}, "messages stored more than once")

    def test_sigterm_exits_0_within_10_s(self):
        self.start_server()
        self.assertEqual(self.http.get("/healthz").status, 200)  # leaves an idle keep-alive connection
        idle = socket.create_connection(self.server.address)  # a client that never sends
        self.addCleanup(idle.close)
        code, waited = self.server.terminate(10.0)
        self.assertIsNotNone(code, "still running 10 s after SIGTERM (idle connections open)")
        self.assertEqual(code, 0, f"exit code after SIGTERM, after {waited:.1f} s")

    def test_sigterm_during_outage_answers_in_flight_and_exits_0(self):
        _, phone = self.start_server()
        self.pg_stop()
        result = {}

        def in_flight():
            h = harness.Http(*self.server.address, timeout=15)
            try:
                body = harness.message_body("whatsapp", phone, "15550001234", uid("wamid.inflight."), "x")
                result["r"] = harness.Api(h).post_webhook("whatsapp", body, secret="outage-secret")
            except Exception as e:  # connection closed without an answer
                result["error"] = e
            finally:
                h.close()

        th = threading.Thread(target=in_flight, daemon=True)
        th.start()
        time.sleep(0.5)
        code, waited = self.server.terminate(10.0)
        th.join(15)
        self.assertIsNotNone(code, "still running 10 s after SIGTERM with a webhook in flight")
        self.assertEqual(code, 0, f"exit code after SIGTERM with the database down ({waited:.1f} s)")
        self.assertIn("r", result, f"the in-flight webhook got no answer: {result.get('error')!r}")
        self.assertEqual(result["r"].status, 503, f"in-flight webhook at shutdown with the database down: "
                                                  f"{result['r']!r}")


if __name__ == "__main__":
    unittest.main()
