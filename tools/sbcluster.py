#!/usr/bin/python3
"""A Switchboard cluster on loopback: PostgreSQL, pgbouncer in transaction
pooling, N `switchboard serve` instances and nginx in front, the shape of
deploy/compose.yaml without containers. `tools/dev cluster N` runs the ingest
benchmark through it; the scale-out tests use its pieces.

    tools/sbcluster.py N [SECONDS]            cluster of N instances, then sb-loadgen through nginx
    tools/sbcluster.py 1 [SECONDS] --direct   the baseline: one instance, no pgbouncer, no nginx

Environment: SB_BUILD_DIR (default build), SB_BENCH_CONNECTIONS (default 64),
SB_CLUSTER_KEEP=1 keeps the temporary directory (logs).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd):
    """pgbouncer and PostgreSQL refuse to run as root: run them as postgres then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def wait_port(port, proc, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def stop_process(proc, timeout=15.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class PgBouncer:
    """pgbouncer 1.18 in transaction pooling in front of a PostgreSQL cluster
    (trust authentication, every database by its own name)."""

    def __init__(self, directory, pg_port, pool_size=20):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o777)  # the postgres user writes its log here
        self.port = free_port()
        ini = os.path.join(directory, "pgbouncer.ini")
        with open(os.path.join(directory, "userlist.txt"), "w") as f:
            f.write('"postgres" ""\n')
        with open(ini, "w") as f:
            f.write(f"""[databases]
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = {pool_size}
ignore_startup_parameters = extra_float_digits
logfile = {directory}/pgbouncer.log
""")
        for name in ("pgbouncer.ini", "userlist.txt"):
            os.chmod(os.path.join(directory, name), 0o644)
        self.proc = subprocess.Popen(as_postgres(["pgbouncer", ini]), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "pgbouncer")

    def url(self, dbname):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def log_tail(self, lines=30):
        try:
            with open(os.path.join(self.dir, "pgbouncer.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no pgbouncer log)"

    def stop(self):
        stop_process(self.proc)


def write_nginx_config(directory, listen_port, gateway_ports, api_ports):
    """deploy/nginx/nginx.conf listening on `listen_port`, with an upstream
    file naming the loopback instances. Returns the config path."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(ROOT, "deploy", "nginx", "nginx.conf")) as f:
        conf = f.read()
    if "listen 8080 " not in conf:
        raise RuntimeError("deploy/nginx/nginx.conf no longer has 'listen 8080 '")
    conf = conf.replace("listen 8080 ", f"listen 127.0.0.1:{listen_port} ", 1)
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)

    def upstream(name, ports):
        servers = "".join(f"  server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in ports)
        return f"upstream {name} {{\n{servers}  keepalive 64;\n}}\n"

    with open(os.path.join(directory, "switchboard-upstreams.conf"), "w") as f:
        f.write(upstream("switchboard_gateway", gateway_ports) + upstream("switchboard_api", api_ports))
    return path


def nginx_command(directory, *args):
    return ["nginx", "-p", directory + "/", "-c", os.path.join(directory, "nginx.conf"), "-e", "stderr", *args]


class Nginx:
    """nginx with deploy/nginx/nginx.conf in front of the instances on `ports`."""

    def __init__(self, directory, ports):
        self.dir = directory
        self.port = free_port()
        write_nginx_config(directory, self.port, ports, ports)
        check = subprocess.run(nginx_command(directory, "-t", "-q"), capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        self.log = open(os.path.join(directory, "nginx.log"), "wb")
        self.proc = subprocess.Popen(nginx_command(directory, "-g", "daemon off;"), stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "nginx")

    def stop(self):
        stop_process(self.proc)
        self.log.close()


class Instance:
    """One `switchboard serve --no-migrate` on 127.0.0.1:0."""

    def __init__(self, bin_path, directory, env):
        os.makedirs(directory, exist_ok=True)
        self.ready = os.path.join(directory, "ready")
        self.log_path = os.path.join(directory, "server.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([bin_path, "serve", "--no-migrate", "--roles", "all", "--ready-file",
                                      self.ready], env=env, cwd=directory, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"switchboard exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with open(self.ready) as f:
                    text = f.read()
                if text.endswith("\n"):
                    self.port = int(text.strip().rsplit(":", 1)[1])
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise RuntimeError("switchboard wrote no ready file within 60 s")

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def post_json(base, path, token, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.load(res)
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"POST {path}: {e.code} {e.read().decode(errors='replace')}") from None


def log(message):
    print(f"\033[1m[cluster]\033[0m {message}", file=sys.stderr, flush=True)


def run_cluster(instances, seconds, build_dir, direct=False):
    server_bin = os.path.join(build_dir, "switchboard")
    loadgen_bin = os.path.join(build_dir, "sb-loadgen")
    for b in (server_bin, loadgen_bin):
        if not os.access(b, os.X_OK):
            raise RuntimeError(f"{b} not found (tools/dev build)")
    connections = int(os.environ.get("SB_BENCH_CONNECTIONS", "64"))
    tmp = tempfile.mkdtemp(prefix="switchboard-cluster.")
    os.chmod(tmp, 0o755)
    pg_dir = os.path.join(tmp, "pg")
    started = []
    pg_started = False
    ok = False
    try:
        log(f"PostgreSQL (deploy/postgresql.conf) in {pg_dir}")
        pg_port = free_port()
        pg_url = subprocess.run([os.path.join(ROOT, "tools", "pg-cluster"), "start", pg_dir, str(pg_port),
                                 os.path.join(ROOT, "deploy", "postgresql.conf")], check=True, capture_output=True,
                                text=True).stdout.strip()
        pg_started = True
        subprocess.run(["psql", pg_url, "-qXc", "CREATE DATABASE switchboard"], check=True, capture_output=True)
        direct_url = pg_url.rsplit("/", 1)[0] + "/switchboard"
        if direct:
            pooled_url = direct_url
        else:
            bouncer = PgBouncer(os.path.join(tmp, "pgbouncer"), pg_port)
            started.append(bouncer)
            pooled_url = bouncer.url("switchboard")
            log(f"pgbouncer (transaction pooling) on 127.0.0.1:{bouncer.port}; migrating through it")
        admin = "sba_" + secrets.token_urlsafe(24)
        env = dict(os.environ, SWITCHBOARD_DATABASE_URL=pooled_url, SWITCHBOARD_LISTEN_DATABASE_URL=direct_url,
                   SWITCHBOARD_DB_PREPARE="off" if pooled_url != direct_url else "on",
                   SWITCHBOARD_LISTEN="127.0.0.1:0", SWITCHBOARD_ADMIN_TOKEN=admin,
                   SWITCHBOARD_SECRET_KEY=secrets.token_hex(32), SWITCHBOARD_LOG_LEVEL="warn")
        subprocess.run([server_bin, "migrate"], env=env, check=True, capture_output=True)
        ports = []
        for i in range(instances):
            inst = Instance(server_bin, os.path.join(tmp, f"instance{i}"), env)
            started.append(inst)
            ports.append(inst.port)
        if direct:
            base = f"http://127.0.0.1:{ports[0]}"
            log(f"one instance on {ports[0]}, straight to PostgreSQL, no nginx")
        else:
            nginx = Nginx(os.path.join(tmp, "nginx"), ports)
            started.append(nginx)
            base = f"http://127.0.0.1:{nginx.port}"
            log(f"{instances} instance(s) on {ports}, nginx on 127.0.0.1:{nginx.port}")

        phone, waba = str(10**14 + secrets.randbelow(9 * 10**14)), str(10**14 + secrets.randbelow(9 * 10**14))
        app_secret = secrets.token_hex(16)
        biz = post_json(base, "/v1/businesses", admin, {"name": "Cluster bench"})
        post_json(base, "/v1/channels", biz["api_key"], {"kind": "whatsapp", "external_id": phone,
                                                        "account_id": waba, "app_secret": app_secret,
                                                        "verify_token": secrets.token_urlsafe(16)})
        run_id = f"cluster{instances}-{int(time.time())}"
        acks = os.path.join(tmp, "acks")
        log(f"sb-loadgen: {connections} connections to {base} for {seconds} s")
        out = subprocess.run([loadgen_bin, "--url", f"{base}/webhooks/whatsapp", "--secret", app_secret,
                              "--phone-number-id", phone, "--account-id", waba, "--run-id", run_id,
                              "--duration", str(seconds), "--timeout-ms", "10000", "--resend-failed",
                              "--max-retry-seconds", "60", "--ack-file", acks, "--json",
                              "--connections", str(connections)], check=True, capture_output=True, text=True)
        report = json.loads(out.stdout)
        with open(acks) as f:
            acked = {line.strip() for line in f if line.strip()}
        stored = int(subprocess.run(
            ["psql", direct_url, "-qXtAc",
             f"SELECT count(*) FROM messages WHERE direction = 'in' AND provider_message_id LIKE 'wamid.{run_id}.%'"],
            check=True, capture_output=True, text=True).stdout.strip())
        lat = report["latency_ms"]
        shape = "1, direct (no pgbouncer, no nginx)" if direct else str(instances)
        print(f"| {shape} | {connections} | {report['achieved_rps']:.0f} | {lat['p50']:.1f} | {lat['p99']:.1f} "
              f"| {len(acked)} | {stored} |", flush=True)
        ok = stored == len(acked)
        if not ok:
            log(f"acknowledged {len(acked)} but stored {stored}")
        return ok
    finally:
        for p in reversed(started):
            p.stop()
        if pg_started:
            subprocess.run([os.path.join(ROOT, "tools", "pg-cluster"), "stop", pg_dir, "fast"], check=False)
        if os.environ.get("SB_CLUSTER_KEEP") == "1" or not ok:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if len(argv) < 2 or not argv[1].isdigit() or int(argv[1]) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    direct = "--direct" in argv
    args = [a for a in argv[1:] if a != "--direct"]
    seconds = int(args[1]) if len(args) > 1 else 30
    build_dir = os.path.abspath(os.environ.get("SB_BUILD_DIR", os.path.join(ROOT, "build")))
    return 0 if run_cluster(int(args[0]), seconds, build_dir, direct) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
