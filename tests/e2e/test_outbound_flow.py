"""An agent's reply goes out through the channel's send API (a local fake of
the Graph API) and the delivery status that comes back by webhook updates it;
a bot's answer goes out the same way; the fake's failures are retried."""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

import harness

FAKE = os.path.join(harness.source_dir(), "tests", "support", "fake_graph.py")


def fake_call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"{}")


class OutboundFlowTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_env()
        cls.fake = subprocess.Popen([sys.executable, FAKE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)
        port = int(cls.fake.stdout.readline())
        cls.fake_base = f"http://127.0.0.1:{port}"
        cls.server_env = {"SWITCHBOARD_GRAPH_API_BASE": cls.fake_base + "/v21.0"}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stdin.close()
        cls.fake.wait(timeout=10)

    def setUp(self):
        fake_call(self.fake_base, "POST", "/_reset", {})
        biz = self.api.create_business()
        self.key = biz["api_key"]
        self.phone_id = harness.uid("9")
        self.secret = "app-secret-" + harness.uid()
        self.api.create_channel(self.key, "whatsapp", external_id=self.phone_id, app_secret=self.secret,
                                access_token="EAAG-test-token")
        q = self.http.post("/v1/queues", json_body={"name": "Support", "strategy": "round_robin"}, token=self.key)
        self.assertEqual(q.status, 201, repr(q))
        self.queue = q.json["id"]
        a = self.http.post("/v1/agents", json_body={"name": "Ana", "capacity": 5, "queue_ids": [self.queue]},
                           token=self.key)
        self.assertEqual(a.status, 201, repr(a))
        self.agent = a.json["token"]
        r = self.http.put("/v1/routing", json_body={
            "default_queue_id": self.queue,
            "rules": [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}}]}, token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        r = self.http.post("/v1/agent/status", json_body={"status": "online"}, token=self.agent)
        self.assertEqual(r.status, 200, repr(r))

    def customer_says(self, wa_id, text):
        wamid = "wamid." + harness.uid()
        body = harness.message_body("whatsapp", self.phone_id, wa_id, wamid, text)
        r = self.api.post_webhook("whatsapp", body, secret=self.secret)
        self.assertEqual(r.status, 200, repr(r))
        return wamid

    def wait_for(self, what, fn, timeout=5.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.05)
        self.fail(f"{what}: not within {timeout} s (last seen: {last!r})")

    def sent_requests(self):
        return fake_call(self.fake_base, "GET", "/_requests")["requests"]

    def outbound(self, conversation_id):
        r = self.http.get(f"/v1/conversations/{conversation_id}/messages", token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        return [m for m in r.json["items"] if m["direction"] == "out"]

    def test_agent_reply_is_sent_and_its_delivery_status_comes_back(self):
        wa_id = harness.uid("55")
        self.customer_says(wa_id, "I need help with a return")
        conv = self.wait_for("assignment", lambda: next(
            (c for c in self.http.get("/v1/agent/conversations", token=self.agent).json["items"]
             if c["contact"]["external_id"] == wa_id), None))
        r = self.http.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "Happy to help!"},
                           token=self.agent)
        self.assertEqual(r.status, 202, repr(r))
        self.assertEqual(r.json["status"], "queued")

        sent = self.wait_for("the reply at the Graph API", lambda: [
            q for q in self.sent_requests() if q["path"] == f"/v21.0/{self.phone_id}/messages"])
        self.assertEqual(sent[0]["method"], "POST")
        self.assertEqual(sent[0]["headers"].get("Authorization"), "Bearer EAAG-test-token",
                         "the channel's access token, decrypted, as the bearer")
        self.assertEqual(sent[0]["body"]["messaging_product"], "whatsapp")
        self.assertEqual(sent[0]["body"]["to"], wa_id)
        self.assertEqual(sent[0]["body"]["text"]["body"], "Happy to help!")

        msg = self.wait_for("status sent with the provider id", lambda: next(
            (m for m in self.outbound(conv["id"]) if m["status"] == "sent" and m["provider_message_id"]), None))
        provider_id = msg["provider_message_id"]
        self.assertTrue(provider_id.startswith("wamid.fake."), msg)

        status = {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "1", "phone_number_id": self.phone_id},
                "statuses": [{"id": provider_id, "status": "delivered", "timestamp": str(int(time.time())),
                              "recipient_id": wa_id}]}}]}]}
        r = self.api.post_webhook("whatsapp", status, secret=self.secret)
        self.assertEqual(r.status, 200, repr(r))
        self.wait_for("status delivered", lambda: next(
            (m for m in self.outbound(conv["id"]) if m["status"] == "delivered"), None))
        # Statuses never move backwards.
        status["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "sent"
        self.assertEqual(self.api.post_webhook("whatsapp", status, secret=self.secret).status, 200)
        time.sleep(0.2)
        self.assertEqual(self.outbound(conv["id"])[0]["status"], "delivered")

    def test_bot_answer_goes_out_and_provider_errors_are_retried(self):
        r = self.http.put("/v1/orders/A1001", json_body={"status": "shipped", "carrier": "DHL", "total_cents": 129900,
                                                        "currency": "USD"}, token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        fake_call(self.fake_base, "POST", "/_script", {"responses": [
            {"status": 500, "body": {"error": {"message": "temporarily down", "code": 2}}}]})
        wa_id = harness.uid("55")
        self.customer_says(wa_id, "where is my order A1001?")
        sent = self.wait_for("the bot's answer at the Graph API after one 500", lambda: [
            q for q in self.sent_requests() if q["path"] == f"/v21.0/{self.phone_id}/messages"][1:], timeout=8)
        self.assertIn("DHL", sent[0]["body"]["text"]["body"])
        conv = next(c for c in self.api.conversations(self.key) if c["contact"]["external_id"] == wa_id)
        self.wait_for("the bot's message marked sent", lambda: next(
            (m for m in self.outbound(conv["id"]) if m["sender"] == "bot" and m["status"] == "sent"), None))


if __name__ == "__main__":
    unittest.main()
