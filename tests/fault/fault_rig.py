"""Fault and load rig: a private PostgreSQL, `switchboard serve` on a fixed
port (so it can be killed and restarted), a business with one channel of
each kind, a queue with agents of small capacities, and `sb-loadgen`
processes (one per channel kind) that re-deliver what was not acknowledged,
as Meta does.

The scenarios (crash, database restart, dropped writer connections,
overload) live in ``scenarios.py``; the unittest files run their short
versions, ``reliability.py`` the long ones.

Standard library only; builds on ``tests/e2e/harness.py``.
"""

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402
from harness import uid  # noqa: E402

# Meta waits 5 s for an answer; the server's ingest deadline is 4 s.
META_TIMEOUT_S = 5.0


def require_loadgen():
    path = os.environ.get("SB_LOADGEN_BIN")
    if not path:
        b = os.environ.get("SWITCHBOARD_BIN")
        path = os.path.join(os.path.dirname(b), "sb-loadgen") if b else ""
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"sb-loadgen not found (SB_LOADGEN_BIN={path!r}); build it: tools/dev build")
    return path


def raise_open_files_limit():
    """Soft RLIMIT_NOFILE up to the hard limit, for this process and the
    server and load generators it starts; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class Pinned:
    """Runs what is started inside it on ``cpus`` (children inherit the
    affinity of the thread that forks them); None: anywhere."""

    def __init__(self, cpus):
        self.cpus = cpus
        self.saved = None

    def __enter__(self):
        if self.cpus is not None:
            self.saved = os.sched_getaffinity(0)
            os.sched_setaffinity(0, self.cpus)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            os.sched_setaffinity(0, self.saved)
        return False


def split_cores():
    """(server and PostgreSQL, load generators) on cores of their own, or
    None when this machine has fewer than two usable cores."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    half = len(cores) // 2
    return set(cores[:half]), set(cores[half:])


