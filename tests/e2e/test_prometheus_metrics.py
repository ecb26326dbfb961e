"""GET /metrics on a live server after real traffic: every line is valid
Prometheus text exposition (HELP/TYPE, names, label escaping, values),
histograms are cumulative with +Inf equal to _count, and the operator's
families are there with the values the traffic implies."""

import math
import time
import unittest

import harness
from exposition import Exposition
from harness import uid


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
    with_fake_graph = True

    def scrape(self):
        r = self.http.get("/metrics")
        self.assertEqual(r.status, 200, repr(r))
        self.assertTrue(r.header("content-type", "").startswith("text/plain; version=0.0.4"), r.headers)
        e = Exposition(r.body.decode("utf-8"))
        self.assertEqual(e.problems, [], "invalid exposition:\n" + "\n".join(e.problems[:20]))
        self.assertEqual(e.histogram_problems(), [])
        return e

    def wait_for(self, check, what):
        return harness.wait_for(check, what, timeout=15, interval=0.1)

    def test_families_after_traffic(self):
        before = self.scrape()
        key = self.api.create_business()["api_key"]
        phone, secret = uid("9"), "secret-" + uid()
        self.api.create_channel(key, "whatsapp", external_id=phone, app_secret=secret,
                                access_token="EAAG-metrics")
        queue = self.api.create_queue(key, "Support", "least_busy")["id"]
        agent = self.api.create_agent(key, [queue], capacity=1, name="Ana")
        self.api.set_routing(key, queue)
        self.api.set_status(agent["token"], "online")

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
