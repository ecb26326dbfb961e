"""Headless Chromium driven through the DevTools protocol, over the test
suite's own WebSocket client. Standard library only.

    with Browser() as browser:
        page = browser.page()
        page.navigate("http://127.0.0.1:8080/admin")
        page.evaluate("document.title")
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from ws_client import WebSocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium():
    for name in CANDIDATES:
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if path:
            return path
    raise unittest.SkipTest("chromium is not installed (apt-get install chromium; tools/dev installs it)")


class CdpError(AssertionError):
    pass


class Page:
    """One page target's session."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.seen = 0
        self.events = []  # every event received, in order: (method, params)

    def call(self, method, params=None, timeout=30):
        self.next_id += 1
        mid = self.next_id
        self.ws.send_text(json.dumps({"id": mid, "method": method, "params": params or {}}))
        found = {}

        def answered(messages):
            for _, text in messages[self.seen:]:
                msg = json.loads(text)
                self.seen += 1
                if "method" in msg:
                    self.events.append((msg["method"], msg.get("params", {})))
                elif msg.get("id") == mid:
                    found["msg"] = msg
                    return True
            return False

        if not self.ws.wait_for(answered, timeout):
            raise CdpError(f"{method}: no answer from the browser in {timeout} s")
        msg = found["msg"]
        if "error" in msg:
            raise CdpError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    def evaluate(self, expression, timeout=30):
        """The JSON value of a JavaScript expression (awaiting a promise)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout)
        if "exceptionDetails" in r:
            raise CdpError(f"{expression[:200]!r} threw: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_until(self, expression, what, timeout=30, interval=0.1):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CdpError(f"timed out after {timeout} s waiting for {what} ({expression})")
            time.sleep(interval)

    def navigate(self, url, timeout=30):
        self.call("Page.navigate", {"url": url})
        self.wait_until("document.readyState === 'complete' && location.href === " + json.dumps(url),
                        f"{url} to load", timeout)

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params.update({"captureBeyondViewport": True,
                           "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        data = self.call("Page.captureScreenshot", params)["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path


class Browser:
    """A headless Chromium with a private profile, on a DevTools port of its own."""

    def __init__(self, width=1280, height=900):
        self.bin = find_chromium()
        self.profile = tempfile.mkdtemp(prefix="sb-chromium-")
        self.width, self.height = width, height
        self.proc = None
        self.port = None
        self.sockets = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=30):
        args = [self.bin, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                f"--window-size={self.width},{self.height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with open(port_file) as f:
                    first = f.readline().strip()
                if first:
                    self.port = int(first)
                    return self
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.1)
        raise CdpError(f"chromium wrote no DevToolsActivePort in {timeout} s: {self.log_tail()}")

    def log_tail(self):
        try:
            with open(os.path.join(self.profile, "chromium.log"), "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return "(no log)"

    def page(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.loads(r.read())
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise CdpError(f"no page target: {targets}")
        url = pages[0]["webSocketDebuggerUrl"]
        path = url.split(f":{self.port}", 1)[1]
        ws = WebSocket.connect(("127.0.0.1", self.port), path, name="cdp")
        self.sockets.append(ws)
        return Page(ws)

    def stop(self):
        for ws in self.sockets:
            ws.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
