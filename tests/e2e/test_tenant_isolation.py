"""Tenants are walls, for every route of proto/openapi.yaml.

Business A has everything (channel, queue, agent, routing, order, product, a
conversation assigned to its agent, audit rows); business B has a key, a
queue and an online agent. Every operation the document lists is called
with B's credentials (business key and agent token) and, wherever a path or
body takes an id, with A's ids. The answers must be 404 for A's ids (401/403
only where the token has the wrong role), and no answer may carry any of
A's data (its names, external ids, customer text, ...). A's rows must not
change.

A route with no case here fails the test: a new route must say how it keeps
tenants apart (add it to CASES; `foreign()` covers most routes with ids).
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
import unittest
import urllib.parse

import harness
import ws_client
from harness import ADMIN_TOKEN, uid
from test_routing import RoutingCase, wa_id

try:
    import openapi_spec as spec
    import yaml  # noqa: F401
    HAVE_YAML = True
except ImportError:
    HAVE_YAML = False


class World:
    """A's resources and markers, B's credentials."""


def substitute(world, path):
    """The path with every parameter filled with A's value for it."""
    segments = path.strip("/").split("/")
    out = []
    for i, seg in enumerate(segments):
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1]
            owner = segments[i - 1] if i > 0 else ""
            key = f"{owner}/{name}"
            if key not in world.a_params:
                raise AssertionError(f"no value of business A for the parameter {key!r} of {path}: add A's "
                                     f"resource to World (a_params) in {__file__}")
            out.append(urllib.parse.quote(str(world.a_params[key]), safe=""))
        else:
            out.append(seg)
    return "/" + "/".join(out)


# ---- case builders: each returns fn(test, world, method, path) -> None


def foreign(business=404, agent=403, body=None):
    """Call the route with A's ids in the path as B's business key and as B's
    agent; expect `business` / `agent` statuses (None: that role is not
    tried). `body` is a JSON body, or fn(world) giving one (B's own ids)."""
    def run(t, w, method, path):
        target = substitute(w, path)
        b = body(w) if callable(body) else body
        for who, token, expect in (("business key", w.b_key, business), ("agent token", w.b_agent, agent)):
            if expect is None:
                continue
            r = t.call(method, target, token, b)
            t.expect(r, expect, f"{method} {target} as B's {who}")
    return run


def listing(business=200, agent=403):
    """A list or a read of the caller's own things: B sees none of A's."""
    return foreign(business, agent)


def public():
    def run(t, w, method, path):
        r = t.call(method, path, None, None)
        t.expect(r, (200, 503), f"{method} {path}")
    return run


def route_case(fn):
    """A case written out in full: fn(test, world)."""
    return lambda t, w, method, path: fn(t, w)


# ---- cases that need more than foreign()


def webhook_verify(t, w):
    r = t.call("GET", f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={urllib.parse.quote(w.b_verify)}"
               f"&hub.challenge=77", None, None)
    t.expect(r, 200, "B's own handshake")
    t.assertEqual(r.body, b"77")
    r = t.call("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=not-a-token&hub.challenge=1",
               None, None)
    t.expect(r, 403, "an unknown verify token")


def webhook_post(t, w):
    before = t.db.count(f"SELECT count(*) FROM messages WHERE business_id = {w.a_business}")
    body = harness.message_body("whatsapp", w.a_phone, wa_id(), uid("wamid."), "B pretending to be A's customer")
    r = t.api.post_webhook("whatsapp", body, secret=w.b_secret)
    t.answers.append(("POST", "/webhooks/whatsapp", r))
    t.expect(r, 401, "a body naming A's channel signed with B's app secret")
    t.assertEqual(t.db.count(f"SELECT count(*) FROM messages WHERE business_id = {w.a_business}"), before,
                  "B's signature stored a message in A's channel")


def dashboard_asset(t, w):
    # The page's files are the same for everyone; the data comes from /v1 with the caller's key.
    t.expect(t.call("GET", "/admin/admin.js", None, None), 200, "the dashboard's script")


def put_template(t, w):
    # Template names are the business's own: B's PUT of A's name is B's template; A's stays as it was.
    target = substitute(w, "/v1/templates/{name}")
    body = {"language": "en", "category": "utility", "body_parameter_count": 0}
    t.expect(t.call("PUT", target, w.b_key, body), 200, "B's template with A's name",
             allow=(w.a_params["templates/name"],))
    t.expect(t.call("PUT", target, w.b_agent, body), 403, "agent")


def stream_ticket(t, w):
    t.expect(t.call("POST", "/v1/agent/stream-ticket", w.b_agent, {}), 201, "B's agent's ticket")
    t.expect(t.call("POST", "/v1/agent/stream-ticket", w.b_key, {}), 403, "B's key")


