"""Routing end to end: queues, agents, routing rules, orders and products
(set-up and its validation), the agent API (presence, assignment, claim,
offers, replies, transfer, resolve), the order_status bot and its handover,
the 24-hour messaging window, and the walls between businesses.

The real binary, a real PostgreSQL database (fresh per class) and real
sockets; customers' messages arrive as signed WhatsApp webhooks and the
router thread of the server does the rest.
"""

import secrets
import time
import unittest
import urllib.parse

import exposition
import harness
from harness import ADMIN_TOKEN, TIME_RE, sql_literal, uid, wa_id

# The router decides within ~100 ms; the tests allow this much.
ROUTE_TIMEOUT = 3.0
# How long "nothing happens" is watched for (several router ticks).
QUIET = 0.6

QUEUE_FIELDS = {"id", "name", "strategy", "first_response_sla_s", "require_accept", "offer_timeout_s",
                "overflow_wait_s", "created_at"}
AGENT_FIELDS = {"id", "name", "capacity", "queue_ids", "skills", "status", "created_at", "token"}
PRESENCE_FIELDS = {"id", "name", "status", "capacity", "load"}
ROUTING_FIELDS = {"default_queue_id", "rules", "version", "updated_at"}
ORDER_FIELDS = {"order_ref", "customer_external_id", "customer_phone", "status", "carrier", "tracking_url",
                "eta", "total_cents", "currency", "updated_at"}
PRODUCT_FIELDS = {"sku", "name", "stock", "price_cents", "currency", "updated_at"}


class RoutingCase(harness.ServerTestCase):
    """Helpers shared by the routing suites. Every helper asserts what it
    expects, with the request and the answer in the message."""

    # ---- set-up

    def business(self):
        """(api key, whatsapp channel external id, app secret)."""
        key = self.api.create_business()["api_key"]
        secret = secrets.token_hex(16)
        phone_number_id = uid("pn")
        self.api.create_channel(key, "whatsapp", external_id=phone_number_id, app_secret=secret,
                                account_id="waba-" + phone_number_id)
        return key, phone_number_id, secret

    def queue(self, key, name=None, strategy="round_robin", **kw):
        q = self.api.create_queue(key, name, strategy, **kw)
        self.conforms("POST", "/v1/queues", self.api.last)
        return q

    def agent(self, key, queue_ids, capacity=5, name=None, skills=None):
        a = self.api.create_agent(key, queue_ids, capacity, name, **({} if skills is None else {"skills": skills}))
        self.conforms("POST", "/v1/agents", self.api.last)
        return a

    def routing(self, key, default_queue_id, rules=()):
        out = self.api.set_routing(key, default_queue_id, rules)
        self.conforms("PUT", "/v1/routing", self.api.last)
        return out

    def order(self, key, order_ref, **fields):
        body = {"status": "shipped", "carrier": "DHL", "eta": "2026-12-02", "total_cents": 129900,
                "currency": "USD"}
        body.update(fields)
        path = "/v1/orders/" + urllib.parse.quote(order_ref, safe="")
        r = self.http.put(path, json_body=body, token=key)
        self.assertEqual(r.status, 200, f"PUT {path} {body!r}: {r!r}")
        self.conforms("PUT", "/v1/orders/{order_ref}", r)
        return r.json

    def status(self, token, status):
        out = self.api.set_status(token, status)
        self.conforms("POST", "/v1/agent/status", self.api.last)
        self.assertEqual(out.get("status"), status, out)
        return out

    # ---- customers

    def customer_says(self, channel, secret, contact, text, ts_s=None):
        """Posts a signed one-message WhatsApp webhook; returns the wamid."""
        mid = uid("wamid.")
        body = harness.webhook_body("whatsapp", [harness.whatsapp_entry(
            "waba-" + channel, channel, [harness.whatsapp_message(contact, mid, text, ts_s)])])
        r = self.api.post_webhook("whatsapp", body, secret=secret)
        self.assertEqual(r.status, 200, f"signed WhatsApp webhook {text!r}: {r!r}")
        self.assertEqual((r.json or {}).get("messages"), 1, f"webhook {text!r} stored no message: {r!r}")
        return mid

    # ---- reading

    def bot_messages(self, key, cid):
        """The bot's outbound messages in conversation cid (business view)."""
        return [m for m in self.messages(key, cid) if m["direction"] == "out" and m["sender"] == "bot"]

    def conversation_of(self, key, contact, timeout=ROUTE_TIMEOUT):
        """The open conversation of a contact (business view), waiting for it to exist."""
        def find():
            mine = [c for c in self.api.conversations(key) if c["contact"]["external_id"] == contact
                    and c["status"] != "resolved"]
            return mine[0] if mine else None
        return self.wait_for(find, f"a conversation of contact {contact}", timeout)

    def get_conversation(self, token, cid, expect=200):
        r = self.http.get(f"/v1/conversations/{cid}", token=token)
        self.assertEqual(r.status, expect, f"GET /v1/conversations/{cid}: {r!r}")
        self.conforms("GET", "/v1/conversations/{id}", r)
        return r.json

    def agent_conversations(self, token):
        r = self.http.get("/v1/agent/conversations", token=token)
        self.assertEqual(r.status, 200, f"GET /v1/agent/conversations: {r!r}")
        self.conforms("GET", "/v1/agent/conversations", r)
        self.assertIsNone(r.json.get("next_cursor"), r.json)
        return r.json["items"]

    def wait_for(self, fn, what, timeout=ROUTE_TIMEOUT, interval=0.05):
        return harness.wait_for(fn, what, timeout, interval)

    def wait_status(self, key, cid, status, agent_id="any", timeout=ROUTE_TIMEOUT):
        """Polls the conversation (business key) until it has status (and agent_id when given)."""
        seen = []

        def check():
            c = self.get_conversation(key, cid)
            seen[:] = [c]
            if c["status"] != status:
                return None
            if agent_id != "any" and c["agent_id"] != agent_id:
                return None
            return c

        deadline = time.monotonic() + timeout
        while True:
            c = check()
            if c:
                return c
            if time.monotonic() >= deadline:
                got = seen[0] if seen else None
                self.fail(f"conversation {cid}: expected status {status!r}"
                          f"{'' if agent_id == 'any' else f' with agent_id {agent_id}'} within {timeout} s; "
                          f"got status {got and got['status']!r}, agent_id {got and got['agent_id']!r}, "
                          f"queue_id {got and got['queue_id']!r}: {got!r}")
            time.sleep(0.05)

    def messages(self, token, cid):
        r = self.http.get(f"/v1/conversations/{cid}/messages", token=token)
        self.assertEqual(r.status, 200, f"GET /v1/conversations/{cid}/messages: {r!r}")
        self.conforms("GET", "/v1/conversations/{id}/messages", r)
        return r.json["items"]

    def events(self, agent_id):
        """[(seq, type, conversation or message id)] of an agent, in seq order (psql).
        Events get their seq after commit (in commit order); waits for that."""
        self.db.wait_events_numbered(f"agent_id = {int(agent_id)}", ROUTE_TIMEOUT)
        rows = self.db.psql(f"SELECT seq, type, payload->>'id' FROM agent_events WHERE agent_id = {int(agent_id)} "
                            f"ORDER BY seq")
        return [(int(s), t, int(i) if i else None) for s, t, i in rows]

    # ---- acting

    def act(self, method, path, template, token, body=None, expect=200):
        """An agent-API call that must answer `expect`; checks it against the spec."""
        kw = {"token": token}
        if body is not None:
            kw["json_body"] = body
        r = self.http.request(method, path, **kw)
        self.assertEqual(r.status, expect, f"{method} {path} {body!r}: expected {expect}, got {r!r}")
        self.conforms(method, template, r)
        return r

    def reply(self, token, cid, text, expect=202):
        return self.act("POST", f"/v1/conversations/{cid}/messages", "/v1/conversations/{id}/messages", token,
                        {"text": text}, expect)

    def transfer(self, token, cid, body, expect=200):
        return self.act("POST", f"/v1/conversations/{cid}/transfer", "/v1/conversations/{id}/transfer", token,
                        body, expect)

    def resolve(self, token, cid, body, expect=200):
        return self.act("POST", f"/v1/conversations/{cid}/resolve", "/v1/conversations/{id}/resolve", token,
                        body, expect)

    def claim(self, token, body=None, expect=200):
        if body is None:  # an empty body is allowed
            r = self.http.post("/v1/agent/claim", token=token)
        else:
            r = self.http.post("/v1/agent/claim", json_body=body, token=token)
        self.assertEqual(r.status, expect, f"POST /v1/agent/claim {body!r}: expected {expect}, got {r!r}")
        self.conforms("POST", "/v1/agent/claim", r)
        return r

    def offer_answer(self, token, cid, verb, expect=200):
        return self.act("POST", f"/v1/conversations/{cid}/{verb}", "/v1/conversations/{id}/" + verb, token,
                        None, expect)

    def assertFieldError(self, r, code, field, what):
        """400 with `code` whose message names `field` exactly (quoted or as a path)."""
        err = self.assertError(r, 400, None, what)
        codes = code if isinstance(code, (tuple, list, set)) else (code,)
        self.assertIn(err["code"], codes, f"{what}: expected error code {codes}, got {r.json!r}")
        msg = err["message"]
        # The field must be named as itself, not as a prefix of a longer name.
        idx = msg.find(field)
        ok = False
        while idx >= 0:
            after = msg[idx + len(field): idx + len(field) + 1]
            if after == "" or not (after.isalnum() or after in "_[."):
                ok = True
                break
            idx = msg.find(field, idx + 1)
        self.assertTrue(ok, f"{what}: the error message must name the field {field!r}: {r.json!r}")
        return err


