"""proto/openapi.yaml is true: it is well formed, it lists exactly the routes
`switchboard routes` serves, and real answers match its schemas."""

import os
import re
import subprocess
import unittest

import harness

try:
    import yaml  # noqa: F401  (python3-yaml)
    HAVE_YAML = True
except ImportError:  # pragma: no cover
    HAVE_YAML = False

import openapi_spec as spec

ERROR_REF = "#/components/schemas/Error"
CONVERSATION_FIELDS = {"id", "channel", "contact", "status", "intent", "queue_id", "agent_id",
                       "opened_at", "first_response_at", "resolved_at", "outcome", "amount_cents",
                       "currency", "referral", "last_message_at"}
MESSAGE_FIELDS = {"id", "conversation_id", "direction", "sender", "agent_id",
                  "provider_message_id", "type", "text", "referral", "order", "reply_to", "status",
                  "error", "sent_at", "created_at"}


def require_yaml():
    if not HAVE_YAML:
        raise unittest.SkipTest("PyYAML is missing: apt-get install python3-yaml (for /usr/bin/python3)")


def is_error_status(code):
    code = str(code)
    return code == "default" or code[0] in "45"


class SpecDocumentTest(unittest.TestCase):
    """Static checks of the document; need neither server nor database."""

    @classmethod
    def setUpClass(cls):
        require_yaml()
        cls.doc = spec.load()

    def test_is_openapi_3_1(self):
        self.assertRegex(str(self.doc.get("openapi")), r"^3\.1\.\d+$",
                         f"{spec.spec_path()}: expected openapi: 3.1.x")
        self.assertIn("title", self.doc.get("info", {}))
        self.assertIn("version", self.doc.get("info", {}))

    def test_every_ref_resolves(self):
        broken = []
        for where, ref in spec.all_refs(self.doc):
            try:
                spec.resolve(self.doc, {"$ref": ref})
            except (KeyError, ValueError) as e:
                broken.append(f"{where}: {e}")
        self.assertEqual(broken, [], "unresolvable $ref(s):\n" + "\n".join(broken))

    def test_every_operation_declares_responses(self):
        problems, ids = [], {}
        for method, path, op in spec.operations(self.doc):
            name = f"{method} {path}"
            responses = op.get("responses")
            if not responses:
                problems.append(f"{name}: no responses")
                continue
            # A WebSocket route succeeds with 101 Switching Protocols.
            if not any(str(c).startswith("2") or str(c) == "101" for c in responses):
                problems.append(f"{name}: no 2xx (or 101 upgrade) response")
            for code, resp in responses.items():
                resp = spec.resolve(self.doc, resp)
                if not resp.get("description"):
                    problems.append(f"{name} {code}: no description")
            oid = op.get("operationId")
            if not oid:
                problems.append(f"{name}: no operationId")
            elif oid in ids:
                problems.append(f"{name}: operationId {oid} also used by {ids[oid]}")
            else:
                ids[oid] = name
        self.assertEqual(problems, [], "\n".join(problems))

    def test_every_error_response_references_error_schema(self):
        problems = []
        for method, path, op in spec.operations(self.doc):
            for code, resp in (op.get("responses") or {}).items():
                if not is_error_status(code):
                    continue
                resp = spec.resolve(self.doc, resp)
                content = resp.get("content") or {}
                media = content.get("application/json")
                if media is None:
                    problems.append(f"{method} {path} {code}: no application/json content "
                                    f"(has {sorted(content)})")
                    continue
                ref = (media.get("schema") or {}).get("$ref")
                if ref != ERROR_REF:
                    problems.append(f"{method} {path} {code}: schema is {media.get('schema')!r}, "
                                    f"expected $ref {ERROR_REF}")
        self.assertEqual(problems, [], "error responses not using the Error schema:\n" + "\n".join(problems))

    def test_503_responses_carry_retry_after(self):
        problems = []
        for method, path, op in spec.operations(self.doc):
            resp = (op.get("responses") or {}).get("503")
            if resp is None:
                continue
            headers = {k.lower() for k in (spec.resolve(self.doc, resp).get("headers") or {})}
            if "retry-after" not in headers:
                problems.append(f"{method} {path} 503 declares no Retry-After header")
        self.assertEqual(problems, [], "\n".join(problems))

    def test_path_parameters_are_declared(self):
        problems = []
        for path, item in self.doc["paths"].items():
            names = set(re.findall(r"\{([^}]+)\}", path))
            for method in spec.HTTP_METHODS:
                if method not in item:
                    continue
                params = [spec.resolve(self.doc, p) for p in
                          (item.get("parameters") or []) + (item[method].get("parameters") or [])]
                declared = {p["name"] for p in params if p.get("in") == "path"}
                for p in params:
                    if p.get("in") == "path" and p.get("required") is not True:
                        problems.append(f"{method.upper()} {path}: path parameter {p['name']} not required")
                if declared != names:
                    problems.append(f"{method.upper()} {path}: path parameters {sorted(declared)}, "
                                    f"template has {sorted(names)}")
        self.assertEqual(problems, [], "\n".join(problems))

    def test_security(self):
        schemes = self.doc.get("components", {}).get("securitySchemes", {})
        for name in ("adminToken", "businessKey"):
            self.assertIn(name, schemes, f"securitySchemes must define {name}")
            self.assertEqual(schemes[name].get("type"), "http", f"{name} must be an http scheme")
            self.assertEqual(str(schemes[name].get("scheme")).lower(), "bearer", f"{name} must be bearer")
        problems = []
        for method, path, op in spec.operations(self.doc):
            security = op.get("security", self.doc.get("security"))
            codes = {str(c) for c in op.get("responses", {})}
            if path.startswith("/v1/"):
                if not security:
                    problems.append(f"{method} {path}: /v1 routes need a bearer security requirement")
                else:
                    for req in security:
                        for s in req:
                            if s not in schemes:
                                problems.append(f"{method} {path}: unknown security scheme {s}")
                for c in ("401", "403", "429"):
                    if c not in codes:
                        problems.append(f"{method} {path}: /v1 route must declare {c}")
            elif op.get("security") != []:
                problems.append(f"{method} {path}: must declare `security: []` (no bearer)")
        self.assertEqual(problems, [], "\n".join(problems))

    def test_resource_shapes_match_design(self):
        schemas = self.doc["components"]["schemas"]
        for name in ("Conversation", "Message", "Channel", "Business", "Error",
                     "ConversationList", "MessageList", "ChannelList"):
            self.assertIn(name, schemas, f"components.schemas.{name} is missing")
        self.assertEqual(set(schemas["Conversation"]["properties"]), CONVERSATION_FIELDS,
                         "Conversation properties differ from DESIGN.md's resource shape")
        self.assertEqual(set(schemas["Conversation"]["required"]), CONVERSATION_FIELDS)
        self.assertEqual(set(schemas["Message"]["properties"]), MESSAGE_FIELDS,
                         "Message properties differ from DESIGN.md's resource shape")
        self.assertEqual(set(schemas["Message"]["required"]), MESSAGE_FIELDS)
        for name in ("ConversationList", "MessageList", "ChannelList"):
            self.assertEqual(set(schemas[name]["required"]), {"items", "next_cursor"}, name)
        err = schemas["Error"]
        self.assertEqual(err["required"], ["error"])
        self.assertEqual(set(err["properties"]["error"]["required"]), {"code", "message"})


