"""Webhook ingestion and the foundation /v1 API, end to end: the real binary,
a real PostgreSQL database (fresh per class) and real sockets."""

import json
import re
import secrets
import socket
import time
import unittest
import urllib.parse

import harness
from harness import ADMIN_TOKEN, KINDS, PUBLIC_URL, TIME_RE, dumps, sign, sql_literal, uid


class WebhookCase(harness.ServerTestCase):
    """Helpers shared by the webhook suites."""

    def channel(self, kind="messenger", key=None, **kw):
        """(business api key, channel response, app secret, verify token)."""
        if key is None:
            key = self.api.create_business()["api_key"]
        secret = kw.pop("app_secret", None) or secrets.token_hex(16)
        ch = self.api.create_channel(key, kind, app_secret=secret, **kw)
        return key, ch, secret, ch["_request"]["verify_token"]

    def post(self, kind, body, secret=None, **kw):
        return self.api.post_webhook(kind, body, secret=secret, **kw)

    def assertStored(self, r, messages=None, duplicates=None, what=""):
        self.assertEqual(r.status, 200, f"{what}: expected 200, got {r!r}")
        self.assertIsInstance(r.json, dict, f"{what}: expected a JSON object, got {r!r}")
        self.assertEqual(r.json.get("status"), "ok", f"{what}: expected status ok, got {r.json!r}")
        for k in ("messages", "duplicates", "statuses", "events", "skipped_entries"):
            v = r.json.get(k)
            self.assertTrue(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                            f"{what}: expected an integer {k!r} >= 0, got {r.json!r}")
        if messages is not None:
            self.assertEqual(r.json["messages"], messages, f"{what}: new messages: {r.json!r}")
        if duplicates is not None:
            self.assertEqual(r.json["duplicates"], duplicates, f"{what}: duplicates: {r.json!r}")
        return r.json

    def db_count(self, mid, direction=None):
        q = f"SELECT count(*) FROM messages WHERE provider_message_id = {sql_literal(mid)}"
        if direction:
            q += f" AND direction = {sql_literal(direction)}"
        return self.db.count(q)

    def db_total(self):
        return (self.db.count("SELECT count(*) FROM messages"),
                self.db.count("SELECT count(*) FROM conversations"))

    def conversations_of(self, key, contact):
        return [c for c in self.api.conversations(key) if c["contact"]["external_id"] == contact]


class StartupTest(WebhookCase):
    """The ready file means ready: a webhook posted right after it (before
    any start-up housekeeping has finished) is stored like any other."""

    def test_webhook_right_after_start_is_stored(self):
        _, ch, secret, _ = self.channel("whatsapp")
        mids = [uid("wamid.early.") for _ in range(3)]
        for mid in mids:
            r = self.post("whatsapp", harness.message_body("whatsapp", ch["external_id"], "15550001", mid, "early"),
                          secret)
            self.assertStored(r, messages=1, what="a webhook within milliseconds of the ready file")
        for mid in mids:
            self.assertEqual(self.db_count(mid), 1, f"psql: {mid}")


class HandshakeTest(WebhookCase):
    def test_right_token_answers_challenge_as_text(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                _, _, _, token = self.channel(kind)
                challenge = str(secrets.randbelow(10**12))
                q = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": token,
                                            "hub.challenge": challenge})
                r = self.http.get(f"/webhooks/{kind}?{q}")
                self.assertEqual(r.status, 200, f"handshake with the right token: {r!r}")
                self.assertTrue(r.header("content-type", "").startswith("text/plain"),
                                f"expected Content-Type text/plain, got {r.header('content-type')!r}")
                self.assertEqual(r.body.decode(), challenge, "the body must be hub.challenge verbatim")

    def test_wrong_token_is_403_json(self):
        _, _, _, token = self.channel("messenger")
        cases = {
            "wrong token": {"hub.mode": "subscribe", "hub.verify_token": token + "x", "hub.challenge": "1"},
            "wrong mode": {"hub.mode": "unsubscribe", "hub.verify_token": token, "hub.challenge": "1"},
            "no token": {"hub.mode": "subscribe", "hub.challenge": "1"},
        }
        for name, q in cases.items():
            with self.subTest(name):
                r = self.http.get("/webhooks/messenger?" + urllib.parse.urlencode(q))
                self.assertError(r, 403, "verification_failed", name)
        with self.subTest("token of another kind's channel"):
            q = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": token,
                                        "hub.challenge": "1"})
            self.assertError(self.http.get("/webhooks/whatsapp?" + q), 403, "verification_failed",
                             "a messenger verify token on /webhooks/whatsapp")

    def test_unknown_kind_is_404(self):
        q = "hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"
        self.assertError(self.http.get(f"/webhooks/telegram?{q}"), 404, "not_found", "GET /webhooks/telegram")
        body = harness.message_body("messenger", "1", "2", uid("m"), "hi")
        self.assertError(self.post("telegram", body, secret="s"), 404, "not_found", "POST /webhooks/telegram")


