"""An agent's reply goes out through the channel's send API (a local fake of
the Graph API) and the delivery status that comes back by webhook updates it;
a bot's answer goes out the same way; the fake's failures are retried."""

import time
import unittest

import harness
from harness import wait_for


class OutboundFlowTest(harness.ServerTestCase):
    with_fake_graph = True

    def setUp(self):
        self.fake.reset()
        biz = self.api.create_business()
        self.key = biz["api_key"]
        self.phone_id = harness.uid("9")
        self.secret = "app-secret-" + harness.uid()
        self.api.create_channel(self.key, "whatsapp", external_id=self.phone_id, app_secret=self.secret,
                                access_token="EAAG-test-token")
        self.queue = self.api.create_queue(self.key, "Support")["id"]
        self.agent = self.api.create_agent(self.key, [self.queue], name="Ana")["token"]
        self.api.set_routing(self.key, self.queue, [{"match": {"intent": "order_status"},
                                                     "target": {"bot": "order_status"}}])
        self.api.set_status(self.agent, "online")

    def customer_says(self, wa_id, text):
        wamid = "wamid." + harness.uid()
        body = harness.message_body("whatsapp", self.phone_id, wa_id, wamid, text)
        r = self.api.post_webhook("whatsapp", body, secret=self.secret)
        self.assertEqual(r.status, 200, repr(r))
        return wamid

    def outbound(self, conversation_id):
        r = self.http.get(f"/v1/conversations/{conversation_id}/messages", token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        return [m for m in r.json["items"] if m["direction"] == "out"]

    def test_agent_reply_is_sent_and_its_delivery_status_comes_back(self):
        wa_id = harness.uid("55")
        self.customer_says(wa_id, "I need help with a return")
        conv = wait_for(lambda: next(
            (c for c in self.http.get("/v1/agent/conversations", token=self.agent).json["items"]
             if c["contact"]["external_id"] == wa_id), None), "assignment")
        r = self.http.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "Happy to help!"},
                           token=self.agent)
        self.assertEqual(r.status, 202, repr(r))
        self.assertEqual(r.json["status"], "queued")

        sent = wait_for(lambda: [
            q for q in self.fake.requests() if q["path"] == f"/v21.0/{self.phone_id}/messages"],
            "the reply at the Graph API")
        self.assertEqual(sent[0]["method"], "POST")
        self.assertEqual(sent[0]["headers"].get("Authorization"), "Bearer EAAG-test-token",
                         "the channel's access token, decrypted, as the bearer")
        self.assertEqual(sent[0]["body"]["messaging_product"], "whatsapp")
        self.assertEqual(sent[0]["body"]["to"], wa_id)
        self.assertEqual(sent[0]["body"]["text"]["body"], "Happy to help!")

        msg = wait_for(lambda: next(
            (m for m in self.outbound(conv["id"]) if m["status"] == "sent" and m["provider_message_id"]), None),
            "status sent with the provider id")
        provider_id = msg["provider_message_id"]
        self.assertTrue(provider_id.startswith("wamid.fake."), msg)

        status = harness.whatsapp_status_body(self.phone_id, provider_id, "delivered", wa_id)
        r = self.api.post_webhook("whatsapp", status, secret=self.secret)
        self.assertEqual(r.status, 200, repr(r))
        wait_for(lambda: next(
            (m for m in self.outbound(conv["id"]) if m["status"] == "delivered"), None), "status delivered")
        # Statuses never move backwards.
        status["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "sent"
        self.assertEqual(self.api.post_webhook("whatsapp", status, secret=self.secret).status, 200)
        time.sleep(0.2)
        self.assertEqual(self.outbound(conv["id"])[0]["status"], "delivered")

    def test_bot_answer_goes_out_and_provider_errors_are_retried(self):
        r = self.http.put("/v1/orders/A1001", json_body={"status": "shipped", "carrier": "DHL", "total_cents": 129900,
                                                        "currency": "USD"}, token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        self.fake.script({"status": 500, "body": {"error": {"message": "temporarily down", "code": 2}}})
        wa_id = harness.uid("55")
        self.customer_says(wa_id, "where is my order A1001?")
        sent = wait_for(lambda: [
            q for q in self.fake.requests() if q["path"] == f"/v21.0/{self.phone_id}/messages"][1:],
            "the bot's answer at the Graph API after one 500", timeout=8)
        self.assertIn("DHL", sent[0]["body"]["text"]["body"])
        conv = next(c for c in self.api.conversations(self.key) if c["contact"]["external_id"] == wa_id)
        wait_for(lambda: next(
            (m for m in self.outbound(conv["id"]) if m["sender"] == "bot" and m["status"] == "sent"), None),
            "the bot's message marked sent")


if __name__ == "__main__":
    unittest.main()