# --------------------------------------------------------------------------
# Set-up and its validation


class SetupTest(RoutingCase):
    def test_queue_is_created_with_defaults(self):
        key, _, _ = self.business()
        q = self.queue(key, name="Sales", strategy="least_busy")
        self.assertEqual(set(q), QUEUE_FIELDS, q)
        self.assertIsInstance(q["id"], int)
        self.assertEqual((q["name"], q["strategy"]), ("Sales", "least_busy"), q)
        self.assertIs(q["require_accept"], False, q)
        self.assertEqual(q["offer_timeout_s"], 30, f"offer_timeout_s defaults to 30: {q!r}")
        self.assertIsNone(q["first_response_sla_s"], q)
        self.assertIsNone(q["overflow_wait_s"], q)
        self.assertRegex(q["created_at"], TIME_RE)

        full = self.queue(key, name="VIP", strategy="round_robin", first_response_sla_s=120,
                          require_accept=True, offer_timeout_s=45, overflow_wait_s=600)
        self.assertEqual({k: full[k] for k in ("strategy", "first_response_sla_s", "require_accept",
                                               "offer_timeout_s", "overflow_wait_s")},
                         {"strategy": "round_robin", "first_response_sla_s": 120, "require_accept": True,
                          "offer_timeout_s": 45, "overflow_wait_s": 600}, full)
        self.assertNotEqual(full["id"], q["id"])
        row = self.db.psql(f"SELECT name, strategy, require_accept, offer_timeout_s FROM queues WHERE id = {full['id']}")
        self.assertEqual(row, [["VIP", "round_robin", "t", "45"]], "psql: the stored queue")

    def test_queue_validation_names_the_field_and_changes_nothing(self):
        key, _, _ = self.business()
        before = self.db.count("SELECT count(*) FROM queues")
        ok = {"name": "Q", "strategy": "round_robin"}
        cases = [
            ({"strategy": "round_robin"}, "missing_field", "name"),
            ({"name": "Q"}, "missing_field", "strategy"),
            ({"name": "", "strategy": "round_robin"}, "invalid_field", "name"),
            ({"name": 7, "strategy": "round_robin"}, "invalid_field", "name"),
            ({"name": "x" * 201, "strategy": "round_robin"}, "invalid_field", "name"),
            ({"name": "Q", "strategy": "random"}, "invalid_field", "strategy"),
            (dict(ok, first_response_sla_s=0), "invalid_field", "first_response_sla_s"),
            (dict(ok, first_response_sla_s="60"), "invalid_field", "first_response_sla_s"),
            (dict(ok, first_response_sla_s=1.5), "invalid_field", "first_response_sla_s"),
            (dict(ok, require_accept="yes"), "invalid_field", "require_accept"),
            (dict(ok, offer_timeout_s=0), "invalid_field", "offer_timeout_s"),
            (dict(ok, offer_timeout_s=3601), "invalid_field", "offer_timeout_s"),
            (dict(ok, overflow_wait_s=-5), "invalid_field", "overflow_wait_s"),
            (dict(ok, colour="red"), "unknown_field", "colour"),
        ]
        for body, code, field in cases:
            with self.subTest(body=body):
                r = self.http.post("/v1/queues", json_body=body, token=key)
                self.assertFieldError(r, code, field, f"POST /v1/queues {body!r}")
                self.conforms("POST", "/v1/queues", r)
        for raw in (b"{", b"[]", b""):
            with self.subTest(raw=raw):
                r = self.http.post("/v1/queues", body=raw, token=key, headers={"Content-Type": "application/json"})
                self.assertError(r, 400, "invalid_json", f"POST /v1/queues body {raw!r}")
        self.assertEqual(self.db.count("SELECT count(*) FROM queues"), before, "rejected queues were stored")

    def test_agent_is_created_offline_with_a_token(self):
        key, _, _ = self.business()
        q1, q2 = self.queue(key)["id"], self.queue(key)["id"]
        a = self.agent(key, [q2, q1, q2], capacity=3, name="Ana", skills=["es", "returns"])
        self.assertEqual(set(a), AGENT_FIELDS, a)
        self.assertEqual((a["name"], a["capacity"], a["status"]), ("Ana", 3, "offline"), a)
        self.assertEqual(sorted(a["queue_ids"]), sorted([q1, q2]), f"queue_ids, each once: {a!r}")
        self.assertEqual(a["skills"], ["es", "returns"], a)
        self.assertRegex(a["created_at"], TIME_RE)
        self.assertIsInstance(a["token"], str)
        self.assertGreaterEqual(len(a["token"]), 22, "the token must carry >= 128 bits")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM agent_queues WHERE agent_id = {a['id']}"), 2,
                         "psql: agent_queues rows")
        # Stored as its SHA-256 only.
        self.assertEqual(self.db.count("SELECT count(*) FROM api_tokens WHERE role = 'agent' AND "
                                       f"agent_id = {a['id']} AND "
                                       f"token_hash = sha256(convert_to({sql_literal(a['token'])}, 'UTF8'))"), 1,
                         "psql: api_tokens holds the agent token's SHA-256")
        # The token works on agent routes and starts offline with no load.
        p = self.status(a["token"], "away")
        self.assertEqual(set(p), PRESENCE_FIELDS, p)
        self.assertEqual((p["id"], p["capacity"], p["load"]), (a["id"], 3, 0), p)

        bare = self.agent(key, [], capacity=0)
        self.assertEqual(bare["queue_ids"], [], f"an agent of no queue has queue_ids [] (not null): {bare!r}")
        self.assertEqual(bare["skills"], [], bare)

    def test_agent_validation_names_the_field(self):
        key, _, _ = self.business()
        q = self.queue(key)["id"]
        before = self.db.count("SELECT count(*) FROM agents")
        ok = {"name": "A", "capacity": 2, "queue_ids": [q]}
        cases = [
            ({"capacity": 2, "queue_ids": [q]}, "missing_field", "name"),
            ({"name": "A", "queue_ids": [q]}, "missing_field", "capacity"),
            ({"name": "A", "capacity": 2}, "missing_field", "queue_ids"),
            (dict(ok, capacity=-1), "invalid_field", "capacity"),
            (dict(ok, capacity=1001), "invalid_field", "capacity"),
            (dict(ok, capacity="2"), "invalid_field", "capacity"),
            (dict(ok, queue_ids=q), "invalid_field", "queue_ids"),
            (dict(ok, queue_ids=[0]), "invalid_field", "queue_ids[0]"),
            (dict(ok, queue_ids=[q, "x"]), "invalid_field", "queue_ids[1]"),
            (dict(ok, queue_ids=[q, 987654321]), "invalid_field", "queue_ids[1]"),
            (dict(ok, skills="es"), "invalid_field", "skills"),
            (dict(ok, skills=["es", ""]), "invalid_field", "skills[1]"),
            (dict(ok, token="mine"), "unknown_field", "token"),
        ]
        for body, code, field in cases:
            with self.subTest(body=body):
                r = self.http.post("/v1/agents", json_body=body, token=key)
                self.assertFieldError(r, code, field, f"POST /v1/agents {body!r}")
                self.conforms("POST", "/v1/agents", r)
        self.assertEqual(self.db.count("SELECT count(*) FROM agents"), before, "rejected agents were stored")

    def test_another_business_queue_is_400(self):
        key_a, _, _ = self.business()
        key_b, _, _ = self.business()
        qa = self.queue(key_a)["id"]
        qb = self.queue(key_b)["id"]
        agents_before = self.db.count("SELECT count(*) FROM agents")
        r = self.http.post("/v1/agents", json_body={"name": "X", "capacity": 1, "queue_ids": [qa, qb]},
                           token=key_a)
        self.assertFieldError(r, "invalid_field", "queue_ids[1]", "POST /v1/agents with business B's queue")
        r = self.http.post("/v1/agents", json_body={"name": "X", "capacity": 1, "queue_ids": [qb]}, token=key_a)
        self.assertFieldError(r, "invalid_field", "queue_ids[0]", "POST /v1/agents with business B's queue")
        self.assertEqual(self.db.count("SELECT count(*) FROM agents"), agents_before)

        r = self.http.put("/v1/routing", json_body={"default_queue_id": qb, "rules": []}, token=key_a)
        self.assertFieldError(r, "invalid_field", "default_queue_id", "PUT /v1/routing, default queue of B")
        rules = [{"match": {"intent": "purchase"}, "target": {"queue_id": qa}},
                 {"match": {"intent": "support"}, "target": {"queue_id": qb}}]
        r = self.http.put("/v1/routing", json_body={"default_queue_id": qa, "rules": rules}, token=key_a)
        self.assertFieldError(r, "invalid_field", "rules[1].target.queue_id", "PUT /v1/routing, rule target of B")
        self.assertEqual(self.db.count("SELECT count(*) FROM routing_rules WHERE business_id = "
                                       f"(SELECT business_id FROM queues WHERE id = {qa})"), 0,
                         "rejected rules were stored")

    def test_routing_rules_are_stored_and_versioned(self):
        key, _, _ = self.business()
        q1, q2 = self.queue(key)["id"], self.queue(key)["id"]
        rules = [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}},
                 {"match": {"channel_kind": "whatsapp", "text_regex": "(?i)refund|return"},
                  "target": {"queue_id": q2}},
                 {"match": {"ad_id": "ad-42"}, "target": {"queue_id": q2}},
                 {"match": {"intent": "in_stock"}, "target": {"bot": "in_stock"}}]
        v1 = self.routing(key, q1, rules)
        self.assertEqual(set(v1), ROUTING_FIELDS, v1)
        self.assertEqual(v1["default_queue_id"], q1)
        self.assertEqual(v1["rules"], rules, "the rules are answered as sent")
        self.assertEqual(v1["version"], 1, v1)
        self.assertRegex(v1["updated_at"], TIME_RE)
        v2 = self.routing(key, q2, [])
        self.assertEqual((v2["default_queue_id"], v2["rules"], v2["version"]), (q2, [], 2), v2)
        r = self.http.put("/v1/routing", json_body={"default_queue_id": q1}, token=key)
        self.assertEqual(r.status, 200, f"rules may be omitted: {r!r}")
        self.assertEqual((r.json["rules"], r.json["version"]), ([], 3), r.json)

    def test_routing_validation_names_the_field_path(self):
        key, _, _ = self.business()
        q = self.queue(key)["id"]

        def rule(match=None, target=None):
            return {"match": {} if match is None else match, "target": {"queue_id": q} if target is None else target}

        def body(*rules):
            return {"default_queue_id": q, "rules": list(rules)}

        cases = [
            ({"rules": []}, "missing_field", "default_queue_id"),
            ({"default_queue_id": "one", "rules": []}, "invalid_field", "default_queue_id"),
            ({"default_queue_id": 987654321, "rules": []}, "invalid_field", "default_queue_id"),
            ({"default_queue_id": q, "rules": {}}, "invalid_field", "rules"),
            ({"default_queue_id": q, "rules": [], "fallback": 1}, "unknown_field", "fallback"),
            (body(rule(), 5), "invalid_field", "rules[1]"),
            (body({"target": {"queue_id": q}}), "missing_field", "rules[0].match"),
            (body({"match": {}}), "missing_field", "rules[0].target"),
            (body({"match": {}, "target": {"queue_id": q}, "priority": 1}), "unknown_field", "priority"),
            (body(rule(match={"text_regex": "(unclosed"})), "invalid_field", "rules[0].match.text_regex"),
            (body(rule(), rule(match={"text_regex": "a{2000}"})), "invalid_field", "rules[1].match.text_regex"),
            (body(rule(match={"text_regex": "a" * 1001})), "invalid_field", "rules[0].match.text_regex"),
            (body(rule(match={"text_regex": 5})), "invalid_field", "rules[0].match.text_regex"),
            (body(rule(match={"intent": "shopping"})), "invalid_field", "rules[0].match.intent"),
            (body(rule(match={"channel_kind": "telegram"})), "invalid_field", "rules[0].match.channel_kind"),
            (body(rule(match={"ad_id": 42})), "invalid_field", "rules[0].match.ad_id"),
            (body(rule(match={"colour": "red"})), "unknown_field", "colour"),
            (body(rule(target={"bot": "weather"})), "invalid_field", "rules[0].target.bot"),
            (body(rule(target={"queue_id": "q"})), "invalid_field", "rules[0].target.queue_id"),
            (body(rule(target={"queue_id": 987654321})), "invalid_field", "rules[0].target.queue_id"),
            (body(rule(target={"queue_id": q, "bot": "order_status"})), "invalid_field", "rules[0].target"),
            (body(rule(target={})), ("invalid_field", "missing_field"), "rules[0].target"),
        ]
        for b, code, field in cases:
            with self.subTest(body=b):
                r = self.http.put("/v1/routing", json_body=b, token=key)
                self.assertFieldError(r, code, field, f"PUT /v1/routing {b!r}")
                self.conforms("PUT", "/v1/routing", r)
        self.assertEqual(self.db.count("SELECT count(*) FROM routing_rules WHERE business_id = "
                                       f"(SELECT business_id FROM queues WHERE id = {q})"), 0,
                         "rejected rules were stored")

    def test_orders_and_products(self):
        key, _, _ = self.business()
        o = self.order(key, "A1001", customer_phone="+15550001234", tracking_url="https://t.example/A1001")
        self.assertEqual(set(o), ORDER_FIELDS, o)
        self.assertEqual((o["order_ref"], o["status"], o["carrier"], o["eta"], o["total_cents"], o["currency"]),
                         ("A1001", "shipped", "DHL", "2026-12-02", 129900, "USD"), o)
        self.assertIsNone(o["customer_external_id"], o)
        self.assertRegex(o["updated_at"], TIME_RE)
        o2 = self.order(key, "A1001", status="delivered", carrier=None, eta=None)
        self.assertEqual((o2["status"], o2["carrier"], o2["eta"]), ("delivered", None, None),
                         f"PUT replaces the order: {o2!r}")
        self.assertEqual(self.db.count("SELECT count(*) FROM orders WHERE order_ref = 'A1001'"), 1)

        r = self.http.put("/v1/products/SKU-1", json_body={"name": "Trail shoe", "stock": 3, "price_cents": 8900,
                                                           "currency": "EUR"}, token=key)
        self.assertEqual(r.status, 200, r)
        p = self.conforms("PUT", "/v1/products/{sku}", r)
        self.assertEqual(set(p), PRODUCT_FIELDS, p)
        self.assertEqual((p["sku"], p["name"], p["stock"], p["price_cents"], p["currency"]),
                         ("SKU-1", "Trail shoe", 3, 8900, "EUR"), p)
        self.assertRegex(p["updated_at"], TIME_RE)

        order_ok = {"status": "shipped", "total_cents": 100, "currency": "USD"}
        order_cases = [
            ({"total_cents": 100, "currency": "USD"}, "missing_field", "status"),
            ({"status": "shipped", "currency": "USD"}, "missing_field", "total_cents"),
            ({"status": "shipped", "total_cents": 100}, "missing_field", "currency"),
            (dict(order_ok, currency="usd"), "invalid_field", "currency"),
            (dict(order_ok, currency="DOLLARS"), "invalid_field", "currency"),
            (dict(order_ok, total_cents=-1), "invalid_field", "total_cents"),
            (dict(order_ok, total_cents=12.5), "invalid_field", "total_cents"),
            (dict(order_ok, carrier=7), "invalid_field", "carrier"),
            (dict(order_ok, items=[]), "unknown_field", "items"),
        ]
        for b, code, field in order_cases:
            with self.subTest(order=b):
                r = self.http.put("/v1/orders/B2002", json_body=b, token=key)
                self.assertFieldError(r, code, field, f"PUT /v1/orders/B2002 {b!r}")
                self.conforms("PUT", "/v1/orders/{order_ref}", r)
        r = self.http.put("/v1/orders/A%201001", json_body=order_ok, token=key)
        self.assertFieldError(r, "invalid_field", "order_ref", "PUT /v1/orders/A%201001 (a space in the reference)")
        self.assertEqual(self.db.count("SELECT count(*) FROM orders WHERE order_ref <> 'A1001' AND business_id = "
                                       f"(SELECT business_id FROM orders WHERE order_ref = 'A1001' LIMIT 1)"), 0,
                         "rejected orders were stored")

        product_ok = {"name": "Cap", "stock": 1, "price_cents": 1500, "currency": "USD"}
        product_cases = [
            ({"stock": 1, "price_cents": 1500, "currency": "USD"}, "missing_field", "name"),
            (dict(product_ok, stock=-1), "invalid_field", "stock"),
            (dict(product_ok, stock="many"), "invalid_field", "stock"),
            (dict(product_ok, price_cents=-1), "invalid_field", "price_cents"),
            (dict(product_ok, currency="US"), "invalid_field", "currency"),
            (dict(product_ok, colour="red"), "unknown_field", "colour"),
        ]
        for b, code, field in product_cases:
            with self.subTest(product=b):
                r = self.http.put("/v1/products/CAP-1", json_body=b, token=key)
                self.assertFieldError(r, code, field, f"PUT /v1/products/CAP-1 {b!r}")
                self.conforms("PUT", "/v1/products/{sku}", r)
        self.assertEqual(self.db.count("SELECT count(*) FROM products WHERE sku = 'CAP-1'"), 0)

    def test_roles(self):
        key, _, _ = self.business()
        q = self.queue(key)["id"]
        a = self.agent(key, [q])
        token = a["token"]
        business_routes = [
            ("POST", "/v1/queues", {"name": "Q", "strategy": "round_robin"}),
            ("POST", "/v1/agents", {"name": "A", "capacity": 1, "queue_ids": [q]}),
            ("PUT", "/v1/routing", {"default_queue_id": q, "rules": []}),
            ("PUT", "/v1/orders/A1", {"status": "x", "total_cents": 1, "currency": "USD"}),
            ("PUT", "/v1/products/S1", {"name": "n", "stock": 1, "price_cents": 1, "currency": "USD"}),
            ("GET", "/v1/conversations", None),
            ("GET", "/v1/channels", None),
            ("POST", "/v1/channels", {"kind": "messenger", "external_id": uid("p"), "app_secret": "s",
                                      "verify_token": "v"}),
        ]
        for method, path, body in business_routes:
            with self.subTest(route=f"{method} {path}", token="agent"):
                r = self.http.request(method, path, json_body=body, token=token)
                self.assertError(r, 403, "forbidden", f"{method} {path} with an agent token")
        agent_routes = [
            ("POST", "/v1/agent/status", {"status": "online"}),
            ("GET", "/v1/agent/conversations", None),
            ("POST", "/v1/agent/claim", {}),
            ("POST", "/v1/conversations/1/accept", None),
            ("POST", "/v1/conversations/1/reject", None),
            ("POST", "/v1/conversations/1/messages", {"text": "hi"}),
        ]
        for method, path, body in agent_routes:
            for who, tok in (("business", key), ("admin", ADMIN_TOKEN)):
                with self.subTest(route=f"{method} {path}", token=who):
                    r = self.http.request(method, path, json_body=body, token=tok)
                    self.assertError(r, 403, "forbidden", f"{method} {path} with the {who} token")
            with self.subTest(route=f"{method} {path}", token="none"):
                r = self.http.request(method, path, json_body=body)
                self.assertError(r, 401, "unauthorized", f"{method} {path} without a token")
            with self.subTest(route=f"{method} {path}", token="unknown"):
                r = self.http.request(method, path, json_body=body, token="sbt_" + secrets.token_urlsafe(24))
                self.assertError(r, 401, "unauthorized", f"{method} {path} with an unknown token")
        for path in ("/v1/conversations/1/transfer", "/v1/conversations/1/resolve"):
            with self.subTest(route=path, token="admin"):
                body = {"queue_id": q} if path.endswith("transfer") else {"outcome": "resolved"}
                r = self.http.post(path, json_body=body, token=ADMIN_TOKEN)
                self.assertError(r, 403, "forbidden", f"POST {path} with the admin token")
        # Nothing was changed by the refused calls.
        self.assertEqual(self.db.value(f"SELECT status FROM agents WHERE id = {a['id']}"), "offline")

    def test_agent_request_validation(self):
        key, _, _ = self.business()
        q = self.queue(key)["id"]
        token = self.agent(key, [q])["token"]
        cases = [
            ("/v1/agent/status", {}, "missing_field", "status"),
            ("/v1/agent/status", {"status": "busy"}, "invalid_field", "status"),
            ("/v1/agent/status", {"status": "online", "mood": "ok"}, "unknown_field", "mood"),
            ("/v1/agent/claim", {"queue_id": "x"}, "invalid_field", "queue_id"),
            ("/v1/agent/claim", {"queue": 1}, "unknown_field", "queue"),
        ]
        for path, body, code, field in cases:
            with self.subTest(path=path, body=body):
                r = self.http.post(path, json_body=body, token=token)
                self.assertFieldError(r, code, field, f"POST {path} {body!r}")
                self.conforms("POST", path, r)
        self.assertEqual(self.db.value("SELECT status FROM agents WHERE business_id = "
                                       f"(SELECT business_id FROM queues WHERE id = {q})"), "offline")


