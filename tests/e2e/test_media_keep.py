"""Messenger and Instagram attachments kept on arrival, end to end: a real
server and PostgreSQL, and the fake Graph server as Meta's CDN.

Attachment URLs in webhooks expire, so the outbound role's media fetcher
downloads each one in the background (never before the webhook's 200) and
keeps it in message_media; GET /v1/messages/{id}/media then serves the kept
bytes. Files over SWITCHBOARD_MEDIA_MAX_BYTES are not kept (too_large);
URLs whose host is not on SWITCHBOARD_MEDIA_HOSTS are never requested
(refused); a CDN that fails is retried with a pause, a bounded number of
times; erasure deletes the kept files.
"""

import base64
import os
import time
import unittest

import harness
from harness import uid

MAX_BYTES = 200000


class MediaKeepTest(harness.ServerTestCase):
    with_fake_graph = True  # also Meta's CDN (/_cdn)
    server_env = {"SWITCHBOARD_MEDIA_HOSTS": "127.0.0.1", "SWITCHBOARD_MEDIA_MAX_BYTES": str(MAX_BYTES)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_base = cls.fake.base
        cls.port = int(cls.fake.base.rsplit(":", 1)[1])

    def setUp(self):
        self.key = self.api.create_business()["api_key"]

    # ---- helpers

    def channel(self, kind):
        ext, secret = uid("9"), "app-secret-" + uid()
        self.api.create_channel(self.key, kind, external_id=ext, app_secret=secret, access_token="EAAG-token")
        return ext, secret

    def cdn_file(self, data, mime="image/png", **extra):
        name = uid("f")
        self.fake.call("POST", "/_cdn", {"files": {name: dict(
            {"mime_type": mime, "data_b64": base64.b64encode(data).decode()}, **extra)}})
        return name, f"{self.fake_base}/_cdn/{name}?_nc_cat=1&oh=00_{uid()}&oe=6650"

    def cdn_requests(self, name):
        return [q for q in self.fake.requests()
                if q["path"].startswith(f"/_cdn/{name}?")]

    def attachment(self, kind, url, attachment_type="image"):
        """Posts a one-attachment webhook; returns (message id, seconds the webhook took)."""
        ext, secret = self.channel(kind)
        contact, mid = uid("psid"), uid("mid.")
        event = harness.messenger_event(ext, contact, mid, None)
        event["message"] = {"mid": mid, "attachments": [{"type": attachment_type, "payload": {"url": url}}]}
        body = harness.webhook_body(kind, [harness.page_entry(ext, [event])])
        started = time.monotonic()
        r = self.api.post_webhook(kind, body, secret=secret)
        took = time.monotonic() - started
        self.assertEqual(r.status, 200, repr(r))
        message_id = int(self.db.value(f"SELECT id FROM messages WHERE provider_message_id = '{mid}'"))
        return message_id, took

    def state(self, message_id):
        rows = self.db.psql(f"SELECT state, attempts, bytes IS NULL, content_type FROM message_media "
                            f"WHERE message_id = {message_id}")
        return tuple(rows[0]) if rows else None

    def wait_state(self, message_id, states, timeout=20):
        def reached():
            got = self.state(message_id)
            return got if got and got[0] in states else None
        return harness.wait_for(reached, f"message {message_id}: media state in {states}", timeout)

    def media(self, message_id, token=None):
        r = self.http.get(f"/v1/messages/{message_id}/media", token=token or self.key)
        self.conforms("GET", "/v1/messages/{id}/media", r)
        return r

    # ---- tests

    def test_messenger_and_instagram_images_are_kept_and_served(self):
        for kind in ("messenger", "instagram"):
            with self.subTest(kind=kind):
                data = bytes(range(256)) * 400 + kind.encode()  # every byte value
                name, url = self.cdn_file(data, "image/png", delay_ms=1500)
                message_id, took = self.attachment(kind, url)
                self.assertLess(took, 1.2, "the webhook's 200 must not wait for the download (the CDN takes 1.5 s)")
                self.assertEqual(self.wait_state(message_id, ("kept",)), ("kept", "1", "f", "image/png"))
                r = self.media(message_id)
                self.assertEqual(r.status, 200, f"GET /v1/messages/{message_id}/media: {r.status} {r.body[:200]!r}")
                self.assertEqual(r.header("content-type"), "image/png")
                self.assertEqual(r.header("x-content-type-options"), "nosniff")
                self.assertEqual(r.body, data, "the file, byte for byte")
                self.assertEqual(int(self.db.value(f"SELECT size FROM message_media WHERE message_id = {message_id}")),
                                 len(data))
                # Kept: asking again never goes back to the CDN (whose URL expires).
                self.assertEqual(self.media(message_id).body, data)
                reqs = self.cdn_requests(name)
                self.assertEqual(len(reqs), 1, f"one download: {reqs!r}")
                self.assertNotIn("Authorization", reqs[0]["headers"], "no token goes to a CDN")
                other = self.api.create_business()["api_key"]
                self.assertError(self.media(message_id, other), 404, "not_found", "another business's message")

    def test_other_attachment_types_are_kept(self):
        for attachment_type, mime in (("audio", "audio/mpeg"), ("video", "video/mp4"),
                                      ("file", "application/pdf")):
            with self.subTest(type=attachment_type):
                data = os.urandom(5000)
                _, url = self.cdn_file(data, mime)
                message_id, _ = self.attachment("messenger", url, attachment_type)
                self.wait_state(message_id, ("kept",))
                r = self.media(message_id)
                self.assertEqual((r.status, r.header("content-type"), r.body), (200, mime, data))

    def test_a_file_over_the_limit_is_not_kept(self):
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                name, url = self.cdn_file(os.urandom(MAX_BYTES + 1), "video/mp4", chunked=chunked)
                message_id, _ = self.attachment("instagram", url, "video")
                got = self.wait_state(message_id, ("too_large", "kept", "failed"))
                self.assertEqual(got[:3], ("too_large", "1", "t"), "over the limit: nothing kept, not retried")
                self.assertError(self.media(message_id), 502, "media_too_large")
                self.assertEqual(len(self.cdn_requests(name)), 1)
        # Exactly at the limit is kept.
        data = os.urandom(MAX_BYTES)
        _, url = self.cdn_file(data, "video/mp4", chunked=True)
        message_id, _ = self.attachment("instagram", url, "video")
        self.wait_state(message_id, ("kept",))
        self.assertEqual(self.media(message_id).body, data)

    def test_a_host_not_on_the_allow_list_is_never_requested(self):
        name, _ = self.cdn_file(b"secret")
        for url in (f"http://localhost:{self.port}/_cdn/{name}?x=1",
                    f"http://127.0.0.1@localhost:{self.port}/_cdn/{name}?x=2",
                    f"ftp://127.0.0.1:{self.port}/_cdn/{name}?x=3",
                    "http://169.254.169.254/latest/meta-data/"):
            with self.subTest(url=url):
                message_id, _ = self.attachment("messenger", url)
                self.assertEqual(self.wait_state(message_id, ("refused", "kept", "failed"))[:3], ("refused", "1", "t"))
                self.assertError(self.media(message_id), 502, "media_refused")
        self.assertEqual(self.cdn_requests(name), [], "a refused URL must never be requested")

    def test_a_failing_cdn_is_retried_then_kept(self):
        data = os.urandom(3000)
        name, url = self.cdn_file(data, "image/jpeg", fail=[500])
        message_id, _ = self.attachment("messenger", url)
        harness.wait_for(lambda: self.cdn_requests(name), "the first CDN request", 10)
        self.assertEqual(len(self.cdn_requests(name)), 1, "the first attempt")
        r = self.media(message_id)
        self.assertError(r, 409, "media_pending", "between the failed attempt and the retry")
        self.assertIsNotNone(r.header("retry-after"))
        self.assertEqual(self.wait_state(message_id, ("kept", "failed")), ("kept", "2", "f", "image/jpeg"))
        reqs = self.cdn_requests(name)
        self.assertEqual(len(reqs), 2, "retried once")
        self.assertGreaterEqual(reqs[1]["time"] - reqs[0]["time"], 1.5, "the retry waits")
        self.assertEqual(self.media(message_id).body, data)

    def test_retries_end_and_refusals_are_not_retried(self):
        # A CDN that keeps failing: the attempts run out (here the last one, by
        # setting the count as if three had failed) and the state is final.
        name, url = self.cdn_file(b"x", fail=[503] * 20)
        message_id, _ = self.attachment("messenger", url)
        self.wait_state(message_id, ("pending",))
        harness.wait_for(lambda: self.cdn_requests(name), "the first CDN request", 10)
        self.db.psql(f"UPDATE message_media SET attempts = 3 WHERE message_id = {message_id}")
        self.assertEqual(self.wait_state(message_id, ("failed", "kept"))[:3], ("failed", "4", "t"))
        self.assertError(self.media(message_id), 502, "media_unavailable")
        self.assertIn("after 4 attempts", self.db.value(f"SELECT error FROM message_media WHERE message_id = {message_id}"))
        time.sleep(2.5)
        self.assertEqual(len(self.cdn_requests(name)), 2, "no attempt after the last")
        # An expired URL (the CDN's 403/404) is final at once.
        name, url = self.cdn_file(b"x", fail=[404])
        message_id, _ = self.attachment("instagram", url)
        self.assertEqual(self.wait_state(message_id, ("failed", "kept"))[:2], ("failed", "1"))
        self.assertError(self.media(message_id), 502, "media_unavailable")

    def test_erasure_deletes_the_kept_file(self):
        needle = uid("file-secret-").encode()
        data = os.urandom(1000) + needle + os.urandom(1000)
        _, url = self.cdn_file(data, "image/png")
        message_id, _ = self.attachment("messenger", url)
        self.wait_state(message_id, ("kept",))
        lit = harness.sql_literal(needle.decode())
        find = f"SELECT count(*) FROM message_media WHERE position(convert_to({lit}, 'UTF8') IN bytes) > 0"
        self.assertEqual(self.db.count(find), 1, "the file is kept before erasure")
        contact = self.db.value(f"SELECT contact_id FROM messages WHERE id = {message_id}")
        r = self.http.request("DELETE", f"/v1/contacts/{contact}", token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json["erased"]["media_files"], 1, r.json)
        self.assertEqual(self.db.count(find), 0, "the kept file survived erasure")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM message_media WHERE message_id = {message_id}"), 0)
        self.assertError(self.media(message_id), 404, "no_media")

    def test_whatsapp_and_text_messages_keep_nothing(self):
        ext, secret = self.channel("messenger")
        mid = uid("mid.")
        r = self.api.post_webhook("messenger", harness.message_body("messenger", ext, uid("psid"), mid, "hi"),
                                  secret=secret)
        self.assertEqual(r.status, 200, repr(r))
        message_id = int(self.db.value(f"SELECT id FROM messages WHERE provider_message_id = '{mid}'"))
        self.assertIsNone(self.state(message_id))
        self.assertError(self.media(message_id), 404, "no_media")
        # A WhatsApp image is fetched from the Graph API when asked for, never kept.
        phone, wa_secret = self.channel("whatsapp")
        wamid = uid("wamid.")
        image = {"from": uid("1555"), "id": wamid, "timestamp": str(int(time.time())), "type": "image",
                 "image": {"id": uid("mediaid"), "mime_type": "image/jpeg"}}
        body = harness.webhook_body("whatsapp", [harness.whatsapp_entry("waba-" + phone, phone, [image])])
        r = self.api.post_webhook("whatsapp", body, secret=wa_secret)
        self.assertEqual((r.status, (r.json or {}).get("messages")), (200, 1), repr(r))
        message_id = int(self.db.value(f"SELECT id FROM messages WHERE provider_message_id = '{wamid}'"))
        self.assertEqual(self.db.value(f"SELECT type FROM messages WHERE id = {message_id}"), "image")
        self.assertIsNone(self.state(message_id))


if __name__ == "__main__":
    unittest.main()
