"""GET /metrics on a live server after real traffic: every line is valid
Prometheus text exposition (HELP/TYPE, names, label escaping, values),
histograms are cumulative with +Inf equal to _count, and the operator's
families are there with the values the traffic implies."""

import math
import os
import re
import subprocess
import sys
import time
import unittest

import harness
from harness import uid

FAKE = os.path.join(harness.source_dir(), "tests", "support", "fake_graph.py")

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN"
SAMPLE_RE = re.compile(
    rf"^({NAME})(?:\{{((?:{LABEL_NAME}={LABEL_VALUE})(?:,{LABEL_NAME}={LABEL_VALUE})*)?\}})? ({VALUE})$")
LABEL_RE = re.compile(rf"({LABEL_NAME})=({LABEL_VALUE})")
HELP_RE = re.compile(rf"^# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def unescape_label(v):
    out, i = [], 0
    v = v[1:-1]
    while i < len(v):
        if v[i] == "\\":
            out.append({"\\": "\\", '"': '"', "n": "\n"}[v[i + 1]])
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def to_float(v):
    return {"+Inf": math.inf, "-Inf": -math.inf, "Inf": math.inf}.get(v, None) or float(v)


class Exposition:
    """A parsed /metrics body; ``problems`` lists every syntax or structure
    violation, with its line number."""

    def __init__(self, text):
        self.problems = []
        self.types, self.helps = {}, {}
        self.samples = []  # (name, {label: value}, float)
        if text and not text.endswith("\n"):
            self.problems.append("the body does not end with a newline")
        finished, current = set(), None
        for n, line in enumerate(text.split("\n")[:-1] if text else [], 1):
            if line.startswith("# HELP "):
                m = HELP_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: malformed HELP: {line!r}")
                    continue
                name = m.group(1)
                if name in self.helps:
                    self.problems.append(f"line {n}: second HELP for {name}")
                if name in finished:
                    self.problems.append(f"line {n}: HELP for {name} after its samples ended")
                if current and current != name:
                    finished.add(current)
                current = name
                self.helps[name] = m.group(2)
            elif line.startswith("# TYPE "):
                m = TYPE_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: malformed TYPE: {line!r}")
                    continue
                if m.group(1) in self.types:
                    self.problems.append(f"line {n}: second TYPE for {m.group(1)}")
                if m.group(1) != current:
                    self.problems.append(f"line {n}: TYPE for {m.group(1)} does not follow its HELP")
                self.types[m.group(1)] = m.group(2)
            elif line.startswith("#") or not line:
                self.problems.append(f"line {n}: unexpected line {line!r}")
            else:
                m = SAMPLE_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: not `name{{labels}} value`: {line!r}")
                    continue
                name, label_text, value = m.groups()
                labels = {}
                for k, v in LABEL_RE.findall(label_text or ""):
                    if k in labels:
                        self.problems.append(f"line {n}: label {k} twice")
                    labels[k] = unescape_label(v)
                family = self.family_of(name)
                if family is None:
                    self.problems.append(f"line {n}: sample {name} before its TYPE")
                elif family != current:
                    self.problems.append(f"line {n}: sample {name} outside the block of {family}")
                self.samples.append((name, labels, to_float(value)))

    def family_of(self, name):
        if name in self.types:
            return name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        return None

    def series(self, name, **match):
        return [(labels, v) for n, labels, v in self.samples
                if n == name and all(labels.get(k) == w for k, w in match.items())]

    def value(self, name, **match):
        found = self.series(name, **match)
        if len(found) != 1:
            raise AssertionError(f"expected one {name}{match}, found {found}")
        return found[0][1]

    def total(self, name, **match):
        return sum(v for _, v in self.series(name, **match))

    def histogram_problems(self):
        out = []
        for family, kind in self.types.items():
            if kind != "histogram":
                continue
            groups = {}
            for labels, v in self.series(family + "_bucket"):
                if "le" not in labels:
                    out.append(f"{family}_bucket without le: {labels}")
                    continue
                key = tuple(sorted((k, w) for k, w in labels.items() if k != "le"))
                groups.setdefault(key, []).append((to_float(labels["le"]), v))
            if not groups:
                out.append(f"histogram {family} has no buckets")
            for key, buckets in groups.items():
                les = [le for le, _ in buckets]
                if les != sorted(les) or len(set(les)) != len(les):
                    out.append(f"{family}{dict(key)}: le bounds not strictly increasing: {les}")
                counts = [c for _, c in buckets]
                if any(b < a for a, b in zip(counts, counts[1:])):
                    out.append(f"{family}{dict(key)}: buckets not cumulative: {counts}")
                if les[-1] != math.inf:
                    out.append(f"{family}{dict(key)}: no +Inf bucket")
                count = self.series(family + "_count", **dict(key))
                total = self.series(family + "_sum", **dict(key))
                if len(count) != 1 or len(total) != 1:
                    out.append(f"{family}{dict(key)}: expected one _count and one _sum")
                elif counts[-1] != count[0][1]:
                    out.append(f"{family}{dict(key)}: +Inf bucket {counts[-1]} != _count {count[0][1]}")
        return out


class ExpositionParserTest(unittest.TestCase):
    """The checker itself refuses what it must refuse."""

    def test_rejects_malformed_text(self):
        for bad in ('# HELP a x\n# TYPE a counter\na{x="1} 1\n',    # unterminated label value
                    '# HELP a x\n# TYPE a counter\na{x="\\q"} 1\n',  # bad escape
                    '# HELP a x\n# TYPE a counter\na one\n',        # not a number
                    'a 1\n',                                         # no TYPE
                    '# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\n# TYPE b gauge\nb 1\na 2\n',  # split block
                    '# HELP 1a x\n# TYPE 1a gauge\n'):               # bad name
            self.assertTrue(Exposition(bad).problems, f"accepted: {bad!r}")
        hist = ('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\n'
                'h_bucket{le="+Inf"} 3\nh_sum 1\nh_count 4\n')
        problems = Exposition(hist).histogram_problems()
        self.assertTrue(any("cumulative" in p for p in problems), problems)
        self.assertTrue(any("_count" in p for p in problems), problems)

    def test_accepts_escaped_labels(self):
        e = Exposition('# HELP a x\\\\y\n# TYPE a gauge\na{r="q\\"\\\\\\n"} +Inf\n')
        self.assertEqual(e.problems, [])
        self.assertEqual(e.series("a"), [({"r": 'q"\\\n'}, math.inf)])


class MetricsEndpointTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_env()
        cls.fake = subprocess.Popen([sys.executable, FAKE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)
        cls.server_env = {"SWITCHBOARD_GRAPH_API_BASE": f"http://127.0.0.1:{int(cls.fake.stdout.readline())}/v21.0"}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stdin.close()
        cls.fake.wait(timeout=10)

    def scrape(self):
        r = self.http.get("/metrics")
        self.assertEqual(r.status, 200, repr(r))
        self.assertTrue(r.header("content-type", "").startswith("text/plain; version=0.0.4"), r.headers)
        e = Exposition(r.body.decode("utf-8"))
        self.assertEqual(e.problems, [], "invalid exposition:\n" + "\n".join(e.problems[:20]))
        self.assertEqual(e.histogram_problems(), [])
        return e

    def wait_for(self, check, what, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            last = check()
            if last or time.monotonic() > deadline:
                self.assertTrue(last, f"timed out waiting for {what}")
                return last
            time.sleep(0.1)

    def test_families_after_traffic(self):
        before = self.scrape()
        key = self.api.create_business()["api_key"]
        phone, secret = uid("9"), "secret-" + uid()
        self.api.create_channel(key, "whatsapp", external_id=phone, app_secret=secret,
                                access_token="EAAG-metrics")
        queue = self.http.post("/v1/queues", json_body={"name": "Support", "strategy": "least_busy"},
                               token=key).json["id"]
        agent = self.http.post("/v1/agents", json_body={"name": "Ana", "capacity": 1, "queue_ids": [queue]},
                               token=key).json
        self.assertEqual(self.http.put("/v1/routing", json_body={"default_queue_id": queue, "rules": []},
                                       token=key).status, 200)
        self.assertEqual(self.http.post("/v1/agent/status", json_body={"status": "online"},
                                        token=agent["token"]).status, 200)

        # Three customers: one is assigned (capacity 1), two wait.
        bodies = []
        for i in range(3):
            body = harness.message_body("whatsapp", phone, f"1555000{i:04d}", uid("wamid."), "I need help")
            bodies.append(body)
            r = self.api.post_webhook("whatsapp", body, secret=secret)
            self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(self.api.post_webhook("whatsapp", bodies[0], secret=secret).json["duplicates"], 1)
        self.assertEqual(self.api.post_webhook("whatsapp", bodies[1], secret="wrong").status, 401)
        self.assertEqual(self.http.get("/v1/conversations/987654321", token=key).status, 404)

        assigned = self.wait_for(lambda: self.http.get("/v1/agent/conversations", token=agent["token"]).json["items"],
                                 "the agent's assignment")
        r = self.http.post(f"/v1/conversations/{assigned[0]['id']}/messages", json_body={"text": "Hi!"},
                           token=agent["token"])
        self.assertEqual(r.status, 202, repr(r))
        self.wait_for(lambda: self.scrape().value("switchboard_outbound_sends_total", kind="whatsapp",
                                                  result="sent") >= 1, "an outbound send")
        time.sleep(1.1)  # queue gauges refresh at most once a second
        m = self.scrape()

        def grew(name, by, **labels):
            got = m.total(name, **labels) - before.total(name, **labels)
            self.assertEqual(got, by, f"{name}{labels}: expected +{by}, got +{got}")

        for family, kind in {
            "switchboard_http_requests_total": "counter",
            "switchboard_webhook_ingest_seconds": "histogram",
            "switchboard_ingest_batch_requests": "histogram",
            "switchboard_messages_ingested_total": "counter",
            "switchboard_duplicates_dropped_total": "counter",
            "switchboard_webhook_signature_failures_total": "counter",
            "switchboard_queue_depth": "gauge",
            "switchboard_queue_oldest_wait_seconds": "gauge",
            "switchboard_queues_waiting": "gauge",
            "switchboard_assignments_total": "counter",
            "switchboard_outbound_sends_total": "counter",
            "switchboard_db_pool_in_use": "gauge",
        }.items():
            self.assertEqual(m.types.get(family), kind, f"family {family} missing or mistyped")
            self.assertTrue(m.helps.get(family), f"family {family} has no HELP text")

        # Routes are patterns, never raw paths.
        self.assertGreaterEqual(m.value("switchboard_http_requests_total", route="/v1/conversations/{id}",
                                        status="404"), 1)
        self.assertEqual(m.value("switchboard_http_requests_total", route="/webhooks/{kind}", status="401"), 1)
        self.assertFalse([l for l, _ in m.series("switchboard_http_requests_total") if "987654321" in l["route"]])
        grew("switchboard_messages_ingested_total", 3, kind="whatsapp")
        grew("switchboard_duplicates_dropped_total", 1, kind="whatsapp")
        grew("switchboard_webhook_signature_failures_total", 1, kind="whatsapp")
        self.assertEqual(m.value("switchboard_webhook_signature_failures_total", kind="messenger"), 0)
        grew("switchboard_webhook_ingest_seconds_count", 4, kind="whatsapp")
        self.assertGreater(m.value("switchboard_webhook_ingest_seconds_sum", kind="whatsapp"), 0)
        self.assertGreaterEqual(m.total("switchboard_ingest_batch_requests_count"), 4)
        self.assertGreaterEqual(m.total("switchboard_assignments_total"), 1)
        self.assertGreaterEqual(m.value("switchboard_outbound_sends_total", kind="whatsapp", result="sent"), 1)
        self.assertEqual(m.value("switchboard_outbound_sends_total", kind="whatsapp", result="failed"), 0)
        self.assertGreaterEqual(m.value("switchboard_db_pool_in_use"), 0)
        self.assertEqual(m.value("switchboard_database_ready"), 1)

        depth = m.series("switchboard_queue_depth", queue=str(queue))
        self.assertEqual(len(depth), 1, m.series("switchboard_queue_depth"))
        self.assertEqual(depth[0][1], 2, "two customers wait behind the busy agent")
        self.assertTrue(depth[0][0].get("business"), depth)
        oldest = m.value("switchboard_queue_oldest_wait_seconds", queue=str(queue))
        self.assertTrue(1 <= oldest < 120, f"oldest wait {oldest} s")
        self.assertGreaterEqual(m.value("switchboard_queues_waiting"), 2)
        self.assertLessEqual(len(m.series("switchboard_queue_depth")), 50, "label cardinality is bounded")

        # A queue that empties leaves /metrics (no stale depth).
        for conv in [c for c in self.api.conversations(key) if c["status"] == "waiting"]:
            r = self.http.post(f"/v1/conversations/{conv['id']}/resolve", json_body={"outcome": "resolved"},
                               token=key)
            self.assertEqual(r.status, 200, repr(r))
        time.sleep(1.1)
        self.assertEqual(self.scrape().series("switchboard_queue_depth", queue=str(queue)), [])


if __name__ == "__main__":
    unittest.main()
