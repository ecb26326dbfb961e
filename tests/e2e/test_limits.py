"""Limits against abuse, end to end: the per-business rate limit of the /v1
API (429 + Retry-After, webhooks never limited), slow clients (header,
body and idle timeouts), the connection limit, and the request, JSON depth
and routing-regex limits of /v1, and webhooks shed while the event loop
runs late. Real binary, real PostgreSQL, real sockets.
"""

import http.client
import secrets
import select
import socket
import time
import unittest

import exposition
import harness
from harness import uid
from test_routing import RoutingCase


class RateLimitTest(RoutingCase):
    RATE, BURST = 2, 6
    server_env = {"SWITCHBOARD_API_RATE_LIMIT": str(RATE), "SWITCHBOARD_API_RATE_BURST": str(BURST)}

    def drain(self, token, path="/v1/channels"):
        """Requests until the first 429; returns (answers before it, the 429)."""
        answered = []
        for _ in range(self.BURST * 3):
            r = self.http.get(path, token=token)
            if r.status == 429:
                return answered, r
            answered.append(r)
        self.fail(f"{self.BURST * 3} requests at once were never limited (burst {self.BURST}); last {answered[-1]!r}")

    def test_burst_then_429_with_retry_after_then_allowed_again(self):
        key = self.api.create_business()["api_key"]
        answered, limited = self.drain(key)
        self.assertTrue(all(r.status == 200 for r in answered), answered)
        # The burst, plus at most one token that refilled while we asked.
        self.assertIn(len(answered), (self.BURST, self.BURST + 1), f"{len(answered)} requests passed at once; "
                      f"the burst is {self.BURST}")
        self.assertError(limited, 429, "rate_limited", "request over the burst")
        retry = limited.header("retry-after")
        self.assertIsNotNone(retry, f"a 429 must say when to retry: {limited!r}")
        self.assertTrue(retry.isdigit() and int(retry) >= 1, f"Retry-After must be whole seconds >= 1: {retry!r}")
        self.conforms("GET", "/v1/channels", limited)
        time.sleep(int(retry))
        r = self.http.get("/v1/channels", token=key)
        self.assertEqual(r.status, 200, f"after Retry-After the business may call again: {r!r}")

    def test_businesses_have_their_own_budgets_and_agents_share_theirs(self):
        key_a, _, _ = self.business()
        queue = self.queue(key_a)
        agent = self.agent(key_a, [queue["id"]])
        key_b = self.api.create_business()["api_key"]
        self.drain(key_a)
        # With a bucket of its own the agent would have a whole burst; sharing
        # the business's, at most a token that refilled meanwhile.
        answered, limited = self.drain(agent["token"], "/v1/agent/conversations")
        self.assertLessEqual(len(answered), 1, "the agent token has a budget apart from its business's")
        self.assertError(limited, 429, "rate_limited", "an agent of a business out of budget")
        r = self.http.get("/v1/channels", token=key_b)
        self.assertEqual(r.status, 200, f"business B is not limited by A's requests: {r!r}")
        r = self.http.post("/v1/businesses", json_body={"name": uid("admin-")}, token=harness.ADMIN_TOKEN)
        self.assertEqual(r.status, 201, f"the admin token is not limited: {r!r}")

    def test_a_limited_request_changes_nothing(self):
        key = self.api.create_business()["api_key"]
        business_id = self.db.value("SELECT max(business_id) FROM businesses")
        created = 0
        for i in range(self.BURST * 3):
            r = self.http.post("/v1/queues", json_body={"name": f"q{i}", "strategy": "round_robin"}, token=key)
            if r.status == 429:
                break
            self.assertEqual(r.status, 201, r)
            created += 1
        self.assertError(r, 429, "rate_limited", "POST /v1/queues over the limit")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM queues WHERE business_id = {business_id}"), created,
                         "only the queues answered 201 exist")

    def test_webhooks_are_never_limited(self):
        key, channel, secret = self.business()
        self.drain(key)
        for i in range(self.BURST * 3):
            mid = self.customer_says(channel, secret, "1555" + str(1000000 + i), f"message {i}")
            self.assertTrue(mid)
        self.assertHealthy("webhooks after the business's API budget ran out")


def wait_closed(sock, timeout):
    """Seconds until the server closed `sock` (EOF or reset), or None if it stayed open."""
    t0 = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - t0 < timeout:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
        if data == b"":
            return time.monotonic() - t0
    return None


