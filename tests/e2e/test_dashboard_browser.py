"""The /admin dashboard in a real headless Chromium: sign in with a business
key, wait for the figures, check every figure equals the summary API's for
the same range, check nothing overflows at phone width, and save
screenshots (build/test-artifacts/admin*.png)."""

import datetime
import json
import os
import time
import unittest

import cdp
import harness
from harness import uid


def artifacts_dir():
    build = os.path.dirname(os.path.abspath(os.environ.get("SWITCHBOARD_BIN", "build/switchboard")))
    return os.path.join(build, "test-artifacts")


def resolve(obj, path):
    """The value at a dotted path (the page's data-metric), '*' fanning out over a list."""
    values = [obj]
    for part in path.split("."):
        nxt = []
        for v in values:
            if v is None:
                nxt.append(None)
            elif part == "*":
                nxt.extend(v if isinstance(v, list) else [])
            elif isinstance(v, list):
                nxt.append(v[int(part)] if int(part) < len(v) else None)
            else:
                nxt.append(v.get(part))
        values = nxt
    return values if "*" in path else values[0]


READ_FIGURES = """(() => ({
  range: Object.assign({}, document.getElementById('range').dataset),
  figures: [...document.querySelectorAll('[data-metric]')].map(e => ({
    metric: e.dataset.metric, format: e.dataset.format || '', value: e.dataset.value,
    text: e.textContent.trim(), visible: e.getClientRects().length > 0})),
  chart: typeof Chart === 'function' ? {
    conversations: Chart.getChart('chart-conversations').data.datasets[0].data,
    sales: Chart.getChart('chart-conversations').data.datasets[1].data,
    messages_in: Chart.getChart('chart-messages').data.datasets[0].data,
    channels: Chart.getChart('chart-channels').data.datasets[0].data} : null,
}))()"""

OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    if (e.closest('.scroll') && !e.classList.contains('scroll')) return false;  // scrolls inside its box
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
  }).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' right=' + e.getBoundingClientRect().right);
  return {width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10)};
})()"""


class DashboardBrowserTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_env()
        cdp.find_chromium()
        super().setUpClass()
        cls.seed()

    @classmethod
    def seed(cls):
        """One business with traffic on every channel kind, an ad, a bot answer, sales."""
        http, api = cls.http, cls.api
        cls.key = api.create_business(timezone="UTC")["api_key"]
        key = cls.key
        cls.channels = {}
        for kind in harness.KINDS:
            ext, secret = uid("7"), "secret-" + uid()
            extra = {"account_id": "waba-" + ext} if kind == "whatsapp" else {}
            api.create_channel(key, kind, external_id=ext, app_secret=secret, **extra)
            cls.channels[kind] = (ext, secret)
        queue = api.create_queue(key, "Sales")["id"]
        agent = api.create_agent(key, [queue], capacity=10, name="Ana")
        api.set_routing(key, queue, [{"match": {"intent": "order_status"}, "target": {"bot": "order_status"}}])
        order = http.put("/v1/orders/A1001", json_body={"status": "shipped", "carrier": "DHL", "total_cents": 4500,
                                                        "currency": "USD", "customer_phone": "15550001234"},
                         token=key)
        assert order.status == 200, order
        ad = http.put("/v1/ads/AD-77", json_body={"name": "Red shoes", "campaign": "Black Friday",
                                                  "spend_cents": 5000, "currency": "USD"}, token=key)
        assert ad.status == 200, ad

        def say(kind, contact, text, referral=None):
            ext, secret = cls.channels[kind]
            body = harness.message_body(kind, ext, contact, uid("mid."), text)
            if referral:
                if kind == "whatsapp":
                    body["entry"][0]["changes"][0]["value"]["messages"][0]["referral"] = {
                        "source_type": "ad", "source_id": referral, "source_url": "https://fb.me/x"}
                else:
                    body["entry"][0]["messaging"][0]["message"]["referral"] = {"source": "ADS", "ad_id": referral}
            r = api.post_webhook(kind, body, secret=secret)
            assert r.status == 200 and r.json["messages"] == 1, r

        say("messenger", uid("psid"), "I want to buy the red shoes", referral="AD-77")
        say("instagram", uid("igsid"), "Do you ship to Canada?")
        say("whatsapp", "15550009876", "hello, can I buy two pairs?", referral="AD-77")
        say("whatsapp", "15550001234", "where is my order A1001")

        token = agent["token"]
        api.set_status(token, "online")
        deadline = time.monotonic() + 20
        mine = []
        while time.monotonic() < deadline and len(mine) < 3:
            mine = http.get("/v1/agent/conversations", token=token).json["items"]
            time.sleep(0.1)
        assert len(mine) == 3, mine
        for conv in mine:
            r = http.post(f"/v1/conversations/{conv['id']}/messages", json_body={"text": "Happy to help!"},
                          token=token)
            assert r.status == 202, r
            # The two customers who came from the ad buy.
            outcome = {"outcome": "sale", "amount_cents": 12999, "currency": "USD"} if conv.get("referral") else \
                {"outcome": "no_sale"}
            r = http.post(f"/v1/conversations/{conv['id']}/resolve", json_body=outcome, token=token)
            assert r.status == 200, r
        bot_conv = [c for c in api.conversations(key) if c["status"] == "bot" or c["intent"] == "order_status"]
        assert bot_conv, api.conversations(key)
        r = http.post(f"/v1/conversations/{bot_conv[0]['id']}/resolve",
                      json_body={"outcome": "sale", "amount_cents": 4500, "currency": "USD"}, token=key)
        assert r.status == 200, r
        time.sleep(2.5)  # the summary includes what was committed 2 s before the request

    def summary(self, range_):
        q = f"from={range_['from']}&to={range_['to']}&bucket={range_['bucket']}".replace("+", "%2B")
        r = self.http.get("/v1/metrics/summary?" + q, token=self.key)
        self.assertEqual(r.status, 200, repr(r))
        return r.json

    def sign_in(self, page, key):
        page.evaluate(f"document.getElementById('key').value = {json.dumps(key)}; "
                      "document.getElementById('sign-in').requestSubmit(); true")

    def test_dashboard_shows_the_summary(self):
        base = f"http://127.0.0.1:{self.server.port}"
        with cdp.Browser() as browser:
            page = browser.page()
            page.call("Network.enable")
            page.call("Page.enable")
            page.navigate(base + "/admin")
            self.assertEqual(page.evaluate("document.getElementById('sign-in').hidden"), False,
                             "the page starts at the sign-in form")

            # A wrong key stays at the sign-in form with the server's message.
            self.sign_in(page, "sbk_not_a_key")
            msg = page.wait_until("document.getElementById('sign-in-error')?.textContent", "the sign-in error")
            self.assertTrue(msg.strip(), "an error is shown for a wrong key")
            self.assertIsNone(page.evaluate("sessionStorage.getItem('switchboard.key')"))

            self.sign_in(page, self.key)
            page.wait_until("document.getElementById('dashboard').dataset.loads >= 1 && "
                            "document.getElementById('status').dataset.state === 'ready'", "the summary to load")
            self.assertEqual(page.evaluate("sessionStorage.getItem('switchboard.key')"), self.key)
            shown = page.evaluate(READ_FIGURES)
            api = self.summary(shown["range"])

            self.assertGreaterEqual(len(shown["figures"]), 20, shown["figures"])
            metrics = {f["metric"] for f in shown["figures"]}
            for required in ("conversations.total", "conversations.by_channel.whatsapp", "first_response_s.p50",
                             "first_response_s.p90", "resolution_s.p50", "resolution_s.p90",
                             "bot.containment_rate", "sla.breached", "queues.*.waiting",
                             "funnel.order_status.conversations", "funnel.order_status.sales",
                             "ads.0.conversations", "ads.0.sales", "ads.0.by_currency"):
                self.assertIn(required, metrics, "a figure the dashboard must show")
            for f in shown["figures"]:
                want = resolve(api, f["metric"])
                if f["format"] == "sum":
                    want = sum(want)
                got = json.loads(f["value"])
                self.assertEqual(got, want, f"{f['metric']}: page shows {got!r}, the API says {want!r}")
                self.assertTrue(f["visible"], f"{f['metric']} is not visible")
                if f["format"] in ("", "sum") and isinstance(want, int) and want < 1000:
                    self.assertEqual(f["text"], str(want), f"{f['metric']}: text {f['text']!r}")

            # The seeded traffic is there, so the comparison compared something.
            self.assertEqual(api["conversations"]["total"], 4)
            self.assertEqual(api["conversations"]["by_channel"], {"messenger": 1, "instagram": 1, "whatsapp": 2})
            ad = [a for a in api["ads"] if a["ad_id"] == "AD-77"][0]
            self.assertEqual((ad["conversations"], ad["sales"]), (2, 2), ad)
            self.assertEqual(ad["by_currency"][0]["roas"], 5.1996, ad)
            self.assertEqual(api["funnel"]["order_status"]["sales"], 1, api["funnel"])

            # The charts plot the same series.
            self.assertIsNotNone(shown["chart"], "Chart.js did not load from the server")
            self.assertEqual(shown["chart"]["conversations"], [b["conversations"] for b in api["series"]])
            self.assertEqual(shown["chart"]["sales"], [b["sales"] for b in api["series"]])
            self.assertEqual(shown["chart"]["messages_in"], [b["messages_in"] for b in api["series"]])
            by = api["conversations"]["by_channel"]
            self.assertEqual(shown["chart"]["channels"], [by["messenger"], by["instagram"], by["whatsapp"]])

            # Everything came from this server (works offline).
            urls = [p["request"]["url"] for m, p in page.events if m == "Network.requestWillBeSent"]
            self.assertTrue(urls, "no requests recorded")
            # (data: URLs are inline, no network: the browser's own date-picker icon is one.)
            foreign = [u for u in urls if not u.startswith(base + "/") and not u.startswith("data:")]
            self.assertEqual(foreign, [], "the page fetched from elsewhere")

            # Changing the bucket reloads with the hourly series.
            page.evaluate("const b = document.getElementById('bucket'); b.value = 'hour'; "
                          "b.dispatchEvent(new Event('change')); true")
            page.wait_until("document.getElementById('range').dataset.bucket === 'hour' && "
                            "document.getElementById('status').dataset.state === 'ready'", "the hourly reload")
            hourly = page.evaluate(READ_FIGURES)
            api_hourly = self.summary(hourly["range"])
            self.assertEqual(hourly["chart"]["conversations"], [b["conversations"] for b in api_hourly["series"]])
            span = datetime.datetime.fromisoformat(hourly["range"]["to"].replace("Z", "+00:00")) - \
                datetime.datetime.fromisoformat(hourly["range"]["from"].replace("Z", "+00:00"))
            self.assertEqual(len(api_hourly["series"]), span // datetime.timedelta(hours=1))

            # Auto-refresh at the shortest interval loads again by itself.
            loads = int(page.evaluate("document.getElementById('dashboard').dataset.loads"))
            page.evaluate("const e = document.getElementById('every'); e.value = '10'; "
                          "e.dispatchEvent(new Event('change')); true")
            page.wait_until(f"Number(document.getElementById('dashboard').dataset.loads) > {loads}",
                            "an automatic refresh", timeout=15)

            out = artifacts_dir()
            desktop = page.screenshot(os.path.join(out, "admin-desktop.png"))

            # Phone width: nothing wider than the screen.
            page.call("Emulation.setDeviceMetricsOverride",
                      {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
            time.sleep(0.5)
            layout = page.evaluate(OVERFLOW)
            self.assertEqual(layout["width"], 390, layout)
            self.assertLessEqual(layout["scrollWidth"], layout["width"], f"the page scrolls sideways: {layout}")
            self.assertEqual(layout["wide"], [], f"elements past the right edge at 390 px: {layout}")
            phone = page.screenshot(os.path.join(out, "admin.png"))
            print(f"\nscreenshots: {phone} (390 px) and {desktop}")
            self.assertGreater(os.path.getsize(phone), 10_000)

            # Signing out forgets the key.
            page.evaluate("document.getElementById('sign-out').click(); true")
            self.assertIsNone(page.evaluate("sessionStorage.getItem('switchboard.key')"))
            self.assertEqual(page.evaluate("document.getElementById('dashboard').hidden"), True)

    def test_assets_are_served_and_unknown_ones_are_404(self):
        page = self.http.get("/admin")
        self.assertEqual(page.status, 200)
        self.assertTrue(page.header("content-type").startswith("text/html"), page.headers)
        self.assertIn("script-src 'self'", page.header("content-security-policy", ""))
        for name, kind in (("admin.js", "text/javascript"), ("admin.css", "text/css"),
                           ("chart.min.js", "text/javascript")):
            r = self.http.get("/admin/" + name)
            self.assertEqual(r.status, 200, name)
            self.assertTrue(r.header("content-type").startswith(kind), (name, r.headers))
        self.assertIn(b"Chart.js v3.9", self.http.get("/admin/chart.min.js").body[:200])
        for bad in ("admin.html", "nope.js", "..%2Fadmin.js"):
            self.assertError(self.http.get("/admin/" + bad), 404, "not_found", f"/admin/{bad}")


if __name__ == "__main__":
    unittest.main()
