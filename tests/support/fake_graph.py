#!/usr/bin/env python3
"""A small fake of the Graph API's send endpoints, for tests.

Listens on 127.0.0.1 (port 0 unless --port; HTTPS with --tls-cert and
--tls-key) and prints the port as the first
line of stdout. Exits at once when stdin reaches end of file (so it dies with
the test that started it through a pipe) or on SIGTERM/SIGINT.

Every request other than the control endpoints below is recorded and
answered: with the next scripted response if any is left, else with a
success carrying both answer shapes (WhatsApp and Messenger/Instagram):
  {"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid.fake.N"}],
   "recipient_id": "...", "message_id": "m_fake.N"}

Control endpoints:
  GET  /_requests  -> {"requests": [{"seq", "time", "method", "path", "headers",
                                     "body", "client_port"}, ...]}
                      ("body" is the parsed JSON, or the raw text when not JSON)
  POST /_script    {"responses": [{"status": 429, "headers": {"Retry-After": "1"},
                                   "body": {...} or "text", "delay_ms": 0,
                                   "close": false, "drop": false}, ...]}
                   appends responses, consumed in order by the next requests;
                   "delay_ms" waits before answering, "close" closes the
                   connection after the answer (saying so: Connection: close),
                   "drop" closes it without saying so (as an idle keep-alive
                   connection is dropped).
  POST /_reset     forgets requests, scripted responses and profiles.
  POST /_profiles  {"profiles": {"<psid or igsid>": {"first_name": ..., "last_name": ...} or
                                                    {"name": ..., "username": ...}}}
                   the user profiles GET /{version}/{id}?fields=... answers
                   (with the fields asked for, plus "id"); an unknown id gets
                   a Graph error 400 (#100), as for a user who blocked the page.
  POST /_media     {"media": {"<media id>": {"mime_type": "image/jpeg", "data_b64": "..."}}}
                   WhatsApp media: GET /{version}/{media id} answers {"url", "mime_type",
                   "file_size", "id"} with a URL on this fake (/_files/<id>?hash=...),
                   which serves the bytes to a request with a bearer token
                   (401 without); an unknown media id gets a Graph error 400.
  POST /_cdn       {"files": {"<name>": {"mime_type": "image/png", "data_b64": "...",
                                         "fail": [500, ...], "chunked": false, "delay_ms": 0}}}
                   Messenger/Instagram attachments: GET /_cdn/<name>?<anything> (no
                   token needed, as Meta's signed CDN URLs) answers with the
                   statuses in "fail" first, one per request, then the bytes
                   ("chunked": without a Content-Length, in chunked encoding;
                   "delay_ms": after that long);
                   an unknown name gets 404. Every request is recorded.
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.script = []
        self.counter = 0
        self.profiles = {}
        self.media = {}
        self.cdn = {}

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.script.clear()
            self.profiles.clear()
            self.media.clear()
            self.cdn.clear()


STATE = State()

# POST /_script, /_profiles, /_media, /_cdn: the body's key, its value when absent,
# the key of the count in the answer, and what adds the value to STATE.
CONTROL = {
    "/_script": ("responses", [], "scripted", STATE.script.extend),
    "/_profiles": ("profiles", {}, "profiles", STATE.profiles.update),
    "/_media": ("media", {}, "media", STATE.media.update),
    "/_cdn": ("files", {}, "files", STATE.cdn.update),
}


def success_body(seq, body):
    recipient = ""
    if isinstance(body, dict):
        to = body.get("to")
        rec = body.get("recipient")
        if isinstance(to, str):
            recipient = to
        elif isinstance(rec, dict) and isinstance(rec.get("id"), str):
            recipient = rec["id"]
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": recipient, "wa_id": recipient}],
        "messages": [{"id": f"wamid.fake.{seq}"}],
        "recipient_id": recipient,
        "message_id": f"m_fake.{seq}",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Graph API
    server_version = "FakeGraph/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read requests from /_requests
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status, body, headers=None, close=False, drop=False):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        content_type = "application/json"
        for name, value in (headers or {}).items():
            if name.lower() == "content-type":
                content_type = value
            else:
                self.send_header(name, str(value))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
        if close or drop:
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test)

    def do_GET(self):
        self._read_body()
        if self.path == "/_requests":
            with STATE.lock:
                snapshot = list(STATE.requests)
            self._answer(200, {"requests": snapshot})
            return
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if parts[0] == "_files" and len(parts) == 2:
            self._file(parts[1])
            return
        if parts[0] == "_cdn" and len(parts) == 2:
            self._cdn_file(parts[1])
            return
        with STATE.lock:
            is_media = len(parts) == 2 and parts[1] in STATE.media
            scripted = bool(STATE.script)
        if is_media and not query:
            self._media_url(parts[1])
            return
        if len(parts) == 2 and not parts[0].startswith("_") and "fields=" in query and not scripted:
            self._profile(parts[1], query)
            return
        self._handle("GET", b"")

    def _record(self, method, body=None):
        """Appends the request to STATE.requests (the caller holds STATE.lock); returns its seq."""
        STATE.counter += 1
        STATE.requests.append({"seq": STATE.counter, "time": time.time(), "method": method, "path": self.path,
                               "headers": {k: v for k, v in self.headers.items()}, "body": body,
                               "client_port": self.client_address[1]})
        return STATE.counter

    def _media_url(self, media_id):
        import base64
        with STATE.lock:
            self._record("GET")
            m = STATE.media[media_id]
        port = self.server.server_address[1]
        self._answer(200, {"messaging_product": "whatsapp", "id": media_id, "mime_type": m["mime_type"],
                           "file_size": len(base64.b64decode(m["data_b64"])),
                           "url": f"http://127.0.0.1:{port}/_files/{media_id}?ext=1&hash=fake"})

    def _file(self, media_id):
        import base64
        with STATE.lock:
            self._record("GET")
            m = STATE.media.get(media_id)
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self._answer(401, {"error": {"message": "no token", "code": 190}})
            return
        if m is None:
            self._answer(404, {"error": {"message": "no such file", "code": 100}})
            return
        self._answer(200, base64.b64decode(m["data_b64"]), {"Content-Type": m["mime_type"]})

    def _cdn_file(self, name):
        import base64
        with STATE.lock:
            self._record("GET")
            f = STATE.cdn.get(name)
            failure = f["fail"].pop(0) if f is not None and f.get("fail") else None
        if f is None:
            self._answer(404, b"no such file", {"Content-Type": "text/plain"})
            return
        if failure is not None:
            self._answer(int(failure), b"try again", {"Content-Type": "text/plain"})
            return
        if f.get("delay_ms"):
            time.sleep(f["delay_ms"] / 1000.0)
        data = base64.b64decode(f["data_b64"])
        if not f.get("chunked"):
            self._answer(200, data, {"Content-Type": f["mime_type"]})
            return
        self.send_response(200)
        self.send_header("Content-Type", f["mime_type"])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for i in range(0, len(data), 65536):
                chunk = data[i:i + 65536]
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading (over its limit)

    def _profile(self, user_id, query):
        import urllib.parse
        fields = urllib.parse.parse_qs(query).get("fields", [""])[0].split(",")
        with STATE.lock:
            self._record("GET")
            profile = STATE.profiles.get(urllib.parse.unquote(user_id))
        if profile is None:
            self._answer(400, {"error": {"message": "(#100) No profile available for that user", "code": 100,
                                         "type": "OAuthException"}})
            return
        answer = {k: v for k, v in profile.items() if k in fields}
        answer["id"] = urllib.parse.unquote(user_id)
        self._answer(200, answer)

    def do_POST(self):
        raw = self._read_body()
        control = CONTROL.get(self.path)
        if control is not None:
            key, absent, counted, add = control
            try:
                value = json.loads(raw or b"{}").get(key, absent)
            except ValueError:
                self._answer(400, {"error": f"the {self.path[2:]} must be JSON"})
                return
            with STATE.lock:
                add(value)
            self._answer(200, {counted: len(value)})
            return
        if self.path == "/_reset":
            STATE.reset()
            self._answer(200, {})
            return
        self._handle("POST", raw)

    def do_DELETE(self):
        self._handle("DELETE", self._read_body())

    def _handle(self, method, raw):
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        with STATE.lock:
            seq = self._record(method, body)
            scripted = STATE.script.pop(0) if STATE.script else None
        if scripted is None:
            self._answer(200, success_body(seq, body))
            return
        delay = scripted.get("delay_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        status = int(scripted.get("status", 200))
        answer = scripted.get("body")
        if answer is None:
            answer = success_body(seq, body) if 200 <= status < 300 else {}
        self._answer(status, answer, scripted.get("headers"), bool(scripted.get("close", False)),
                     bool(scripted.get("drop", False)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="the certificate's PEM private key")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)

    def stop(*_):
        # Nothing to flush or finish: a fake ends at once (tests start and
        # stop one per test).
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