class SlowClientTest(harness.ServerTestCase):
    HEADER_MS, BODY_MS, IDLE_MS = 1000, 1500, 2500
    server_env = {"SWITCHBOARD_HTTP_HEADER_TIMEOUT_MS": str(HEADER_MS),
                  "SWITCHBOARD_HTTP_BODY_TIMEOUT_MS": str(BODY_MS),
                  "SWITCHBOARD_HTTP_IDLE_TIMEOUT_MS": str(IDLE_MS)}

    def dribble(self, first, byte=b"a", every=0.2, limit=8.0):
        """Sends `first`, then one byte every `every` s; returns seconds until the server closed."""
        s = socket.create_connection(self.server.address, timeout=5)
        try:
            t0 = time.monotonic()
            s.sendall(first)
            s.setblocking(False)
            while time.monotonic() - t0 < limit:
                readable, _, _ = select.select([s], [], [], every)
                if readable:
                    try:
                        data = s.recv(4096)
                    except (ConnectionResetError, BrokenPipeError):
                        return time.monotonic() - t0
                    if data == b"":
                        return time.monotonic() - t0
                try:
                    s.send(byte)
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - t0
            return None
        finally:
            s.close()

    def test_a_header_dribbled_byte_by_byte_is_cut_at_the_header_timeout(self):
        took = self.dribble(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a")
        self.assertIsNotNone(took, "a header that never ends kept its connection for 8 s")
        # The first bytes start the header clock; the idle timeout (2.5 s) must not apply.
        self.assertGreaterEqual(took, self.HEADER_MS / 1000 - 0.1, f"closed after {took:.2f} s, before the timeout")
        self.assertLess(took, self.HEADER_MS / 1000 + 1.0, f"closed after {took:.2f} s: the header timeout is "
                        f"{self.HEADER_MS} ms")
        self.assertHealthy("a slow header")

    def test_a_body_dribbled_byte_by_byte_is_cut_at_the_body_timeout(self):
        head = (b"POST /v1/businesses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + harness.ADMIN_TOKEN.encode() + b"\r\nContent-Length: 100000\r\n\r\n{")
        took = self.dribble(head, b" ")
        self.assertIsNotNone(took, "a body that never ends kept its connection for 8 s")
        self.assertLess(took, self.BODY_MS / 1000 + 1.0, f"closed after {took:.2f} s: the body timeout is "
                        f"{self.BODY_MS} ms")
        self.assertHealthy("a slow body")

    def test_a_silent_connection_is_closed_at_the_idle_timeout(self):
        s = socket.create_connection(self.server.address, timeout=5)
        try:
            took = wait_closed(s, 8.0)
        finally:
            s.close()
        self.assertIsNotNone(took, "a connection that never sent a byte stayed open for 8 s")
        self.assertGreaterEqual(took, self.IDLE_MS / 1000 - 0.2, f"closed after {took:.2f} s, before the idle timeout")
        self.assertLess(took, self.IDLE_MS / 1000 + 1.0, f"closed after {took:.2f} s")

    def test_many_slow_clients_do_not_stop_others(self):
        socks = []
        try:
            for _ in range(50):
                s = socket.create_connection(self.server.address, timeout=5)
                s.sendall(b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            t0 = time.monotonic()
            r = self.http.get("/healthz")
            self.assertEqual(r.status, 200, r)
            self.assertLess(time.monotonic() - t0, 1.0, "fifty stalled clients delayed a healthy one")
        finally:
            for s in socks:
                s.close()


class ConnectionLimitTest(harness.ServerTestCase):
    LIMIT = 20
    server_env = {"SWITCHBOARD_MAX_CONNECTIONS": str(LIMIT), "SWITCHBOARD_HTTP_IDLE_TIMEOUT_MS": "20000"}

    def open_many(self, n):
        socks = [socket.create_connection(self.server.address, timeout=5) for _ in range(n)]
        # Give the server a moment to accept (and refuse) them all, then see
        # which it closed: those are readable with EOF.
        time.sleep(0.5)
        closed = []
        readable, _, _ = select.select(socks, [], [], 0.5)
        for s in readable:
            try:
                if s.recv(1) == b"":
                    closed.append(s)
            except (ConnectionResetError, BrokenPipeError):
                closed.append(s)
        return socks, closed

    def test_connections_over_the_limit_are_closed_and_the_server_carries_on(self):
        self.http.close()  # no connection of ours is open when we count
        socks, closed = self.open_many(self.LIMIT + 15)
        try:
            self.assertEqual(len(socks) - len(closed), self.LIMIT,
                             f"{self.LIMIT} connections must stay open, the other {len(socks) - self.LIMIT} be "
                             f"closed; {len(closed)} were closed")
            # A request on a connection that was kept is answered.
            kept = [s for s in socks if s not in closed][0]
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            kept.settimeout(5)
            self.assertIn(b" 200 ", kept.recv(4096).split(b"\r\n")[0] + b" ")
        finally:
            for s in socks:
                s.close()
        # Once they are gone the server accepts again and counts what it refused.
        def scrape():
            h = harness.Http(*self.server.address, timeout=2)
            try:
                return exposition.scrape(h)
            except (OSError, AssertionError):
                return None
            finally:
                h.close()
        metrics = harness.wait_for(scrape, "the server accepting again after the burst", 5, 0.1)
        refused = metrics.series("switchboard_http_connections_refused")
        self.assertEqual(len(refused), 1, "switchboard_http_connections_refused is missing from /metrics")
        self.assertGreaterEqual(refused[0][1], 15)
        self.assertTrue(self.server.alive())


class LoopLagSheddingTest(RoutingCase):
    """A server whose event loop ran late sheds webhooks for a second:
    `503 overloaded` with Retry-After before parsing, nothing stored, counted
    as result="shed"; then it takes them again. The lateness is made by
    stopping the process (SIGSTOP) for longer than the limit."""
    server_env = {"SWITCHBOARD_INGEST_MAX_LOOP_LAG_MS": "300"}

    def shed_count(self):
        return exposition.scrape(self.http).total("switchboard_webhooks_total", result="shed")

    def test_webhooks_are_shed_while_the_loop_runs_late(self):
        key, phone, secret = self.business()
        body = harness.message_body("whatsapp", phone, uid("56"), uid("wamid."), "hello")
        self.assertEqual(self.api.post_webhook("whatsapp", body, secret=secret).status, 200, "before")
        stored = self.db.count("SELECT count(*) FROM messages")
        shed_before = self.shed_count()
        with self.server.paused():
            time.sleep(0.8)
        time.sleep(0.1)  # the overdue timer runs first and finds it 0.8 s late
        late = harness.message_body("whatsapp", phone, uid("56"), uid("wamid."), "while behind")
        r = self.api.post_webhook("whatsapp", late, secret=secret)
        self.assertError(r, 503, "overloaded", "a webhook while the loop was late")
        self.assertIsNotNone(r.header("retry-after"), repr(r))
        r = self.api.post_webhook("whatsapp", b"{not json", secret=secret)
        self.assertError(r, 503, "overloaded", "shed before parsing")
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), stored, "a shed webhook was stored")
        self.assertEqual(self.shed_count() - shed_before, 2)
        # A second on, it takes webhooks again (Meta re-delivers the shed one).
        deadline = time.monotonic() + 5
        while (r := self.api.post_webhook("whatsapp", late, secret=secret)).status != 200:
            self.assertLess(time.monotonic(), deadline, f"still shedding: {r!r}")
            time.sleep(0.1)
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), stored + 1)


