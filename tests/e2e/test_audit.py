"""The audit log of set-up changes, end to end: every change of a business's
set-up (the business itself, channels, queues, agents, routing) is one row
saying who (admin, the business key's fingerprint, an agent id; never a
token), what (action, resource, a summary with secrets redacted) and when,
readable newest first at GET /v1/audit; a refused change leaves no row;
businesses see only their own.
"""

import hashlib
import secrets
import unittest

import harness
from harness import ADMIN_TOKEN, TIME_RE, uid
from test_routing import RoutingCase


class AuditLogTest(RoutingCase):
    def audit(self, key, **kw):
        items, pages = self.api.list_all("/v1/audit", key, **kw)
        return items, pages

    def test_every_setup_change_is_recorded_newest_first(self):
        r = self.http.post("/v1/businesses", json_body={"name": "Audited Shop", "timezone": "Europe/Lisbon"},
                           token=ADMIN_TOKEN)
        self.assertEqual(r.status, 201, r)
        business_id, key = r.json["id"], r.json["api_key"]
        fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        app_secret, verify, access = "s3cret-" + secrets.token_hex(8), "v-" + uid(), "EAAG" + secrets.token_hex(8)
        r = self.http.post("/v1/channels", json_body={
            "kind": "whatsapp", "external_id": uid("pn"), "app_secret": app_secret, "verify_token": verify,
            "access_token": access}, token=key)
        self.assertEqual(r.status, 201, r)
        channel, channel_request = r.json, r.header("x-request-id")
        queue = self.queue(key, name="Support")
        agent = self.agent(key, [queue["id"]], name="Ana")
        rules = [{"match": {"text_regex": "pedido|order"}, "target": {"queue_id": queue["id"]}}]
        self.routing(key, queue["id"], rules)
        # Business data, not set-up: not audited.
        self.order(key, "A1001")
        r = self.http.put("/v1/products/SKU-1", json_body={"name": "Mug", "stock": 3, "price_cents": 900,
                                                            "currency": "EUR"}, token=key)
        self.assertEqual(r.status, 200, r)

        items, _ = self.audit(key)
        r = self.http.get("/v1/audit", token=key)
        self.conforms("GET", "/v1/audit", r)
        self.assertEqual([(i["action"], i["resource"]["type"]) for i in items],
                         [("replace", "routing"), ("create", "agent"), ("create", "queue"), ("create", "channel"),
                          ("create", "business")], f"newest first, one entry per change: {items!r}")
        routing, agent_row, queue_row, channel_row, business_row = items
        self.assertEqual(business_row["actor"], {"type": "admin", "id": None})
        self.assertEqual(business_row["resource"], {"type": "business", "id": str(business_id)})
        self.assertEqual(business_row["summary"], {"name": "Audited Shop", "timezone": "Europe/Lisbon"})
        for row in (channel_row, queue_row, agent_row, routing):
            self.assertEqual(row["actor"], {"type": "business_key", "id": fingerprint},
                             "a business key is named by its fingerprint, never itself")
        self.assertEqual(channel_row["resource"], {"type": "channel", "id": str(channel["id"])})
        self.assertEqual(channel_row["request_id"], channel_request, "the request id of the change")
        self.assertEqual(channel_row["summary"]["app_secret"], "[redacted]")
        self.assertEqual(channel_row["summary"]["verify_token"], "[redacted]")
        self.assertEqual(channel_row["summary"]["access_token"], "[redacted]")
        self.assertEqual(channel_row["summary"]["kind"], "whatsapp")
        self.assertEqual(queue_row["resource"]["id"], str(queue["id"]))
        self.assertEqual(queue_row["summary"]["name"], "Support")
        self.assertEqual(agent_row["resource"]["id"], str(agent["id"]))
        self.assertEqual(agent_row["summary"]["queue_ids"], [queue["id"]])
        self.assertEqual(routing["summary"], {"default_queue_id": queue["id"], "rules": rules})
        for row in items:
            self.assertRegex(row["at"], TIME_RE)
        self.assertTrue(items[0]["at"] >= items[-1]["at"])
        text = repr(items)
        for secret in (key, app_secret, verify, access, agent["token"]):
            self.assertNotIn(secret, text, "a secret in the audit log")

        # Pages of two walk every entry once.
        paged, pages = self.audit(key, limit=2)
        self.assertEqual([len(p) for p in pages], [2, 2, 1])
        self.assertEqual([i["id"] for i in paged], [i["id"] for i in items])

    def test_deactivating_an_agent_by_patch_is_one_change(self):
        key, _, _ = self.business()
        queue = self.queue(key)
        agent = self.agent(key, [queue["id"]], name="Ana")
        before, _ = self.audit(key)
        r = self.http.request("PATCH", f"/v1/agents/{agent['id']}", json_body={"active": False, "capacity": 3},
                              token=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["active"], r.json["capacity"], r.json["status"]), (False, 3, "offline"))
        self.assertEqual(self.http.get("/v1/agent/conversations", token=agent["token"]).status, 401,
                         "the token of an agent deactivated by PATCH")
        after, _ = self.audit(key)
        new = after[:len(after) - len(before)]
        self.assertEqual([(i["action"], i["resource"]) for i in new],
                         [("deactivate", {"type": "agent", "id": str(agent["id"])})], f"one entry: {new!r}")
        self.assertEqual(new[0]["summary"], {"capacity": 3}, "the other changes of the same request")

    def test_a_refused_change_leaves_no_row(self):
        key, phone, _ = self.business()
        before, _ = self.audit(key)
        r = self.http.post("/v1/channels", json_body={"kind": "whatsapp", "external_id": phone, "app_secret": "x",
                                                      "verify_token": "y"}, token=key)
        self.assertError(r, 409, "channel_exists")
        r = self.http.post("/v1/queues", json_body={"name": "q", "strategy": "fastest"}, token=key)
        self.assertError(r, 400, "invalid_field")
        r = self.http.post("/v1/agents", json_body={"name": "a", "capacity": 1, "queue_ids": [999999999]}, token=key)
        self.assertError(r, 400, "invalid_field")
        r = self.http.put("/v1/routing", json_body={"default_queue_id": 1, "rules": [{"match": {"text_regex": "("},
                                                                                      "target": {"bot": "in_stock"}}]},
                          token=key)
        self.assertError(r, 400, "invalid_field")
        after, _ = self.audit(key)
        self.assertEqual(after, before, "refused changes were recorded")

    def test_each_business_reads_only_its_own_and_only_with_its_key(self):
        key_a, _, _ = self.business()
        key_b, _, _ = self.business()
        q = self.queue(key_a)
        agent = self.agent(key_a, [q["id"]])
        a_items, _ = self.audit(key_a)
        b_items, _ = self.audit(key_b)
        self.assertFalse({i["id"] for i in a_items} & {i["id"] for i in b_items}, "an entry seen by both")
        self.assertEqual([i["resource"]["type"] for i in b_items], ["channel", "business"], b_items)
        self.assertError(self.http.get("/v1/audit", token=agent["token"]), 403, "forbidden", "agent token")
        self.assertError(self.http.get("/v1/audit"), 401, "unauthorized", "no token")
        self.assertError(self.http.get("/v1/audit", token=ADMIN_TOKEN), 403, "forbidden", "admin token")
        for bad in ("limit=0", "limit=201", "limit=x", "cursor=abc", "cursor=-1"):
            self.assertError(self.http.get("/v1/audit?" + bad, token=key_a), 400, "invalid_field", bad)


if __name__ == "__main__":
    unittest.main()
