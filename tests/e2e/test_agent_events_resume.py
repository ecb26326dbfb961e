"""Resumable push: nothing an agent's stream misses is lost.

Two processes on one database. An agent with many assigned conversations
has a stream on process A while customers keep writing through both
processes at once and the agent replies (every message is a
`message.created` event, written by concurrent transactions in two
processes). Mid-stream the socket dies without a close frame; events keep
coming; the client reconnects to process B with `?after=<last seq seen>`.
Every event must arrive exactly once across the two sockets, in increasing
`seq`, and `GET /v1/agent/events` pages must give the same history. Then
retention: events older than 24 h are deleted at start-up housekeeping and
asking for them is `410 events_expired`.
"""

import json
import secrets
import sys
import threading
import time
import unittest

import exposition
import harness
from harness import uid, wa_id
from ws_client import HandshakeError

CUSTOMERS = 8
WRITE_SECONDS = 4.0
DROP_AFTER = 1.2      # the first socket dies this long after writing starts
OFFLINE_FOR = 0.6     # and the client is away this long while events go on
SETTLE = 10.0


class ResumeTest(harness.ServerTestCase):
    processes = 2
    # The agent below replies as fast as the server answers: the business's
    # request rate limit is not what these tests are about.
    server_env = {"SWITCHBOARD_API_RATE_LIMIT": "0"}

    # ---- helpers

    def setup_business(self):
        api = harness.Api(self.connect(0))
        key = api.create_business()["api_key"]
        phone, secret = uid("pn"), secrets.token_hex(16)
        api.create_channel(key, "whatsapp", external_id=phone, app_secret=secret, account_id="waba-" + phone)
        queue = api.create_queue(key, "q", "least_busy")["id"]
        api.set_routing(key, queue)
        return key, phone, secret, api.create_agent(key, [queue], capacity=100)

    def webhook(self, h, phone, secret, customer, text):
        body = harness.message_body("whatsapp", phone, customer, uid("wamid."), text)
        return harness.Api(h).post_webhook("whatsapp", body, secret=secret)

    def db_seqs(self, agent_id):
        self.db.wait_events_numbered(f"agent_id = {agent_id}")
        return [int(s) for (s,) in self.db.psql(f"SELECT seq FROM agent_events WHERE agent_id = {agent_id} "
                                                f"ORDER BY seq")]

    def pages(self, h, token, limit):
        out, after, n = [], 0, 0
        while True:
            path = f"/v1/agent/events?after={after}&limit={limit}"
            r = h.get(path, token=token)
            self.assertEqual(r.status, 200, f"GET {path}: {r!r}")
            self.conforms("GET", "/v1/agent/events", r)
            out.extend(r.json["items"])
            n += 1
            if r.json["next_cursor"] is None:
                self.assertLess(len(r.json["items"]), limit, "a full page names the next cursor")
                return out, n
            self.assertEqual(len(r.json["items"]), limit, "only a full page has a next cursor")
            after = int(r.json["next_cursor"])

    def record_events(self, business, agent_id, n, pad=10):
        """n events for the agent, recorded as any transaction does and announced as the notifier does."""
        self.db.psql(f"INSERT INTO agent_events (business_id, agent_id, type, payload) "
                     f"SELECT {business}, {agent_id}, 'conversation.updated', "
                     f"jsonb_build_object('id', g, 'pad', repeat('x', {pad})) FROM generate_series(1, {n}) g")
        self.db.psql(f"SELECT sb_announce_agent_events('[[[{business}, {agent_id}, 0]]]'::json)")

    # ---- tests

    def test_dropped_socket_resumes_with_after_and_loses_nothing(self):
        key, phone, secret, ana = self.setup_business()
        token = ana["token"]
        a, b = self.connect(0), self.connect(1)
        harness.Api(a).set_status(token, "online")
        first = self.stream(0, token=token, name="first")

        customers = [wa_id() for _ in range(CUSTOMERS)]
        for c in customers:
            self.assertEqual(self.webhook(a, phone, secret, c, "hello").status, 200)
        deadline = time.monotonic() + 5
        while self.db.count(f"SELECT count(*) FROM conversations WHERE agent_id = {ana['id']} "
                            f"AND status = 'assigned'") < CUSTOMERS:
            self.assertLess(time.monotonic(), deadline, "every customer's conversation goes to the agent")
            time.sleep(0.05)
        cids = [int(c) for (c,) in self.db.psql(f"SELECT id FROM conversations WHERE agent_id = {ana['id']}")]

        # Writers: customers through A and through B at once, and the agent's
        # replies, all for this agent, from concurrent transactions.
        stop = threading.Event()
        errors, counts = [], {"in": 0, "out": 0}

        def customers_writing(p, who):
            h = harness.Http(*self.servers[p].address)
            i = 0
            try:
                while not stop.is_set():
                    r = self.webhook(h, phone, secret, who[i % len(who)], f"message {i}")
                    if r.status != 200:
                        errors.append(f"webhook via {'AB'[p]}: {r!r}")
                    counts["in"] += 1
                    i += 1
            finally:
                h.close()

        def agent_replying():
            h = harness.Http(*self.servers[1].address)
            i = 0
            try:
                while not stop.is_set():
                    cid = cids[i % len(cids)]
                    r = h.post(f"/v1/conversations/{cid}/messages", json_body={"text": f"reply {i}"}, token=token)
                    if r.status != 202:
                        errors.append(f"reply: {r!r}")
                    counts["out"] += 1
                    i += 1
            finally:
                h.close()

        threads = [threading.Thread(target=customers_writing, args=(0, customers[0::2])),
                   threading.Thread(target=customers_writing, args=(1, customers[1::2])),
                   threading.Thread(target=customers_writing, args=(1, customers[0::2])),
                   threading.Thread(target=agent_replying)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        try:
            time.sleep(DROP_AFTER)
            first.abort()  # Wi-Fi gone: no close frame
            got_first = [json.loads(t) for _, t in first.snapshot()]
            self.assertTrue(got_first, "the first socket received events before it died")
            last_seen = got_first[-1]["seq"]
            time.sleep(OFFLINE_FOR)
            second = self.stream(1, f"/v1/agent/stream?after={last_seen}", token=token, name="second")
            time.sleep(max(0.0, WRITE_SECONDS - (time.monotonic() - t0)))
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(errors, [], "every write was accepted")

        want = self.db_seqs(ana["id"])
        second.wait_for(lambda m: m and json.loads(m[-1][1])["seq"] >= want[-1], SETTLE)
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now
        got_second = [json.loads(t) for _, t in second.snapshot()]
        s1 = [f["seq"] for f in got_first]
        s2 = [f["seq"] for f in got_second]
        print(f"[resume] {counts['in']} customer messages, {counts['out']} replies; {len(want)} events; "
              f"{len(s1)} on the first socket, {len(s2)} on the second (after={last_seen})", file=sys.stderr)
        self.assertEqual(s1, sorted(set(s1)), "seq increases along the first socket")
        self.assertEqual(s2, sorted(set(s2)), "seq increases along the second socket")
        self.assertTrue(all(s > last_seen for s in s2), "the second socket starts after the last seq seen")
        self.assertEqual(s1 + s2, want, "every event exactly once across the two sockets, none missed, "
                         "none duplicated (compared with agent_events)")

        # Every message of the agent's conversations after the first (which
        # came with conversation.assigned, before the first socket's frames
        # were counted) is one message.created frame.
        frames = got_first + got_second
        msg_ids = sorted(f["message"]["id"] for f in frames if f["type"] == "message.created")
        db_ids = sorted(int(i) for (i,) in self.db.psql(
            f"SELECT m.id FROM messages m WHERE m.conversation_id IN ({','.join(map(str, cids))}) "
            f"AND m.id > (SELECT min(f.id) FROM messages f WHERE f.conversation_id = m.conversation_id)"))
        self.assertEqual(msg_ids, db_ids, "each message of her conversations reached her once")

        # The same history through GET /v1/agent/events, in pages.
        listed, n_pages = self.pages(b, token, 37)
        self.assertGreater(n_pages, 2)
        self.assertEqual([f["seq"] for f in listed], want)
        self.assertEqual(listed, frames, "the listing carries exactly the frames the stream sent")

    def test_a_client_that_stops_reading_loses_nothing(self):
        """The process's feed hands each socket its agent's new events; a
        client that stops reading falls behind it (its frames wait on the
        server, at most 1,000), goes back to reading the outbox at its own
        pace, and still gets every event once, in order."""
        key, phone, secret, ana = self.setup_business()
        h = self.connect(0)
        business = self.db.count(f"SELECT business_id FROM agents WHERE id = {ana['id']}")
        fell_behind = exposition.scrape(h).value("switchboard_agent_stream_fell_behind_total")

        def record(n, pad):
            self.record_events(business, ana["id"], n, pad)

        ws = self.stream(0, token=ana["token"], name="slow", receive_buffer=16384)
        record(3, 10)
        self.assertTrue(ws.wait_for(lambda m: len(m) == 3, 5), "the first events arrive while the client reads")
        ws.pause()
        # About 16 MB of frames: far more than the socket buffers hold.
        record(4000, 4000)
        deadline = time.monotonic() + 10
        while exposition.scrape(h).value("switchboard_agent_stream_fell_behind_total") == fell_behind:
            self.assertLess(time.monotonic(), deadline, "the socket falls 1,000 frames behind the feed")
            time.sleep(0.1)
        record(5, 10)  # recorded while it is behind
        ws.resume()
        want = self.db_seqs(ana["id"])
        self.assertEqual(len(want), 4008)
        self.assertTrue(ws.wait_for(lambda m: len(m) >= len(want), 60), f"{len(ws.snapshot())} of {len(want)} frames")
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now
        got = [json.loads(t)["seq"] for _, t in ws.snapshot()]
        self.assertEqual(got, want, "every event once, in order, through the fall-back")
        record(2, 10)
        self.assertTrue(ws.wait_for(lambda m: len(m) == len(want) + 2, 5), "and the feed serves it again after")

    def test_sockets_read_alone_while_the_feed_fails(self):
        """The feed's reads fail (its function is renamed away): after a few
        failed reads each socket reads the outbox itself, and once the feed
        reads again the sockets go back to it; every event arrives once."""
        key, phone, secret, ana = self.setup_business()
        business = self.db.count(f"SELECT business_id FROM agents WHERE id = {ana['id']}")
        ws = self.stream(0, token=ana["token"], name="feedless")
        self.record_events(business, ana["id"], 1)
        self.assertTrue(ws.wait_for(lambda m: len(m) == 1, 5), "the first event arrives through the feed")
        self.db.psql("ALTER FUNCTION sb_agent_events_since(bigint, int) RENAME TO sb_agent_events_since_away")
        try:
            self.record_events(business, ana["id"], 2)
            self.assertTrue(ws.wait_for(lambda m: len(m) == 3, 15),
                            f"events recorded while the feed fails arrive: {len(ws.snapshot())} of 3")
        finally:
            self.db.psql("ALTER FUNCTION sb_agent_events_since_away(bigint, int) RENAME TO sb_agent_events_since")
        with open(self.servers[0].log_path, encoding="utf-8", errors="replace") as f:
            self.assertIn("agent event feed: read failed", f.read())
        time.sleep(2.5)  # the feed reads again
        self.record_events(business, ana["id"], 2)
        self.assertTrue(ws.wait_for(lambda m: len(m) == 5, 5), f"{len(ws.snapshot())} of 5")
        time.sleep(0.3)
        self.assertEqual([json.loads(t)["seq"] for _, t in ws.snapshot()], self.db_seqs(ana["id"]))

    def test_listing_errors_and_walls(self):
        key, phone, secret, ana = self.setup_business()
        key2, phone2, secret2, other = self.setup_business()
        h = self.connect(1)
        harness.Api(h).set_status(ana["token"], "online")
        self.assertEqual(self.webhook(h, phone, secret, wa_id(), "hi").status, 200)
        deadline = time.monotonic() + 5
        while not self.db.count(f"SELECT count(*) FROM agent_events WHERE agent_id = {ana['id']}"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        mine, _ = self.pages(h, ana["token"], 100)
        self.assertTrue(mine)
        theirs, _ = self.pages(h, other["token"], 100)
        self.assertEqual(theirs, [], "another agent (of another business) sees none of her events")
        r = h.get("/v1/agent/events", token=key)
        self.assertEqual(r.status, 403, f"a business key: {r!r}")
        r = h.get("/v1/agent/events")
        self.assertEqual(r.status, 401, f"no token: {r!r}")
        for q in ("after=-1", "after=x", "limit=0", "limit=1001"):
            r = h.get(f"/v1/agent/events?{q}", token=ana["token"])
            self.assertEqual(r.status, 400, f"?{q}: {r!r}")
            self.assertEqual(r.json["error"]["code"], "invalid_field")
        r = h.get(f"/v1/agent/events?after={mine[-1]['seq']}", token=ana["token"])
        self.assertEqual((r.status, r.json), (200, {"items": [], "next_cursor": None}))

    def test_retention_deletes_old_events_and_says_so(self):
        key, phone, secret, ana = self.setup_business()
        h = self.connect(1)
        harness.Api(h).set_status(ana["token"], "online")
        for _ in range(3):
            self.assertEqual(self.webhook(h, phone, secret, wa_id(), "hi").status, 200)
        deadline = time.monotonic() + 5
        while self.db.count(f"SELECT count(*) FROM agent_events WHERE agent_id = {ana['id']}") < 3:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        seqs = self.db_seqs(ana["id"])
        # The two oldest are 25 h old, the newest 23 h: retention is 24 h.
        self.db.psql(f"UPDATE agent_events SET created_at = now() - interval '25 hours' WHERE agent_id = {ana['id']} "
                     f"AND seq IN ({seqs[0]}, {seqs[1]})")
        self.db.psql(f"UPDATE agent_events SET created_at = now() - interval '23 hours' WHERE agent_id = {ana['id']} "
                     f"AND seq > {seqs[1]}")
        # A deploy: process A restarts and prunes at start.
        self.servers[0].stop()
        self.servers[0] = harness.Server(self.db.url, bin_path=self.bin_path).start()
        deadline = time.monotonic() + 5
        while self.db.count(f"SELECT count(*) FROM agent_events WHERE agent_id = {ana['id']}") != len(seqs) - 2:
            self.assertLess(time.monotonic(), deadline, "events older than 24 h are deleted at start")
            time.sleep(0.05)
        self.assertEqual(self.db_seqs(ana["id"]), seqs[2:], "the 23-hour-old ones are kept")
        h = self.connect(0)
        r = h.get("/v1/agent/events?after=0", token=ana["token"])
        self.assertEqual(r.status, 410, f"after a number retention passed: {r!r}")
        self.assertEqual(r.json["error"]["code"], "events_expired")
        self.conforms("GET", "/v1/agent/events", r)
        with self.assertRaises(HandshakeError) as e:
            self.stream(0, "/v1/agent/stream?after=0", token=ana["token"])
        self.assertEqual(e.exception.status, 410, "the stream refuses such an after as well")
        r = h.get(f"/v1/agent/events?after={seqs[1]}", token=ana["token"])
        self.assertEqual(r.status, 200, f"after the newest deleted number: {r!r}")
        self.assertEqual([f["seq"] for f in r.json["items"]], seqs[2:])


if __name__ == "__main__":
    unittest.main()
