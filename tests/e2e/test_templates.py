"""Re-engagement outside the customer-service window, and customers' names
on Messenger and Instagram, end to end through a local fake of the Graph API.

WhatsApp allows free-form messages only within 24 hours of the customer's
last message; after that only an approved message template may be sent.
Messenger allows a reply up to 7 days later with the HUMAN_AGENT tag where
the channel has it. Templates are registered with PUT /v1/templates/{name}
and sent with POST /v1/conversations/{id}/messages {"template": {...}} in
the Graph API's template message format. Messenger and Instagram webhooks
carry no name: it is looked up once per contact (GET /{psid}?fields=...)
and cached in the contact row.
"""

import base64
import time
import unittest

import harness


class TemplateTest(harness.ServerTestCase):
    with_fake_graph = True

    def setUp(self):
        self.fake.reset()
        self.key = self.api.create_business()["api_key"]
        queue = self.api.create_queue(self.key, "Support")["id"]
        self.agent = self.api.create_agent(self.key, [queue], name="Ana")["token"]
        self.api.set_routing(self.key, queue)
        self.api.set_status(self.agent, "online")

    # ---- helpers

    def channel(self, kind):
        ext, secret = harness.uid("9"), "app-secret-" + harness.uid()
        self.api.create_channel(self.key, kind, external_id=ext, app_secret=secret, access_token="EAAG-token")
        return ext, secret

    def conversation_with(self, kind, ext, secret, contact, hours_ago):
        body = harness.message_body(kind, ext, contact, harness.uid("mid."), "hello")
        r = self.api.post_webhook(kind, body, secret=secret)
        self.assertEqual(r.status, 200, repr(r))
        cid = None
        for _ in range(100):
            items = self.http.get("/v1/agent/conversations", token=self.agent).json["items"]
            cid = next((c["id"] for c in items if c["contact"]["external_id"] == contact), None)
            if cid:
                break
            time.sleep(0.05)
        self.assertIsNotNone(cid, "the conversation is assigned to the agent")
        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '{hours_ago} hours' "
                     f"WHERE id = {cid}")
        return cid

    def send(self, cid, body):
        return self.http.post(f"/v1/conversations/{cid}/messages", json_body=body, token=self.agent)

    def sent(self, path, n=1):
        for _ in range(100):
            got = [q for q in self.fake.requests() if q["path"] == path]
            if len(got) >= n:
                return got
            time.sleep(0.05)
        self.fail(f"nothing sent to {path}")

    def put_template(self, name, body, expect=200):
        r = self.http.put(f"/v1/templates/{name}", json_body=body, token=self.key)
        self.assertEqual(r.status, expect, f"PUT /v1/templates/{name} {body}: {r!r}")
        if expect == 200:
            self.conforms("PUT", "/v1/templates/{name}", r)
        return r

    # ---- tests

    def test_whatsapp_outside_24_hours_takes_only_a_template(self):
        ext, secret = self.channel("whatsapp")
        contact = harness.uid("1555")
        cid = self.conversation_with("whatsapp", ext, secret, contact, hours_ago=30)

        r = self.send(cid, {"text": "are you still there?"})
        self.assertError(r, 422, "outside_messaging_window", "plain text 30 h after the customer's message")
        self.assertIn("template", r.json["error"]["message"])
        self.assertEqual(self.db.count(f"SELECT count(*) FROM messages WHERE conversation_id = {cid} "
                                       "AND direction = 'out'"), 0, "nothing queued")

        r = self.send(cid, {"template": {"name": "order_update", "language": "en_US", "params": ["A1001"]}})
        self.assertError(r, 422, "unknown_template", "a template nobody registered")

        t = self.put_template("order_update", {"language": "en_US", "category": "utility",
                                               "body_examples": ["A1001", "Friday"]}).json
        self.assertEqual((t["name"], t["language"], t["category"], t["body_parameter_count"]),
                         ("order_update", "en_US", "utility", 2))

        r = self.send(cid, {"template": {"name": "order_update", "language": "en_US", "params": ["A1001"]}})
        self.assertError(r, 400, "invalid_field", "one parameter for a template that takes two")
        r = self.send(cid, {"template": {"name": "order_update", "language": "es", "params": ["A1001", "viernes"]}})
        self.assertError(r, 422, "unknown_template", "registered in en_US only")

        r = self.send(cid, {"template": {"name": "order_update", "language": "en_US",
                                         "params": ["A1001", "Friday"]}})
        self.assertEqual(r.status, 202, repr(r))
        self.assertEqual((r.json["type"], r.json["status"]), ("template", "queued"))
        req = self.sent(f"/v21.0/{ext}/messages")[0]
        self.assertEqual(req["headers"].get("Authorization"), "Bearer EAAG-token")
        self.assertEqual(req["body"], {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": contact, "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"},
                         "components": [{"type": "body", "parameters": [
                             {"type": "text", "text": "A1001"}, {"type": "text", "text": "Friday"}]}]}})
        for _ in range(100):
            status = self.db.value(f"SELECT status FROM messages WHERE id = {r.json['id']}")
            if status == "sent":
                break
            time.sleep(0.05)
        self.assertEqual(status, "sent")

        # Inside the window text is fine again.
        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '23 hours' WHERE id = {cid}")
        self.assertEqual(self.send(cid, {"text": "thanks for waiting"}).status, 202)

    def test_template_without_parameters_and_bad_sends(self):
        ext, secret = self.channel("whatsapp")
        cid = self.conversation_with("whatsapp", ext, secret, harness.uid("1555"), hours_ago=48)
        self.put_template("hello_again", {"language": "en", "category": "marketing", "body_parameter_count": 0})
        r = self.send(cid, {"template": {"name": "hello_again", "language": "en"}})
        self.assertEqual(r.status, 202, repr(r))
        req = self.sent(f"/v21.0/{ext}/messages")[0]
        self.assertEqual(req["body"]["template"], {"name": "hello_again", "language": {"code": "en"}})
        for body, code in (({}, "missing_field"),
                           ({"text": "x", "template": {"name": "hello_again", "language": "en"}}, "invalid_field"),
                           ({"template": "hello_again"}, "invalid_field"),
                           ({"template": {"name": "hello_again"}}, "missing_field"),
                           ({"template": {"name": "hello_again", "language": "en", "x": 1}}, "unknown_field"),
                           ({"template": {"name": "hello_again", "language": "en", "params": [1]}}, "invalid_field"),
                           # NUL cannot be stored: a clear 400, not a failed insert.
                           ({"template": {"name": "hello\u0000again", "language": "en"}}, "invalid_field"),
                           ({"template": {"name": "hello_again", "language": "e\u0000"}}, "invalid_field"),
                           ({"template": {"name": "hello_again", "language": "en", "params": ["a\u0000"]}},
                            "invalid_field")):
            self.assertError(self.send(cid, body), 400, code, f"{body}")

    def test_template_registration_validation_and_walls(self):
        for name, body, code in (
                ("Bad-Name", {"language": "en", "category": "utility", "body_parameter_count": 0}, "invalid_field"),
                ("ok", {"language": "english", "category": "utility", "body_parameter_count": 0}, "invalid_field"),
                ("ok", {"language": "en", "category": "promo", "body_parameter_count": 0}, "invalid_field"),
                ("ok", {"language": "en", "category": "utility"}, "missing_field"),
                ("ok", {"language": "en", "category": "utility", "body_parameter_count": 2,
                        "body_examples": ["one"]}, "invalid_field"),
                ("ok", {"language": "en", "category": "utility", "body_parameter_count": 0, "x": 1},
                 "unknown_field")):
            self.assertError(self.put_template(name, body, expect=400), 400, code, f"{name} {body}")
        r = self.http.put("/v1/templates/ok", json_body={"language": "en", "category": "utility",
                                                          "body_parameter_count": 0}, token=self.agent)
        self.assertError(r, 403, "forbidden", "an agent token")
        # Another business's template does not exist for this one.
        other = self.api.create_business()["api_key"]
        r = self.http.put("/v1/templates/theirs", json_body={"language": "en", "category": "utility",
                                                              "body_parameter_count": 0}, token=other)
        self.assertEqual(r.status, 200, repr(r))
        ext, secret = self.channel("whatsapp")
        cid = self.conversation_with("whatsapp", ext, secret, harness.uid("1555"), hours_ago=30)
        self.assertError(self.send(cid, {"template": {"name": "theirs", "language": "en"}}), 422,
                         "unknown_template", "another business's template")
        # Replacing keeps one row.
        self.put_template("theirs", {"language": "en", "category": "marketing", "body_parameter_count": 1})
        self.put_template("theirs", {"language": "en", "category": "utility", "body_parameter_count": 0})
        self.assertEqual(self.db.count("SELECT count(*) FROM message_templates WHERE name = 'theirs'"), 2,
                         "one per business")

    def test_messenger_human_agent_tag_within_7_days_where_enabled(self):
        ext, secret = self.channel("messenger")
        psid = harness.uid("psid")
        cid = self.conversation_with("messenger", ext, secret, psid, hours_ago=72)
        self.assertError(self.send(cid, {"text": "still there?"}), 422, "outside_messaging_window",
                         "3 days later, without HUMAN_AGENT on the channel")
        self.assertError(self.send(cid, {"template": {"name": "x", "language": "en"}}), 422,
                         "templates_unsupported", "templates on Messenger")
        self.db.psql(f"UPDATE channels SET human_agent_enabled = true WHERE external_id = '{ext}'")
        r = self.send(cid, {"text": "still there?"})
        self.assertEqual(r.status, 202, repr(r))
        req = self.sent(f"/v21.0/{ext}/messages")[0]
        self.assertEqual(req["body"], {"recipient": {"id": psid}, "messaging_type": "MESSAGE_TAG",
                                       "tag": "HUMAN_AGENT", "message": {"text": "still there?"}})
        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '8 days' WHERE id = {cid}")
        self.assertError(self.send(cid, {"text": "hello?"}), 422, "outside_messaging_window",
                         "8 days later, even with HUMAN_AGENT")


    def test_messenger_and_instagram_names_come_from_a_profile_lookup_once(self):
        psid, igsid, blocked = harness.uid("psid"), harness.uid("igsid"), harness.uid("psid")
        self.fake.call("POST", "/_profiles", {"profiles": {
            psid: {"first_name": "Ana", "last_name": "Lima"},
            igsid: {"name": "Bea Souza", "username": "bea.s"}}})
        for kind, contact, want in (("messenger", psid, "Ana Lima"), ("instagram", igsid, "Bea Souza"),
                                    ("messenger", blocked, None)):
            ext, secret = self.channel(kind)
            cid = self.conversation_with(kind, ext, secret, contact, hours_ago=1)
            for _ in range(100):
                name = self.http.get(f"/v1/conversations/{cid}", token=self.key).json["contact"]["name"]
                checked = self.db.value(f"SELECT profile_checked_at IS NOT NULL FROM contacts "
                                        f"WHERE external_id = '{contact}'")
                if name == want and checked == "t":
                    break
                time.sleep(0.05)
            self.assertEqual(name, want, f"{kind} contact {contact}: the name from the profile lookup")
            fields = "first_name,last_name" if kind == "messenger" else "name,username"
            lookups = [q for q in self.fake.requests()
                       if q["path"] == f"/v21.0/{contact}?fields={fields}"]
            self.assertEqual(len(lookups), 1, f"{kind}: one lookup with the channel's token")
            self.assertEqual(lookups[0]["headers"].get("Authorization"), "Bearer EAAG-token")
            # The customer writes again: the cached name is used, no new lookup.
            r = self.api.post_webhook(kind, harness.message_body(kind, ext, contact, harness.uid("mid."), "again"),
                                      secret=secret)
            self.assertEqual(r.status, 200)
            time.sleep(0.3)
            again = [q for q in self.fake.requests()
                     if q["path"].startswith(f"/v21.0/{contact}?")]
            self.assertEqual(len(again), 1, f"{kind}: the profile is looked up once per contact")


    def test_agents_send_attachments_by_url_through_each_channel(self):
        wa_ext, wa_secret = self.channel("whatsapp")
        contact = harness.uid("1555")
        cid = self.conversation_with("whatsapp", wa_ext, wa_secret, contact, hours_ago=1)
        r = self.send(cid, {"media": {"type": "image", "url": "https://cdn.example.com/a.jpg", "caption": "yours"}})
        self.assertEqual(r.status, 202, repr(r))
        self.assertEqual((r.json["type"], r.json["text"], r.json["status"]), ("image", "yours", "queued"))
        self.assertEqual(self.send(cid, {"media": {"type": "sticker", "url": "https://cdn.example.com/s.webp"}}).status,
                         202)
        got = self.sent(f"/v21.0/{wa_ext}/messages", 2)
        self.assertEqual(got[0]["body"], {"messaging_product": "whatsapp", "recipient_type": "individual",
                                          "to": contact, "type": "image",
                                          "image": {"link": "https://cdn.example.com/a.jpg", "caption": "yours"}})
        self.assertEqual(got[1]["body"]["sticker"], {"link": "https://cdn.example.com/s.webp"})

        m_ext, m_secret = self.channel("messenger")
        psid = harness.uid("psid")
        mcid = self.conversation_with("messenger", m_ext, m_secret, psid, hours_ago=1)
        r = self.send(mcid, {"media": {"type": "document", "url": "https://cdn.example.com/invoice.pdf"}})
        self.assertEqual(r.status, 202, repr(r))
        got = self.sent(f"/v21.0/{m_ext}/messages")
        self.assertEqual(got[0]["body"], {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {
            "attachment": {"type": "file", "payload": {"url": "https://cdn.example.com/invoice.pdf",
                                                        "is_reusable": True}}}})
        self.assertError(self.send(mcid, {"media": {"type": "sticker", "url": "https://cdn.example.com/s.webp"}}),
                         422, "media_unsupported", "a sticker on Messenger")
        for bad, code in (({"media": {"type": "gif", "url": "https://x.example.com/a"}}, "invalid_field"),
                          ({"media": {"type": "image", "url": "ftp://x.example.com/a"}}, "invalid_field"),
                          ({"media": {"type": "image"}}, "missing_field"),
                          ({"media": {"type": "image", "url": "https://x.example.com/a", "x": 1}}, "unknown_field"),
                          ({"media": {"type": "image", "url": "https://x.example.com/a"}, "text": "x"},
                           "invalid_field"),
                          ({"media": {"type": "image", "url": "https://x.example.com/a\u0000b"}}, "invalid_field"),
                          ({"media": {"type": "image", "url": "https://x.example.com/a", "caption": "a\u0000"}},
                           "invalid_field")):
            self.assertError(self.send(mcid, bad), 400, code, f"{bad}")
        # Attachments are free-form messages: the window applies.
        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '30 hours' WHERE id = {cid}")
        self.assertError(self.send(cid, {"media": {"type": "image", "url": "https://cdn.example.com/a.jpg"}}), 422,
                         "outside_messaging_window", "an attachment after 24 h")


    def test_whatsapp_media_streams_through_switchboard(self):
        ext, secret = self.channel("whatsapp")
        contact = harness.uid("1555")
        cid = self.conversation_with("whatsapp", ext, secret, contact, hours_ago=1)
        data = bytes(range(256)) * 300  # 76.8 kB, every byte value
        media_id = harness.uid("mediaid")
        self.fake.call("POST", "/_media", {"media": {media_id: {
            "mime_type": "image/jpeg", "data_b64": base64.b64encode(data).decode()}}})
        image = {"from": contact, "id": harness.uid("wamid."), "timestamp": str(int(time.time())),
                 "type": "image", "image": {"id": media_id, "mime_type": "image/jpeg", "caption": "this one"}}
        body = harness.webhook_body("whatsapp", [harness.whatsapp_entry("waba-" + ext, ext, [image])])
        self.assertEqual(self.api.post_webhook("whatsapp", body, secret=secret).status, 200)
        mid = int(self.db.value(f"SELECT id FROM messages WHERE conversation_id = {cid} AND type = 'image'"))

        for token in (self.key, self.agent):
            r = self.http.get(f"/v1/messages/{mid}/media", token=token)
            self.assertEqual(r.status, 200, f"GET /v1/messages/{mid}/media: {r.status} {r.body[:200]!r}")
            self.assertEqual(r.header("content-type"), "image/jpeg")
            self.assertEqual(r.header("x-content-type-options"), "nosniff")
            self.assertEqual(r.body, data, "the file, byte for byte")
        paths = [q["path"] for q in self.fake.requests()]
        self.assertIn(f"/v21.0/{media_id}", paths, "the media id's URL asked of the Graph API")
        files = [q for q in self.fake.requests()
                 if q["path"].startswith(f"/_files/{media_id}?")]
        self.assertEqual(files[0]["headers"].get("Authorization"), "Bearer EAAG-token")

        text_id = int(self.db.value(f"SELECT min(id) FROM messages WHERE conversation_id = {cid}"))
        self.assertError(self.http.get(f"/v1/messages/{text_id}/media", token=self.key), 404, "no_media")
        other = self.api.create_business()["api_key"]
        self.assertError(self.http.get(f"/v1/messages/{mid}/media", token=other), 404, "not_found",
                         "another business's message")
        self.assertError(self.http.get("/v1/messages/999999999/media", token=self.key), 404, "not_found")
        self.assertEqual(self.http.get(f"/v1/messages/{mid}/media").status, 401)
        self.fake.reset()
        self.assertError(self.http.get(f"/v1/messages/{mid}/media", token=self.key), 502, "media_unavailable",
                         "Meta no longer has the media")


if __name__ == "__main__":
    unittest.main()