class WaitSheddingTest(RoutingCase):
    """A webhook that waited in the socket over a quarter of the ingest
    deadline before the server could read it (the kernel's receive timestamp
    says how long) gets `503 overloaded` before it is parsed and is not
    stored; the next one, read as it arrives, is taken. The wait is made by
    stopping the process (SIGSTOP) while the request is in flight; the
    loop-lag limit is set out of reach, so only the wait can refuse it."""
    max_wait_ms = 300
    server_env = {"SWITCHBOARD_INGEST_DEADLINE_MS": str(4 * max_wait_ms),
                  "SWITCHBOARD_INGEST_MAX_LOOP_LAG_MS": "60000"}

    def post_while_stopped(self, body, secret, stopped_s):
        """Posts `body` on a connection opened beforehand, its bytes written
        by this thread just after the server is stopped and before it sleeps
        `stopped_s` (so the wait runs from the send however busy the machine
        is); returns the answer read once the server runs again."""
        if not isinstance(body, (bytes, bytearray)):
            body = harness.dumps(body)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": harness.sign(body, secret)}
        conn = http.client.HTTPConnection(*self.server.address, timeout=15)
        try:
            conn.request("GET", "/healthz")
            idle = conn.getresponse()
            idle.read()
            self.assertEqual(idle.status, 200)  # the connection is open and idle
            with self.server.paused():
                conn.request("POST", "/webhooks/whatsapp", body=bytes(body), headers=headers)
                time.sleep(stopped_s)
            r = conn.getresponse()
            return harness.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def test_a_webhook_that_waited_too_long_is_refused_the_next_is_taken(self):
        key, phone, secret = self.business()
        stored = self.db.count("SELECT count(*) FROM messages")
        shed_before = exposition.scrape(self.http).total("switchboard_webhooks_total", result="shed")
        late = harness.message_body("whatsapp", phone, uid("57"), uid("wamid."), "waited in the socket")
        r = self.post_while_stopped(late, secret, 0.8)
        self.assertError(r, 503, "overloaded", "a webhook that waited 0.8 s against a 0.3 s limit")
        self.assertIsNotNone(r.header("retry-after"), repr(r))
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), stored, "a refused webhook was stored")
        self.assertEqual(exposition.scrape(self.http).total("switchboard_webhooks_total", result="shed") - shed_before, 1)
        # Not a window: the re-delivery, read as soon as it arrives, is taken.
        r = self.api.post_webhook("whatsapp", late, secret=secret)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), stored + 1)

    def test_a_short_wait_is_taken(self):
        _, phone, secret = self.business()
        body = harness.message_body("whatsapp", phone, uid("57"), uid("wamid."), "waited a little")
        r = self.post_while_stopped(body, secret, self.max_wait_ms / 1000 / 4)
        self.assertEqual(r.status, 200, repr(r))