class IngestTest(WebhookCase):
    def test_signed_message_of_each_kind_is_stored(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                key, ch, secret, _ = self.channel(kind)
                contact, mid = uid("c"), uid(f"{kind}.mid.")
                text = f"héllo 👋 from {kind}"
                r = self.post(kind, harness.message_body(kind, ch["external_id"], contact, mid, text), secret)
                self.assertStored(r, messages=1, duplicates=0, what=f"signed {kind} message")

                rows = self.db.psql(f"SELECT direction, text FROM messages WHERE provider_message_id = "
                                    f"{sql_literal(mid)}")
                self.assertEqual(rows, [["in", text]], f"psql: the {kind} message as stored")

                convs = self.api.conversations(key)
                self.assertEqual(len(convs), 1, f"expected one conversation, got {convs!r}")
                c = convs[0]
                self.assertEqual(c["channel"]["kind"], kind, c)
                self.assertEqual(c["channel"]["id"], ch["id"], c)
                self.assertEqual(c["contact"]["external_id"], contact, c)
                if kind == "whatsapp":
                    self.assertEqual(c["contact"]["name"], f"Customer {contact[-4:]}", c)
                self.assertEqual(c["status"], "waiting", "new conversations wait until routing exists")
                self.assertRegex(c["opened_at"], TIME_RE, "opened_at: ISO 8601 UTC with milliseconds")
                self.assertRegex(c["last_message_at"] or "", TIME_RE, "last_message_at")
                self.assertIsNone(c["resolved_at"], c)
                self.assertIsInstance(c["id"], int, c)

                r = self.http.get(f"/v1/conversations/{c['id']}", token=key)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, c, "GET /v1/conversations/{id} must equal the list item")

                msgs = self.api.messages(key, c["id"])
                self.assertEqual(len(msgs), 1, msgs)
                m = msgs[0]
                expected = {"conversation_id": c["id"], "direction": "in", "sender": "customer",
                            "agent_id": None, "provider_message_id": mid, "type": "text", "text": text,
                            "status": "received", "referral": None, "order": None}
                self.assertEqual({k: m.get(k) for k in expected}, expected, f"message as served: {m!r}")
                self.assertRegex(m["created_at"], TIME_RE, "created_at")

    def test_duplicate_delivery_is_stored_once(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                key, ch, secret, _ = self.channel(kind)
                mid = uid("dup.")
                body = dumps(harness.message_body(kind, ch["external_id"], uid("c"), mid, "twice"))
                self.assertStored(self.post(kind, body, secret), messages=1, duplicates=0, what="first delivery")
                self.assertStored(self.post(kind, body, secret), messages=0, duplicates=1, what="redelivery")
                self.assertEqual(self.db_count(mid), 1, "psql: a redelivered message is stored once")
                convs = self.api.conversations(key)
                self.assertEqual(len(convs), 1, convs)
                self.assertEqual(len(self.api.messages(key, convs[0]["id"])), 1)

    def test_two_messages_from_one_contact_share_a_conversation(self):
        key, ch, secret, _ = self.channel("whatsapp")
        contact = "1555" + str(secrets.randbelow(10**7))
        mids = [uid("wamid.a"), uid("wamid.b")]
        t = harness.now_ms()
        for i, mid in enumerate(mids):
            body = harness.message_body("whatsapp", ch["external_id"], contact, mid, f"msg {i}", t + i * 1000)
            self.assertStored(self.post("whatsapp", body, secret), messages=1, what=f"message {i}")
        convs = self.api.conversations(key)
        self.assertEqual(len(convs), 1, f"two messages of one contact: expected one conversation, got {convs!r}")
        msgs = self.api.messages(key, convs[0]["id"])
        self.assertEqual([m["provider_message_id"] for m in msgs], mids, "messages oldest first")
        self.assertEqual(self.db.count(
            "SELECT count(DISTINCT conversation_id) FROM messages WHERE provider_message_id IN ("
            + ",".join(sql_literal(m) for m in mids) + ")"), 1, "psql: one conversation_id")

    def test_resolved_conversation_is_not_reopened(self):
        key, ch, secret, _ = self.channel("messenger")
        contact, m1, m2 = uid("psid"), uid("m1."), uid("m2.")
        t = harness.now_ms()
        self.assertStored(self.post("messenger", harness.message_body(
            "messenger", ch["external_id"], contact, m1, "first", t), secret), messages=1)
        (c1,) = self.conversations_of(key, contact)
        self.db.psql(f"UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = {int(c1['id'])}")
        self.assertStored(self.post("messenger", harness.message_body(
            "messenger", ch["external_id"], contact, m2, "second", t + 1000), secret), messages=1)
        convs = self.conversations_of(key, contact)
        self.assertEqual(len(convs), 2, f"a resolved conversation stays closed; expected two, got {convs!r}")
        newest, old = convs
        self.assertNotEqual(newest["id"], c1["id"], "newest first: the new conversation comes first")
        self.assertEqual(old["id"], c1["id"])
        self.assertEqual(old["status"], "resolved", old)
        self.assertRegex(old["resolved_at"] or "", TIME_RE, "resolved_at")
        self.assertEqual(newest["status"], "waiting", newest)
        self.assertEqual([m["provider_message_id"] for m in self.api.messages(key, c1["id"])], [m1])
        self.assertEqual([m["provider_message_id"] for m in self.api.messages(key, newest["id"])], [m2])
        self.assertEqual(self.db.value(f"SELECT status FROM conversations WHERE id = {int(c1['id'])}"), "resolved")

    def test_batched_body_stores_every_message(self):
        with self.subTest("messenger: two entries, two events each"):
            key = self.api.create_business()["api_key"]
            secret = secrets.token_hex(16)
            pages = [self.api.create_channel(key, "messenger", app_secret=secret)["external_id"]
                     for _ in range(2)]
            contacts = [uid("psid"), uid("psid"), uid("psid")]
            t = harness.now_ms()
            plan = [(pages[0], contacts[0]), (pages[0], contacts[1]), (pages[1], contacts[2]),
                    (pages[1], contacts[2])]
            mids = [uid(f"batch{i}.") for i in range(len(plan))]
            entries = {}
            for i, ((page, contact), mid) in enumerate(zip(plan, mids)):
                entries.setdefault(page, []).append(
                    harness.messenger_event(page, contact, mid, f"batched {i}", t + i))
            body = harness.webhook_body("messenger", [harness.page_entry(p, ev, t) for p, ev in entries.items()])
            self.assertStored(self.post("messenger", body, secret), messages=4, duplicates=0)
            for mid in mids:
                self.assertEqual(self.db_count(mid, "in"), 1, f"psql: {mid} stored once, inbound")
            convs = self.api.conversations(key)
            self.assertEqual(sorted(c["contact"]["external_id"] for c in convs), sorted(contacts),
                             "one conversation per contact and channel")
            by_contact = {c["contact"]["external_id"]: c for c in convs}
            self.assertEqual([m["provider_message_id"] for m in self.api.messages(key, by_contact[contacts[2]]["id"])],
                             mids[2:], "both messages of the second entry, in order")

        with self.subTest("whatsapp: two entries, several messages per change"):
            key = self.api.create_business()["api_key"]
            secret = secrets.token_hex(16)
            phones = [self.api.create_channel(key, "whatsapp", app_secret=secret)["external_id"]
                      for _ in range(2)]
            waids = ["1555" + str(secrets.randbelow(10**7)) for _ in range(3)]
            now_s = harness.now_ms() // 1000
            msgs0 = [harness.whatsapp_message(waids[0], uid("wamid.x"), "one", now_s),
                     harness.whatsapp_message(waids[1], uid("wamid.y"), "two", now_s),
                     harness.whatsapp_message(waids[0], uid("wamid.z"), "three", now_s + 1)]
            msgs1 = [harness.whatsapp_message(waids[2], uid("wamid.w"), "four", now_s)]
            entry0 = harness.whatsapp_entry("waba1", phones[0], msgs0)
            entry0["changes"].append({"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "1", "phone_number_id": phones[0]},
                "statuses": [{"id": uid("wamid.out"), "status": "delivered", "timestamp": str(now_s),
                              "recipient_id": waids[0]}]}})
            body = harness.webhook_body("whatsapp", [entry0, harness.whatsapp_entry("waba2", phones[1], msgs1)])
            self.assertStored(self.post("whatsapp", body, secret), messages=4, duplicates=0)
            for m in msgs0 + msgs1:
                self.assertEqual(self.db_count(m["id"], "in"), 1, f"psql: {m['id']} stored once, inbound")
            convs = self.api.conversations(key)
            self.assertEqual(len(convs), 3, f"three contacts -> three conversations: {convs!r}")