# --------------------------------------------------------------------------
# Routing without rules


class UnroutedTest(RoutingCase):
    def test_without_routing_rules_conversations_wait_unqueued(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        a = self.agent(key, [q])
        self.status(a["token"], "online")
        contact = wa_id()
        self.customer_says(channel, secret, contact, "I need help with a return")
        c = self.conversation_of(key, contact)
        # Routed (intent detected) but with no rules there is no queue to wait in.
        c = self.wait_for(lambda: (lambda x: x if x["intent"] else None)(self.get_conversation(key, c["id"])),
                          "the router to detect the intent")
        time.sleep(QUIET)
        c = self.get_conversation(key, c["id"])
        self.assertEqual((c["status"], c["queue_id"], c["agent_id"]), ("waiting", None, None),
                         f"without PUT /v1/routing: waiting, queue_id null, nobody assigned: {c!r}")
        self.assertEqual(self.agent_conversations(a["token"]), [])
        self.get_conversation(a["token"], c["id"], expect=404)
        self.claim(a["token"], expect=204)


# --------------------------------------------------------------------------
# The agent flow


class AgentFlowTest(RoutingCase):
    def test_assign_reply_transfer_resolve(self):
        key, channel, secret = self.business()
        q1 = self.queue(key, name="Support")["id"]
        q2 = self.queue(key, name="Returns")["id"]
        ana = self.agent(key, [q1], capacity=5, name="Ana")
        ben = self.agent(key, [q2], capacity=5, name="Ben")
        self.routing(key, q1)
        self.order(key, "A1001")

        p = self.status(ana["token"], "online")
        self.assertEqual((p["id"], p["status"], p["load"]), (ana["id"], "online", 0), p)

        contact = wa_id()
        t0 = time.monotonic()
        mid = self.customer_says(channel, secret, contact, "I need help with a return")

        def mine():
            items = [c for c in self.agent_conversations(ana["token"]) if c["contact"]["external_id"] == contact]
            return items[0] if items else None
        conv = self.wait_for(mine, "the conversation in Ana's GET /v1/agent/conversations")
        took = time.monotonic() - t0
        self.assertLess(took, ROUTE_TIMEOUT)
        cid = conv["id"]
        self.assertEqual((conv["status"], conv["agent_id"], conv["queue_id"]), ("assigned", ana["id"], q1), conv)
        self.assertEqual(conv["intent"], "support", f"'I need help with a return' is a support intent: {conv!r}")
        self.assertEqual(conv["channel"]["kind"], "whatsapp")

        # The event was recorded for Ana, with the conversation as payload.
        rows = self.db.psql("SELECT type, payload->>'status', (payload->>'agent_id')::bigint FROM agent_events "
                            f"WHERE agent_id = {ana['id']} AND (payload->>'id')::bigint = {cid}")
        self.assertIn(["conversation.assigned", "assigned", str(ana["id"])], rows,
                      f"psql: agent_events of Ana for conversation {cid}")

        # Ana sees it and its messages; her load counts it.
        self.assertEqual(self.get_conversation(ana["token"], cid)["id"], cid)
        msgs = self.messages(ana["token"], cid)
        self.assertEqual([(m["provider_message_id"], m["direction"]) for m in msgs], [(mid, "in")], msgs)
        self.assertEqual(self.status(ana["token"], "online")["load"], 1)

        # Ana replies: queued, stored, counted as the first response.
        r = self.reply(ana["token"], cid, "Sure, what would you like to return?")
        m = r.json
        self.assertEqual((m["direction"], m["sender"], m["status"], m["agent_id"], m["conversation_id"], m["text"]),
                         ("out", "agent", "queued", ana["id"], cid, "Sure, what would you like to return?"), m)
        self.assertRegex(m["created_at"], TIME_RE)
        self.assertEqual(self.db.psql(f"SELECT direction, sender, agent_id FROM messages WHERE id = {m['id']}"),
                         [["out", "agent", str(ana["id"])]], "psql: the outbound message row")
        self.assertIsNotNone(self.get_conversation(key, cid)["first_response_at"],
                             "the agent's reply sets first_response_at")
        self.assertIn("message.created", [t for _, t, _ in self.events(ana["id"])])
        for bad, code, field in (({}, "missing_field", "text"), ({"text": ""}, "invalid_field", "text"),
                                 ({"text": "x" * 4097}, "invalid_field", "text"),
                                 ({"text": "hi", "tag": "HUMAN_AGENT"}, "unknown_field", "tag")):
            with self.subTest(reply=bad):
                r = self.http.post(f"/v1/conversations/{cid}/messages", json_body=bad, token=ana["token"])
                self.assertFieldError(r, code, field, f"POST messages {bad!r}")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM messages WHERE conversation_id = {cid} "
                                       "AND direction = 'out'"), 1, "rejected replies were stored")

        # Transfer validation.
        for bad in ({}, {"queue_id": q2, "agent_id": ben["id"]}):
            with self.subTest(transfer=bad):
                r = self.http.post(f"/v1/conversations/{cid}/transfer", json_body=bad, token=ana["token"])
                self.assertError(r, 400, "invalid_field", f"transfer {bad!r} (exactly one of queue_id, agent_id)")
        r = self.http.post(f"/v1/conversations/{cid}/transfer", json_body={"queue_id": 987654321},
                           token=ana["token"])
        self.assertFieldError(r, "invalid_field", "queue_id", "transfer to a queue that does not exist")
        r = self.http.post(f"/v1/conversations/{cid}/transfer", json_body={"agent_id": 987654321},
                           token=ana["token"])
        self.assertFieldError(r, "invalid_field", "agent_id", "transfer to an agent that does not exist")
        self.assertEqual(self.get_conversation(key, cid)["agent_id"], ana["id"], "a rejected transfer changed it")

        # Ben (the only agent of Returns) is offline: the conversation waits there.
        t = self.transfer(ana["token"], cid, {"queue_id": q2}).json
        self.assertEqual((t["status"], t["queue_id"], t["agent_id"]), ("waiting", q2, None), t)
        time.sleep(QUIET)
        c = self.get_conversation(key, cid)
        self.assertEqual((c["status"], c["queue_id"], c["agent_id"]), ("waiting", q2, None),
                         f"nobody of queue {q2} is online: it waits: {c!r}")
        self.assertEqual(self.agent_conversations(ana["token"]), [], "Ana no longer has it")
        self.get_conversation(ana["token"], cid, expect=404)
        self.reply(ana["token"], cid, "still there?", expect=404)
        self.assertEqual(self.status(ana["token"], "online")["load"], 0)
        self.assertEqual(self.events(ana["id"])[-1][1:], ("conversation.updated", cid),
                         "Ana is told the conversation left her")
        # Ben can see it waiting in his queue, but it is not his to answer yet.
        self.assertEqual(self.get_conversation(ben["token"], cid)["status"], "waiting")
        r = self.reply(ben["token"], cid, "hello", expect=409)
        self.assertEqual(r.json["error"]["code"], "not_assigned", r.json)

        # Ben comes online: it is assigned to him.
        self.status(ben["token"], "online")
        c = self.wait_status(key, cid, "assigned", ben["id"])
        self.assertEqual(c["queue_id"], q2, c)
        self.assertEqual([x["id"] for x in self.agent_conversations(ben["token"])], [cid])
        self.reply(ben["token"], cid, "Ben here, I can help with your return.")

        # Resolve: validation, then a sale.
        for bad, code, field in (({}, "missing_field", "outcome"),
                                 ({"outcome": "won"}, "invalid_field", "outcome"),
                                 ({"outcome": "sale"}, "missing_field", "amount_cents"),
                                 ({"outcome": "sale", "amount_cents": 129900}, "missing_field", "currency"),
                                 ({"outcome": "sale", "amount_cents": -1, "currency": "USD"}, "invalid_field",
                                  "amount_cents"),
                                 ({"outcome": "sale", "amount_cents": 129900, "currency": "usd"}, "invalid_field",
                                  "currency"),
                                 ({"outcome": "resolved", "note": "x"}, "unknown_field", "note")):
            with self.subTest(resolve=bad):
                r = self.http.post(f"/v1/conversations/{cid}/resolve", json_body=bad, token=ben["token"])
                self.assertFieldError(r, code, field, f"resolve {bad!r}")
        self.resolve(ana["token"], cid, {"outcome": "resolved"}, expect=404)  # no longer hers to see
        res = self.resolve(ben["token"], cid, {"outcome": "sale", "amount_cents": 129900, "currency": "USD"}).json
        self.assertEqual((res["status"], res["outcome"], res["amount_cents"], res["currency"]),
                         ("resolved", "sale", 129900, "USD"), res)
        self.assertRegex(res["resolved_at"] or "", TIME_RE)
        self.assertEqual(self.get_conversation(key, cid)["status"], "resolved")
        self.assertEqual(self.agent_conversations(ben["token"]), [])
        self.assertEqual(self.status(ben["token"], "online")["load"], 0)
        r = self.reply(ben["token"], cid, "anything else?", expect=409)
        self.assertEqual(r.json["error"]["code"], "not_assigned", r.json)
        r = self.resolve(ben["token"], cid, {"outcome": "resolved"}, expect=409)  # already resolved
        self.assertEqual(r.json["error"]["code"], "not_assigned", r.json)
        self.resolve(key, cid, {"outcome": "resolved"}, expect=404)
        self.assertEqual(self.get_conversation(key, cid)["outcome"], "sale", "resolving again changed nothing")

        # Every event of each agent, in seq order.
        ana_events = [(t, i) for _, t, i in self.events(ana["id"])]
        self.assertEqual(ana_events[0], ("conversation.assigned", cid), ana_events)
        self.assertIn(("conversation.updated", cid), ana_events)
        ben_events = [(t, i) for _, t, i in self.events(ben["id"])]
        self.assertEqual(ben_events[0], ("conversation.assigned", cid), ben_events)
        self.assertEqual(ben_events[-1], ("conversation.updated", cid), f"resolve is an update: {ben_events}")
        seqs = [s for s, _, _ in self.events(ben["id"])]
        self.assertEqual(seqs, sorted(set(seqs)), "seq increases per agent")

    def test_business_key_transfers_to_an_agent_and_resolves(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        ana = self.agent(key, [q], capacity=1)
        elsewhere = self.queue(key)["id"]
        cleo = self.agent(key, [elsewhere], capacity=0)  # not of q, no capacity: a transfer still reaches her
        self.routing(key, q)
        self.status(ana["token"], "online")
        contact = wa_id()
        self.customer_says(channel, secret, contact, "hello, I have a question")
        cid = self.conversation_of(key, contact)["id"]
        self.wait_status(key, cid, "assigned", ana["id"])

        t = self.transfer(key, cid, {"agent_id": cleo["id"]}).json
        self.assertEqual((t["status"], t["agent_id"]), ("assigned", cleo["id"]),
                         f"an explicit transfer ignores capacity and presence: {t!r}")
        self.assertEqual([c["id"] for c in self.agent_conversations(cleo["token"])], [cid])
        self.assertEqual(self.agent_conversations(ana["token"]), [])
        self.assertIn(("conversation.assigned", cid), [(t, i) for _, t, i in self.events(cleo["id"])])
        # Ana may not act on it any more.
        self.transfer(ana["token"], cid, {"queue_id": q}, expect=404)
        r = self.resolve(key, cid, {"outcome": "no_sale"})
        self.assertEqual((r.json["status"], r.json["outcome"], r.json["amount_cents"], r.json["currency"]),
                         ("resolved", "no_sale", None, None), r.json)
        self.transfer(key, cid, {"queue_id": q}, expect=404)  # resolved stays closed


class CapacityTest(RoutingCase):
    def test_capacity_one_and_claim(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        other_q = self.queue(key)["id"]
        cleo = self.agent(key, [q, other_q], capacity=1)
        self.routing(key, q)
        self.status(cleo["token"], "online")

        contacts = [wa_id() for _ in range(3)]
        cids = []
        for contact in contacts:
            self.customer_says(channel, secret, contact, f"hello, this is {contact}")
            cids.append(self.conversation_of(key, contact)["id"])

        def statuses():
            return [self.get_conversation(key, cid)["status"] for cid in cids]

        self.wait_for(lambda: statuses().count("assigned") == 1 and statuses().count("waiting") == 2,
                      "1 assigned and 2 waiting")
        time.sleep(QUIET)
        st = statuses()
        self.assertEqual(sorted(st), ["assigned", "waiting", "waiting"], f"capacity 1: {st}")
        self.assertEqual(st[0], "assigned", f"the oldest goes first: {st}")
        self.assertEqual([c["id"] for c in self.agent_conversations(cleo["token"])], [cids[0]])
        self.assertEqual(self.status(cleo["token"], "online")["load"], 1)

        # Waiting in her queue: she can read it, not answer it.
        self.assertEqual(self.get_conversation(cleo["token"], cids[1])["status"], "waiting")
        self.assertEqual(len(self.messages(cleo["token"], cids[1])), 1)
        r = self.reply(cleo["token"], cids[1], "hi", expect=409)
        self.assertEqual(r.json["error"]["code"], "not_assigned", r.json)

        r = self.claim(cleo["token"], expect=409)
        self.assertEqual(r.json["error"]["code"], "at_capacity", r.json)

        # Away: the router leaves her alone; claiming still works.
        self.status(cleo["token"], "away")
        self.resolve(cleo["token"], cids[0], {"outcome": "resolved"})
        time.sleep(QUIET)
        self.assertEqual(statuses(), ["resolved", "waiting", "waiting"], "nothing is assigned to an away agent")
        self.claim(cleo["token"], {"queue_id": other_q}, expect=204)  # nothing waits there
        c = self.claim(cleo["token"]).json  # empty body
        self.assertEqual((c["id"], c["status"], c["agent_id"]), (cids[1], "assigned", cleo["id"]),
                         f"claim takes the oldest waiting conversation: {c!r}")
        self.assertIn(("conversation.assigned", cids[1]), [(t, i) for _, t, i in self.events(cleo["id"])])
        r = self.claim(cleo["token"], {}, expect=409)
        self.assertEqual(r.json["error"]["code"], "at_capacity", r.json)
        self.resolve(cleo["token"], cids[1], {"outcome": "no_sale"})
        c = self.claim(cleo["token"], {"queue_id": q}).json
        self.assertEqual((c["id"], c["status"]), (cids[2], "assigned"), c)
        self.resolve(cleo["token"], cids[2], {"outcome": "resolved"})
        self.claim(cleo["token"], expect=204)
        self.assertEqual(self.status(cleo["token"], "online")["load"], 0)

    def test_round_robin_spreads(self):
        key, channel, secret = self.business()
        rr = self.queue(key, strategy="round_robin")["id"]
        a1 = self.agent(key, [rr], capacity=10)
        a2 = self.agent(key, [rr], capacity=10)
        self.routing(key, rr)
        self.status(a1["token"], "online")
        self.status(a2["token"], "online")
        cids = []
        for _ in range(4):
            contact = wa_id()
            self.customer_says(channel, secret, contact, "question about my account")
            cid = self.conversation_of(key, contact)["id"]
            self.wait_status(key, cid, "assigned")
            cids.append(cid)
        by_agent = {}
        for cid in cids:
            by_agent.setdefault(self.get_conversation(key, cid)["agent_id"], []).append(cid)
        self.assertEqual(sorted(len(v) for v in by_agent.values()), [2, 2],
                         f"round_robin spreads 4 conversations over 2 agents 2 and 2: {by_agent}")
        # With an agent free, one router transaction routes and assigns
        # (both times are that transaction's now()).
        same = self.db.count(f"SELECT count(*) FROM conversations WHERE id IN ({', '.join(map(str, cids))}) "
                             f"AND routed_at = assigned_at")
        self.assertEqual(same, 4, "each conversation routed and assigned in one transaction")

    def test_round_robin_goes_round_the_agents_within_one_assignment(self):
        # Nine conversations wait while the agents are away; all three come
        # online at once (one statement), so one assignment pass serves all
        # nine: an agent who just got one goes to the back of the line.
        key, channel, secret = self.business()
        rr = self.queue(key, strategy="round_robin")["id"]
        agents = [self.agent(key, [rr], capacity=10) for _ in range(3)]
        self.routing(key, rr)
        cids = []
        for _ in range(9):
            contact = wa_id()
            self.customer_says(channel, secret, contact, "question about my account")
            cids.append(self.wait_status(key, self.conversation_of(key, contact)["id"], "waiting")["id"])
        ids = ", ".join(str(a["id"]) for a in agents)
        self.db.psql(f"UPDATE agents SET status = 'online' WHERE id IN ({ids})")
        by_agent = {}
        for cid in cids:
            by_agent.setdefault(self.wait_status(key, cid, "assigned")["agent_id"], []).append(cid)
        self.assertEqual(sorted(len(v) for v in by_agent.values()), [3, 3, 3],
                         f"round_robin gives each of 3 agents 3 of 9 conversations: {by_agent}")

    def test_least_busy_fills_the_emptiest_agent(self):
        key, channel, secret = self.business()
        lb = self.queue(key, strategy="least_busy")["id"]
        kim = self.agent(key, [lb], capacity=10, name="Kim")
        lou = self.agent(key, [lb], capacity=10, name="Lou")
        self.routing(key, lb)

        def new_conversation():
            contact = wa_id()
            self.customer_says(channel, secret, contact, "question about my account")
            cid = self.conversation_of(key, contact)["id"]
            return self.wait_status(key, cid, "assigned")["agent_id"]

        self.status(kim["token"], "online")
        self.assertEqual([new_conversation(), new_conversation()], [kim["id"], kim["id"]], "Kim is the only one")
        self.status(lou["token"], "online")
        # Lou (0 open) gets the next two; round robin would have given the second to Kim.
        self.assertEqual([new_conversation(), new_conversation()], [lou["id"], lou["id"]],
                         "least_busy assigns to the agent with the fewest open conversations")
        self.assertEqual((self.status(kim["token"], "online")["load"], self.status(lou["token"], "online")["load"]),
                         (2, 2))


class OfferTest(RoutingCase):
    def test_accept_and_reject(self):
        key, channel, secret = self.business()
        q = self.queue(key, require_accept=True, offer_timeout_s=600)["id"]
        dana = self.agent(key, [q], name="Dana")
        eli = self.agent(key, [q], name="Eli")
        by_id = {dana["id"]: dana, eli["id"]: eli}
        self.routing(key, q)
        self.status(dana["token"], "online")
        self.status(eli["token"], "online")

        contact = wa_id()
        self.customer_says(channel, secret, contact, "I want to buy the blue jacket")
        cid = self.conversation_of(key, contact)["id"]
        c = self.wait_status(key, cid, "offered")
        first = by_id[c["agent_id"]]
        other = eli if first is dana else dana
        mine = self.agent_conversations(first["token"])
        self.assertEqual([(x["id"], x["status"]) for x in mine], [(cid, "offered")], mine)
        self.assertIn(("conversation.offered", cid), [(t, i) for _, t, i in self.events(first["id"])])
        self.assertEqual(self.get_conversation(first["token"], cid)["status"], "offered")
        # Not the other agent's offer: 404 either way; a business key may not answer offers.
        self.offer_answer(other["token"], cid, "accept", expect=404)
        self.offer_answer(other["token"], cid, "reject", expect=404)
        self.offer_answer(key, cid, "accept", expect=403)
        r = self.reply(first["token"], cid, "hi", expect=409)  # offered, not yet accepted
        self.assertEqual(r.json["error"]["code"], "not_assigned", r.json)

        # Rejected: offered to the other agent.
        self.offer_answer(first["token"], cid, "reject")
        c = self.wait_status(key, cid, "offered", other["id"])
        self.assertEqual(self.agent_conversations(first["token"]), [])
        self.offer_answer(first["token"], cid, "accept", expect=404)
        a = self.offer_answer(other["token"], cid, "accept").json
        self.assertEqual((a["status"], a["agent_id"]), ("assigned", other["id"]), a)
        self.offer_answer(other["token"], cid, "accept", expect=404)  # no longer an offer
        self.reply(other["token"], cid, "Happy to help with the jacket")

        # The one who declined gets it when nobody else is online.
        contact2 = wa_id()
        self.status(other["token"], "offline")
        self.customer_says(channel, secret, contact2, "do you ship to Canada?")
        cid2 = self.conversation_of(key, contact2)["id"]
        self.wait_status(key, cid2, "offered", first["id"])
        self.offer_answer(first["token"], cid2, "reject")
        c2 = self.wait_status(key, cid2, "offered", first["id"])
        self.assertEqual(c2["agent_id"], first["id"], "offered again to the only online agent, who had declined")
        self.assertEqual(self.offer_answer(first["token"], cid2, "accept").json["status"], "assigned")

    def test_reject_prefers_others_over_who_declined(self):
        key, channel, secret = self.business()
        q = self.queue(key, require_accept=True, offer_timeout_s=600)["id"]
        agents = [self.agent(key, [q]) for _ in range(3)]
        by_id = {a["id"]: a for a in agents}
        self.routing(key, q)
        for a in agents:
            self.status(a["token"], "online")
        contact = wa_id()
        self.customer_says(channel, secret, contact, "hello")
        cid = self.conversation_of(key, contact)["id"]
        declined = []
        for _ in range(2):
            c = self.wait_for(lambda: (lambda x: x if x["status"] == "offered" and x["agent_id"] not in declined
                                       else None)(self.get_conversation(key, cid)),
                              f"an offer to an agent other than {declined}")
            declined.append(c["agent_id"])
            self.offer_answer(by_id[c["agent_id"]]["token"], cid, "reject")
        c = self.wait_for(lambda: (lambda x: x if x["status"] == "offered" else None)(self.get_conversation(key, cid)),
                          "the third offer")
        self.assertNotIn(c["agent_id"], declined, f"the agent who has not declined comes first: {c!r}")


# --------------------------------------------------------------------------
# The order_status bot


class OrderStatusBotTest(RoutingCase):
    def setUp(self):
        super().setUp()
        self.key, self.channel, self.secret = self.business()
        self.q = self.queue(self.key)["id"]
        self.fay = self.agent(self.key, [self.q], capacity=5, name="Fay")
        self.routing(self.key, self.q, [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}}])
        self.order(self.key, "A1001", status="shipped", carrier="DHL", eta="2026-12-02",
                   tracking_url="https://track.example/A1001")
        self.status(self.fay["token"], "online")

    def test_bot_answers_then_hands_over_on_request(self):
        contact = wa_id()
        self.customer_says(self.channel, self.secret, contact, "where is my order A1001?")
        cid = self.conversation_of(self.key, contact)["id"]
        c = self.wait_status(self.key, cid, "bot")
        self.assertEqual((c["intent"], c["agent_id"]), ("order_status", None), c)
        replies = self.wait_for(lambda: self.bot_messages(self.key, cid), "the bot's reply")
        self.assertEqual(len(replies), 1, replies)
        bot = replies[0]
        self.assertIn(bot["status"], ("queued", "sent", "failed"), bot)
        self.assertIsNone(bot["agent_id"], bot)
        self.assertIn("shipped", bot["text"].lower(), f"the reply names the order's status: {bot['text']!r}")
        self.assertIn("DHL", bot["text"], f"the reply names the carrier: {bot['text']!r}")
        self.assertEqual(self.db.psql(f"SELECT direction, sender FROM messages WHERE id = {bot['id']}"),
                         [["out", "bot"]], "psql: the bot's outbound row")
        self.assertIsNotNone(self.get_conversation(self.key, cid)["first_response_at"])
        time.sleep(QUIET)
        self.assertEqual(self.get_conversation(self.key, cid)["status"], "bot", "the bot keeps it")
        self.assertEqual(self.agent_conversations(self.fay["token"]), [], "no agent has it while the bot does")
        self.get_conversation(self.fay["token"], cid, expect=404)

        self.customer_says(self.channel, self.secret, contact, "agent please")
        c = self.wait_status(self.key, cid, "assigned", self.fay["id"])
        self.assertEqual(c["queue_id"], self.q, f"handed over to the default queue: {c!r}")
        self.assertEqual([x["id"] for x in self.agent_conversations(self.fay["token"])], [cid])
        self.assertIn(("conversation.assigned", cid), [(t, i) for _, t, i in self.events(self.fay["id"])])
        self.reply(self.fay["token"], cid, "Hi, Fay here.")

    def test_bot_answers_in_the_customers_language(self):
        replies = {}
        for lang, text in (("en", "where is my order A1001?"), ("es", "¿dónde está mi pedido A1001?")):
            contact = wa_id()
            self.customer_says(self.channel, self.secret, contact, text)
            cid = self.conversation_of(self.key, contact)["id"]
            self.wait_status(self.key, cid, "bot")
            replies[lang] = self.wait_for(lambda: self.bot_messages(self.key, cid),
                                          f"the bot's reply ({lang})")[0]["text"]
            self.assertIn("DHL", replies[lang], replies[lang])
        self.assertNotEqual(replies["en"], replies["es"], f"the Spanish question gets a Spanish answer: {replies}")

    def test_unknown_order_is_handed_over(self):
        contact = wa_id()
        self.customer_says(self.channel, self.secret, contact, "where is my order Z9999?")
        cid = self.conversation_of(self.key, contact)["id"]
        c = self.wait_status(self.key, cid, "assigned", self.fay["id"])
        self.assertEqual((c["intent"], c["queue_id"]), ("order_status", self.q), c)
        self.assertTrue(self.bot_messages(self.key, cid),
                        "the bot says it could not find the order before handing over")


