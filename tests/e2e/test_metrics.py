"""Metrics end to end: PUT /v1/ads/{ad_id} (validation, tenancy) and
GET /v1/metrics/summary, on a hand-built conversation history with known
answers (times, percentiles, containment, escalation, SLA, funnel, ROAS to
the cent, currencies kept apart, time-zone buckets, another business's data
and data outside the range never counted), and on a live history made
through webhooks, the router's bot and the agent API.

The hand-built history is written into PostgreSQL in two steps, as the
system writes it: conversations are inserted the way the ingest statement
opens them, then changed with the column updates the router, replies and
resolve make (the metrics rows follow from those changes).
"""

import json
import os
import secrets
import unittest

import harness
from harness import sql_literal, uid
from test_routing import RoutingCase, wa_id

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAY = "2026-01-05"
FROM = "2026-01-05T00:00:00Z"
TO = "2026-01-06T00:00:00Z"


def money(**amounts):
    return [{"currency": c, "amount_cents": a} for c, a in sorted(amounts.items())]


class MetricsCase(RoutingCase):
    def summary(self, key, query="", expect=200):
        r = self.http.get("/v1/metrics/summary" + (("?" + query) if query else ""), token=key)
        self.assertEqual(r.status, expect, f"GET /v1/metrics/summary?{query}: expected {expect}, got {r!r}")
        self.conforms("GET", "/v1/metrics/summary", r)
        return r.json

    def put_ad(self, key, ad_id, body, expect=200):
        r = self.http.put(f"/v1/ads/{ad_id}", json_body=body, token=key)
        self.assertEqual(r.status, expect, f"PUT /v1/ads/{ad_id} {body!r}: expected {expect}, got {r!r}")
        self.conforms("PUT", "/v1/ads/{ad_id}", r)
        return r.json


class AdsTest(MetricsCase):
    def test_put_creates_then_replaces_an_ad(self):
        key = self.api.create_business()["api_key"]
        ad = self.put_ad(key, "120208", {"name": "Winter boots", "campaign": "winter", "spend_cents": 5000,
                                         "currency": "USD"})
        self.assertEqual({k: ad[k] for k in ("ad_id", "name", "campaign", "spend_cents", "currency")},
                         {"ad_id": "120208", "name": "Winter boots", "campaign": "winter", "spend_cents": 5000,
                          "currency": "USD"})
        self.assertRegex(ad["updated_at"], harness.TIME_RE)
        ad = self.put_ad(key, "120208", {"spend_cents": 7500, "currency": "EUR"})
        self.assertEqual((ad["name"], ad["campaign"], ad["spend_cents"], ad["currency"]), (None, None, 7500, "EUR"))
        self.assertEqual(self.db.count("SELECT count(*) FROM ads WHERE ad_id = '120208'"), 1)

    def test_bad_input_names_the_field_and_changes_nothing(self):
        key = self.api.create_business()["api_key"]
        cases = [
            ({"currency": "USD"}, "missing_field", "spend_cents"),
            ({"spend_cents": 10}, "missing_field", "currency"),
            ({"spend_cents": -1, "currency": "USD"}, "invalid_field", "spend_cents"),
            ({"spend_cents": "10", "currency": "USD"}, "invalid_field", "spend_cents"),
            ({"spend_cents": 10, "currency": "usd"}, "invalid_field", "currency"),
            ({"spend_cents": 10, "currency": "USD", "name": 5}, "invalid_field", "name"),
            ({"spend_cents": 10, "currency": "USD", "campaign": "x" * 301}, "invalid_field", "campaign"),
            ({"spend_cents": 10, "currency": "USD", "colour": "red"}, "unknown_field", "colour"),
        ]
        for body, code, field in cases:
            r = self.http.put("/v1/ads/ad-bad", json_body=body, token=key)
            self.assertFieldError(r, code, field, f"PUT /v1/ads/ad-bad {body!r}")
        r = self.http.put("/v1/ads/" + "x" * 101, json_body={"spend_cents": 1, "currency": "USD"}, token=key)
        self.assertFieldError(r, "invalid_field", "ad_id", "an ad id of 101 characters")
        r = self.http.put("/v1/ads/ad-bad", body=b"{", headers={"Content-Type": "application/json"}, token=key)
        self.assertError(r, 400, "invalid_json")
        self.assertEqual(self.db.count("SELECT count(*) FROM ads"), 0)

    def test_needs_a_business_key(self):
        r = self.http.put("/v1/ads/x", json_body={"spend_cents": 1, "currency": "USD"})
        self.assertError(r, 401, "unauthorized")
        key, _, _ = self.business()
        q = self.queue(key)["id"]
        agent = self.agent(key, [q])
        r = self.http.put("/v1/ads/x", json_body={"spend_cents": 1, "currency": "USD"}, token=agent["token"])
        self.assertError(r, 403, "forbidden")
        r = self.http.get("/v1/metrics/summary", token=agent["token"])
        self.assertError(r, 403, "forbidden")
        self.assertError(self.http.get("/v1/metrics/summary"), 401, "unauthorized")