def create_business(t, w):
    t.expect(t.call("POST", "/v1/businesses", w.b_key, {"name": "x"}), 403, "B's key creating a business")
    t.expect(t.call("POST", "/v1/businesses", w.b_agent, {"name": "x"}), 403, "B's agent creating a business")


def create_channel(t, w):
    # Meta's ids are global: B cannot register A's channel, and learns nothing of A but that.
    r = t.call("POST", "/v1/channels", w.b_key, {"kind": "whatsapp", "external_id": w.a_phone, "app_secret": "x",
                                                 "verify_token": uid("v")})
    t.expect(r, 409, "B registering A's WhatsApp number", allow=(w.a_phone,))
    t.expect(t.call("POST", "/v1/channels", w.b_agent, {"kind": "whatsapp", "external_id": uid("p"),
                                                        "app_secret": "x", "verify_token": "y"}), 403, "agent")


def create_queue(t, w):
    t.expect(t.call("POST", "/v1/queues", w.b_agent, {"name": "q", "strategy": "round_robin"}), 403, "agent")


def create_agent(t, w):
    r = t.call("POST", "/v1/agents", w.b_key, {"name": "spy", "capacity": 1, "queue_ids": [w.a_queue]})
    t.expect(r, (400, 404), "B's agent in A's queue")
    t.expect(t.call("POST", "/v1/agents", w.b_agent, {"name": "x", "capacity": 1, "queue_ids": []}), 403, "agent")


def put_routing(t, w):
    r = t.call("PUT", "/v1/routing", w.b_key, {"default_queue_id": w.a_queue, "rules": []})
    t.expect(r, (400, 404), "B routing to A's queue as default")
    r = t.call("PUT", "/v1/routing", w.b_key, {"default_queue_id": w.b_queue,
                                               "rules": [{"match": {}, "target": {"queue_id": w.a_queue}}]})
    t.expect(r, (400, 404), "B routing a rule to A's queue")
    t.expect(t.call("PUT", "/v1/routing", w.b_agent, {"default_queue_id": w.b_queue}), 403, "agent")


def put_order(t, w):
    # The same reference under B's key is B's own order; A's is untouched.
    target = substitute(w, "/v1/orders/{order_ref}")
    r = t.call("PUT", target, w.b_key, {"status": "cancelled", "total_cents": 1, "currency": "EUR"})
    t.expect(r, 200, "B's order with A's reference", allow=(w.a_params["orders/order_ref"],))
    t.expect(t.call("PUT", target, w.b_agent, {"status": "x", "total_cents": 1, "currency": "EUR"}), 403, "agent")


def put_product(t, w):
    target = substitute(w, "/v1/products/{sku}")
    r = t.call("PUT", target, w.b_key, {"name": "B's mug", "stock": 0, "price_cents": 1, "currency": "EUR"})
    t.expect(r, 200, "B's product with A's SKU", allow=(w.a_params["products/sku"],))
    t.expect(t.call("PUT", target, w.b_agent, {"name": "x", "stock": 0, "price_cents": 1, "currency": "EUR"}), 403,
             "agent")


def agent_status(t, w):
    t.expect(t.call("POST", "/v1/agent/status", w.b_agent, {"status": "online"}), 200, "B's agent")
    t.expect(t.call("POST", "/v1/agent/status", w.b_key, {"status": "online"}), 403, "B's key")


def agent_claim(t, w):
    r = t.call("POST", "/v1/agent/claim", w.b_agent, {"queue_id": w.a_queue})
    t.expect(r, (204, 400, 404), "B's agent claiming from A's queue")
    t.expect(t.call("POST", "/v1/agent/claim", w.b_key, {}), 403, "B's key")


def agent_stream(t, w):
    ws = ws_client.WebSocket.connect(t.server.address, "/v1/agent/stream?after=0",
                                     headers={"Authorization": f"Bearer {w.b_agent}"})
    try:
        time.sleep(0.5)
        text = "\n".join(m for _, m in ws.snapshot())
    finally:
        ws.close()
    t.no_markers(text, "B's agent stream")
    try:
        ws = ws_client.WebSocket.connect(t.server.address, "/v1/agent/stream",
                                         headers={"Authorization": f"Bearer {w.b_key}"})
        ws.close()
        t.fail("B's business key opened the agent stream")
    except ws_client.HandshakeError as e:
        t.assertEqual(e.status, 403, str(e))
        t.no_markers(e.body.decode(errors="replace"), "the stream's refusal")


