"""Erasure of a customer's personal data, proven on the whole database.

A business gets messages from two WhatsApp customers in one batched webhook
(so one archived body holds both), more from one of them alone, a click-to-
WhatsApp referral, an order under the customer's number, a delivery status,
an agent's reply and a sale; and a Messenger customer. Then:

- DELETE /v1/contacts/{id} erases the first customer, and a search of every
  text, varchar, json, jsonb, bytea and array column of every table finds
  none of their ids, name, phone, texts, click id or message ids, while the
  other customer's message is still there (the shared body is rewritten,
  not dropped) and the metrics counts (conversations per channel, outcomes,
  amounts, times, messages per direction, events per kind, per-ad counts)
  are what they were.
- Meta's data-deletion callback (signed_request with the app secret) erases
  the Messenger customer the same way and answers {url, confirmation_code};
  the status URL says what happened. That customer also sent an image, whose
  kept file (fetched from a fake CDN) holds a needle: the search covers
  every bytea column and PostgreSQL's large objects, so a file left behind
  in either is found.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.parse

import harness
from harness import uid
from test_routing import RoutingCase, wa_id

SCANNED_TYPES = ("text", "character varying", "json", "jsonb", "bytea", "ARRAY")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_request(payload, secret):
    encoded = b64url(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return b64url(sig) + "." + encoded


class ErasureTest(RoutingCase):

    with_fake_graph = True  # a CDN for the Messenger customer's attachment
    server_env = {"SWITCHBOARD_MEDIA_HOSTS": "127.0.0.1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_base = cls.fake.base

    def scan(self, needles):
        """{(table.column, needle)} for every value in the database that contains a needle."""
        cols = self.db.psql(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN (" + ",".join(f"'{t}'" for t in SCANNED_TYPES) + ") "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "                   WHERE table_schema = 'public' AND table_type = 'BASE TABLE') "
            "ORDER BY table_name, column_name")
        self.assertGreater(len(cols), 20, f"the scan found too few columns to be a real scan: {cols!r}")
        parts = []
        for table, column, dtype in cols:
            for n in needles:
                lit = harness.sql_literal(n)
                if dtype == "bytea":
                    cond = f'position(convert_to({lit}, \'UTF8\') IN "{column}") > 0'
                else:
                    cond = f'strpos("{column}"::text, {lit}) > 0'
                parts.append(f"SELECT {harness.sql_literal(table + '.' + column)}, {lit} "
                             f"WHERE EXISTS (SELECT 1 FROM \"{table}\" WHERE {cond})")
        # Files kept as large objects live outside the public tables (pages of
        # 2 kB: the needles are short and each is looked for in every page).
        for n in needles:
            lit = harness.sql_literal(n)
            parts.append(f"SELECT 'pg_largeobject.data', {lit} WHERE EXISTS (SELECT 1 FROM pg_largeobject "
                         f"WHERE position(convert_to({lit}, 'UTF8') IN data) > 0)")
        found = set()
        for i in range(0, len(parts), 200):
            for row in self.db.psql(" UNION ALL ".join(parts[i:i + 200])):
                found.add((row[0], row[1]))
        return found

    def metrics(self):
        """What the summary counts, from the skeleton that must stay."""
        q = {
            "conversations": "SELECT v.id, ch.kind, v.status, v.intent, v.queue_id, v.agent_id, v.outcome, "
                             "v.amount_cents, v.currency, sb_iso(v.opened_at), sb_iso(v.first_response_at), "
                             "sb_iso(v.resolved_at), v.referral ->> 'ad_id', v.referral ->> 'source' "
                             "FROM conversations v JOIN channels ch ON ch.business_id = v.business_id "
                             "AND ch.id = v.channel_id ORDER BY v.id",
            "messages": "SELECT conversation_id, direction, sender, type, count(*), "
                        "min(sb_iso(created_at)), max(sb_iso(provider_ts)) FROM messages "
                        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            "events": "SELECT conversation_id, kind, count(*) FROM conversation_events GROUP BY 1, 2 ORDER BY 1, 2",
            "per_ad": "SELECT referral ->> 'ad_id', count(*), sum(amount_cents) FROM conversations "
                      "GROUP BY 1 ORDER BY 1",
        }
        return {k: self.db.psql(v) for k, v in q.items()}

    def summary(self, key):
        """GET /v1/metrics/summary over the test's hours (it counts what
        committed more than 2 s before the request)."""
        time.sleep(2.1)
        r = self.http.get(f"/v1/metrics/summary?from={self.range[0]}&to={self.range[1]}", token=key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def snapshot(self, key):
        return {"tables": self.metrics(), "summary": self.summary(key)}

    def test_erasure_leaves_no_trace_and_metrics_stay(self):
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        self.range = (time.strftime(fmt, time.gmtime(time.time() - 3600)),
                      time.strftime(fmt, time.gmtime(time.time() + 3600)))
        key, channel, secret = self.business()
        q = self.queue(key)
        self.routing(key, q["id"])
        agent = self.agent(key, [q["id"]], capacity=10)
        self.status(agent["token"], "online")
        page = uid("page")
        page_secret = secrets.token_hex(16)
        self.api.create_channel(key, "messenger", external_id=page, app_secret=page_secret)

        a, b, m = wa_id(), wa_id(), uid("psid")
        a_name, b_name = "Ana " + uid("n"), "Bruno " + uid("n")
        a_text1, a_text2, b_text = ("my address is 12 Secret Lane " + uid("t"), "where is my order " + uid("t"),
                                    "bruno asks " + uid("t"))
        clid, a_mid1, a_mid2, b_mid = uid("clid-"), uid("wamid.A"), uid("wamid.A"), uid("wamid.B")
        reply_text, m_text = "Sure, on its way " + uid("r"), "messenger secret " + uid("m")
        a_msg = harness.whatsapp_message(a, a_mid1, a_text1)
        a_msg["referral"] = {"source_type": "ad", "source_id": "ad-777", "ctwa_clid": clid,
                             "source_url": "https://fb.me/" + clid, "headline": "Shoes"}
        shared = harness.webhook_body("whatsapp", [harness.whatsapp_entry(
            "waba-" + channel, channel, [a_msg, harness.whatsapp_message(b, b_mid, b_text)],
            contacts=[{"profile": {"name": a_name}, "wa_id": a}, {"profile": {"name": b_name}, "wa_id": b}])])
        r = self.api.post_webhook("whatsapp", shared, secret=secret)
        self.assertEqual((r.status, (r.json or {}).get("messages")), (200, 2), r)
        alone = harness.webhook_body("whatsapp", [harness.whatsapp_entry(
            "waba-" + channel, channel, [harness.whatsapp_message(a, a_mid2, a_text2)],
            contacts=[{"profile": {"name": a_name}, "wa_id": a}])])
        self.assertEqual(self.api.post_webhook("whatsapp", alone, secret=secret).status, 200)
        status = harness.whatsapp_status_body(channel, uid("wamid.out"), "delivered", a)
        self.assertEqual(self.api.post_webhook("whatsapp", status, secret=secret).status, 200)
        r = self.api.post_webhook("messenger", harness.message_body("messenger", page, m, uid("mid."), m_text),
                                  secret=page_secret)
        self.assertEqual(r.status, 200, r)
        # An image from the Messenger customer, kept from the CDN; its bytes hold a needle.
        m_file = uid("file-secret-")
        cdn_name = uid("img")
        self.fake.call("POST", "/_cdn", {"files": {cdn_name: {
            "mime_type": "image/jpeg", "data_b64": base64.b64encode(os.urandom(500) + m_file.encode()).decode()}}})
        image = harness.messenger_event(page, m, uid("mid."), None)
        image["message"] = {"mid": image["message"]["mid"], "attachments": [
            {"type": "image", "payload": {"url": f"{self.fake_base}/_cdn/{cdn_name}?oh=1"}}]}
        r = self.api.post_webhook("messenger", harness.webhook_body("messenger", [harness.page_entry(page, [image])]),
                                  secret=page_secret)
        self.assertEqual(r.status, 200, r)
        for _ in range(200):
            if self.db.count("SELECT count(*) FROM message_media WHERE state = 'kept'") == 1:
                break
            time.sleep(0.05)
        self.assertEqual(self.db.psql("SELECT state, error FROM message_media"), [["kept", ""]],
                         "the Messenger customer's image is kept")
        ref = uid("ORD")
        self.order(key, ref, customer_external_id=a, customer_phone="+" + a)

        ca = self.conversation_of(key, a)
        self.wait_status(key, ca["id"], "assigned", agent["id"])
        self.reply(agent["token"], ca["id"], reply_text)
        self.resolve(agent["token"], ca["id"], {"outcome": "sale", "amount_cents": 5000, "currency": "USD"})
        cb = self.conversation_of(key, b)
        cm = self.conversation_of(key, m)
        needles_a = [a, a_name, a_text1, a_text2, clid, a_mid1, a_mid2, reply_text]
        self.assertEqual({n for _, n in self.scan(needles_a)}, set(needles_a),
                         "before erasure every needle must be found somewhere (else the scan proves nothing)")
        time.sleep(0.3)  # let the router and outbound settle; their later changes are not erasure's
        before = self.snapshot(key)
        self.assertEqual(before["summary"]["conversations"]["total"], 3,
                         f"the summary must count the three conversations: {before['summary']!r}")

        other_key, _, _ = self.business()
        r = self.http.request("DELETE", f"/v1/contacts/{ca['contact']['id']}", token=other_key)
        self.assertError(r, 404, "not_found", "erasing another business's contact")
        r = self.http.request("DELETE", f"/v1/contacts/{ca['contact']['id']}", token=agent["token"])
        self.assertError(r, 403, "forbidden", "an agent erasing a contact")

        out = self.act("DELETE", f"/v1/contacts/{ca['contact']['id']}", "/v1/contacts/{id}", key).json
        erased = out["erased"]
        self.assertEqual(out["status"], "erased")
        self.assertEqual(erased["conversations"], 1)
        self.assertGreaterEqual(erased["messages"], 3, erased)
        self.assertGreaterEqual(erased["archived_bodies_rewritten"], 1, f"the shared body is rewritten: {erased}")
        self.assertGreaterEqual(erased["archived_bodies_deleted"], 2, f"A's own bodies are deleted: {erased}")
        self.assertEqual(erased["orders"], 1, erased)

        self.assertEqual(self.scan(needles_a), set(), "the erased contact is still in the database")
        self.assertEqual(self.snapshot(key), before, "erasure changed what the metrics count")
        # The other customer's message stays, in its row and in the rewritten body.
        self.assertEqual({n for _, n in self.scan([b, b_name, b_text, b_mid])},
                         {b, b_name, b_text, b_mid}, "the other customer's data went too")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM webhook_archive WHERE strpos(body, '{b_text}') > 0"), 1)
        self.assertIn(b_text, [x["text"] for x in self.messages(key, cb["id"])])
        c = self.get_conversation(key, ca["id"])
        self.assertEqual((c["contact"]["external_id"], c["contact"]["name"]), (f"erased:{ca['contact']['id']}", None))
        self.assertEqual((c["outcome"], c["amount_cents"], c["referral"]["ad_id"], c["referral"]["ctwa_clid"]),
                         ("sale", 5000, "ad-777", None))
        self.assertTrue(all(x["text"] is None for x in self.messages(key, ca["id"])))
        self.assertEqual(self.db.count("SELECT count(*) FROM audit_log WHERE action = 'erase' AND resource_type = "
                                       f"'contact' AND resource_id = '{ca['contact']['id']}' "
                                       "AND actor_type = 'business_key' AND (summary ->> 'messages')::int >= 3"), 1,
                         "no audit row of the erasure")
        r = self.http.request("DELETE", f"/v1/contacts/{ca['contact']['id']}", token=key)
        self.assertError(r, 404, "not_found", "erasing twice")
        # The same person writing again is a new contact.
        self.customer_says(channel, secret, a, "hello again")
        again = self.conversation_of(key, a)
        self.assertNotEqual(again["contact"]["id"], ca["contact"]["id"])
        # Let the router assign it first: that change is the router's, not the erasure's.
        self.wait_status(key, again["id"], "assigned", agent["id"])

        # Meta's data-deletion callback for the Messenger customer.
        before = self.snapshot(key)
        payload = {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "expires": int(time.time()) + 3600,
                   "user_id": m}
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        r = self.http.post("/meta/data-deletion", headers=form,
                           body="signed_request=" + urllib.parse.quote(signed_request(payload, "wrong-secret")))
        self.assertError(r, 401, "invalid_signature", "a signed_request with another secret")
        unsigned = dict(payload, algorithm="none")
        r = self.http.post("/meta/data-deletion", headers=form,
                           body="signed_request=" + urllib.parse.quote(signed_request(unsigned, page_secret)))
        self.assertError(r, 401, "invalid_signature", "a signed_request naming another algorithm")
        r = self.http.post("/meta/data-deletion", headers=form, body="nothing=here")
        self.assertError(r, 400, None, "no signed_request")
        self.assertEqual({n for _, n in self.scan([m, m_text, m_file])}, {m, m_text, m_file},
                         "the Messenger customer (and their kept file) must be stored first")
        r = self.http.post("/meta/data-deletion", headers=form,
                           body="signed_request=" + urllib.parse.quote(signed_request(payload, page_secret)))
        self.assertEqual(r.status, 200, r)
        self.conforms("POST", "/meta/data-deletion", r)
        code = r.json["confirmation_code"]
        self.assertEqual(r.json["url"], f"{harness.PUBLIC_URL}/meta/data-deletion/{code}")
        self.assertEqual(self.scan([m, m_text, m_file]), set(), "the Messenger customer is still in the database")
        self.assertEqual(self.db.count("SELECT count(*) FROM message_media"), 0, "the kept file's row is gone")
        self.assertEqual(self.snapshot(key), before, "the data-deletion callback changed what the metrics count")
        self.assertTrue(self.get_conversation(key, cm["id"])["contact"]["external_id"].startswith("erased:"))
        r = self.http.get(f"/meta/data-deletion/{code}")
        self.assertEqual(r.status, 200, r)
        self.conforms("GET", "/meta/data-deletion/{code}", r)
        self.assertEqual((r.json["status"], r.json["contacts_erased"]), ("completed", 1))
        self.assertEqual(self.db.count("SELECT count(*) FROM audit_log WHERE actor_type = 'meta' AND action = 'erase' "
                                       f"AND summary ->> 'confirmation_code' = '{code}'"), 1)
        self.assertError(self.http.get("/meta/data-deletion/nope"), 404, "not_found", "an unknown code")
        # A user the channels never saw: answered, nothing erased.
        payload["user_id"] = uid("stranger")
        r = self.http.post("/meta/data-deletion", headers=form,
                           body="signed_request=" + urllib.parse.quote(signed_request(payload, page_secret)))
        self.assertEqual(r.status, 200, r)
        done = self.http.get(f"/meta/data-deletion/{r.json['confirmation_code']}").json
        self.assertEqual(done["contacts_erased"], 0)