class ApiInputLimitsTest(RoutingCase):
    def test_deep_json_on_v1_is_400_and_changes_nothing(self):
        key, _, _ = self.business()
        q = self.queue(key)
        agent = self.agent(key, [q["id"]])
        deep = "[" * 100 + "]" * 100
        for path, token in (("/v1/queues", key), ("/v1/agents", key), ("/v1/routing", key),
                            ("/v1/agent/status", agent["token"]), ("/v1/agent/claim", agent["token"])):
            method = "PUT" if path == "/v1/routing" else "POST"
            body = '{"name": ' + deep + '}'
            r = self.http.request(method, path, body=body, headers={"Content-Type": "application/json"}, token=token)
            err = self.assertError(r, 400, None, f"{method} {path} with JSON 100 deep")
            self.assertIn(err["code"], ("too_deep",), f"{method} {path}: {r!r}")
        self.assertEqual(self.db.count("SELECT count(*) FROM queues WHERE name LIKE '[%'"), 0)

    def test_api_body_over_1_mib_is_413_before_it_is_read(self):
        key = self.api.create_business()["api_key"]
        head = (f"POST /v1/queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {harness.API_LIMIT + 1}\r\n\r\n").encode()
        status, _, body, _, _ = harness.raw_exchange(self.server.address, head)
        self.assertEqual(status, 413, body)

    def test_pathological_and_oversize_regexes_are_400_and_change_nothing(self):
        key, _, _ = self.business()
        q = self.queue(key)
        before = self.routing(key, q["id"], [{"match": {"text_regex": "pedido|order"}, "target": {"queue_id": q["id"]}}])
        cases = {
            "nested counted repetition": "((a{100}){100}){100}",
            "huge class repetition": "[\\p{L}\\p{N}]{500}",
            "over the program size bound": "\\pL{30}",
            "backreference": "(a+)\\1",
            "1,001 characters": "a" * 1001,
        }
        for name, pattern in cases.items():
            with self.subTest(name):
                body = {"default_queue_id": q["id"],
                        "rules": [{"match": {"text_regex": pattern}, "target": {"queue_id": q["id"]}}]}
                r = self.http.put("/v1/routing", json_body=body, token=key)
                self.assertFieldError(r, "invalid_field", "rules[0].match.text_regex", f"regex {name}")
                self.conforms("PUT", "/v1/routing", r)
        version = self.db.value(f"SELECT version FROM routing_rules WHERE default_queue_id = {q['id']}")
        self.assertEqual(int(version), before["version"], "a refused regex must not replace the rules")


if __name__ == "__main__":
    unittest.main()
