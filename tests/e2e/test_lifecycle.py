"""Day-two operations end to end: reading the set-up page by page, changing
it (validated like creation), deactivating what a business no longer uses
while history stays, rotating keys, and caches that forget at once, also in
a second process on the same database (LISTEN/NOTIFY).

Real binary, real PostgreSQL (fresh per class), real sockets.
"""

import secrets
import time
import urllib.parse

import exposition
import harness
from harness import uid
from test_routing import RoutingCase, wa_id

# A change made through one process reaches the other's caches through
# NOTIFY; both processes cache tokens and channels for 10 s, so anything
# well under that shows the invalidation, not the expiry.
CROSS_PROCESS = 4.0


class LifecycleTest(RoutingCase):
    processes = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.servers[1]
        cls.other_http = cls.connect(1)

    # ---- helpers

    def walk(self, path, template, key, limit):
        items, pages = self.api.list_all(path, key, limit=limit)
        self.assertTrue(all(len(p) <= limit for p in pages), f"{path}: a page above limit {limit}: {pages!r}")
        r = self.http.get(f"{path}?limit={limit}", token=key)
        self.conforms("GET", template, r)
        return items

    def routed(self, key, contact):
        """The contact's conversation once the router put it in a queue."""
        cid = self.conversation_of(key, contact)["id"]
        return self.wait_for(lambda: (lambda c: c if c["queue_id"] is not None else None)(
            self.get_conversation(key, cid)), f"the conversation of {contact} routed to a queue")

    def until(self, fn, what, timeout=CROSS_PROCESS):
        return self.wait_for(fn, what, timeout=timeout, interval=0.02)

    # ---- lists, lookups, tenancy

    def test_lists_are_paginated_and_scoped_to_the_business(self):
        key, channel, _ = self.business()
        other_key, _, _ = self.business()
        queues = [self.queue(key)["id"] for _ in range(3)]
        agents = [self.agent(key, [queues[0]])["id"] for _ in range(3)]
        refs = [uid("A") for _ in range(3)]
        for ref in refs:
            self.order(key, ref)
        skus = [uid("SKU-") for _ in range(3)]
        for sku in skus:
            r = self.http.put(f"/v1/products/{sku}", token=key,
                              json_body={"name": "Red shoe", "stock": 3, "price_cents": 100, "currency": "EUR"})
            self.assertEqual(r.status, 200, r)
        self.api.create_channel(key, "messenger")
        self.api.create_channel(key, "instagram")

        self.assertEqual([q["id"] for q in self.walk("/v1/queues", "/v1/queues", key, 2)], queues)
        self.assertEqual([a["id"] for a in self.walk("/v1/agents", "/v1/agents", key, 2)], agents)
        self.assertEqual([o["order_ref"] for o in self.walk("/v1/orders", "/v1/orders", key, 2)], sorted(refs))
        self.assertEqual([p["sku"] for p in self.walk("/v1/products", "/v1/products", key, 2)], sorted(skus))
        self.assertEqual(len(self.walk("/v1/channels", "/v1/channels", key, 2)), 3)
        for path in ("/v1/queues", "/v1/agents", "/v1/orders", "/v1/products"):
            items, _ = self.api.list_all(path, other_key)
            self.assertEqual(items, [], f"{path} of another business shows this one's")
        self.assertEqual(len(self.api.list_all("/v1/channels", other_key)[0]), 1)

        agent = self.act("GET", f"/v1/agents/{agents[0]}", "/v1/agents/{id}", key).json
        self.assertEqual((agent["queue_ids"], agent["active"], agent["status"]), ([queues[0]], True, "offline"))
        self.assertNotIn("token", agent)
        ch = self.api.list_all("/v1/channels", key)[0][0]
        self.assertEqual(ch["external_id"], channel)
        for secret_field in ("app_secret", "verify_token", "access_token"):
            self.assertNotIn(secret_field, ch)
        # Another business's ids: 404 for every verb, and nothing changes.
        for path, template in ((f"/v1/queues/{queues[0]}", "/v1/queues/{id}"),
                               (f"/v1/agents/{agents[0]}", "/v1/agents/{id}"),
                               (f"/v1/orders/{refs[0]}", "/v1/orders/{order_ref}"),
                               (f"/v1/products/{skus[0]}", "/v1/products/{sku}"),
                               (f"/v1/channels/{ch['id']}", "/v1/channels/{id}")):
            for method, body in (("GET", None), ("PATCH", {}), ("DELETE", None)):
                r = self.http.request(method, path, token=other_key, json_body=body)
                self.assertError(r, 404, "not_found", f"{method} {path} with another business's key")
                self.conforms(method, template, r)
        self.assertTrue(self.act("GET", f"/v1/queues/{queues[0]}", "/v1/queues/{id}", key).json["active"])
        r = self.http.post(f"/v1/agents/{agents[0]}/token", token=other_key)
        self.assertError(r, 404, "not_found", "rotating another business's agent token")
        r = self.http.get("/v1/queues?limit=0", token=key)
        self.assertError(r, 400, "invalid_field", "limit=0")
        r = self.http.get("/v1/queues/abc", token=key)
        self.assertError(r, 404, "not_found", "a non-numeric id")

    # ---- PATCH

    def test_patch_validates_like_create_and_changes_only_what_is_given(self):
        key, _, _ = self.business()
        q = self.queue(key, strategy="round_robin", first_response_sla_s=60)
        path = f"/v1/queues/{q['id']}"
        for body, code, field in (({"strategy": "fastest"}, "invalid_field", "strategy"),
                                  ({"name": None}, "invalid_field", "name"),
                                  ({"offer_timeout_s": 0}, "invalid_field", "offer_timeout_s"),
                                  ({"colour": "red"}, "unknown_field", "colour"),
                                  ({"name": ""}, "invalid_field", "name")):
            r = self.http.request("PATCH", path, json_body=body, token=key)
            err = self.assertError(r, 400, code, f"PATCH {path} {body!r}")
            self.assertIn(field, err["message"])
        self.assertEqual(self.act("GET", path, "/v1/queues/{id}", key).json["strategy"], "round_robin")
        out = self.act("PATCH", path, "/v1/queues/{id}", key,
                        {"strategy": "least_busy", "first_response_sla_s": None, "overflow_wait_s": 300}).json
        self.assertEqual((out["name"], out["strategy"], out["first_response_sla_s"], out["overflow_wait_s"]),
                         (q["name"], "least_busy", None, 300))

        q2 = self.queue(key)
        a = self.agent(key, [q["id"]], capacity=2, skills=["es"])
        apath = f"/v1/agents/{a['id']}"
        r = self.http.request("PATCH", apath, json_body={"queue_ids": [q["id"], 99999999]}, token=key)
        self.assertError(r, 400, "invalid_field", "an unknown queue id")
        self.assertIn("queue_ids[1]", r.json["error"]["message"])
        r = self.http.request("PATCH", apath, json_body={"capacity": 5000}, token=key)
        self.assertError(r, 400, "invalid_field", "capacity above 1000")
        out = self.act("PATCH", apath, "/v1/agents/{id}", key,
                        {"name": "Renamed", "capacity": 7, "queue_ids": [q2["id"], q2["id"]], "skills": ["fr"]}).json
        self.assertEqual((out["name"], out["capacity"], out["queue_ids"], out["skills"]),
                         ("Renamed", 7, [q2["id"]], ["fr"]))

        ref = uid("R")
        self.order(key, ref, carrier="UPS", customer_phone="+15550009999")
        opath = f"/v1/orders/{ref}"
        r = self.http.request("PATCH", opath, json_body={"currency": "usd"}, token=key)
        self.assertError(r, 400, "invalid_field", "a lower-case currency")
        out = self.act("PATCH", opath, "/v1/orders/{order_ref}", key, {"status": "delivered", "carrier": None}).json
        self.assertEqual((out["status"], out["carrier"], out["customer_phone"]), ("delivered", None, "+15550009999"))
        sku = uid("S")
        self.http.put(f"/v1/products/{sku}", token=key,
                      json_body={"name": "Hat", "stock": 1, "price_cents": 500, "currency": "EUR"})
        out = self.act("PATCH", f"/v1/products/{sku}", "/v1/products/{sku}", key, {"stock": 0}).json
        self.assertEqual((out["name"], out["stock"], out["active"]), ("Hat", 0, True))
        r = self.http.request("PATCH", f"/v1/products/{sku}", json_body={"stock": -1}, token=key)
        self.assertError(r, 400, "invalid_field", "negative stock")

    def test_deactivated_orders_and_products_stay_listed_and_put_brings_them_back(self):
        key, _, _ = self.business()
        ref = uid("D")
        self.order(key, ref)
        out = self.act("DELETE", f"/v1/orders/{ref}", "/v1/orders/{order_ref}", key).json
        self.assertFalse(out["active"])
        self.assertFalse(self.act("GET", f"/v1/orders/{ref}", "/v1/orders/{order_ref}", key).json["active"])
        self.assertEqual(int(self.db.value(f"SELECT count(*) FROM orders WHERE order_ref = '{ref}'")), 1)
        self.order(key, ref)
        self.assertTrue(self.act("GET", f"/v1/orders/{ref}", "/v1/orders/{order_ref}", key).json["active"])
        r = self.http.request("DELETE", "/v1/products/nope", token=key)
        self.assertError(r, 404, "not_found", "DELETE of an unknown product")

    def test_ads_are_listed_changed_and_deactivated_keeping_their_spend(self):
        key, _, _ = self.business()
        ads = [uid("AD") for _ in range(3)]
        for ad in ads:
            r = self.http.put(f"/v1/ads/{ad}", token=key,
                              json_body={"name": "Winter", "campaign": "BF", "spend_cents": 1000, "currency": "USD"})
            self.assertEqual(r.status, 200, r)
        self.assertEqual([a["ad_id"] for a in self.walk("/v1/ads", "/v1/ads", key, 2)], sorted(ads))
        path = f"/v1/ads/{ads[0]}"
        r = self.http.request("PATCH", path, json_body={"spend_cents": -5}, token=key)
        self.assertError(r, 400, "invalid_field", "a negative spend")
        r = self.http.request("PATCH", path, json_body={"currency": None}, token=key)
        self.assertError(r, 400, "invalid_field", "a null currency")
        out = self.act("PATCH", path, "/v1/ads/{ad_id}", key, {"spend_cents": 2500, "name": None}).json
        self.assertEqual((out["spend_cents"], out["name"], out["campaign"], out["active"]), (2500, None, "BF", True))
        out = self.act("DELETE", path, "/v1/ads/{ad_id}", key).json
        self.assertEqual((out["active"], out["spend_cents"]), (False, 2500))
        self.assertFalse(self.act("GET", path, "/v1/ads/{ad_id}", key).json["active"])
        r = self.http.put(path, token=key, json_body={"spend_cents": 2600, "currency": "USD"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.act("GET", path, "/v1/ads/{ad_id}", key).json["active"])
        self.assertError(self.http.get("/v1/ads/nope", token=key), 404, "not_found", "an unknown ad")

    # ---- channels

    def test_channel_secret_change_and_deactivation_reach_every_process(self):
        key, channel, secret = self.business()
        other = harness.Api(self.other_http)
        body = harness.message_body("whatsapp", channel, wa_id(), uid("wamid."), "hello")
        # Both processes have the channel cached.
        for api in (self.api, other):
            self.assertEqual(api.post_webhook("whatsapp", body, secret=secret).status, 200)
        ch = self.api.list_all("/v1/channels", key)[0][0]
        path = f"/v1/channels/{ch['id']}"
        new_secret = secrets.token_hex(16)
        out = self.act("PATCH", path, "/v1/channels/{id}", key,
                        {"app_secret": new_secret, "name": "Main line", "access_token": "EAAnewtoken"}).json
        self.assertEqual((out["name"], out["has_access_token"]), ("Main line", True))
        self.assertNotIn("app_secret", out)
        self.assertNotIn(b"EAAnewtoken", self.http.get(path, token=key).body)
        r = self.http.request("PATCH", path, json_body={"app_secret": None}, token=key)
        self.assertError(r, 400, "invalid_field", "a null app secret")
        r = self.http.request("PATCH", path, json_body={"kind": "messenger"}, token=key)
        self.assertError(r, 400, "unknown_field", "changing the kind")
        for api, where in ((self.api, "this process"), (other, "the other process")):
            self.until(lambda: api.post_webhook("whatsapp", body, secret=secret).status == 401,
                       f"the old app secret refused in {where}")
            r = api.post_webhook("whatsapp", harness.message_body("whatsapp", channel, wa_id(), uid("wamid."), "x"),
                                 secret=new_secret)
            self.assertEqual(r.status, 200, f"the new app secret in {where}: {r!r}")
        stored = self.db.count("SELECT count(*) FROM messages")

        out = self.act("DELETE", path, "/v1/channels/{id}", key).json
        self.assertFalse(out["active"])
        before = self.inactive_count(self.other_http)
        fresh = harness.message_body("whatsapp", channel, wa_id(), uid("wamid."), "after")
        r = self.api.post_webhook("whatsapp", fresh, secret=new_secret)
        self.assertEqual((r.json or {}).get("status"), "ignored", f"this process forgets at once: {r!r}")
        # The other process forgets when the NOTIFY arrives (milliseconds):
        # until then it may still store what it is sent.
        self.until(lambda: (other.post_webhook("whatsapp", fresh, secret=new_secret).json or {}).get("status")
                   == "ignored", "webhooks of the deactivated channel ignored in the other process")
        self.assertLessEqual(self.db.count("SELECT count(*) FROM messages"), stored + 1)
        stored = self.db.count("SELECT count(*) FROM messages")
        for api in (self.api, other):
            later = harness.message_body("whatsapp", channel, wa_id(), uid("wamid."), "later")
            self.assertEqual((api.post_webhook("whatsapp", later, secret=new_secret).json or {}).get("status"),
                             "ignored")
        self.assertEqual(self.db.count("SELECT count(*) FROM messages"), stored, "a deactivated channel stored")
        self.assertGreater(self.inactive_count(self.other_http), before, "ignored webhooks are not counted")
        self.assertTrue(self.act("GET", path, "/v1/channels/{id}", key).json["name"] == "Main line")
        # Deactivation keeps history: the conversations stay readable.
        self.assertGreater(len(self.api.conversations(key)), 0)
        # And it can come back. With a message id of its own: `fresh` may
        # have been stored by the other process before it heard of the
        # deactivation (above), and would then stay a re-delivery.
        self.act("PATCH", path, "/v1/channels/{id}", key, {"active": True}).json
        back = harness.message_body("whatsapp", channel, wa_id(), uid("wamid."), "back")
        self.until(lambda: (self.api.post_webhook("whatsapp", back, secret=new_secret).json or {}).get("messages")
                   == 1, "a reactivated channel stores again")

    def inactive_count(self, http):
        return exposition.scrape(http).total("switchboard_webhooks_total", result="inactive")

    # ---- queues

    def test_deactivated_queue_takes_nothing_new_and_rules_fall_back_to_the_default(self):
        key, channel, secret = self.business()
        default = self.queue(key)
        refunds = self.queue(key)
        self.routing(key, default["id"], [{"match": {"text_regex": "(?i)refund"}, "target": {"queue_id": refunds["id"]}}])
        contact = wa_id()
        self.customer_says(channel, secret, contact, "I want a refund")
        first = self.routed(key, contact)
        self.assertEqual(first["queue_id"], refunds["id"])

        r = self.http.request("DELETE", f"/v1/queues/{default['id']}", token=key)
        self.assertError(r, 409, "queue_is_default", "deactivating the default queue")
        self.conforms("DELETE", "/v1/queues/{id}", r)
        out = self.act("DELETE", f"/v1/queues/{refunds['id']}", "/v1/queues/{id}", key).json
        self.assertFalse(out["active"])
        self.assertIsNotNone(out["deactivated_at"])
        late = wa_id()
        self.customer_says(channel, secret, late, "refund please")
        c = self.routed(key, late)
        self.assertEqual(c["queue_id"], default["id"], "routing to a deactivated queue must fall back to the default")
        # The earlier conversation stays where it was (history).
        self.assertEqual(self.get_conversation(key, first["id"])["queue_id"], refunds["id"])
        r = self.http.post("/v1/agents", token=key,
                           json_body={"name": "x", "capacity": 1, "queue_ids": [refunds["id"]]})
        self.assertError(r, 400, "invalid_field", "an agent in a deactivated queue")
        self.transfer(key, c["id"], {"queue_id": refunds["id"]}, expect=400)

    # ---- agents

    def test_deactivated_agent_stops_at_once_and_their_conversations_wait_again(self):
        key, channel, secret = self.business()
        q = self.queue(key)
        self.routing(key, q["id"])
        leaving = self.agent(key, [q["id"]], capacity=1)
        self.status(leaving["token"], "online")
        contact = wa_id()
        self.customer_says(channel, secret, contact, "hello there")
        cid = self.conversation_of(key, contact)["id"]
        self.wait_status(key, cid, "assigned", leaving["id"])
        # The other process knows the token (cached) and streams to the agent.
        self.assertEqual(self.other_http.get("/v1/agent/conversations", token=leaving["token"]).status, 200)
        ws = self.stream(1, "/v1/agent/stream?after=0", token=leaving["token"])

        out = self.act("DELETE", f"/v1/agents/{leaving['id']}", "/v1/agents/{id}", key).json
        self.assertEqual((out["active"], out["status"], out["load"]), (False, "offline", 0))
        r = self.http.get("/v1/agent/conversations", token=leaving["token"])
        self.assertError(r, 401, "unauthorized", "a deactivated agent's token in this process")
        self.until(lambda: self.other_http.get("/v1/agent/conversations", token=leaving["token"]).status == 401,
                   "a deactivated agent's token refused by the other process")
        self.assertTrue(ws.wait_closed(CROSS_PROCESS), "the agent's stream on the other process stayed open")
        self.assertEqual(ws.close_code, 1008, f"expected close 1008 (token revoked), got {ws.close_code}")
        c = self.wait_status(key, cid, "waiting")
        self.assertEqual((c["agent_id"], c["queue_id"]), (None, q["id"]))
        kinds = self.db.psql(f"SELECT kind FROM conversation_events WHERE conversation_id = {cid}")
        self.assertIn(["agent_deactivated"], kinds)
        # Somebody else picks it up.
        stays = self.agent(key, [q["id"]])
        self.status(stays["token"], "online")
        self.wait_status(key, cid, "assigned", stays["id"])
        r = self.http.post(f"/v1/agents/{leaving['id']}/token", token=key)
        self.assertError(r, 409, "agent_inactive", "a new token for a deactivated agent")
        # Reactivated, they need a new token; the old one stays dead.
        self.act("PATCH", f"/v1/agents/{leaving['id']}", "/v1/agents/{id}", key, {"active": True}).json
        self.assertEqual(self.http.get("/v1/agent/conversations", token=leaving["token"]).status, 401)
        token = self.act("POST", f"/v1/agents/{leaving['id']}/token", "/v1/agents/{id}/token", key).json["token"]
        self.assertEqual(self.http.get("/v1/agent/conversations", token=token).status, 200)

    def test_agent_token_rotation_stops_the_old_token_everywhere(self):
        key, _, _ = self.business()
        q = self.queue(key)
        a = self.agent(key, [q["id"]])
        for http in (self.http, self.other_http):
            self.assertEqual(http.get("/v1/agent/conversations", token=a["token"]).status, 200)
        new = self.act("POST", f"/v1/agents/{a['id']}/token", "/v1/agents/{id}/token", key).json
        self.assertEqual(new["id"], a["id"])
        self.assertNotEqual(new["token"], a["token"])
        self.assertEqual(self.http.get("/v1/agent/conversations", token=a["token"]).status, 401)
        self.until(lambda: self.other_http.get("/v1/agent/conversations", token=a["token"]).status == 401,
                   "the old agent token refused by the other process")
        self.assertEqual(self.other_http.get("/v1/agent/conversations", token=new["token"]).status, 200)

    # ---- business keys

    def test_business_key_rotation_with_and_without_grace(self):
        old = self.api.create_business()["api_key"]
        for http in (self.http, self.other_http):
            self.assertEqual(http.get("/v1/queues", token=old).status, 200)
        r = self.http.post("/v1/keys/rotate", json_body={"grace_s": -1}, token=old)
        self.assertError(r, 400, "invalid_field", "a negative grace")
        r = self.http.post("/v1/keys/rotate", json_body={"grace": 5}, token=old)
        self.assertError(r, 400, "unknown_field", "an unknown field")

        out = self.act("POST", "/v1/keys/rotate", "/v1/keys/rotate", old, {"grace_s": 2}).json
        new = out["api_key"]
        self.assertEqual((out["grace_s"], out["previous_keys"]), (2, 1))
        for http in (self.http, self.other_http):
            self.assertEqual(http.get("/v1/queues", token=old).status, 200, "the old key within its grace")
            self.assertEqual(http.get("/v1/queues", token=new).status, 200)
        time.sleep(2.2)
        for http in (self.http, self.other_http):
            self.assertEqual(http.get("/v1/queues", token=old).status, 401, "the old key after its grace")

        out = self.act("POST", "/v1/keys/rotate", "/v1/keys/rotate", new, {"grace_s": 0}).json
        newest = out["api_key"]
        self.assertEqual(self.http.get("/v1/queues", token=new).status, 401, "grace 0 stops the key at once")
        self.until(lambda: self.other_http.get("/v1/queues", token=new).status == 401,
                   "grace 0 reaches the other process")
        out = self.act("POST", "/v1/keys/rotate", "/v1/keys/rotate", newest).json
        self.assertEqual(out["grace_s"], 86400, "the default grace is a day")
        self.assertEqual(self.http.get("/v1/queues", token=newest).status, 200)