def namesake(param, body=None):
    """Orders and products are keyed by reference / SKU per business: under
    B's key the same key names B's own (made by the PUT case, or none yet:
    404), never A's; A's rows are checked unchanged at the end."""
    def run(t, w, method, path):
        target = substitute(w, path)
        r = t.call(method, target, w.b_key, body)
        t.expect(r, (200, 404), f"{method} {target} as B's business key", allow=(w.a_params[param],))
        t.expect(t.call(method, target, w.b_agent, body), 403, f"{method} {target} as B's agent token")
    return run


def namesake_listing():
    """B's own audit rows and summary may name B's order, product and ad that
    share A's reference, SKU and ad id (see namesake); nothing else of A's."""
    def run(t, w, method, path):
        allow = (w.a_params["orders/order_ref"], w.a_params["products/sku"], w.a_params["ads/ad_id"])
        t.expect(t.call(method, path, w.b_key, None), 200, f"{method} {path} as B's business key", allow=allow)
        t.expect(t.call(method, path, w.b_agent, None), 403, f"{method} {path} as B's agent token")
    return run


def rotate_key(t, w):
    # B rotating its own key (with the default grace) leaves A's key alone.
    t.expect(t.call("POST", "/v1/keys/rotate", w.b_key, {}), 200, "B rotating its key")
    t.expect(t.call("GET", "/v1/queues", w.a_key, None), 200, "A's key after B rotated", allow=t.world.markers)
    t.expect(t.call("POST", "/v1/keys/rotate", w.b_agent, {}), 403, "B's agent rotating a key")