class SignatureTest(WebhookCase):
    def test_wrong_signature_is_401_and_stores_nothing(self):
        for kind in KINDS:
            key, ch, secret, _ = self.channel(kind)
            mid = uid("bad.")
            body = dumps(harness.message_body(kind, ch["external_id"], uid("c"), mid, "forged"))
            before = self.db_total()
            cases = {
                "signed with another secret": sign(body, secret + "x"),
                "signature of other bytes": sign(body + b" ", secret),
                "not hex": "sha256=" + "zz" * 32,
                "truncated": sign(body, secret)[:-2],
                "sha1 only": "sha1=" + "0" * 40,
                "no prefix": sign(body, secret)[len("sha256="):],
                "empty": "",
            }
            for name, sig in cases.items():
                with self.subTest(kind=kind, case=name):
                    r = self.post(kind, body, signature=sig)
                    self.assertError(r, 401, "invalid_signature", f"{kind}, {name}")
            with self.subTest(kind=kind, case="missing header"):
                self.assertError(self.post(kind, body), 401, "invalid_signature", "no X-Hub-Signature-256")
            self.assertEqual(self.db_total(), before, "psql: (messages, conversations) changed after 401s")
            self.assertEqual(self.db_count(mid), 0, "psql: the forged message was stored")
            self.assertEqual(self.api.conversations(key), [], "no conversation after forged posts")

    def test_body_naming_no_registered_channel_is_ignored(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                mid = uid("ign.")
                body = harness.message_body(kind, uid("unregistered"), uid("c"), mid, "to nobody")
                before = self.db_total()
                r = self.post(kind, body, secret="whatever")
                self.assertEqual(r.status, 200, f"a body naming no registered channel: {r!r}")
                self.assertEqual(r.json, {"status": "ignored"}, r)
                self.assertEqual(self.db_total(), before, "psql: an ignored body changed the database")
                self.assertEqual(self.db_count(mid), 0)

    def test_only_entries_whose_channel_secret_verifies_are_stored(self):
        key_a, ch_a, secret_a, _ = self.channel("messenger")
        key_b, ch_b, secret_b, _ = self.channel("messenger")
        mid_a, mid_b = uid("a."), uid("b.")
        t = harness.now_ms()
        body = dumps(harness.webhook_body("messenger", [
            harness.page_entry(ch_a["external_id"], [harness.messenger_event(ch_a["external_id"], uid("p"), mid_a, "for A", t)]),
            harness.page_entry(ch_b["external_id"], [harness.messenger_event(ch_b["external_id"], uid("p"), mid_b, "for B", t)]),
        ]))
        ack = self.assertStored(self.post("messenger", body, secret_a), messages=1, what="signed with A's secret")
        self.assertEqual(ack["skipped_entries"], 1, f"B's entry must be skipped and counted: {ack!r}")
        self.assertEqual(self.db_count(mid_a), 1, "psql: A's message stored")
        self.assertEqual(self.db_count(mid_b), 0, "psql: B's message stored though B's secret did not sign")
        self.assertEqual(self.api.conversations(key_b), [], "B sees no conversation")
        self.assertEqual(len(self.api.conversations(key_a)), 1)

        ack = self.assertStored(self.post("messenger", body, secret_b), messages=1, what="signed with B's secret")
        self.assertEqual(ack["skipped_entries"], 1, ack)
        self.assertEqual(self.db_count(mid_b), 1, "psql: B's message stored")
        self.assertEqual(self.db_count(mid_a), 1, "psql: A's message still once")

        self.assertError(self.post("messenger", body, "neither"), 401, "invalid_signature",
                         "a secret of neither channel")


class HostileInputTest(WebhookCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        key = cls.api.create_business()["api_key"]
        cls.secret = secrets.token_hex(16)
        cls.key = key
        cls.page = cls.api.create_channel(key, "messenger", app_secret=cls.secret)["external_id"]
        cls.phone = cls.api.create_channel(key, "whatsapp", app_secret=cls.secret)["external_id"]

    def body_with(self, placeholder_bytes, kind="messenger"):
        """A valid one-message body whose text is replaced by raw bytes."""
        ch = self.page if kind == "messenger" else self.phone
        mid = uid("hostile.")
        raw = dumps(harness.message_body(kind, ch, uid("c"), mid, "PLACEHOLDER"))
        return raw.replace(b"PLACEHOLDER", placeholder_bytes), mid

    def test_malformed_bodies_are_400_and_change_nothing(self):
        good, good_mid = self.body_with(b"fine")
        deep = b'{"object":"page","entry":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        wa_no_phone = harness.message_body("whatsapp", self.phone, "1555", uid("wamid."), "x")
        del wa_no_phone["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
        wa_no_metadata = harness.message_body("whatsapp", self.phone, "1555", uid("wamid."), "x")
        del wa_no_metadata["entry"][0]["changes"][0]["value"]["metadata"]
        cases = [
            # (name, kind, body bytes, code)
            ("empty body", "messenger", b"", "invalid_json"),
            ("truncated JSON", "messenger", good[: len(good) // 2], "invalid_json"),
            ("trailing garbage", "messenger", good + b"}", "invalid_json"),
            ("100,000-deep nesting", "messenger", deep, "too_deep"),
            ("raw NUL inside a string", "messenger", self.body_with(b"a\x00b")[0], "invalid_json"),
            ("raw NUL between tokens", "messenger", good.replace(b'{"object"', b'{\x00"object"', 1), "invalid_json"),
            ("invalid UTF-8 (0xff 0xfe)", "messenger", self.body_with(b"\xff\xfe")[0], "invalid_json"),
            ("overlong UTF-8 (0xc0 0xaf)", "messenger", self.body_with(b"\xc0\xaf")[0], "invalid_json"),
            ("UTF-8 encoded surrogate", "messenger", self.body_with(b"\xed\xa0\x80")[0], "invalid_json"),
            ("lone high surrogate escape", "messenger", self.body_with(b"x\\ud800y")[0], "invalid_json"),
            ("lone low surrogate escape", "whatsapp", self.body_with(b"\\udc00", "whatsapp")[0], "invalid_json"),
            ("top level is an array", "messenger", b"[]", "invalid_shape"),
            ("object of another kind", "messenger",
             dumps({"object": "instagram", "entry": [{"id": self.page, "messaging": []}]}), "invalid_shape"),
            ("object missing", "messenger", dumps({"entry": [{"id": self.page, "messaging": []}]}), "invalid_shape"),
            ("entry not an array", "messenger",
             dumps({"object": "page", "entry": {"id": self.page, "messaging": []}}), "invalid_shape"),
            ("entry element not an object", "messenger", dumps({"object": "page", "entry": ["x"]}), "invalid_shape"),
            ("entry id a number", "messenger",
             dumps({"object": "page", "entry": [{"id": 12345, "messaging": []}]}), "invalid_shape"),
            ("entry id missing", "messenger", dumps({"object": "page", "entry": [{"messaging": []}]}), "invalid_shape"),
            ("whatsapp messages change without phone_number_id", "whatsapp", dumps(wa_no_phone), "invalid_shape"),
            ("whatsapp messages change without metadata", "whatsapp", dumps(wa_no_metadata), "invalid_shape"),
        ]
        before = self.db_total()
        for name, kind, body, code in cases:
            with self.subTest(name):
                r = self.post(kind, body, self.secret)
                self.assertError(r, 400, code, f"{name} ({len(body)} bytes)")
                self.assertHealthy(after=name)
        self.assertEqual(self.db_total(), before, "psql: a rejected body changed the database")
        self.assertEqual(self.db_count(good_mid), 0)

    def test_nul_escape_in_text_is_accepted_without_nul(self):
        for kind in ("messenger", "whatsapp"):
            with self.subTest(kind=kind):
                body, mid = self.body_with(b"a\\u0000b", kind)
                self.assertStored(self.post(kind, body, self.secret), messages=1, what="text with \\u0000")
                rows = self.db.psql(f"SELECT text FROM messages WHERE provider_message_id = {sql_literal(mid)}")
                self.assertEqual(len(rows), 1, f"psql: the message with a \\u0000 escape: {rows!r}")
                stored = rows[0][0]
                self.assertNotIn("\x00", stored)
                self.assertTrue(stored.startswith("a") and stored.endswith("b"),
                                f"stored text should keep the text around the NUL, got {stored!r}")
                self.assertHealthy(after="\\u0000 escape")

    def test_content_length_over_4_mib_is_413_before_the_body(self):
        body = b"{}"
        for length in (harness.WEBHOOK_LIMIT + 1, 100 * 1024**3):
            with self.subTest(content_length=length):
                head = (f"POST /webhooks/messenger HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Content-Type: application/json\r\nX-Hub-Signature-256: {sign(body, self.secret)}\r\n"
                        f"Content-Length: {length}\r\n\r\n").encode()
                status, headers, rbody, elapsed, raw = harness.raw_exchange(
                    self.server.address, head, read_timeout=5.0)
                self.assertEqual(status, 413, f"Content-Length {length} with no body sent: expected 413 "
                                              f"within 5 s, got {raw[:300]!r} after {elapsed:.1f} s")
                self.assertEqual(json.loads(rbody)["error"]["code"], "payload_too_large", rbody)
                self.assertHealthy(after=f"Content-Length {length}")

    def test_chunked_body_over_4_mib_is_413(self):
        size = harness.WEBHOOK_LIMIT + 1
        prefix = dumps({"object": "page", "entry": []})[:-1] + b" "
        payload = prefix + b" " * (size - len(prefix) - 1) + b"}"
        self.assertEqual(len(payload), size)
        head = (f"POST /webhooks/messenger HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nX-Hub-Signature-256: {sign(payload, self.secret)}\r\n"
                f"Transfer-Encoding: chunked\r\n\r\n").encode()
        step = 64 * 1024
        chunks = [b"%x\r\n" % len(payload[i:i + step]) + payload[i:i + step] + b"\r\n"
                  for i in range(0, size, step)] + [b"0\r\n\r\n"]
        status, headers, rbody, elapsed, raw = harness.raw_exchange(
            self.server.address, head, chunks, read_timeout=15.0)
        self.assertEqual(status, 413, f"4 MiB + 1 sent chunked: expected 413, got {raw[:300]!r}")
        self.assertEqual(json.loads(rbody)["error"]["code"], "payload_too_large", rbody)
        self.assertHealthy(after="chunked 4 MiB + 1")

    def test_body_of_exactly_4_mib_is_accepted(self):
        mid = uid("big.")
        raw = dumps(harness.message_body("messenger", self.page, uid("c"), mid, "big"))
        body = raw[:-1] + b" " * (harness.WEBHOOK_LIMIT - len(raw)) + b"}"
        self.assertEqual(len(body), harness.WEBHOOK_LIMIT)
        r = self.post("messenger", body, self.secret)
        self.assertStored(r, messages=1, what="a body of exactly 4 MiB (the limit is 'over 4 MiB')")
        self.assertEqual(self.db_count(mid), 1)

    def test_api_body_over_1_mib_is_413(self):
        body = dumps({"kind": "messenger", "external_id": uid("p"), "app_secret": "s", "verify_token": "t"})
        body = body[:-1] + b" " * (harness.API_LIMIT + 1 - len(body)) + b"}"
        head = (f"POST /v1/channels HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        status, _, rbody, _, raw = harness.raw_exchange(self.server.address, head, [body], read_timeout=10)
        self.assertEqual(status, 413, f"/v1 body of 1 MiB + 1: expected 413, got {raw[:300]!r}")
        self.assertEqual(json.loads(rbody)["error"]["code"], "payload_too_large", rbody)
        self.assertHealthy(after="/v1 body over 1 MiB")

    def test_unknown_route_is_404_json(self):
        for method, path in [("GET", "/nope"), ("GET", "/v1/nope"), ("GET", "/webhooks"),
                             ("GET", "/v1/conversations/1/nope"), ("POST", "/v1/nothing-here"),
                             ("GET", "/admin/../etc/passwd")]:
            with self.subTest(f"{method} {path}"):
                r = self.http.request(method, path, token=self.key, body=b"{}" if method == "POST" else None)
                self.assertError(r, 404, "not_found", f"{method} {path}")

    def test_wrong_method_is_405_json(self):
        for method, path in [("POST", "/healthz"), ("DELETE", "/readyz"), ("POST", "/metrics"),
                             ("DELETE", "/v1/channels"), ("PUT", "/v1/businesses"),
                             ("POST", "/v1/conversations"), ("DELETE", "/v1/conversations/1"),
                             ("PUT", "/webhooks/messenger")]:
            with self.subTest(f"{method} {path}"):
                r = self.http.request(method, path, token=self.key, body=b"{}")
                self.assertError(r, 405, "method_not_allowed", f"{method} {path}")


class ExpectContinueTest(WebhookCase):
    """A client that sends `Expect: 100-continue` (curl does, for bodies over
    1 KiB) gets `100 Continue` at once and then its answer, instead of
    waiting out its own timeout before it sends the body."""

    def test_100_continue_then_the_body_is_stored(self):
        key, ch, secret, _ = self.channel("whatsapp")
        mid = uid("wamid.")
        body = dumps(harness.message_body("whatsapp", ch["external_id"], uid("57"), mid, "x" * 1500))
        head = (f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"X-Hub-Signature-256: {sign(body, secret)}\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").encode()
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(head)
            t0 = time.monotonic()
            interim = b""
            while b"\r\n\r\n" not in interim:
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"connection closed before 100 Continue: {interim!r}")
                interim += chunk
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim)
            self.assertLess(time.monotonic() - t0, 0.5, "100 Continue came late")
            s.sendall(body)
            answer = interim.split(b"\r\n\r\n", 1)[1]
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer)
        self.assertEqual(self.db_count(mid), 1)

    def test_a_body_over_the_limit_gets_413_not_100_continue(self):
        head = (f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {harness.WEBHOOK_LIMIT + 1}\r\nExpect: 100-continue\r\n\r\n").encode()
        status, _, body, _, raw = harness.raw_exchange(self.server.address, head)
        self.assertEqual(status, 413, raw[:200])


class ApiTest(WebhookCase):
    def test_health_readiness_metrics(self):
        r = self.http.get("/healthz")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}), r)
        r = self.http.get("/readyz")
        self.assertEqual((r.status, r.json), (200, {"status": "ready"}), r)
        r = self.http.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)
        sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEinfINFNa]+( \d+)?$")
        bad = [line for line in r.body.decode().splitlines()
               if line and not line.startswith("#") and not sample.match(line)]
        self.assertEqual(bad, [], "lines of /metrics that are not Prometheus samples")

    def test_create_business(self):
        r = self.http.post("/v1/businesses", json_body={"name": "Acme"}, token=ADMIN_TOKEN)
        self.assertEqual(r.status, 201, r)
        b = r.json
        self.assertIsInstance(b.get("id"), int, b)
        self.assertEqual((b.get("name"), b.get("timezone")), ("Acme", "UTC"), "timezone defaults to UTC")
        self.assertRegex(b.get("created_at") or "", TIME_RE, "created_at")
        self.assertIsInstance(b.get("api_key"), str)
        self.assertGreaterEqual(len(b["api_key"]), 22, "api keys carry at least 128 random bits")
        self.assertEqual(self.http.get("/v1/channels", token=b["api_key"]).status, 200, "the key works")

        r = self.http.post("/v1/businesses", json_body={"name": "x" * 200, "timezone": "Europe/Madrid"},
                           token=ADMIN_TOKEN)
        self.assertEqual(r.status, 201, f"a 200-character name is allowed: {r!r}")
        self.assertEqual(r.json["timezone"], "Europe/Madrid")
        self.assertNotEqual(r.json["api_key"], b["api_key"])

    def test_business_validation(self):
        cases = [
            ("empty name", {"name": ""}, "invalid_field", "name"),
            ("name of 201 characters", {"name": "x" * 201}, "invalid_field", "name"),
            ("name a number", {"name": 5}, "invalid_field", "name"),
            ("unknown time zone", {"name": "a", "timezone": "Mars/Olympus"}, "invalid_field", "timezone"),
            ("time zone a number", {"name": "a", "timezone": 1}, "invalid_field", "timezone"),
            ("unknown field", {"name": "a", "colour": "red"}, "unknown_field", "colour"),
            ("missing name", {"timezone": "UTC"}, "missing_field", "name"),
        ]
        for name, body, code, field in cases:
            with self.subTest(name):
                r = self.http.post("/v1/businesses", json_body=body, token=ADMIN_TOKEN)
                err = self.assertError(r, 400, code, f"POST /v1/businesses {body!r}"[:120])
                self.assertIn(field, err["message"], f"the message must name the field {field!r}")
        r = self.http.post("/v1/businesses", body=b'{"name": ', headers={"Content-Type": "application/json"},
                           token=ADMIN_TOKEN)
        self.assertError(r, 400, "invalid_json", "truncated JSON")

    def test_channel_validation_changes_nothing(self):
        key = self.api.create_business()["api_key"]
        base = {"kind": "messenger", "external_id": uid("p"), "app_secret": "s", "verify_token": "t"}
        cases = [
            ("unknown field", {**base, "colour": "red"}, "unknown_field", "colour"),
            ("external_id a number", {**base, "external_id": 123}, "invalid_field", "external_id"),
            ("unknown kind", {**base, "kind": "telegram"}, "invalid_field", "kind"),
            ("app_secret an object", {**base, "app_secret": {"a": 1}}, "invalid_field", "app_secret"),
            ("name a list", {**base, "name": ["x"]}, "invalid_field", "name"),
            ("missing app_secret", {k: v for k, v in base.items() if k != "app_secret"},
             "missing_field", "app_secret"),
            ("missing verify_token", {k: v for k, v in base.items() if k != "verify_token"},
             "missing_field", "verify_token"),
        ]
        for name, body, code, field in cases:
            with self.subTest(name):
                r = self.http.post("/v1/channels", json_body=body, token=key)
                err = self.assertError(r, 400, code, f"POST /v1/channels, {name}")
                self.assertIn(field, err["message"], f"the message must name the field {field!r}")
        self.assertError(self.http.post("/v1/channels", body=b"{nope", token=key,
                                        headers={"Content-Type": "application/json"}),
                         400, "invalid_json", "invalid JSON")
        r = self.http.get("/v1/channels", token=key)
        self.assertEqual(r.json, {"items": [], "next_cursor": None}, "rejected bodies created a channel")

    def test_channel_answer_and_list_never_show_secrets(self):
        key = self.api.create_business()["api_key"]
        secret, token, access = "S3CRET-" + uid(), "VT-" + uid(), "EAAG-" + uid()
        created = []
        for kind in KINDS:
            ext = uid("ext")
            kw = {"account_id": uid("waba")} if kind == "whatsapp" else {}
            r = self.http.post("/v1/channels", token=key, json_body={
                "kind": kind, "external_id": ext, "app_secret": secret, "verify_token": token + kind,
                "access_token": access, "name": f"My {kind}", **kw})
            self.assertEqual(r.status, 201, r)
            for s in (secret, token, access):
                self.assertNotIn(s.encode(), r.body, "POST /v1/channels echoed a secret")
            c = r.json
            self.assertEqual((c["kind"], c["external_id"], c["name"], c.get("account_id")),
                             (kind, ext, f"My {kind}", kw.get("account_id")), c)
            self.assertEqual(c["webhook_url"], f"{PUBLIC_URL}/webhooks/{kind}")
            self.assertIsInstance(c["id"], int)
            self.assertRegex(c["created_at"], TIME_RE)
            created.append(c)
        r = self.http.get("/v1/channels", token=key)
        self.assertEqual(r.status, 200, r)
        for s in (secret, token, access):
            self.assertNotIn(s.encode(), r.body, "GET /v1/channels shows a secret")
        self.assertIsNone(r.json["next_cursor"])
        self.assertEqual(sorted(c["id"] for c in r.json["items"]), sorted(c["id"] for c in created))
        for item in r.json["items"]:
            self.assertFalse({"app_secret", "verify_token", "access_token"} & set(item), item)
            self.assertEqual(item, next(c for c in created if c["id"] == item["id"]),
                             "a listed channel equals the created one")

    def test_channel_exists_is_409(self):
        key_a = self.api.create_business()["api_key"]
        key_b = self.api.create_business()["api_key"]
        ext = uid("dup")
        self.api.create_channel(key_a, "instagram", external_id=ext)
        r = self.http.post("/v1/channels", token=key_a, json_body={
            "kind": "instagram", "external_id": ext, "app_secret": "x", "verify_token": "y"})
        self.assertError(r, 409, "channel_exists", "same kind and external_id, same business")
        r = self.http.post("/v1/channels", token=key_b, json_body={
            "kind": "instagram", "external_id": ext, "app_secret": "x", "verify_token": "y"})
        self.assertError(r, 409, "channel_exists", "same kind and external_id, another business")
        self.api.create_channel(key_b, "messenger", external_id=ext)  # another kind: 201

    def test_authentication_and_roles(self):
        key = self.api.create_business()["api_key"]
        cases401 = [
            ("GET", "/v1/channels", None), ("GET", "/v1/conversations", None),
            ("GET", "/v1/conversations/1", None), ("GET", "/v1/conversations/1/messages", None),
            ("POST", "/v1/channels", None), ("POST", "/v1/businesses", None),
            ("GET", "/v1/channels", "not-a-key"), ("POST", "/v1/businesses", ADMIN_TOKEN + "x"),
            ("GET", "/v1/channels", key + "x"),
        ]
        for method, path, token in cases401:
            with self.subTest(f"{method} {path} token={'none' if token is None else 'wrong'}"):
                r = self.http.request(method, path, token=token,
                                      json_body={"name": "x"} if method == "POST" else None)
                self.assertError(r, 401, "unauthorized", f"{method} {path}")
        with self.subTest("Basic instead of Bearer"):
            r = self.http.get("/v1/channels", headers={"Authorization": "Basic " + key})
            self.assertError(r, 401, "unauthorized", "Authorization: Basic")
        with self.subTest("business key on POST /v1/businesses"):
            r = self.http.post("/v1/businesses", json_body={"name": "x"}, token=key)
            self.assertError(r, 403, "forbidden", "a business key creating a business")
        for method, path in [("GET", "/v1/channels"), ("POST", "/v1/channels"), ("GET", "/v1/conversations")]:
            with self.subTest(f"admin token on {method} {path}"):
                body = {"kind": "messenger", "external_id": uid("p"), "app_secret": "s", "verify_token": "t"}
                r = self.http.request(method, path, token=ADMIN_TOKEN,
                                      json_body=body if method == "POST" else None)
                self.assertError(r, 403, "forbidden", f"the admin token on {method} {path}")

    def test_tenants_are_walls(self):
        key_a, ch_a, secret_a, _ = self.channel("messenger")
        key_b, ch_b, _, _ = self.channel("messenger")
        mid = uid("a.")
        self.assertStored(self.post("messenger", harness.message_body(
            "messenger", ch_a["external_id"], uid("p"), mid, "private to A"), secret_a), messages=1)
        (conv,) = self.api.conversations(key_a)
        cid = conv["id"]
        for path in (f"/v1/conversations/{cid}", f"/v1/conversations/{cid}/messages"):
            with self.subTest(path):
                r = self.http.get(path, token=key_b)
                self.assertError(r, 404, "not_found", f"B reading A's {path}")
                self.assertNotIn(b"private to A", r.body)
        self.assertEqual(self.api.conversations(key_b), [], "B lists A's conversation")
        self.assertEqual([c["id"] for c in self.http.get("/v1/channels", token=key_b).json["items"]],
                         [ch_b["id"]], "B lists only its own channel")
        for path in ("/v1/conversations/999999999", "/v1/conversations/999999999/messages"):
            self.assertError(self.http.get(path, token=key_a), 404, "not_found", path)

    def test_pagination_walks_every_item_once(self):
        key, ch, secret, _ = self.channel("instagram")
        contacts = [uid(f"ig{i}-") for i in range(7)]
        t = harness.now_ms()
        for i, contact in enumerate(contacts):
            self.assertStored(self.post("instagram", harness.message_body(
                "instagram", ch["external_id"], contact, uid("m."), f"hello {i}", t + i * 1000), secret), messages=1)
        convs, pages = self.api.list_all("/v1/conversations", key, limit=3)
        self.assertEqual([len(p) for p in pages], [3, 3, 1], "7 conversations in pages of 3")
        self.assertEqual(len({c["id"] for c in convs}), 7, "every conversation exactly once")
        self.assertEqual([c["contact"]["external_id"] for c in convs], contacts[::-1], "newest first")
        all_default, pages = self.api.list_all("/v1/conversations", key)
        self.assertEqual((len(pages), [c["id"] for c in all_default]), (1, [c["id"] for c in convs]),
                         "the default page (50) holds all 7")
        r = self.http.get("/v1/conversations?status=waiting&limit=200", token=key)
        self.assertEqual(len(r.json["items"]), 7, r)
        r = self.http.get("/v1/conversations?status=resolved", token=key)
        self.assertEqual(r.json, {"items": [], "next_cursor": None}, "no resolved conversation yet")

        contact = uid("one")
        mids = [uid(f"seq{i}.") for i in range(7)]
        for i, mid in enumerate(mids):
            self.assertStored(self.post("instagram", harness.message_body(
                "instagram", ch["external_id"], contact, mid, f"part {i}", t + 10_000 + i * 1000), secret),
                messages=1)
        (conv,) = self.conversations_of(key, contact)
        msgs, pages = self.api.list_all(f"/v1/conversations/{conv['id']}/messages", key, limit=2)
        self.assertEqual([len(p) for p in pages], [2, 2, 2, 1], "7 messages in pages of 2")
        self.assertEqual([m["provider_message_id"] for m in msgs], mids, "oldest first, each once")


if __name__ == "__main__":
    unittest.main()
