"""End-to-end harness: a real switchboard process, a real PostgreSQL, real sockets.

Standard library only. What it gives a test:

- ``Database``: a fresh database ``sb_e2e_<random>`` on the cluster named by
  SWITCHBOARD_TEST_DATABASE_URL (created and dropped through ``psql``), with a
  ``psql(query)`` helper returning rows of strings.
- ``PrivateCluster``: a PostgreSQL cluster of the test's own, to stop and start.
- ``Server``: ``$SWITCHBOARD_BIN serve --ready-file PATH`` as a subprocess,
  stdout/stderr to a log file in a temporary directory; ``log_tail()``.
- ``Http``: a keep-alive ``http.client`` connection returning ``Response``
  (status, lower-cased headers, body bytes, parsed JSON or None).
- ``raw_exchange``: a raw socket for requests http.client will not send.
- ``FakeGraph``: tests/support/fake_graph.py as a subprocess, driven over HTTP.
- ``wait_for(fn, what)``: the first truthy ``fn()``, or a failure naming what.
- ``sign``; body builders for the three channel kinds; ``Api``, the set-up
  calls a test makes; ``ServerTestCase``, a TestCase base class with one
  database and ``processes`` servers per class that prints their log tails
  when a test fails.

Every test skips (unittest.SkipTest, with the reason) when
SWITCHBOARD_TEST_DATABASE_URL or SWITCHBOARD_BIN is unset.
"""

import contextlib
import functools
import glob
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

from ws_client import WebSocket

ADMIN_TOKEN = "sba_e2e_" + secrets.token_urlsafe(24)
PUBLIC_URL = "https://switchboard.e2e.test"
SECRET_KEY = secrets.token_hex(32)  # 64 hex chars
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
KINDS = ("messenger", "instagram", "whatsapp")
WEBHOOK_LIMIT = 4 * 1024 * 1024
API_LIMIT = 1024 * 1024


# --------------------------------------------------------------------------
# Environment


def require_bin():
    path = os.environ.get("SWITCHBOARD_BIN")
    if not path:
        raise unittest.SkipTest("SWITCHBOARD_BIN is unset (path of the built switchboard binary)")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"SWITCHBOARD_BIN={path} is not an executable file")
    return path


def require_env():
    """(binary path, cluster URL) or SkipTest naming what is missing."""
    url = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    if not url:
        raise unittest.SkipTest(
            "SWITCHBOARD_TEST_DATABASE_URL is unset (a superuser libpq URL of a throw-away "
            "PostgreSQL cluster; `tools/dev test` sets it)")
    return require_bin(), url


def source_dir():
    d = os.environ.get("SB_SOURCE_DIR")
    if d:
        return d
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def uid(prefix=""):
    """A short unique id for external ids, message ids, names."""
    return f"{prefix}{int(time.time() * 1000) % 10**9}{secrets.token_hex(4)}"


def wa_id():
    """A WhatsApp contact id: digits only."""
    return "1555" + "".join(secrets.choice("0123456789") for _ in range(8))