def meta_data_deletion(t, w):
    # Signed with B's app secret, naming A's customer: nothing verifies.
    payload = harness.dumps({"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "user_id": w.a_contact})
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(w.b_secret.encode(), encoded, hashlib.sha256).digest()).rstrip(b"=")
    r = t.call("POST", "/meta/data-deletion", None, {"signed_request": (sig + b"." + encoded).decode()})
    t.expect(r, 401, "a data-deletion request signed with B's secret")


def data_deletion_status(t, w):
    t.expect(t.call("GET", "/meta/data-deletion/" + uid("code"), None, None), 404, "an unknown confirmation code")


CASES = {
    ("GET", "/healthz"): public(),
    ("GET", "/readyz"): public(),
    ("GET", "/metrics"): public(),
    ("GET", "/admin"): public(),
    ("GET", "/admin/{asset}"): route_case(dashboard_asset),
    ("GET", "/webhooks/{kind}"): route_case(webhook_verify),
    ("POST", "/webhooks/{kind}"): route_case(webhook_post),
    ("POST", "/v1/businesses"): route_case(create_business),
    ("POST", "/v1/channels"): route_case(create_channel),
    ("GET", "/v1/channels"): listing(),
    ("POST", "/v1/queues"): route_case(create_queue),
    ("POST", "/v1/agents"): route_case(create_agent),
    ("PUT", "/v1/routing"): route_case(put_routing),
    ("PUT", "/v1/orders/{order_ref}"): route_case(put_order),
    ("PUT", "/v1/products/{sku}"): route_case(put_product),
    ("GET", "/v1/audit"): namesake_listing(),
    ("GET", "/v1/conversations"): listing(),
    ("GET", "/v1/conversations/{id}"): foreign(404, 404),
    ("GET", "/v1/conversations/{id}/messages"): foreign(404, 404),
    ("POST", "/v1/agent/status"): route_case(agent_status),
    ("GET", "/v1/agent/conversations"): listing(business=403, agent=200),
    ("POST", "/v1/agent/claim"): route_case(agent_claim),
    ("POST", "/v1/conversations/{id}/accept"): foreign(403, 404),
    ("POST", "/v1/conversations/{id}/reject"): foreign(403, 404),
    ("POST", "/v1/conversations/{id}/messages"): foreign(403, 404, body={"text": "hello from B"}),
    ("POST", "/v1/conversations/{id}/transfer"): foreign(404, 404, body=lambda w: {"queue_id": w.b_queue}),
    ("POST", "/v1/conversations/{id}/resolve"): foreign(404, 404, body={"outcome": "resolved"}),
    ("GET", "/v1/agent/stream"): route_case(agent_stream),
    ("GET", "/v1/channels/{id}"): foreign(),
    ("PATCH", "/v1/channels/{id}"): foreign(body={"name": "B was here"}),
    ("DELETE", "/v1/channels/{id}"): foreign(),
    ("GET", "/v1/queues"): listing(),
    ("GET", "/v1/queues/{id}"): foreign(),
    ("PATCH", "/v1/queues/{id}"): foreign(body={"name": "B was here"}),
    ("DELETE", "/v1/queues/{id}"): foreign(),
    ("GET", "/v1/agents"): listing(),
    ("GET", "/v1/agents/{id}"): foreign(),
    ("PATCH", "/v1/agents/{id}"): foreign(body={"name": "B was here"}),
    ("DELETE", "/v1/agents/{id}"): foreign(),
    ("POST", "/v1/agents/{id}/token"): foreign(),
    ("GET", "/v1/orders"): listing(),
    ("GET", "/v1/orders/{order_ref}"): namesake("orders/order_ref"),
    ("PATCH", "/v1/orders/{order_ref}"): namesake("orders/order_ref", {"status": "B was here"}),
    ("DELETE", "/v1/orders/{order_ref}"): namesake("orders/order_ref"),
    ("GET", "/v1/products"): listing(),
    ("GET", "/v1/products/{sku}"): namesake("products/sku"),
    ("PATCH", "/v1/products/{sku}"): namesake("products/sku", {"stock": 0}),
    ("DELETE", "/v1/products/{sku}"): namesake("products/sku"),
    ("POST", "/v1/keys/rotate"): route_case(rotate_key),
    ("PUT", "/v1/ads/{ad_id}"): namesake("ads/ad_id", {"spend_cents": 1, "currency": "EUR"}),
    ("GET", "/v1/metrics/summary"): namesake_listing(),
    ("PUT", "/v1/templates/{name}"): route_case(put_template),
    ("GET", "/v1/messages/{id}/media"): foreign(404, 404),
    ("GET", "/v1/agent/events"): listing(business=403, agent=200),
    ("POST", "/v1/agent/stream-ticket"): route_case(stream_ticket),
    ("GET", "/v1/ads"): listing(),
    ("GET", "/v1/ads/{ad_id}"): namesake("ads/ad_id"),
    ("PATCH", "/v1/ads/{ad_id}"): namesake("ads/ad_id", {"spend_cents": 2}),
    ("DELETE", "/v1/ads/{ad_id}"): namesake("ads/ad_id"),
    ("DELETE", "/v1/contacts/{id}"): foreign(),
    ("POST", "/meta/data-deletion"): route_case(meta_data_deletion),
    ("GET", "/meta/data-deletion/{code}"): route_case(data_deletion_status),
}


class TenantIsolationTest(RoutingCase):
    def call(self, method, path, token, body):
        kw = {"token": token} if token else {}
        if body is not None:
            kw["json_body"] = body
        r = self.http.request(method, path, **kw)
        self.answers.append((method, path, r))
        return r

    def no_markers(self, text, what, allow=()):
        leaked = [m for m in self.world.markers if m in text and m not in allow]
        self.assertEqual(leaked, [], f"{what}: the answer carries business A's data {leaked}: {text[:500]!r}")

    def expect(self, r, status, what, allow=()):
        statuses = status if isinstance(status, tuple) else (status,)
        self.assertIn(r.status, statuses, f"{what}: expected {statuses}, got {r!r}")
        if r.status >= 400:
            self.assertError(r, r.status, None, what)
        self.no_markers(r.body.decode("utf-8", errors="replace"), what, allow)

    def build_world(self):
        w = World()
        a_name = uid("Alpha Shop ")
        biz = self.api.create_business(name=a_name)
        w.a_business, key = biz["id"], biz["api_key"]
        w.a_phone, w.a_secret = uid("777"), "a-secret-" + secrets.token_hex(8)
        a_channel = self.api.create_channel(key, "whatsapp", external_id=w.a_phone, app_secret=w.a_secret,
                                            account_id="waba-" + w.a_phone, name=uid("Alpha line "))
        queue_name, agent_name = uid("Alpha queue "), uid("Alpha agent ")
        q = self.queue(key, name=queue_name)
        w.a_queue = q["id"]
        agent = self.agent(key, [w.a_queue], name=agent_name)
        self.routing(key, w.a_queue, [{"match": {"text_regex": "alphaonly"}, "target": {"queue_id": w.a_queue}}])
        order_ref, carrier = uid("ORDA"), uid("AlphaCarrier")
        self.order(key, order_ref, carrier=carrier)
        sku, product = uid("SKUA"), uid("Alpha mug ")
        r = self.http.put(f"/v1/products/{sku}", json_body={"name": product, "stock": 5, "price_cents": 100,
                                                             "currency": "EUR"}, token=key)
        self.assertEqual(r.status, 200, r)
        ad_id, campaign = uid("ADA"), uid("Alpha campaign ")
        r = self.http.put(f"/v1/ads/{ad_id}", json_body={"campaign": campaign, "spend_cents": 100, "currency": "EUR"},
                          token=key)
        self.assertEqual(r.status, 200, r)
        self.status(agent["token"], "online")
        contact, text = wa_id(), uid("alpha-private-words-")
        self.customer_says(w.a_phone, w.a_secret, contact, text)
        conv = self.conversation_of(key, contact)
        self.wait_status(key, conv["id"], "assigned", agent["id"])
        self.reply(agent["token"], conv["id"], uid("alpha-agent-reply-"))
        r = self.http.get(f"/v1/conversations/{conv['id']}/messages", token=key)
        self.assertEqual(r.status, 200, r)
        message_id = r.json["items"][0]["id"]
        template = uid("alpha_template_")
        r = self.http.put(f"/v1/templates/{template}", json_body={"language": "en", "category": "marketing",
                                                                  "body_parameter_count": 1}, token=key)
        self.assertEqual(r.status, 200, r)
        w.a_params = {"conversations/id": conv["id"], "queues/id": w.a_queue, "agents/id": agent["id"],
                      "orders/order_ref": order_ref, "products/sku": sku, "webhooks/kind": "whatsapp",
                      "channels/id": a_channel["id"], "contacts/id": conv["contact"]["id"], "ads/ad_id": ad_id,
                      "messages/id": message_id, "templates/name": template}
        w.a_contact = contact
        w.markers = [a_name, w.a_phone, "waba-" + w.a_phone, queue_name, agent_name, "alphaonly", order_ref, carrier,
                     sku, product, contact, text, key, agent["token"], w.a_secret, ad_id, campaign,
                     template]
        w.a_key, w.a_agent = key, agent

        b_key, b_phone, w.b_secret = self.business()
        w.b_key = b_key
        w.b_verify = uid("bverify-")
        self.api.create_channel(b_key, "whatsapp", external_id=uid("888"), app_secret=w.b_secret,
                                verify_token=w.b_verify)
        w.b_queue = self.queue(b_key)["id"]
        w.b_agent = self.agent(b_key, [w.b_queue])["token"]
        self.status(w.b_agent, "online")
        return w

    def snapshot_a(self, w):
        """A's rows, as text, to compare before and after."""
        b = w.a_business
        queries = [f"SELECT id, status, agent_id, queue_id, outcome FROM conversations WHERE business_id = {b}",
                   f"SELECT count(*) FROM messages WHERE business_id = {b}",
                   f"SELECT id, name, status FROM agents WHERE business_id = {b} ORDER BY id",
                   f"SELECT id, name FROM queues WHERE business_id = {b} ORDER BY id",
                   f"SELECT version, default_queue_id FROM routing_rules WHERE business_id = {b}",
                   f"SELECT order_ref, status, carrier FROM orders WHERE business_id = {b}",
                   f"SELECT sku, name, stock FROM products WHERE business_id = {b}",
                   f"SELECT ad_id, campaign, spend_cents, active FROM ads WHERE business_id = {b}",
                   f"SELECT name, language, category FROM message_templates WHERE business_id = {b}",
                   f"SELECT count(*) FROM channels WHERE business_id = {b}",
                   f"SELECT count(*) FROM audit_log WHERE business_id = {b}"]
        return [self.db.psql(q) for q in queries]

    def test_every_route_keeps_tenants_apart(self):
        if not HAVE_YAML:
            self.skipTest("PyYAML is missing: apt-get install python3-yaml")
        operations = [(m, p) for m, p, _ in spec.operations(spec.load())]
        self.assertTrue(operations, "proto/openapi.yaml lists no operation")
        missing = sorted(set(operations) - set(CASES))
        self.assertEqual(missing, [], "routes of proto/openapi.yaml without a tenant-isolation case in "
                         f"{__file__} (add them to CASES):\n" + "\n".join(f"  {m} {p}" for m, p in missing))
        stale = sorted(set(CASES) - set(operations))
        self.assertEqual(stale, [], f"cases for routes the document no longer lists: {stale}")

        self.world = w = self.build_world()
        before = self.snapshot_a(w)
        for method, path in operations:
            self.answers = []
            with self.subTest(f"{method} {path}"):
                CASES[(method, path)](self, w, method, path)
                self.assertTrue(self.answers or path == "/v1/agent/stream",
                                f"the case of {method} {path} made no request")
        self.assertEqual(self.snapshot_a(w), before, "business B's requests changed business A's rows")
        # A still sees its own conversation: the walls did not fall the other way.
        r = self.http.get(f"/v1/conversations/{w.a_params['conversations/id']}", token=w.a_key)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
