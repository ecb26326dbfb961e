"""Presence that follows the agent's stream, with two processes on one database.

An agent who chose `online` and has no /v1/agent/stream socket open on any
process for SWITCHBOARD_PRESENCE_TIMEOUT_S becomes `away` and gets no new
conversations; opening a stream again gives back the status they chose. The
socket is held by one process while the other may be the one that sweeps,
so presence has to live in the database. Time: a 2-second timeout and
PostgreSQL's clock (both processes read it), so the suite needs no long
sleeps. Also: the one-time stream ticket (`POST /v1/agent/stream-ticket`,
`?ticket=`) and the `bearer.<token>` subprotocol, which browsers need
because they cannot set headers on a WebSocket.
"""

import json
import secrets
import sys
import time
import unittest
import urllib.parse

import harness
from harness import uid, wa_id
from ws_client import HandshakeError

TIMEOUT_S = 2
# Sweeps run every timeout/4 and heartbeats every timeout/3; a state change
# shows within this after it is due.
SLACK_S = 1.5
ROUTE_TIMEOUT = 3.0


class PresenceTest(harness.ServerTestCase):
    processes = 2
    server_env = {"SWITCHBOARD_PRESENCE_TIMEOUT_S": str(TIMEOUT_S)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a, cls.b = cls.http, cls.connect(1)
        cls.key = cls.api.create_business()["api_key"]
        cls.phone = uid("pn")
        cls.secret = secrets.token_hex(16)
        cls.api.create_channel(cls.key, "whatsapp", external_id=cls.phone, app_secret=cls.secret,
                               account_id="waba-" + cls.phone)
        cls.queue_id = cls.api.create_queue(cls.key, "support")["id"]
        cls.api.set_routing(cls.key, cls.queue_id)

    # ---- helpers

    def agent(self, capacity=5):
        return self.api.create_agent(self.key, [self.queue_id], capacity)

    def set_status(self, http, agent, status):
        self.assertEqual(harness.Api(http).set_status(agent["token"], status)["status"], status)

    def status_of(self, agent):
        return self.db.value(f"SELECT status FROM agents WHERE id = {int(agent['id'])}")

    def wait_status(self, agent, want, timeout, what):
        t0 = time.monotonic()
        while True:
            got = self.status_of(agent)
            if got == want:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                self.fail(f"{what}: expected agent {agent['id']} to be {want!r} within {timeout} s, still {got!r}")
            time.sleep(0.05)

    def new_conversation(self):
        body = harness.message_body("whatsapp", self.phone, wa_id(), uid("wamid."), "hello")
        r = self.api.post_webhook("whatsapp", body, secret=self.secret)
        self.assertEqual(r.status, 200, f"webhook: {r!r}")
        deadline = time.monotonic() + ROUTE_TIMEOUT
        while time.monotonic() < deadline:
            rows = self.db.psql("SELECT id, status FROM conversations WHERE routed_at IS NOT NULL "
                                "ORDER BY id DESC LIMIT 1")
            if rows and rows[0][1] in ("waiting", "assigned"):
                return int(rows[0][0])
            time.sleep(0.05)
        self.fail(f"the new conversation was not routed within {ROUTE_TIMEOUT} s")

    def conversation(self, cid):
        status, agent = self.db.psql(f"SELECT status, agent_id FROM conversations WHERE id = {cid}")[0]
        return status, int(agent) if agent else None

    @staticmethod
    def frames(ws):
        return [json.loads(t) for _, t in ws.snapshot()]

    # ---- tests

    def test_stream_keeps_agent_online_across_processes_and_its_absence_makes_them_away(self):
        ana = self.agent()
        ws = self.stream(0, token=ana["token"], name="ana-on-A")  # the socket is on A...
        self.set_status(self.b, ana, "online")        # ...the status call and any sweep may be on B
        # Three timeouts with the socket open: the heartbeat of A keeps her online
        # whichever process sweeps.
        t_end = time.monotonic() + 3 * TIMEOUT_S
        while time.monotonic() < t_end:
            self.assertEqual(self.status_of(ana), "online",
                             "an agent with an open stream must stay online (heartbeat from the process holding it)")
            time.sleep(0.2)
        cid = self.new_conversation()
        self.assertEqual(self.conversation(cid), ("assigned", ana["id"]), "online with a stream: gets work")
        self.assertTrue(ws.wait_for(lambda m: any(json.loads(t).get("type") == "conversation.assigned"
                                                  for _, t in m), 3), "conversation.assigned on the stream")

        # The stream goes away (a lost network: no close frame).
        ws.abort()
        closed = time.monotonic()
        took = self.wait_status(ana, "away", TIMEOUT_S + SLACK_S + 1, "no stream for the presence timeout")
        self.assertGreaterEqual(took, TIMEOUT_S - 0.3,
                                f"away {took:.2f} s after the stream closed; expected no sooner than the "
                                f"{TIMEOUT_S} s timeout")
        print(f"[presence] away {time.monotonic() - closed:.2f} s after the stream dropped", file=sys.stderr)
        self.assertEqual(self.db.value(f"SELECT chosen_status FROM agents WHERE id = {ana['id']}"), "online")

        # Away: a new customer waits instead of going to her.
        cid2 = self.new_conversation()
        time.sleep(0.5)
        self.assertEqual(self.conversation(cid2), ("waiting", None), "an away agent gets no new assignments")

        # She reconnects, through the other process and with a one-time ticket:
        # online again (the status she chose), and the waiting customer is hers.
        r = self.a.post("/v1/agent/stream-ticket", token=ana["token"])
        self.assertEqual(r.status, 201, f"POST /v1/agent/stream-ticket: {r!r}")
        self.assertEqual(set(r.json), {"ticket", "expires_at", "expires_in_s"})
        self.assertRegex(r.json["expires_at"], harness.TIME_RE)
        ticket = r.json["ticket"]
        stored = self.db.count("SELECT count(*) FROM stream_tickets WHERE ticket_hash = "
                               f"sha256(convert_to({harness.sql_literal(ticket)}, 'UTF8'))")
        self.assertEqual(stored, 1, "the ticket is stored as its SHA-256, not as text")
        self.assertEqual(self.db.count("SELECT count(*) FROM stream_tickets WHERE encode(ticket_hash, 'escape') "
                                       f"LIKE '%' || {harness.sql_literal(ticket)} || '%'"), 0)
        ws2 = self.stream(1, "/v1/agent/stream?ticket=" + urllib.parse.quote(ticket), headers={}, name="ana-on-B")
        self.wait_status(ana, "online", SLACK_S, "reconnecting gives back the chosen status")
        deadline = time.monotonic() + ROUTE_TIMEOUT
        while self.conversation(cid2) != ("assigned", ana["id"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.conversation(cid2), ("assigned", ana["id"]),
                         "the conversation that waited goes to her once she is back")
        self.assertTrue(ws2.wait_for(lambda m: any(json.loads(t).get("conversation", {}).get("id") == cid2
                                                   for _, t in m), 3),
                        f"conversation {cid2} assigned on the new stream: {self.frames(ws2)}")

        # A ticket is good once.
        with self.assertRaises(HandshakeError) as used:
            self.stream(1, "/v1/agent/stream?ticket=" + urllib.parse.quote(ticket), headers={})
        self.assertEqual(used.exception.status, 401, "a used ticket")

    def test_a_chosen_away_or_offline_is_not_overridden_by_a_stream(self):
        for chosen in ("away", "offline"):
            ben = self.agent()
            self.set_status(self.a, ben, chosen)
            ws = self.stream(1, token=ben["token"])
            time.sleep(0.3)
            self.assertEqual(self.status_of(ben), chosen, f"{chosen}: a stream does not make the agent online")
            ws.close()
            time.sleep(TIMEOUT_S + 0.5)
            self.assertEqual(self.status_of(ben), chosen, f"{chosen}: the sweep only moves online agents")
            ws = self.stream(0, token=ben["token"])
            time.sleep(0.3)
            self.assertEqual(self.status_of(ben), chosen)
            ws.close()

    def test_online_without_ever_opening_a_stream_lapses_after_the_timeout(self):
        cleo = self.agent()
        self.set_status(self.a, cleo, "online")
        took = self.wait_status(cleo, "away", TIMEOUT_S + SLACK_S + 1, "online by API, never a stream")
        self.assertGreaterEqual(took, TIMEOUT_S - 0.3)
        # Choosing online again restarts the clock.
        self.set_status(self.b, cleo, "online")
        self.assertEqual(self.status_of(cleo), "online")

    def test_subprotocol_token_is_accepted_and_echoed(self):
        dan = self.agent()
        self.set_status(self.a, dan, "online")
        protocol = f"bearer.{dan['token']}"
        ws = self.stream(1, headers={"Sec-WebSocket-Protocol": protocol})
        self.assertEqual(ws.handshake_headers.get("sec-websocket-protocol"), protocol,
                         "the chosen subprotocol is echoed (browsers drop the socket otherwise)")
        time.sleep(TIMEOUT_S + 0.8)
        self.assertEqual(self.status_of(dan), "online", "a subprotocol-authenticated stream keeps presence too")
        ws.close()

    def test_ticket_errors(self):
        eve = self.agent()
        r = self.a.post("/v1/agent/stream-ticket", token=self.key)
        self.assertEqual(r.status, 403, f"a business key gets no stream ticket: {r!r}")
        self.assertEqual(r.json["error"]["code"], "forbidden")
        r = self.a.post("/v1/agent/stream-ticket")
        self.assertEqual(r.status, 401, f"no token: {r!r}")
        for bad in ("nonsense", "", "sbt_" + "A" * 43):
            with self.assertRaises(HandshakeError) as e:
                self.stream(0, "/v1/agent/stream?ticket=" + urllib.parse.quote(bad), headers={})
            self.assertEqual(e.exception.status, 401, f"ticket {bad!r}")
            self.assertEqual(json.loads(e.exception.body)["error"]["code"], "unauthorized")
        # Expired (the database's clock decides).
        r = self.b.post("/v1/agent/stream-ticket", token=eve["token"])
        self.assertEqual(r.status, 201)
        self.db.psql("UPDATE stream_tickets SET expires_at = now() - interval '1 second' WHERE agent_id = "
                     f"{eve['id']}")
        with self.assertRaises(HandshakeError) as e:
            self.stream(0, "/v1/agent/stream?ticket=" + urllib.parse.quote(r.json["ticket"]), headers={})
        self.assertEqual(e.exception.status, 401, "an expired ticket")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM stream_tickets WHERE agent_id = {eve['id']}"), 0,
                         "a ticket presented is gone, valid or not")


if __name__ == "__main__":
    unittest.main()