def log(msg):
    print(f"[fault {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes


class RssSampler:
    """Samples a process's VmRSS every ``interval`` s; ``peak_mb`` is the
    highest sample (or VmHWM, when read before the process ends)."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.peak_kb = 0
        self.pid = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def follow(self, pid):
        self.pid = pid

    def start(self):
        self._thread.start()
        return self

    @staticmethod
    def read(pid, field):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def _run(self):
        while not self._stop.is_set():
            if self.pid:
                self.peak_kb = max(self.peak_kb, self.read(self.pid, "VmRSS"), self.read(self.pid, "VmHWM"))
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    @property
    def peak_mb(self):
        return self.peak_kb / 1024.0


class Rig:
    """Cluster + server + tenant set-up. ``close()`` (or leaving a ``with``
    block) undoes everything."""

    def __init__(self, conf=None, server_env=None, agents=6, cores=None):
        """``cores``: (server and PostgreSQL, load generators) CPU sets from
        ``split_cores()``, so the generators never take the server's time."""
        self.server_cpus, self.load_cpus = cores if cores else (None, None)
        self.bin = harness.require_bin()
        self.loadgen = require_loadgen()
        self.open_files = raise_open_files_limit()
        self.cluster = harness.PrivateCluster(conf=conf)
        self.tmp = tempfile.mkdtemp(prefix="sb-fault-")
        self.server = None
        self.rss = RssSampler().start()
        try:
            with Pinned(self.server_cpus):
                self.cluster.start()
            self.db = harness.Database(self.cluster.url)
            self.port = harness.free_port()
            env = {"SWITCHBOARD_LISTEN": f"127.0.0.1:{self.port}", "SWITCHBOARD_LOG_LEVEL": "warn"}
            env.update(server_env or {})
            self.server = harness.Server(self.db.url, extra_env=env, bin_path=self.bin)
            with Pinned(self.server_cpus):
                self.server.start()
            self.rss.follow(self.server.proc.pid)
            self.http = harness.Http(*self.server.address, timeout=30)
            self.api = harness.Api(self.http)
            self._set_up_tenant(agents)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- tenant

    def _set_up_tenant(self, agent_count):
        api = self.api
        self.key = api.create_business()["api_key"]
        self.channels = {}
        for kind in harness.KINDS:
            secret = "secret-" + kind
            account = "waba-" + uid() if kind == "whatsapp" else None
            ch = api.create_channel(self.key, kind, external_id=str(10**14 + random.randrange(9 * 10**14)),
                                    app_secret=secret, account_id=account)
            self.channels[kind] = {"external_id": ch["external_id"], "secret": secret, "account_id": account}
        self.queue_id = api.create_queue(self.key, "everyone", "least_busy")["id"]
        api.set_routing(self.key, self.queue_id)
        self.agents = []
        for i in range(agent_count):
            token = api.create_agent(self.key, [self.queue_id], capacity=1 + i % 4, name=f"agent {i}")["token"]
            api.set_status(token, "online")
            self.agents.append(token)

    # ---- server

    def kill_and_restart(self):
        """SIGKILL, then start again on the same port; returns seconds until ready."""
        self.server.kill()
        t0 = time.monotonic()
        with Pinned(self.server_cpus):
            self.server.start()
        self.rss.follow(self.server.proc.pid)
        return time.monotonic() - t0

    def close(self):
        self.rss.stop()
        try:
            if getattr(self, "http", None):
                self.http.close()
            if self.server is not None:
                self.server.stop()
        finally:
            self.cluster.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- load

    def start_load(self, rate_per_kind, duration_s, connections=16, customers=400, resend=True,
                   max_retry_s=60, timeout_ms=10000, kinds=harness.KINDS, threads=1, tag="load"):
        """One sb-loadgen per kind, open loop at ``rate_per_kind``/s (0: closed loop)."""
        procs = []
        for kind in kinds:
            ch = self.channels[kind]
            run_id = f"{tag}-{kind}-{uid()}"
            ack = os.path.join(self.tmp, run_id + ".acks")
            out = os.path.join(self.tmp, run_id + ".json")
            cmd = [self.loadgen, "--url", f"http://127.0.0.1:{self.port}/webhooks/{kind}", "--kind", kind,
                   "--secret", ch["secret"], "--channel-id", ch["external_id"], "--run-id", run_id,
                   "--duration", str(duration_s), "--connections", str(connections),
                   "--threads", str(threads), "--rate", str(rate_per_kind), "--customers", str(customers),
                   "--timeout-ms", str(timeout_ms), "--ack-file", ack, "--json", "--quiet"]
            if ch["account_id"]:
                cmd += ["--account-id", ch["account_id"]]
            if resend:
                cmd += ["--resend-failed", "--max-retry-seconds", str(max_retry_s)]
            f = open(out, "wb")
            with Pinned(self.load_cpus):
                p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            procs.append({"kind": kind, "proc": p, "out": out, "ack": ack, "file": f, "run_id": run_id})
        return procs

    @staticmethod
    def wait_load(procs, timeout):
        reports = []
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p["proc"].wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p["proc"].kill()
                p["proc"].wait(10)
                raise AssertionError(f"sb-loadgen ({p['kind']}) still running after {timeout:.0f} s")
            p["file"].close()
            if p["proc"].returncode != 0:
                raise AssertionError(f"sb-loadgen ({p['kind']}) exited {p['proc'].returncode}")
            with open(p["out"]) as f:
                report = json.loads(f.read().strip().splitlines()[-1])
            report["_ack"] = p["ack"]
            reports.append(report)
        return reports

    # ---- checks

    def psql_script(self, script):
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|", "-d", self.db.url],
                           input=script.encode(), capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"psql failed: {p.stderr.decode(errors='replace')}")
        return p.stdout.decode().strip()

    def ledger(self, ack_files, id_patterns):
        """Acknowledged ids (distinct) against the stored messages of these runs."""
        ack_path = os.path.join(self.tmp, "all.acks")
        with open(ack_path, "w") as out:
            for a in ack_files:
                if os.path.exists(a):
                    with open(a) as f:
                        out.write(f.read())
        like = " OR ".join(f"provider_message_id LIKE {harness.sql_literal(p)}" for p in id_patterns)
        out = self.psql_script(f"""
CREATE TEMP TABLE acks (id text);
\\copy acks FROM '{ack_path}'
CREATE TEMP TABLE run_msgs AS SELECT provider_message_id AS id FROM messages WHERE direction = 'in' AND ({like});
SELECT (SELECT count(DISTINCT id) FROM acks),
       (SELECT count(*) FROM run_msgs),
       (SELECT count(DISTINCT id) FROM run_msgs),
       (SELECT count(*) FROM (SELECT DISTINCT id FROM acks) a WHERE NOT EXISTS (SELECT 1 FROM run_msgs m WHERE m.id = a.id)),
       (SELECT count(*) FROM (SELECT id FROM run_msgs GROUP BY id HAVING count(*) > 1) d);
""")
        acked, stored, distinct, missing, dupes = (int(x) for x in out.splitlines()[-1].split("|"))
        return {"acknowledged": acked, "stored": stored, "stored_distinct": distinct,
                "missing": missing, "duplicates": dupes}

    def wait_routed(self, timeout=60):
        """Seconds until the router has looked at every conversation, or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.db.count("SELECT count(*) FROM conversations WHERE routed_at IS NULL") == 0:
                return time.monotonic() - t0
            time.sleep(0.2)
        return None

    def consistency(self):
        """Counts of violated invariants of conversations and assignments (all 0 when right)."""
        q = {
            "agents_over_capacity": "SELECT count(*) FROM agents a WHERE a.load > a.capacity",
            "waiting_and_assigned": """SELECT count(*) FROM conversations WHERE (status = 'waiting' AND agent_id IS NOT NULL)
                 OR (status IN ('offered', 'assigned') AND agent_id IS NULL)""",
            "contacts_with_two_open": """SELECT count(*) FROM (SELECT business_id, contact_id FROM conversations
                 WHERE status <> 'resolved' GROUP BY 1, 2 HAVING count(*) > 1) x""",
            "messages_in_wrong_conversation": """SELECT count(*) FROM messages m JOIN conversations c
                 ON c.business_id = m.business_id AND c.id = m.conversation_id WHERE c.contact_id <> m.contact_id""",
        }
        return {k: self.db.count(v) for k, v in q.items()}


# --------------------------------------------------------------------------
# Helpers for scenarios


class AgentWorkers:
    """Agents who resolve one of their conversations every ``interval`` s, so
    load goes up and down and contacts come back to new conversations while
    faults happen. Errors (the server is down) are counted and ignored."""

    def __init__(self, rig, interval=0.05):
        self.rig, self.interval = rig, interval
        self.resolved = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        http = harness.Http("127.0.0.1", self.rig.port, timeout=10)
        i = 0
        while not self._stop.is_set():
            token = self.rig.agents[i % len(self.rig.agents)]
            i += 1
            try:
                r = http.get("/v1/agent/conversations", token=token)
                items = (r.json or {}).get("items") or [] if r.status == 200 else []
                if items:
                    cid = items[0]["id"]
                    r = http.post(f"/v1/conversations/{cid}/resolve", json_body={"outcome": "resolved"},
                                  token=token)
                    if r.status == 200:
                        self.resolved += 1
            except Exception:
                self.errors += 1
                http.close()
            self._stop.wait(self.interval)
        http.close()

    def stop(self):
        self._stop.set()
        self._thread.join(15)


class Prober:
    """One signed WhatsApp webhook every ``interval`` s on its own connection;
    records (send time, answer time, status, Retry-After) of each."""

    def __init__(self, rig, interval=0.02, timeout=15):
        self.rig, self.interval, self.timeout = rig, interval, timeout
        self.samples = []  # (t_sent, t_answered, status or None, retry_after or None)
        self.acked = []
        self.prefix = "wamid.probe-" + uid() + "."
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        ch = self.rig.channels["whatsapp"]
        http = harness.Http("127.0.0.1", self.rig.port, timeout=self.timeout)
        api = harness.Api(http)
        n = 0
        while not self._stop.is_set():
            mid = f"{self.prefix}{n}"
            n += 1
            body = harness.message_body("whatsapp", ch["external_id"], f"1777{n % 50:07d}", mid, "probe")
            t0 = time.monotonic()
            status = retry = None
            try:
                r = api.post_webhook("whatsapp", body, secret=ch["secret"])
                status, retry = r.status, r.header("retry-after")
            except Exception:
                http.close()
            t1 = time.monotonic()
            self.samples.append((t0, t1, status, retry))
            if status == 200:
                self.acked.append(mid)
            self._stop.wait(max(0.0, self.interval - (t1 - t0)))
        http.close()

    def stop(self):
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def write_acks(self, path):
        with open(path, "w") as f:
            f.write("".join(m + "\n" for m in self.acked))
        return path

    def first_ok_after(self, t):
        """Seconds from ``t`` to the answer of the first probe sent at or after ``t`` that got 200."""
        for t0, t1, status, _ in self.samples:
            if t0 >= t and status == 200:
                return t1 - t
        return None

    def recovered_after(self, t, window=1.0):
        """Seconds from ``t`` until the start of the first ``window``-long
        stretch in which every probe got 200 (and at least 3 were sent)."""
        after = [s for s in self.samples if s[0] >= t]
        for i, (t0, _, status, _) in enumerate(after):
            if status != 200:
                continue
            stretch = [s for s in after[i:] if s[0] < t0 + window]
            if len(stretch) >= 3 and all(s[2] == 200 for s in stretch) and after[-1][0] >= t0 + window:
                return t0 - t
        return None

    def between(self, t_from, t_to):
        return [s for s in self.samples if t_from <= s[0] < t_to]


def sum_reports(reports):
    """Totals of the loadgen JSON reports that the scenarios print."""
    out = {"sent": 0, "acknowledged_in_run": 0, "non_200": {}, "timeouts": 0, "connect_errors": 0,
           "io_errors": 0, "resend_pending": 0, "resend_acknowledged": 0, "unacknowledged": 0,
           "answer_max_ms": 0.0, "scheduled": 0, "offered_rate": 0.0, "duration_s": 0.0}
    for r in reports:
        out["sent"] += r["requests_sent"]
        out["scheduled"] += r["requests_scheduled"]
        out["acknowledged_in_run"] += r["acknowledged"]
        for k, v in r["non_200"].items():
            out["non_200"][k] = out["non_200"].get(k, 0) + v
        out["timeouts"] += r["timeouts"]
        out["connect_errors"] += r["connect_errors"]
        out["io_errors"] += r["io_errors"]
        out["resend_pending"] += r["resend"]["pending"]
        out["resend_acknowledged"] += r["resend"]["acknowledged"]
        out["unacknowledged"] += r["resend"]["unacknowledged"]
        out["answer_max_ms"] = max(out["answer_max_ms"], r["answer_ms"]["max"])
        out["offered_rate"] += r["offered_rate"]
        out["duration_s"] = max(out["duration_s"], r["duration_s"])
    return out