def served_routes(bin_path):
    p = subprocess.run([bin_path, "routes"], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise AssertionError(f"`{bin_path} routes` exited {p.returncode}: "
                             f"{p.stderr.decode(errors='replace')}")
    routes, bad = set(), []
    for line in p.stdout.decode().splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Z]+) (/\S*)", line)
        if not m:
            bad.append(line)
            continue
        routes.add((m.group(1), m.group(2)))
    if bad:
        raise AssertionError(f"`switchboard routes` printed lines that are not 'METHOD /path': {bad}")
    return routes


class RoutesMatchTest(unittest.TestCase):
    def test_spec_lists_exactly_the_served_routes(self):
        require_yaml()
        bin_path = harness.require_bin()
        documented = {(m, p) for m, p, _ in spec.operations(spec.load())}
        served = served_routes(bin_path)
        self.assertTrue(served, "`switchboard routes` printed no route")
        missing_in_spec = sorted(served - documented)
        missing_in_server = sorted(documented - served)
        if missing_in_spec or missing_in_server:
            def norm(p):
                return re.sub(r"\{[^}]+\}", "{}", p)
            hints = []
            for m, p in missing_in_spec:
                for m2, p2 in missing_in_server:
                    if m == m2 and norm(p) == norm(p2):
                        hints.append(f"  {m} {p} (server) vs {p2} (spec): parameter names differ")
            self.fail("proto/openapi.yaml and `switchboard routes` differ.\n"
                      "Served but not in proto/openapi.yaml:\n"
                      + "".join(f"  {m} {p}\n" for m, p in missing_in_spec) +
                      "In proto/openapi.yaml but not served:\n"
                      + "".join(f"  {m} {p}\n" for m, p in missing_in_server)
                      + ("\n".join(hints) if hints else ""))