class RouterWakeTest(RoutingCase):
    """A commit wakes the router when a message it stored waits for it: one
    that opens a conversation, or writes to a bot again. One joining a
    conversation routed to a queue does not. A slot an agent frees (a
    resolve, a transfer away) makes the router look whether a conversation
    waits for it, and turn only when one does. The router's own poll is set a
    minute away, so whatever is routed within seconds was woken for, and its
    turns (`switchboard_router_turn_seconds_count`) stay put while nothing
    wakes it."""
    server_env = {"SWITCHBOARD_ROUTER_POLL_MS": "60000", "SWITCHBOARD_LEASE_TTL_MS": "120000"}

    def turns(self):
        return exposition.scrape(self.http).total("switchboard_router_turn_seconds_count")

    def slot_checks(self, result):
        return exposition.scrape(self.http).value("switchboard_router_slot_checks_total", result=result)

    def settled_turns(self):
        """The turn count once it has not moved for QUIET (a turn is counted
        after its commit, which may come a little after what it did shows)."""
        last = self.turns()
        deadline = time.monotonic() + 10
        while True:
            time.sleep(QUIET)
            now = self.turns()
            if now == last:
                return now
            self.assertLess(time.monotonic(), deadline, "the router kept turning for 10 s with nothing to do")
            last = now

    def test_only_messages_with_something_to_route_wake_the_router(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        self.routing(key, q, [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}}])
        self.order(key, "A1001")

        contact = wa_id()
        before = self.turns()
        self.customer_says(channel, secret, contact, "hello, is anyone there?")
        cid = self.conversation_of(key, contact)["id"]
        self.wait_for(lambda: self.get_conversation(key, cid)["queue_id"] == q,
                      "the new conversation routed to the default queue")
        self.wait_for(lambda: self.turns() > before, "the router's turn for the new conversation counted")
        routed = self.settled_turns()

        self.customer_says(channel, secret, contact, "still there?")
        time.sleep(1.0)
        self.assertEqual(self.turns(), routed, "a message joining a conversation in a queue woke the router")

        shopper = wa_id()
        self.customer_says(channel, secret, shopper, "where is my order A1001?")
        bot_cid = self.conversation_of(key, shopper)["id"]
        self.wait_status(key, bot_cid, "bot")
        self.wait_for(lambda: len(self.bot_messages(key, bot_cid)) == 1, "the bot's first answer")
        self.customer_says(channel, secret, shopper, "where is my order A1001 now?")
        self.wait_for(lambda: len(self.bot_messages(key, bot_cid)) == 2,
                      "the bot's answer to the customer's next message")

    def test_a_freed_slot_goes_at_once_to_the_conversation_waiting_for_it(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        dora = self.agent(key, [q], capacity=1)
        eli = self.agent(key, [q], capacity=1)
        self.routing(key, q)
        self.status(dora["token"], "online")
        self.status(eli["token"], "online")
        cids = []
        for n in range(4):
            contact = wa_id()
            self.customer_says(channel, secret, contact, f"hello, customer {n} here")
            cids.append(self.conversation_of(key, contact)["id"])
            if n < 2:  # one each, in turn
                self.wait_status(key, cids[n], "assigned")
        self.wait_status(key, cids[2], "waiting")
        self.wait_status(key, cids[3], "waiting")
        owner = {self.get_conversation(key, c)["agent_id"]: c for c in cids[:2]}
        self.assertEqual(set(owner), {dora["id"], eli["id"]}, "one conversation each")

        # A resolve: the oldest waiting conversation takes the slot, long
        # before the router's next poll (a minute away).
        turned = self.slot_checks("turned")
        self.resolve(dora["token"], owner[dora["id"]], {"outcome": "resolved"})
        self.wait_status(key, cids[2], "assigned", dora["id"], timeout=10)
        self.assertGreater(self.slot_checks("turned"), turned, "the slot's look found the waiting conversation")
        self.assertEqual(self.get_conversation(key, cids[3])["status"], "waiting")

        # A transfer to another agent frees the first one's slot too: Eli's
        # conversation goes to Dora (above her capacity, as a transfer may),
        # and the last waiting one to Eli.
        self.transfer(eli["token"], owner[eli["id"]], {"agent_id": dora["id"]})
        self.wait_status(key, cids[3], "assigned", eli["id"], timeout=10)

    def test_freed_slots_with_nothing_waiting_do_not_turn_the_router(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        fay = self.agent(key, [q], capacity=5)
        self.routing(key, q)
        self.status(fay["token"], "online")
        cids = []
        for n in range(3):
            contact = wa_id()
            self.customer_says(channel, secret, contact, f"hi, number {n}")
            cids.append(self.conversation_of(key, contact)["id"])
        for cid in cids:
            self.wait_status(key, cid, "assigned", fay["id"])
        before = self.settled_turns()
        looked, turned = self.slot_checks("nothing_waiting"), self.slot_checks("turned")
        for cid in cids:
            self.resolve(fay["token"], cid, {"outcome": "resolved"})
        self.wait_for(lambda: self.slot_checks("nothing_waiting") > looked, "the router's look for a waiting conversation")
        time.sleep(1.0)
        self.assertEqual(self.turns(), before, "resolves with nothing waiting turned the router")
        self.assertEqual(self.slot_checks("turned"), turned)


# --------------------------------------------------------------------------
# Tenants and the messaging window


class WallsTest(RoutingCase):
    def test_another_business_never_sees_the_conversation(self):
        key1, ch1, s1 = self.business()
        q1 = self.queue(key1)["id"]
        gus = self.agent(key1, [q1])
        self.routing(key1, q1)
        self.status(gus["token"], "online")
        key2, ch2, s2 = self.business()
        q2 = self.queue(key2)["id"]
        hal = self.agent(key2, [q2])
        self.routing(key2, q2)
        self.status(hal["token"], "online")

        contact = wa_id()
        self.customer_says(ch1, s1, contact, "I need help with a return")
        cid = self.conversation_of(key1, contact)["id"]
        self.wait_status(key1, cid, "assigned", gus["id"])

        tok = hal["token"]
        self.assertEqual(self.agent_conversations(tok), [])
        self.get_conversation(tok, cid, expect=404)
        r = self.http.get(f"/v1/conversations/{cid}/messages", token=tok)
        self.assertError(r, 404, "not_found", "business 2's agent reads business 1's messages")
        self.reply(tok, cid, "hi", expect=404)
        self.offer_answer(tok, cid, "accept", expect=404)
        self.offer_answer(tok, cid, "reject", expect=404)
        self.transfer(tok, cid, {"queue_id": q2}, expect=404)
        self.resolve(tok, cid, {"outcome": "resolved"}, expect=404)
        self.get_conversation(key2, cid, expect=404)
        self.transfer(key2, cid, {"queue_id": q2}, expect=404)
        self.resolve(key2, cid, {"outcome": "resolved"}, expect=404)
        self.claim(tok, expect=204)
        self.claim(tok, {"queue_id": q1}, expect=204)

        # Business 1's agent cannot hand it to business 2.
        r = self.http.post(f"/v1/conversations/{cid}/transfer", json_body={"agent_id": hal["id"]},
                           token=gus["token"])
        self.assertFieldError(r, "invalid_field", "agent_id", "transfer to another business's agent")
        r = self.http.post(f"/v1/conversations/{cid}/transfer", json_body={"queue_id": q2}, token=gus["token"])
        self.assertFieldError(r, "invalid_field", "queue_id", "transfer to another business's queue")

        c = self.get_conversation(key1, cid)
        self.assertEqual((c["status"], c["agent_id"], c["queue_id"], c["outcome"]), ("assigned", gus["id"], q1, None),
                         f"nothing business 2 did changed it: {c!r}")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM messages WHERE conversation_id = {cid} "
                                       "AND direction = 'out'"), 0)
        self.assertEqual(self.db.count(f"SELECT count(*) FROM agent_events WHERE agent_id = {hal['id']}"), 0,
                         "business 2's agent got no event about it")

        # Business 2's key, naming its own agent: still another tenant's conversation, so 404.
        self.transfer(key2, cid, {"agent_id": hal["id"]}, expect=404)
        self.assertEqual(self.get_conversation(key1, cid)["agent_id"], gus["id"])


    def test_a_business_whose_assignment_fails_holds_up_no_other(self):
        # Recording an agent event of business A fails (a trigger), so the
        # router's turn (routing and assignment in one transaction) fails;
        # the same work then runs business by business: B's customer still
        # reaches B's agent, and A's conversation is routed and waits.
        key_a, ch_a, sec_a = self.business()
        key_b, ch_b, sec_b = self.business()
        qa, qb = self.queue(key_a)["id"], self.queue(key_b)["id"]
        aa, ab = self.agent(key_a, [qa]), self.agent(key_b, [qb])
        self.routing(key_a, qa)
        self.routing(key_b, qb)
        self.status(aa["token"], "online")
        self.status(ab["token"], "online")
        business_a = self.db.count(f"SELECT business_id FROM agents WHERE id = {aa['id']}")
        self.db.psql("CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$BEGIN RAISE EXCEPTION 'refused by the test'; END$$")
        self.db.psql(f"CREATE TRIGGER test_refuse_event BEFORE INSERT ON agent_events FOR EACH ROW "
                     f"WHEN (NEW.business_id = {business_a}) EXECUTE FUNCTION test_refuse_event()")
        try:
            ca, cb = wa_id(), wa_id()
            self.customer_says(ch_a, sec_a, ca, "question about my account")
            self.customer_says(ch_b, sec_b, cb, "question about my account")
            self.wait_status(key_b, self.conversation_of(key_b, cb)["id"], "assigned", ab["id"])
            cid_a = self.conversation_of(key_a, ca)["id"]
            self.wait_status(key_a, cid_a, "waiting")
            time.sleep(QUIET)
            self.assertEqual(self.get_conversation(key_a, cid_a)["status"], "waiting",
                             "A's assignment keeps failing while the trigger is there")
        finally:
            self.db.psql("DROP TRIGGER test_refuse_event ON agent_events")
            self.db.psql("DROP FUNCTION test_refuse_event()")
        self.wait_status(key_a, cid_a, "assigned", aa["id"])
        with open(self.servers[0].log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("routing and assigning business by business", log)
        self.assertIn(f"business_id={business_a} assignment failed", log)


class MessagingWindowTest(RoutingCase):
    def test_reply_outside_24_hours_is_422(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        ivy = self.agent(key, [q])
        self.routing(key, q)
        self.status(ivy["token"], "online")
        contact = wa_id()
        self.customer_says(channel, secret, contact, "hello, is anyone there?")
        cid = self.conversation_of(key, contact)["id"]
        self.wait_status(key, cid, "assigned", ivy["id"])

        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE id = {cid}")
        r = self.reply(ivy["token"], cid, "sorry for the wait", expect=422)
        self.assertEqual(r.json["error"]["code"], "outside_messaging_window", r.json)
        self.assertEqual(self.db.count(f"SELECT count(*) FROM messages WHERE conversation_id = {cid} "
                                       "AND direction = 'out'"), 0, "nothing is queued outside the window")

        self.db.psql(f"UPDATE conversations SET last_inbound_at = now() - interval '23 hours' WHERE id = {cid}")
        self.reply(ivy["token"], cid, "sorry for the wait")

    def test_window_runs_from_the_provider_timestamp(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        jo = self.agent(key, [q])
        self.routing(key, q)
        self.status(jo["token"], "online")
        contact = wa_id()
        # Meta delivered it late: the customer wrote 25 hours ago.
        self.customer_says(channel, secret, contact, "hello from yesterday", ts_s=int(time.time()) - 25 * 3600)
        cid = self.conversation_of(key, contact)["id"]
        self.wait_status(key, cid, "assigned", jo["id"])
        r = self.reply(jo["token"], cid, "hi", expect=422)
        self.assertEqual(r.json["error"]["code"], "outside_messaging_window", r.json)


if __name__ == "__main__":
    unittest.main()