def wait_for(fn, what, timeout=5.0, interval=0.05):
    """The first truthy fn() within timeout seconds, else AssertionError naming what and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout} s for {what}; last saw {last!r}")
        time.sleep(interval)


class LogsOfProcessesOnFailure:
    """TestCase mixin: a failing test prints the log tail of each server in
    the class's `servers` list, named A, B, ..."""

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        out = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            self.print_logs()
        return out

    def print_logs(self):
        for name, server in zip("ABCDEFGH", getattr(type(self), "servers", [])):
            server.keep_logs = True
            print(f"\n[{self.id()}] failed; log of process {name}:\n{server.log_tail(40)}", file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# PostgreSQL


def with_database(url, dbname):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def sql_literal(value):
    """A SQL string literal (standard_conforming_strings on)."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


FIELD_SEP = "\x1f"
RECORD_SEP = "\x1e"


def psql(url, query, timeout=30):
    """Runs one statement; returns a list of rows (lists of strings; NULL is '')."""
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
           "-F", FIELD_SEP, "-R", RECORD_SEP, "-d", url, "-c", query]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(
            f"psql failed (exit {p.returncode}) for {query!r}: {p.stderr.decode(errors='replace').strip()}")
    out = p.stdout.decode("utf-8", errors="replace")
    out = out.rstrip("\n")
    if not out:
        return []
    return [rec.split(FIELD_SEP) for rec in out.split(RECORD_SEP) if rec.strip("\n") != ""]


def psql_value(url, query):
    rows = psql(url, query)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise AssertionError(f"expected one value from {query!r}, got {rows!r}")
    return rows[0][0]


class Database:
    """A fresh database on the test cluster; ``drop()`` removes it."""

    def __init__(self, cluster_url):
        self.cluster_url = cluster_url
        self.name = "sb_e2e_" + secrets.token_hex(6)
        psql(cluster_url, f'CREATE DATABASE "{self.name}"')
        self.url = with_database(cluster_url, self.name)

    def psql(self, query):
        return psql(self.url, query)

    def value(self, query):
        return psql_value(self.url, query)

    def count(self, query):
        return int(psql_value(self.url, query))

    def wait_events_numbered(self, where, timeout=5.0):
        """Waits until every agent_events row ``where`` (a SQL condition) has
        its seq, which it gets after commit, in commit order."""
        wait_for(lambda: not self.psql(f"SELECT 1 FROM agent_events WHERE ({where}) AND seq IS NULL LIMIT 1"),
                 f"agent_events numbered where {where}", timeout, 0.02)

    def drop(self):
        try:
            psql(self.cluster_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as e:  # the cluster may already be gone
            print(f"[harness] could not drop {self.name}: {e}", file=sys.stderr)


def migrate(bin_path, database_url, what="switchboard migrate"):
    """``switchboard migrate`` against database_url; raises with its stderr when it fails."""
    p = subprocess.run([bin_path, "migrate"], env=dict(os.environ, SWITCHBOARD_DATABASE_URL=database_url),
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{what} failed: {p.stderr.decode(errors='replace')}")


def migrated_database():
    """A fresh Database on the test cluster with the migrations applied."""
    bin_path, cluster = require_env()
    db = Database(cluster)
    try:
        migrate(bin_path, db.url)
    except BaseException:
        db.drop()
        raise
    return db


class PrivateCluster:
    """A PostgreSQL cluster of its own (tools/pg-cluster) in a temporary
    directory, for tests that stop, restart or overload it without harming
    the other tests. ``conf`` is a settings file to include (default: the
    test cluster's)."""

    def __init__(self, conf=None):
        self.script = os.path.join(source_dir(), "tools", "pg-cluster")
        if not os.access(self.script, os.X_OK):
            raise unittest.SkipTest(f"{self.script} not found")
        if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not os.environ.get("SB_PG_BIN"):
            raise unittest.SkipTest("PostgreSQL server binaries not installed (apt-get install postgresql)")
        self.conf = conf if conf is not None else os.path.join(source_dir(), "deploy", "postgresql-test.conf")
        self.tmp = tempfile.mkdtemp(prefix="sb-cluster-")
        os.chmod(self.tmp, 0o755)  # the cluster runs as `postgres` when we are root
        self.dir = os.path.join(self.tmp, "pg")
        self.port = free_port()
        self.url = None

    def run(self, *args, timeout=120):
        p = subprocess.run([self.script, *args], capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError(f"tools/pg-cluster {' '.join(args)} failed ({p.returncode}): "
                                 f"{p.stderr.decode(errors='replace')}")
        return p.stdout.decode().strip()

    def start(self):
        self.url = self.run("start", self.dir, str(self.port), self.conf)
        return self.url

    def stop_server(self, mode="fast"):
        """Stops PostgreSQL (the data stays): fast (as an operator's restart), immediate (a crash)."""
        self.run("stop", self.dir, mode)

    def stop(self):
        """Stops it for good and removes its files."""
        try:
            self.run("stop", self.dir, "immediate")
        except Exception as e:
            print(f"[harness] could not stop the cluster: {e}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# The server process


class Server:
    """``switchboard serve`` on 127.0.0.1:0 against ``database_url``."""

    def __init__(self, database_url, extra_env=None, bin_path=None, start_timeout=60, args=()):
        self.bin = bin_path or require_bin()
        self.args = list(args)  # more `serve` arguments (--roles, --no-migrate)
        self.dir = tempfile.mkdtemp(prefix="sb-e2e-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.ready_path = os.path.join(self.dir, "ready")
        self.database_url = database_url
        self.env = dict(os.environ)
        self.env.update({
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_LISTEN": "127.0.0.1:0",
            "SWITCHBOARD_ADMIN_TOKEN": ADMIN_TOKEN,
            "SWITCHBOARD_PUBLIC_URL": PUBLIC_URL,
            "SWITCHBOARD_SECRET_KEY": SECRET_KEY,
            "SWITCHBOARD_LOG_LEVEL": "info",
            # Nothing in these tests should reach out; a closed port if it does.
            "SWITCHBOARD_GRAPH_API_BASE": "http://127.0.0.1:9",
            # Agents set online through the API without a stream stay online
            # for the length of a suite; the presence suite sets its own.
            "SWITCHBOARD_PRESENCE_TIMEOUT_S": "3600",
        })
        self.env.pop("SWITCHBOARD_LISTEN_DATABASE_URL", None)
        if extra_env:
            self.env.update(extra_env)
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.stopped = False
        # The log directory is removed at stop() unless a test failed or
        # SB_E2E_KEEP_LOGS is set.
        self.keep_logs = bool(os.environ.get("SB_E2E_KEEP_LOGS"))

    def start(self):
        if os.path.exists(self.ready_path):
            os.unlink(self.ready_path)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--ready-file", self.ready_path, *self.args],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.dir)
        self.stopped = False
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"switchboard serve exited with {self.proc.returncode} before writing its ready "
                    f"file\n{self.log_tail()}")
            try:
                with open(self.ready_path) as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            if text.endswith("\n"):
                m = re.fullmatch(r"127\.0\.0\.1:(\d+)\n", text)
                if not m:
                    raise AssertionError(f"ready file holds {text!r}, expected '127.0.0.1:PORT\\n'")
                self.port = int(m.group(1))
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError(
            f"switchboard serve wrote no ready file in {self.start_timeout} s\n{self.log_tail()}")

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @contextlib.contextmanager
    def paused(self):
        """SIGSTOP for the body of the `with`, then SIGCONT. kill() returns
        before the process stops: one of its threads must run to start the
        group stop, and meanwhile another may take a request. So this waits
        until /proc shows every thread stopped ("T") before the body runs."""
        self.proc.send_signal(signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 5
            while not self._all_threads_stopped():
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"switchboard serve exited with {self.proc.returncode} while being paused\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise AssertionError("switchboard serve did not stop within 5 s of SIGSTOP")
                time.sleep(0.001)
            yield
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def _all_threads_stopped(self):
        tasks = f"/proc/{self.proc.pid}/task"
        for tid in os.listdir(tasks):
            try:
                with open(f"{tasks}/{tid}/stat") as f:
                    # The state follows the command name, which is in parentheses.
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that ended
            if state not in ("T", "t"):
                return False
        return True

    def terminate(self, timeout=10.0):
        """SIGTERM; returns (exit code or None when still running, seconds waited)."""
        if not self.alive():
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        self.stopped = True
        return code, time.monotonic() - t0

    def kill(self):
        """SIGKILL (a crash); start() may run it again."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
        self.stopped = True
        self.log.close()

    def stop(self):
        """SIGTERM (then SIGKILL after 10 s), unless it was stopped or killed
        already. Raises when the process had died on its own."""
        if self.proc is None:
            return
        crashed = None
        if not self.alive():
            if not self.stopped:
                crashed = self.proc.returncode
        else:
            code, _ = self.terminate(10.0)
            if code is None:
                print(f"[harness] switchboard did not exit within 10 s of SIGTERM; killing\n"
                      f"{self.log_tail()}", file=sys.stderr)
                self.kill()
            elif code != 0:
                print(f"[harness] switchboard exited {code} after SIGTERM", file=sys.stderr)
        try:
            self.log.close()
        except Exception:
            pass
        if crashed is None and not self.keep_logs:
            shutil.rmtree(self.dir, ignore_errors=True)
        if crashed is not None:
            raise AssertionError(
                f"switchboard died during the tests (exit {crashed})\n{self.log_tail()}")

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return "(no server log)"
        text = data.decode("utf-8", errors="replace").splitlines()[-lines:]
        return f"--- server log tail ({self.log_path}) ---\n" + "\n".join(text) + "\n--- end of log ---"


# --------------------------------------------------------------------------
# The fake Graph API (tests/support/fake_graph.py)


class FakeGraph:
    """tests/support/fake_graph.py as a subprocess; it exits when its stdin
    closes. ``api_base`` is the SWITCHBOARD_GRAPH_API_BASE that points a
    server at it."""

    def __init__(self):
        self.proc = None
        self.base = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(source_dir(), "tests", "support", "fake_graph.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        return self

    @property
    def api_base(self):
        return self.base + "/v21.0"

    def stop(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(10)
            self.proc.stdout.close()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"{}")

    def requests(self):
        """Every request it recorded since the last reset."""
        return self.call("GET", "/_requests")["requests"]

    def reset(self):
        self.call("POST", "/_reset", {})

    def script(self, *responses):
        """The next requests get these answers, in order."""
        self.call("POST", "/_script", {"responses": list(responses)})


# --------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body
        self.json = None
        ctype = headers.get("content-type", "")
        if body and "json" in ctype:
            try:
                self.json = json.loads(body)
            except ValueError:
                self.json = None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        body = self.body[:500].decode("utf-8", errors="replace")
        return f"<{self.status} {self.headers.get('content-type', '')} {body!r}>"


class Http:
    """A keep-alive HTTP/1.1 client for one server."""

    def __init__(self, host, port, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None, json_body=None,
                timeout=None):
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.timeout = timeout or self.timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(self.conn.timeout)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                # A keep-alive connection the server closed while idle: retry
                # once on a new connection (webhook retries are idempotent).
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self.close()
                raise
            headers_out = {}
            for k, v in r.getheaders():
                k = k.lower()
                headers_out[k] = f"{headers_out[k]}, {v}" if k in headers_out else v
            if r.will_close:
                self.close()
            return Response(r.status, headers_out, data)
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)


# --------------------------------------------------------------------------
# Raw sockets, for requests http.client will not send


def parse_raw_response(data):
    """(status, headers dict lower-case, body bytes) of the first response in data, or None."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = rest
    if "content-length" in headers:
        body = rest[: int(headers["content-length"])]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        out, buf = b"", rest
        while True:
            size_line, sep, buf = buf.partition(b"\r\n")
            if not sep:
                break
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            out += buf[:size]
            buf = buf[size + 2:]
        body = out
    return int(m.group(1)), headers, body


def _response_complete(data):
    parsed = data.partition(b"\r\n\r\n")
    if not parsed[1]:
        return False
    r = parse_raw_response(data)
    if r is None:
        return False
    _, headers, _ = r
    if "content-length" in headers:
        return len(parsed[2]) >= int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return parsed[2].endswith(b"0\r\n\r\n")
    return False  # read to close


def raw_exchange(address, head, body_chunks=(), read_timeout=10.0, send_delay=0.0):
    """Sends ``head`` then each of ``body_chunks`` (from a thread, so a server
    that answers early and stops reading cannot deadlock us) and reads the
    first response. Returns (status, headers, body, seconds until the
    response was complete, raw bytes); status None when none came.
    """
    s = socket.create_connection(address, timeout=read_timeout)
    t0 = time.monotonic()
    send_errors = []

    def sender():
        try:
            s.sendall(head)
            for c in body_chunks:
                if send_delay:
                    time.sleep(send_delay)
                s.sendall(c)
        except OSError as e:
            send_errors.append(e)

    th = threading.Thread(target=sender, daemon=True)
    th.start()
    data = b""
    s.settimeout(read_timeout)
    deadline = time.monotonic() + read_timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if _response_complete(data):
                break
    finally:
        elapsed = time.monotonic() - t0
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        th.join(5)
    parsed = parse_raw_response(data)
    if parsed is None:
        return None, {}, b"", elapsed, data
    status, headers, body = parsed
    return status, headers, body, elapsed, data


# --------------------------------------------------------------------------
# Webhook bodies


def sign(body, secret):
    if isinstance(body, str):
        body = body.encode()
    if isinstance(secret, str):
        secret = secret.encode()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def now_ms():
    return int(time.time() * 1000)


def messenger_event(page_id, psid, mid, text, ts_ms=None):
    ts = ts_ms or now_ms()
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ts,
            "message": {"mid": mid, "text": text}}


def page_entry(page_id, events, ts_ms=None):
    return {"id": page_id, "time": ts_ms or now_ms(), "messaging": events}


def whatsapp_message(wa_id, wamid, text, ts_s=None):
    return {"from": wa_id, "id": wamid, "timestamp": str(ts_s or int(time.time())),
            "type": "text", "text": {"body": text}}


def whatsapp_entry(waba_id, phone_number_id, messages, contacts=None):
    if contacts is None:
        seen, contacts = set(), []
        for m in messages:
            if m["from"] not in seen:
                seen.add(m["from"])
                contacts.append({"profile": {"name": f"Customer {m['from'][-4:]}"}, "wa_id": m["from"]})
    return {"id": waba_id, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": contacts, "messages": messages}}]}


OBJECT_OF_KIND = {"messenger": "page", "instagram": "instagram",
                  "whatsapp": "whatsapp_business_account"}


def webhook_body(kind, entries):
    return {"object": OBJECT_OF_KIND[kind], "entry": entries}


def message_body(kind, channel_external_id, contact, mid, text, ts_ms=None):
    """A one-message body of ``kind`` for the channel, from ``contact``."""
    ts_ms = ts_ms or now_ms()
    if kind == "whatsapp":
        entry = whatsapp_entry("waba-" + channel_external_id, channel_external_id,
                               [whatsapp_message(contact, mid, text, ts_ms // 1000)])
    else:
        entry = page_entry(channel_external_id,
                           [messenger_event(channel_external_id, contact, mid, text, ts_ms)], ts_ms)
    return webhook_body(kind, [entry])


def whatsapp_status_body(phone_number_id, provider_message_id, status, recipient, ts_s=None):
    """A WhatsApp body with one delivery status of a message sent from the number."""
    return webhook_body("whatsapp", [{"id": "waba-" + phone_number_id, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "statuses": [{"id": provider_message_id, "status": status, "timestamp": str(ts_s or int(time.time())),
                      "recipient_id": recipient}]}}]}])


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------
# The API, as a test uses it


class Api:
    """Helpers over one Http connection; every helper asserts what it expects."""

    def __init__(self, http_client):
        self.http = http_client
        self.last = None  # the Response of the last create_/set_ helper, for conformance checks

    def create_business(self, name=None, timezone=None):
        body = {"name": name or uid("biz-")}
        if timezone is not None:
            body["timezone"] = timezone
        r = self.http.post("/v1/businesses", json_body=body, token=ADMIN_TOKEN)
        if r.status != 201 or not isinstance(r.json, dict) or not isinstance(r.json.get("api_key"), str):
            raise AssertionError(f"POST /v1/businesses {body!r}: expected 201 with an api_key, got {r!r}")
        return r.json

    def create_channel(self, api_key, kind, external_id=None, app_secret=None, verify_token=None,
                       account_id=None, access_token=None, name=None, expect=(201,)):
        body = {"kind": kind, "external_id": external_id or uid("ch"),
                "app_secret": app_secret or secrets.token_hex(16),
                "verify_token": verify_token or uid("vt-")}
        if account_id is not None:
            body["account_id"] = account_id
        if access_token is not None:
            body["access_token"] = access_token
        if name is not None:
            body["name"] = name
        r = self.http.post("/v1/channels", json_body=body, token=api_key)
        if r.status not in expect:
            raise AssertionError(
                f"POST /v1/channels {body['kind']}/{body['external_id']}: expected {expect}, got {r!r}")
        out = dict(r.json or {})
        out["_request"] = body
        out["_status"] = r.status
        return out

    def _expect(self, method, path, body, token, status):
        r = self.http.request(method, path, json_body=body, token=token)
        self.last = r
        if r.status != status:
            raise AssertionError(f"{method} {path} {body!r}: expected {status}, got {r!r}")
        return r.json

    def create_queue(self, api_key, name=None, strategy="round_robin", **fields):
        body = {"name": name or uid("queue-"), "strategy": strategy, **fields}
        return self._expect("POST", "/v1/queues", body, api_key, 201)

    def create_agent(self, api_key, queue_ids, capacity=5, name=None, **fields):
        """The agent, with its ``token``."""
        body = {"name": name or uid("agent-"), "capacity": capacity, "queue_ids": list(queue_ids), **fields}
        return self._expect("POST", "/v1/agents", body, api_key, 201)

    def set_routing(self, api_key, default_queue_id, rules=()):
        body = {"default_queue_id": default_queue_id, "rules": list(rules)}
        return self._expect("PUT", "/v1/routing", body, api_key, 200)

    def set_status(self, agent_token, status):
        return self._expect("POST", "/v1/agent/status", {"status": status}, agent_token, 200)

    def post_webhook(self, kind, body, secret=None, signature=None, headers=None):
        if not isinstance(body, (bytes, bytearray)):
            body = dumps(body)
        hdrs = {"Content-Type": "application/json"}
        if signature is not None:
            hdrs["X-Hub-Signature-256"] = signature
        elif secret is not None:
            hdrs["X-Hub-Signature-256"] = sign(body, secret)
        hdrs.update(headers or {})
        return self.http.post(f"/webhooks/{kind}", body=bytes(body), headers=hdrs)

    def list_all(self, path, api_key, limit=None, max_pages=1000):
        """Walks every page of a list route; returns (items, pages)."""
        items, pages, cursor = [], [], None
        for _ in range(max_pages):
            q = {}
            if limit is not None:
                q["limit"] = str(limit)
            if cursor is not None:
                q["cursor"] = cursor
            url = path + ("?" + urllib.parse.urlencode(q) if q else "")
            r = self.http.get(url, token=api_key)
            if r.status != 200 or not isinstance(r.json, dict) or "items" not in r.json:
                raise AssertionError(f"GET {url}: expected 200 with items, got {r!r}")
            pages.append(r.json["items"])
            items.extend(r.json["items"])
            cursor = r.json.get("next_cursor")
            if cursor is None:
                return items, pages
        raise AssertionError(f"GET {path}: still a next_cursor after {max_pages} pages")

    def conversations(self, api_key, **kw):
        return self.list_all("/v1/conversations", api_key, **kw)[0]

    def messages(self, api_key, conversation_id, **kw):
        return self.list_all(f"/v1/conversations/{conversation_id}/messages", api_key, **kw)[0]


# --------------------------------------------------------------------------
# TestCase base


@functools.lru_cache(maxsize=None)
def spec_doc():
    """proto/openapi.yaml, loaded once; None without PyYAML (the spec checks are skipped)."""
    try:
        import openapi_spec
        import yaml  # noqa: F401  (openapi_spec needs it)
    except ImportError:
        return None
    return openapi_spec.load()


class ServerTestCase(LogsOfProcessesOnFailure, unittest.TestCase):
    """One database and ``processes`` servers on it per class (``servers``;
    ``server`` is the first, which applies the migrations); the log tail of
    each is printed when a test of the class fails. ``connect(p)`` and
    ``stream(p, ...)`` open connections to process p that tearDownClass
    closes."""

    server_env = None
    processes = 1
    with_fake_graph = False  # cls.fake: a FakeGraph the servers send to
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bin_path, cluster = require_env()
        cls.fake = FakeGraph().start() if cls.with_fake_graph else None
        env = dict(cls.server_env or {})
        if cls.fake is not None:
            env["SWITCHBOARD_GRAPH_API_BASE"] = cls.fake.api_base
        cls.db = Database(cluster)
        cls.servers, cls._closing = [], []
        try:
            for _ in range(cls.processes):
                cls.servers.append(Server(cls.db.url, extra_env=env, bin_path=cls.bin_path).start())
        except BaseException:
            for s in cls.servers:
                s.kill()
            cls.db.drop()
            if cls.fake is not None:
                cls.fake.stop()
            raise
        cls.server = cls.servers[0]
        cls.http = cls.connect(0)
        cls.api = Api(cls.http)

    @classmethod
    def connect(cls, p=0):
        """A new keep-alive connection to process p (0 = A, 1 = B)."""
        h = Http(*cls.servers[p].address)
        cls._closing.append(h)
        return h

    @classmethod
    def stream(cls, p, path="/v1/agent/stream", token=None, headers=None, name="", receive_buffer=None):
        """A WebSocket to process p, with ``token`` as its bearer unless ``headers`` are given."""
        if headers is None:
            headers = {"Authorization": f"Bearer {token}"}
        ws = WebSocket.connect(cls.servers[p].address, path, headers=headers, name=name,
                               receive_buffer=receive_buffer)
        cls._closing.append(ws)
        return ws

    @classmethod
    def tearDownClass(cls):
        try:
            for c in cls._closing:
                c.close()
            failed = []
            for s in cls.servers:
                try:
                    s.stop()
                except AssertionError as e:
                    failed.append(e)
            if failed:
                raise failed[0]
        finally:
            cls.db.drop()
            if cls.fake is not None:
                cls.fake.stop()
            super().tearDownClass()

    # ---- assertions shared by the suites

    def conforms(self, method, template, r):
        """The answer is one proto/openapi.yaml declares for the route, and
        its JSON matches the declared schema (skipped without PyYAML)."""
        doc = spec_doc()
        if doc is None:
            return r.json
        import openapi_spec as spec
        op = spec.find_operation(doc, method, template)
        self.assertIsNotNone(op, f"{method} {template} is not in proto/openapi.yaml")
        declared = {str(c) for c in op["responses"]}
        self.assertIn(str(r.status), declared,
                      f"{method} {template} answered {r.status}, which the spec does not declare "
                      f"({sorted(declared)}): {r!r}")
        schema = spec.response_schema(doc, op, r.status)
        if schema is not None:
            self.assertIsNotNone(r.json, f"{method} {template} {r.status}: body is not JSON: {r!r}")
            problems = spec.validate(doc, r.json, schema)
            self.assertEqual(problems, [], f"{method} {template} {r.status} does not match the spec:\n"
                             + "\n".join(problems) + f"\nbody: {r.json!r}")
        return r.json

    def assertError(self, r, status, code=None, what=""):
        """``r`` is ``status`` with a JSON error body (of ``code`` when given)."""
        label = f"{what}: " if what else ""
        self.assertEqual(r.status, status, f"{label}expected HTTP {status}"
                         f"{' ' + code if code else ''}, got {r!r}")
        self.assertIn("application/json", r.header("content-type", ""),
                      f"{label}error responses must be JSON, got Content-Type "
                      f"{r.header('content-type')!r}: {r!r}")
        self.assertIsInstance(r.json, dict, f"{label}error body is not a JSON object: {r!r}")
        err = r.json.get("error")
        self.assertIsInstance(err, dict, f"{label}expected {{\"error\":{{code,message}}}}, got {r.json!r}")
        self.assertIsInstance(err.get("code"), str, f"{label}error.code missing: {r.json!r}")
        self.assertRegex(err["code"], r"^[a-z][a-z0-9_]*$", f"{label}error.code is not snake_case")
        self.assertIsInstance(err.get("message"), str, f"{label}error.message missing: {r.json!r}")
        if code is not None:
            self.assertEqual(err["code"], code, f"{label}expected error code {code!r}, got {r.json!r}")
        return err

    def assertHealthy(self, after=""):
        r = self.http.get("/healthz")
        self.assertEqual(r.status, 200, f"GET /healthz after {after}: expected 200, got {r!r}"
                         f"\n{self.server.log_tail(20)}")
        self.assertTrue(self.server.alive(), f"the server died after {after}")