class ResponsesConformTest(harness.ServerTestCase):
    """Real answers of a running server checked against the document."""

    @classmethod
    def setUpClass(cls):
        require_yaml()
        cls.doc = spec.load()
        super().setUpClass()

    def conforms(self, method, template, r):
        op = spec.find_operation(self.doc, method, template)
        self.assertIsNotNone(op, f"{method} {template} is not in proto/openapi.yaml")
        declared = {str(c) for c in op["responses"]}
        self.assertIn(str(r.status), declared,
                      f"{method} {template} answered {r.status}, which the spec does not declare "
                      f"({sorted(declared)}): {r!r}")
        resp = spec.resolve(self.doc, op["responses"][str(r.status)])
        media = list((resp.get("content") or {}).keys())
        ctype = r.header("content-type", "").split(";")[0].strip()
        if media:
            self.assertIn(ctype, media, f"{method} {template} {r.status}: Content-Type {ctype!r}, "
                                        f"spec says {media}")
        if ctype == "application/json":
            schema = resp["content"]["application/json"]["schema"]
            self.assertIsNotNone(r.json, f"{method} {template} {r.status}: body is not JSON: {r!r}")
            problems = spec.validate(self.doc, r.json, schema)
            self.assertEqual(problems, [], f"{method} {template} {r.status} does not match the "
                                           f"spec:\n" + "\n".join(problems) + f"\nbody: {r.json!r}")
        for name in (resp.get("headers") or {}):
            self.assertIsNotNone(r.header(name), f"{method} {template} {r.status}: header {name} missing")
        return r.json

    def test_answers_match_schemas(self):
        h, api = self.http, self.api
        self.conforms("GET", "/healthz", h.get("/healthz"))
        self.conforms("GET", "/readyz", h.get("/readyz"))
        self.conforms("GET", "/metrics", h.get("/metrics"))

        r = h.post("/v1/businesses", json_body={"name": harness.uid("spec-")}, token=harness.ADMIN_TOKEN)
        biz = self.conforms("POST", "/v1/businesses", r)
        self.assertEqual(r.status, 201, r)
        key = biz["api_key"]
        self.conforms("POST", "/v1/businesses", h.post("/v1/businesses", json_body={"name": "x"}))
        self.conforms("POST", "/v1/businesses",
                      h.post("/v1/businesses", json_body={"name": "x"}, token=key))
        self.conforms("POST", "/v1/businesses",
                      h.post("/v1/businesses", json_body={"nam": "x"}, token=harness.ADMIN_TOKEN))

        secret, page = "spec-secret", harness.uid("page")
        body = {"kind": "messenger", "external_id": page, "app_secret": secret,
                "verify_token": harness.uid("vt"), "name": "Spec page"}
        r = h.post("/v1/channels", json_body=body, token=key)
        self.assertEqual(r.status, 201, r)
        self.conforms("POST", "/v1/channels", r)
        self.conforms("POST", "/v1/channels", h.post("/v1/channels", json_body=body, token=key))  # 409
        self.conforms("GET", "/v1/channels", h.get("/v1/channels", token=key))
        self.conforms("GET", "/v1/channels", h.get("/v1/channels", token=harness.ADMIN_TOKEN))  # 403

        mid = harness.uid("m_")
        msg = harness.message_body("messenger", page, harness.uid("psid"), mid, "hello spec")
        r = api.post_webhook("messenger", msg, secret=secret)
        self.assertEqual(r.status, 200, r)
        self.conforms("POST", "/webhooks/{kind}", r)
        other = harness.message_body("messenger", harness.uid("nopage"), "p", harness.uid("m_"), "x")
        self.conforms("POST", "/webhooks/{kind}", api.post_webhook("messenger", other, secret=secret))
        self.conforms("POST", "/webhooks/{kind}", api.post_webhook("messenger", msg, secret="wrong"))
        self.conforms("POST", "/webhooks/{kind}", api.post_webhook("messenger", b"{", secret=secret))
        self.conforms("POST", "/webhooks/{kind}", api.post_webhook("telegram", msg, secret=secret))
        self.conforms("GET", "/webhooks/{kind}", h.get(
            "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=" + body["verify_token"]
            + "&hub.challenge=123"))
        self.conforms("GET", "/webhooks/{kind}", h.get(
            "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=123"))

        convs = self.conforms("GET", "/v1/conversations", h.get("/v1/conversations", token=key))
        self.assertEqual(len(convs["items"]), 1, convs)
        cid = convs["items"][0]["id"]
        self.conforms("GET", "/v1/conversations", h.get("/v1/conversations?limit=0", token=key))
        self.conforms("GET", "/v1/conversations/{id}", h.get(f"/v1/conversations/{cid}", token=key))
        self.conforms("GET", "/v1/conversations/{id}", h.get("/v1/conversations/999999999", token=key))
        self.conforms("GET", "/v1/conversations/{id}", h.get(f"/v1/conversations/{cid}"))
        msgs = self.conforms("GET", "/v1/conversations/{id}/messages",
                             h.get(f"/v1/conversations/{cid}/messages", token=key))
        self.assertEqual([m["provider_message_id"] for m in msgs["items"]], [mid], msgs)


if __name__ == "__main__":
    unittest.main()