class SummaryValidationTest(MetricsCase):
    def test_bad_query_parameters_are_400_naming_them(self):
        key = self.api.create_business()["api_key"]
        for query, field in [("from=yesterday", "from"), ("to=2026-13-01T00:00:00Z", "to"),
                             ("from=2026-01-05T10:00:00", "from"),  # no zone
                             ("from=2026-01-05T25:00:00Z", "from"),
                             ("from=2026-01-06T00:00:00Z&to=2026-01-05T00:00:00Z", "from"),
                             ("from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "400 days"),
                             ("bucket=week", "bucket"),
                             ("from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour", "bucket")]:
            r = self.http.get("/v1/metrics/summary?" + query, token=key)
            err = self.assertError(r, 400, "invalid_field", f"?{query}")
            self.assertIn(field, err["message"], f"?{query}: the message names {field!r}: {err}")

    def test_defaults_to_the_last_seven_days_and_accepts_offsets_and_dates(self):
        key = self.api.create_business()["api_key"]
        d = self.summary(key)
        self.assertEqual(d["bucket"], None)
        self.assertEqual(d["series"], [])
        self.assertEqual(d["conversations"], {"total": 0, "by_channel": {"messenger": 0, "instagram": 0,
                                                                         "whatsapp": 0}})
        self.assertEqual(d["first_response_s"], {"count": 0, "p50": None, "p90": None})
        self.assertEqual(d["bot"]["containment_rate"], None)
        # The default range is 7 days long and ends now.
        start = self.db.value(f"SELECT extract(epoch FROM {sql_literal(d['to'])}::timestamptz "
                              f"- {sql_literal(d['from'])}::timestamptz)")
        self.assertEqual(float(start), 7 * 86400.0)
        d = self.summary(key, "from=2026-01-05T02:00:00%2B02:00&to=2026-01-06")
        self.assertEqual((d["from"], d["to"]), ("2026-01-05T00:00:00.000Z", "2026-01-06T00:00:00.000Z"))
        d = self.summary(key, "from=2026-01-05T00:00:00.5Z&to=2026-01-05T03:00:00Z&bucket=hour")
        self.assertEqual([s["start"] for s in d["series"]],
                         ["2026-01-05T00:00:00.000Z", "2026-01-05T01:00:00.000Z", "2026-01-05T02:00:00.000Z"])


class HandBuiltHistoryTest(MetricsCase):
    """Six conversations of business A opened on 2026-01-05 with known times
    and outcomes, one of A's the day before, and one of business B that day
    under the same ad id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        api = cls.api
        a = api.create_business(timezone="America/New_York")
        b = api.create_business()
        cls.key_a, cls.biz_a = a["api_key"], a["id"]
        cls.key_b, cls.biz_b = b["api_key"], b["id"]
        ch = {}
        for kind in harness.KINDS:
            ch[kind] = api.create_channel(cls.key_a, kind)["id"]
        ch_b = api.create_channel(cls.key_b, "whatsapp")["id"]
        cls.queue_sales = api.create_queue(cls.key_a, "Sales", "least_busy")["id"]
        cls.queue_support = api.create_queue(cls.key_a, "Support", "least_busy")["id"]

        def conversation(biz, channel, opened, referral_ad=None, status="waiting"):
            """Opens a conversation as the ingest statement does (no metrics row yet)."""
            contact = uid("c")
            referral = (sql_literal(json.dumps({"source": "ad", "ad_id": referral_ad}))
                        if referral_ad else "NULL")
            return int(cls.db.value(
                f"WITH c AS (INSERT INTO contacts (business_id, channel_id, external_id) "
                f"VALUES ({biz}, {channel}, '{contact}') RETURNING id) "
                f"INSERT INTO conversations (business_id, channel_id, contact_id, opened_at, referral, last_inbound_at, "
                f"status) SELECT {biz}, {channel}, c.id, '{opened}', {referral}, '{opened}', '{status}' FROM c "
                f"RETURNING id"))

        def change(cid, sets, biz=None):
            cls.db.psql(f"UPDATE conversations SET {sets} WHERE business_id = {biz or cls.biz_a} AND id = {cid}")

        def message(cid, direction, at, biz=None):
            biz = biz or cls.biz_a
            sender = "customer" if direction == "in" else "agent"
            cls.db.psql(
                f"INSERT INTO messages (business_id, conversation_id, channel_id, contact_id, direction, sender, "
                f"type, text, status, created_at) SELECT business_id, id, channel_id, contact_id, '{direction}', "
                f"'{sender}', 'text', 'x', 'received', '{at}' FROM conversations "
                f"WHERE business_id = {biz} AND id = {cid}")

        t = lambda hms: f"{DAY}T{hms}Z"  # noqa: E731

        # c1: the order-status bot answers in 2 s; resolved after 60 s: contained.
        c1 = conversation(cls.biz_a, ch["whatsapp"], t("10:00:00"))
        change(c1, f"status = 'bot', bot = 'order_status', intent = 'order_status', routed_at = '{t('10:00:00.1')}'")
        change(c1, f"first_response_at = '{t('10:00:02')}', bot_replied = true")
        change(c1, f"status = 'resolved', resolved_at = '{t('10:01:00')}', outcome = 'resolved'")
        # c2: the bot answers in 4 s, the customer asks for a person (escalated),
        # an agent answers and sells for 123.45 USD after 600 s; from ad-1.
        c2 = conversation(cls.biz_a, ch["whatsapp"], t("11:00:00"), "ad-1")
        change(c2, f"status = 'bot', bot = 'order_status', intent = 'order_status', routed_at = '{t('11:00:00.1')}'")
        change(c2, f"first_response_at = '{t('11:00:04')}', bot_replied = true")
        change(c2, f"status = 'waiting', bot = NULL, intent = 'other', queue_id = {cls.queue_sales}, "
                   f"waiting_since = '{t('11:00:30')}'")
        change(c2, "status = 'assigned', waiting_since = NULL")
        change(c2, "agent_replied = true")
        change(c2, f"status = 'resolved', resolved_at = '{t('11:10:00')}', outcome = 'sale', amount_cents = 12345, "
                   f"currency = 'USD'")
        # c3: messenger, queued, SLA breached, agent answers in 30 s, sells for 50.00 EUR after 1200 s; ad-1.
        c3 = conversation(cls.biz_a, ch["messenger"], t("12:00:00"), "ad-1")
        change(c3, f"status = 'waiting', intent = 'purchase', queue_id = {cls.queue_sales}, "
                   f"routed_at = '{t('12:00:00.1')}'")
        change(c3, "status = 'assigned', sla_breached = true")
        change(c3, f"first_response_at = '{t('12:00:30')}', agent_replied = true")
        change(c3, f"status = 'resolved', resolved_at = '{t('12:20:00')}', outcome = 'sale', amount_cents = 5000, "
                   f"currency = 'EUR'")
        # c4: instagram, agent answers in 10 s, no sale after 300 s; ad-2.
        c4 = conversation(cls.biz_a, ch["instagram"], t("13:00:00"), "ad-2")
        change(c4, f"status = 'assigned', intent = 'support', queue_id = {cls.queue_support}, "
                   f"routed_at = '{t('13:00:00.1')}'")
        change(c4, f"first_response_at = '{t('13:00:10')}', agent_replied = true")
        change(c4, f"status = 'resolved', resolved_at = '{t('13:05:00')}', outcome = 'no_sale'")
        # c5: whatsapp, never decided on (no metrics row); ad-2. The router of this server would decide on a
        # waiting one at once; it never claims a resolved one, so this one stays without a metrics row and the
        # summary must count it from conversations itself.
        cls.c5 = conversation(cls.biz_a, ch["whatsapp"], t("14:00:00"), "ad-2", status="resolved")
        # c6: messenger, waiting in Sales for 90 s now.
        c6 = conversation(cls.biz_a, ch["messenger"], t("15:00:00"))
        change(c6, f"status = 'waiting', intent = 'purchase', queue_id = {cls.queue_sales}, "
                   f"routed_at = '{t('15:00:00.1')}', waiting_since = now() - interval '90 seconds'")
        # The day before (outside the range): a sale from ad-1.
        c0 = conversation(cls.biz_a, ch["whatsapp"], "2026-01-04T23:00:00Z", "ad-1")
        change(c0, f"status = 'assigned', intent = 'order_status', routed_at = '2026-01-04T23:00:01Z', "
                   f"first_response_at = '2026-01-04T23:00:05Z', agent_replied = true")
        change(c0, "status = 'resolved', resolved_at = '2026-01-04T23:30:00Z', outcome = 'sale', "
                   "amount_cents = 99999, currency = 'USD'")
        # Business B, same day, same ad id.
        cb = conversation(cls.biz_b, ch_b, t("10:30:00"), "ad-1")
        change(cb, f"status = 'resolved', intent = 'order_status', routed_at = '{t('10:30:01')}', "
                   f"first_response_at = '{t('10:30:02')}', resolved_at = '{t('10:31:00')}', outcome = 'sale', "
                   f"amount_cents = 777, currency = 'USD', bot_replied = true", biz=cls.biz_b)

        # Messages: 5 in and 4 out on the day (one at 03:00Z, before New York's midnight), one the day before,
        # and business B's.
        for cid, direction, at in [(c1, "in", t("03:00:00")), (c1, "out", t("10:00:02")),
                                   (c2, "in", t("11:00:00")), (c2, "out", t("11:00:04")),
                                   (c2, "in", t("11:00:20")), (c2, "out", t("11:02:00")),
                                   (c3, "in", t("12:00:00")), (c3, "out", t("12:00:30")),
                                   (c4, "in", t("13:00:00")),
                                   (c0, "in", "2026-01-04T23:00:00Z")]:
            message(cid, direction, at)
        message(cb, "in", t("10:30:00"), biz=cls.biz_b)
        message(cb, "out", t("10:30:02"), biz=cls.biz_b)

        def ad(key, ad_id, body):
            r = cls.http.put(f"/v1/ads/{ad_id}", json_body=body, token=key)
            assert r.status == 200, r
        ad(cls.key_a, "ad-1", {"name": "Boots", "campaign": "winter", "spend_cents": 5000, "currency": "USD"})
        ad(cls.key_a, "ad-2", {"campaign": "winter", "spend_cents": 0, "currency": "EUR"})
        ad(cls.key_a, "ad-3", {"name": "Unseen", "spend_cents": 2000, "currency": "USD"})
        ad(cls.key_b, "ad-1", {"campaign": "winter", "spend_cents": 1, "currency": "USD"})

    def day(self, query=""):
        return self.summary(self.key_a, f"from={FROM}&to={TO}" + query)

    def test_counts_and_times(self):
        self.assertEqual(self.db.count(f"SELECT count(*) FROM conversation_metrics WHERE conversation_id = {self.c5}"),
                         0, "c5 has no metrics row")
        d = self.day()
        self.assertEqual((d["from"], d["to"], d["timezone"]),
                         ("2026-01-05T00:00:00.000Z", "2026-01-06T00:00:00.000Z", "America/New_York"))
        self.assertEqual(d["conversations"], {"total": 6, "by_channel": {"messenger": 2, "instagram": 1,
                                                                         "whatsapp": 3}})
        self.assertEqual(d["messages"], {"in": 5, "out": 4})
        # First responses 2, 4, 30, 10 s; resolutions 60, 600, 1200, 300 s (continuous percentiles).
        self.assertEqual(d["first_response_s"], {"count": 4, "p50": 7.0, "p90": 24.0})
        self.assertEqual(d["resolution_s"], {"count": 4, "p50": 450.0, "p90": 1020.0})
        self.assertEqual(d["bot"], {"handled": 2, "contained": 1, "escalated": 1, "containment_rate": 0.5})
        self.assertEqual(d["sla"], {"breached": 1})

    def test_funnel_keeps_currencies_apart(self):
        f = self.day()["funnel"]
        self.assertEqual(f["order_status"], {"conversations": 2, "sales": 1, "conversion_rate": 0.5,
                                             "revenue": money(USD=12345)})
        self.assertEqual(f["any_intent"], {"conversations": 5, "sales": 2, "conversion_rate": 0.4,
                                           "revenue": money(EUR=5000, USD=12345)})

    def test_ads_and_campaigns_roas_to_the_cent(self):
        d = self.day()
        ads = {a["ad_id"]: a for a in d["ads"]}
        self.assertEqual([a["ad_id"] for a in d["ads"]], ["ad-1", "ad-2", "ad-3"])
        self.assertEqual(ads["ad-1"], {
            "ad_id": "ad-1", "name": "Boots", "campaign": "winter", "conversations": 2, "sales": 2,
            "by_currency": [{"currency": "EUR", "revenue_cents": 5000, "spend_cents": 0, "roas": None},
                            {"currency": "USD", "revenue_cents": 12345, "spend_cents": 5000, "roas": 2.469}]})
        self.assertEqual(ads["ad-2"], {
            "ad_id": "ad-2", "name": None, "campaign": "winter", "conversations": 2, "sales": 0,
            "by_currency": [{"currency": "EUR", "revenue_cents": 0, "spend_cents": 0, "roas": None}]})
        self.assertEqual(ads["ad-3"], {
            "ad_id": "ad-3", "name": "Unseen", "campaign": None, "conversations": 0, "sales": 0,
            "by_currency": [{"currency": "USD", "revenue_cents": 0, "spend_cents": 2000, "roas": 0.0}]})
        self.assertEqual(d["campaigns"], [{
            "campaign": "winter", "ad_ids": ["ad-1", "ad-2"], "conversations": 4, "sales": 2,
            "by_currency": [{"currency": "EUR", "revenue_cents": 5000, "spend_cents": 0, "roas": None},
                            {"currency": "USD", "revenue_cents": 12345, "spend_cents": 5000, "roas": 2.469}]}])

    def test_queue_depth_now(self):
        queues = self.day()["queues"]
        self.assertEqual([(q["queue_id"], q["name"], q["waiting"]) for q in queues],
                         [(self.queue_sales, "Sales", 1), (self.queue_support, "Support", 0)])
        self.assertRegex(queues[0]["oldest_waiting_since"], harness.TIME_RE)
        self.assertGreaterEqual(queues[0]["oldest_wait_s"], 90)
        self.assertLess(queues[0]["oldest_wait_s"], 600)
        self.assertEqual((queues[1]["oldest_waiting_since"], queues[1]["oldest_wait_s"]), (None, None))

    def test_hour_series(self):
        series = self.day("&bucket=hour")["series"]
        self.assertEqual(len(series), 24)
        by_start = {s["start"][11:13]: s for s in series}
        self.assertEqual(by_start["03"], {"start": "2026-01-05T03:00:00.000Z", "conversations": 0,
                                          "messages_in": 1, "messages_out": 0, "sales": 0, "revenue": [],
                                          "first_response_p50_s": None})
        self.assertEqual(by_start["11"], {"start": "2026-01-05T11:00:00.000Z", "conversations": 1,
                                          "messages_in": 2, "messages_out": 2, "sales": 1,
                                          "revenue": money(USD=12345), "first_response_p50_s": 4.0})
        self.assertEqual(by_start["12"]["revenue"], money(EUR=5000))
        self.assertEqual(by_start["14"]["conversations"], 1)  # the undecided one counts too
        self.assertEqual(sum(s["conversations"] for s in series), 6)
        self.assertEqual((sum(s["messages_in"] for s in series), sum(s["messages_out"] for s in series)), (5, 4))

    def test_day_series_follows_the_business_time_zone(self):
        series = self.day("&bucket=day")["series"]
        # New York is UTC-5 in January: the UTC day spans two local days.
        self.assertEqual([s["start"] for s in series], ["2026-01-04T05:00:00.000Z", "2026-01-05T05:00:00.000Z"])
        self.assertEqual([(s["conversations"], s["messages_in"], s["messages_out"], s["sales"]) for s in series],
                         [(0, 1, 0, 0), (6, 4, 4, 2)])
        self.assertEqual(series[1]["revenue"], money(EUR=5000, USD=12345))
        self.assertEqual(series[1]["first_response_p50_s"], 7.0)

    def test_other_business_sees_only_its_own(self):
        d = self.summary(self.key_b, f"from={FROM}&to={TO}")
        self.assertEqual(d["conversations"]["total"], 1)
        self.assertEqual(d["messages"], {"in": 1, "out": 1})
        self.assertEqual(d["queues"], [])
        self.assertEqual(d["ads"], [{"ad_id": "ad-1", "name": None, "campaign": "winter", "conversations": 1,
                                     "sales": 1, "by_currency": [{"currency": "USD", "revenue_cents": 777,
                                                                  "spend_cents": 1, "roas": 777.0}]}])

    def test_the_day_before_is_its_own_range(self):
        d = self.summary(self.key_a, "from=2026-01-04T00:00:00Z&to=2026-01-05T00:00:00Z")
        self.assertEqual(d["conversations"]["total"], 1)
        self.assertEqual(d["funnel"]["order_status"]["revenue"], money(USD=99999))
        self.assertEqual(d["messages"], {"in": 1, "out": 0})
        ad1 = [a for a in d["ads"] if a["ad_id"] == "ad-1"][0]
        self.assertEqual(ad1["by_currency"], [{"currency": "USD", "revenue_cents": 99999, "spend_cents": 5000,
                                               "roas": 19.9998}])


class LiveHistoryTest(MetricsCase):
    """Conversations made through signed webhooks, the order-status bot and
    the agent API; the summary counts them as soon as each call returns."""

    def customer_with_ad(self, channel, secret, contact, text, ad_id):
        mid = uid("wamid.")
        msg = harness.whatsapp_message(contact, mid, text)
        msg["referral"] = {"source_type": "ad", "source_id": ad_id, "source_url": "https://fb.me/x",
                           "headline": "Boots", "ctwa_clid": secrets.token_hex(8)}
        body = harness.webhook_body("whatsapp", [harness.whatsapp_entry("waba-" + channel, channel, [msg])])
        r = self.api.post_webhook("whatsapp", body, secret=secret)
        self.assertEqual(r.status, 200, r)

    def test_bot_agent_sale_and_ad(self):
        key, channel, secret = self.business()
        q = self.queue(key)["id"]
        fay = self.agent(key, [q], capacity=5, name="Fay")
        self.routing(key, q, [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}}])
        self.order(key, "A1001", status="shipped", carrier="DHL", eta="2026-12-02")
        self.status(fay["token"], "online")
        self.put_ad(key, "ad-77", {"campaign": "spring", "spend_cents": 1000, "currency": "USD"})

        # 1: the bot answers; the business resolves it: contained.
        one = wa_id()
        self.customer_says(channel, secret, one, "where is my order A1001?")
        c1 = self.conversation_of(key, one)["id"]
        self.wait_status(key, c1, "bot")
        self.wait_for(lambda: [m for m in self.messages(key, c1) if m["sender"] == "bot"], "the bot's reply")
        self.resolve(key, c1, {"outcome": "resolved"})
        d = self.summary(key)
        self.assertEqual(d["bot"], {"handled": 1, "contained": 1, "escalated": 0, "containment_rate": 1.0})
        self.assertEqual(d["first_response_s"]["count"], 1)
        self.assertGreaterEqual(d["first_response_s"]["p50"], 0)

        # 2: from ad-77, to the queue, Fay answers and sells for 25.00 USD.
        two = wa_id()
        self.customer_with_ad(channel, secret, two, "hello, do you ship to Lyon?", "ad-77")
        c2 = self.conversation_of(key, two)["id"]
        self.wait_status(key, c2, "assigned")
        self.reply(fay["token"], c2, "We do!")
        self.resolve(fay["token"], c2, {"outcome": "sale", "amount_cents": 2500, "currency": "USD"})

        # 3: the bot answers, the customer asks for a person: escalated; Fay answers.
        three = wa_id()
        self.customer_says(channel, secret, three, "where is my order A1001?")
        c3 = self.conversation_of(key, three)["id"]
        self.wait_status(key, c3, "bot")
        self.customer_says(channel, secret, three, "I want to talk to a human please")
        self.wait_status(key, c3, "assigned")
        self.reply(fay["token"], c3, "Hi, Fay here")

        d = self.summary(key, "bucket=day")
        self.assertEqual(d["conversations"]["total"], 3)
        self.assertEqual(d["conversations"]["by_channel"]["whatsapp"], 3)
        self.assertEqual(d["bot"], {"handled": 2, "contained": 1, "escalated": 1, "containment_rate": 0.5})
        self.assertEqual(d["first_response_s"]["count"], 3)
        self.assertEqual(d["resolution_s"]["count"], 2)
        self.assertEqual(d["funnel"]["order_status"], {"conversations": 2, "sales": 0, "conversion_rate": 0.0,
                                                       "revenue": []})
        self.assertEqual(d["funnel"]["any_intent"]["sales"], 1)
        self.assertEqual(d["funnel"]["any_intent"]["revenue"], money(USD=2500))
        self.assertEqual(d["ads"], [{"ad_id": "ad-77", "name": None, "campaign": "spring", "conversations": 1,
                                     "sales": 1, "by_currency": [{"currency": "USD", "revenue_cents": 2500,
                                                                  "spend_cents": 1000, "roas": 2.5}]}])
        ins = outs = 0
        for cid in (c1, c2, c3):
            for m in self.messages(key, cid):
                ins += m["direction"] == "in"
                outs += m["direction"] == "out"
        self.assertEqual(d["messages"], {"in": ins, "out": outs})
        self.assertEqual(ins, 4)
        self.assertEqual(sum(s["conversations"] for s in d["series"]), 3)
        self.assertEqual(sum(s["messages_in"] for s in d["series"]), 4)


class CachedHoursTest(MetricsCase):
    """A summary stores the figures of whole past hours once and reads them
    afterwards: the answers stay those of the rows (percentiles as
    percentile_cont over every duration, to the millisecond), and a change
    to a conversation of a stored hour shows in the next summary."""

    FROM, TO = "2026-02-10T00:00:00Z", "2026-02-11T00:00:00Z"

    def test_stored_hours_answer_as_the_rows_and_follow_changes(self):
        key, phone_number_id, _ = self.business()
        biz, channel = map(int, self.db.psql(f"SELECT business_id, id FROM channels "
                                             f"WHERE external_id = '{phone_number_id}'")[0])
        # 40 conversations over six hours, first responses from 0.2 s to hours with microseconds (ties
        # included), most resolved.
        rows = []
        for i in range(40):
            opened = f"2026-02-10T{10 + i % 6:02d}:{i:02d}:00Z"
            fr = (0.2 + (i * 37 % 23) * 13.000417 + (i % 7) * 1000.000001) if i % 9 else None
            rs = (60 + (i * 53 % 31) * 211.5) if i % 4 else None
            rows.append((opened, fr, rs))
        ids = []
        for opened, fr, rs in rows:
            cid = int(self.db.value(
                f"WITH c AS (INSERT INTO contacts (business_id, channel_id, external_id) "
                f"VALUES ({biz}, {channel}, '{uid('c')}') RETURNING id) "
                f"INSERT INTO conversations (business_id, channel_id, contact_id, opened_at, last_inbound_at, status, "
                f"routed_at) SELECT {biz}, {channel}, c.id, '{opened}', '{opened}', 'resolved', '{opened}' FROM c "
                f"RETURNING id"))
            sets = ["status = 'assigned', intent = 'support'"]
            if fr is not None:
                sets.append(f"first_response_at = '{opened}'::timestamptz + interval '{fr:.6f} s', agent_replied = true")
            if rs is not None:
                sets.append(f"status = 'resolved', resolved_at = '{opened}'::timestamptz + interval '{rs} s', "
                            f"outcome = 'resolved'")
            for st in sets:
                self.db.psql(f"UPDATE conversations SET {st} WHERE business_id = {biz} AND id = {cid}")
            ids.append(cid)

        def expected(where=""):
            r = self.db.psql(
                "SELECT count(*), count(first_response_s), "
                "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_s)::numeric, 3), "
                "round(percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_s)::numeric, 3), "
                "count(resolution_s), "
                "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_s)::numeric, 3), "
                "round(percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_s)::numeric, 3) "
                f"FROM conversation_metrics WHERE business_id = {biz} AND opened_at >= '{self.FROM}' "
                f"AND opened_at < '{self.TO}' {where}")[0]
            num = lambda v: float(v) if v else None  # noqa: E731
            return (int(r[0]), {"count": int(r[1]), "p50": num(r[2]), "p90": num(r[3])},
                    {"count": int(r[4]), "p50": num(r[5]), "p90": num(r[6])})

        def got(query=""):
            d = self.summary(key, f"from={self.FROM}&to={self.TO}" + query)
            return d, (d["conversations"]["total"], d["first_response_s"], d["resolution_s"])

        def hour_p50s():
            r = self.db.psql(
                "SELECT to_char(date_trunc('hour', opened_at, 'UTC'), 'HH24'), "
                "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_s)::numeric, 3) "
                f"FROM conversation_metrics WHERE business_id = {biz} AND opened_at >= '{self.FROM}' "
                f"AND opened_at < '{self.TO}' GROUP BY 1")
            return {h: (float(v) if v else None) for h, v in r}

        want = expected()
        self.assertEqual(want[0], 40)
        first, figures = got()
        self.assertEqual(figures, want)
        self.assertEqual(self.db.count(f"SELECT count(*) FROM conversation_hour_metrics WHERE business_id = {biz}"),
                         24, "the day's hours are stored")
        again, _ = got()
        self.assertEqual(again, first, "read from the stored hours, the same answer")
        series = got("&bucket=hour")[0]["series"]
        p50s = hour_p50s()
        self.assertEqual({s["start"][11:13]: s["first_response_p50_s"] for s in series if s["conversations"]}, p50s)

        # Changes to conversations of stored hours: a later first response, a sale.
        self.db.psql(f"UPDATE conversations SET first_response_at = opened_at + interval '7777.5 s' "
                     f"WHERE business_id = {biz} AND id = {ids[3]}")
        self.db.psql(f"UPDATE conversations SET status = 'resolved', resolved_at = opened_at + interval '1 s', "
                     f"outcome = 'sale', amount_cents = 500, currency = 'USD' WHERE business_id = {biz} AND id = {ids[4]}")
        self.assertGreater(self.db.count(f"SELECT count(*) FROM conversation_hour_changes WHERE business_id = {biz}"),
                           0)
        want2 = expected()
        self.assertNotEqual(want2, want)
        d, figures = got()
        self.assertEqual(figures, want2)
        self.assertEqual(d["funnel"]["any_intent"]["revenue"], money(USD=500))
        self.assertEqual(self.db.count(f"SELECT count(*) FROM conversation_hour_changes WHERE business_id = {biz}"),
                         0, "the recomputed hours' notes are gone")
        self.assertEqual(got()[1], want2)
        # A range that cuts hours reads their rows and adds the stored whole hours.
        part = self.summary(key, "from=2026-02-10T10:30:00Z&to=2026-02-10T14:15:00Z")
        self.assertEqual(part["conversations"]["total"], self.db.count(
            f"SELECT count(*) FROM conversation_metrics WHERE business_id = {biz} "
            f"AND opened_at >= '2026-02-10T10:30:00Z' AND opened_at < '2026-02-10T14:15:00Z'"))
        part_fr = self.db.value(
            "SELECT round(percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_s)::numeric, 3) "
            f"FROM conversation_metrics WHERE business_id = {biz} "
            f"AND opened_at >= '2026-02-10T10:30:00Z' AND opened_at < '2026-02-10T14:15:00Z'")
        self.assertEqual(part["first_response_s"]["p90"], float(part_fr))


    def test_housekeeping_drops_notes_of_hours_not_stored(self):
        key, phone_number_id, _ = self.business()
        biz = int(self.db.value(f"SELECT business_id FROM channels WHERE external_id = '{phone_number_id}'"))
        self.summary(key, "from=2026-03-01T00:00:00Z&to=2026-03-01T02:00:00Z")  # stores 00:00 and 01:00
        self.assertEqual(self.db.count(f"SELECT count(*) FROM conversation_hour_metrics WHERE business_id = {biz}"), 2)
        self.db.psql(
            "INSERT INTO conversation_hour_changes (business_id, hour, noted_at) VALUES "
            f"({biz}, '2026-03-01T01:00:00Z', now() - interval '2 hours'), "  # a stored hour: kept
            f"({biz}, '2026-03-02T01:00:00Z', now() - interval '2 hours'), "  # not stored: dropped
            f"({biz}, '2026-03-03T01:00:00Z', now() - interval '10 minutes')")  # not stored, recent: kept
        with open(os.path.join(ROOT, "services/store/queries/maintenance/prune_hour_changes.sql")) as f:
            self.db.psql(f.read())
        self.assertEqual(
            self.db.psql(f"SELECT to_char(hour AT TIME ZONE 'UTC', 'DD') FROM conversation_hour_changes "
                         f"WHERE business_id = {biz} ORDER BY hour"), [["01"], ["03"]])
        # The next summary recomputes the stored hour and drops its note; while it holds the business's
        # lock for storing hours it drops the notes of hours not stored as well, however recent.
        self.summary(key, "from=2026-03-01T00:00:00Z&to=2026-03-01T02:00:00Z")
        self.assertEqual(self.db.count(f"SELECT count(*) FROM conversation_hour_changes WHERE business_id = {biz}"), 0)


if __name__ == "__main__":
    unittest.main()
