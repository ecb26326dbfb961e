"""The deployment files in deploy/ are well formed and say what they must:
YAML parses and has the expected objects, nginx accepts its configuration
(`nginx -t`), systemd accepts the unit (`systemd-analyze verify`), the
Dockerfile passes lint-level checks (no Docker daemon needed)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import harness

try:
    import yaml
    HAVE_YAML = True
except ImportError:  # pragma: no cover
    HAVE_YAML = False

sys.path.insert(0, os.path.join(harness.source_dir(), "tools"))
import sbcluster  # noqa: E402

DEPLOY = os.path.join(harness.source_dir(), "deploy")


def read(*parts):
    with open(os.path.join(DEPLOY, *parts), encoding="utf-8") as f:
        return f.read()


def require_yaml():
    if not HAVE_YAML:
        raise unittest.SkipTest("PyYAML is missing: apt-get install python3-yaml (for /usr/bin/python3)")


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        require_yaml()
        self.docs = {}
        k8s = os.path.join(DEPLOY, "k8s")
        for name in sorted(os.listdir(k8s)):
            if name.endswith((".yaml", ".yml")):
                for doc in yaml.safe_load_all(read("k8s", name)):
                    self.assertIsInstance(doc, dict, f"{name}: a document is not a mapping")
                    for key in ("apiVersion", "kind", "metadata"):
                        self.assertIn(key, doc, f"{name}: {key} missing")
                    self.docs[doc["kind"]] = doc

    def test_every_object_is_there(self):
        self.assertEqual(set(self.docs), {"Deployment", "Service", "PodDisruptionBudget",
                                          "HorizontalPodAutoscaler", "Job"})

    def test_probes_readiness_on_readyz_liveness_on_healthz(self):
        pod = self.docs["Deployment"]["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz",
                         "liveness must not depend on the database (a blip would restart every pod)")
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertIn("--no-migrate", c["args"], "migrations belong to the Job")
        env = {e["name"] for e in c["env"]}
        self.assertTrue({"SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_LISTEN_DATABASE_URL",
                         "SWITCHBOARD_SECRET_KEY"} <= env, env)
        # Drained within the grace period: SIGTERM drain is bounded by 10 s, plus the preStop pause.
        self.assertGreaterEqual(pod["terminationGracePeriodSeconds"], 15)

    def test_selectors_match_the_pods(self):
        labels = self.docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
        for kind, selector in (("Service", self.docs["Service"]["spec"]["selector"]),
                               ("PodDisruptionBudget", self.docs["PodDisruptionBudget"]["spec"]["selector"]
                                ["matchLabels"]),
                               ("Deployment", self.docs["Deployment"]["spec"]["selector"]["matchLabels"])):
            for k, v in selector.items():
                self.assertEqual(labels.get(k), v, f"{kind} selector {k}={v} does not match the pod labels")
        target = self.docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
        self.assertEqual((target["kind"], target["name"]), ("Deployment", self.docs["Deployment"]["metadata"]["name"]))
        metric = self.docs["HorizontalPodAutoscaler"]["spec"]["metrics"][0]
        self.assertEqual(metric["resource"]["name"], "cpu")

    def test_the_job_migrates(self):
        c = self.docs["Job"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["args"], ["migrate"])


class ComposeTest(unittest.TestCase):
    def test_compose_shape(self):
        require_yaml()
        doc = yaml.safe_load(read("compose.yaml"))
        services = doc["services"]
        self.assertTrue({"postgres", "pgbouncer", "switchboard", "nginx", "migrate"} <= set(services))
        sb = services["switchboard"]
        self.assertIn("replicas", sb["deploy"])
        self.assertIn("@pgbouncer:6432/", sb["environment"]["SWITCHBOARD_DATABASE_URL"])
        self.assertIn("@postgres:5432/", sb["environment"]["SWITCHBOARD_LISTEN_DATABASE_URL"],
                      "LISTEN must bypass pgbouncer")
        self.assertEqual(sb["depends_on"]["migrate"]["condition"], "service_completed_successfully")
        mounts = " ".join(services["postgres"]["volumes"])
        self.assertIn("./postgresql.conf:", mounts)
        self.assertTrue(os.path.exists(os.path.join(DEPLOY, "postgresql.conf")))
        for volume in services["nginx"]["volumes"] + services["pgbouncer"]["volumes"]:
            src = volume.split(":")[0]
            if src.endswith("userlist.txt"):
                src += ".example"  # the operator's copy holds the password
            self.assertTrue(os.path.exists(os.path.join(DEPLOY, src)), f"compose mounts missing {src}")

    def test_pgbouncer_pools_transactions(self):
        ini = read("pgbouncer", "pgbouncer.ini")
        self.assertRegex(ini, r"(?m)^pool_mode = transaction$")


class NginxTest(unittest.TestCase):
    def test_nginx_accepts_the_configuration(self):
        if not shutil.which("nginx"):
            raise unittest.SkipTest("nginx is not installed (apt-get install nginx-light)")
        d = tempfile.mkdtemp(prefix="sb-nginx-")
        try:
            sbcluster.write_nginx_config(d, sbcluster.free_port(), [18081, 18082], [18083])
            p = subprocess.run(sbcluster.nginx_command(d, "-t"), capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, f"nginx -t:\n{p.stderr}")
            self.assertIn("syntax is ok", p.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_webhooks_and_api_have_their_upstreams(self):
        conf = read("nginx", "nginx.conf")
        self.assertRegex(conf, r"location /webhooks/ \{[^}]*proxy_pass http://switchboard_gateway;")
        self.assertRegex(conf, r"location = /v1/agent/stream \{[^}]*Upgrade")
        upstreams = read("nginx", "switchboard-upstreams.conf")
        self.assertIn("upstream switchboard_gateway", upstreams)
        self.assertIn("upstream switchboard_api", upstreams)


class SystemdTest(unittest.TestCase):
    def test_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            raise unittest.SkipTest("systemd-analyze is not installed")
        bin_path = harness.require_bin()
        d = tempfile.mkdtemp(prefix="sb-unit-")
        try:
            unit = read("systemd", "switchboard.service")
            self.assertIn("ExecStart=/usr/local/bin/switchboard serve", unit)
            # verify checks that ExecStart's binary exists: point it at the one built here.
            path = os.path.join(d, "switchboard.service")
            with open(path, "w") as f:
                f.write(unit.replace("/usr/local/bin/switchboard", os.path.abspath(bin_path)))
            p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, f"systemd-analyze verify:\n{p.stdout}{p.stderr}")
            problems = [line for line in p.stderr.splitlines() if "switchboard.service" in line]
            self.assertEqual(problems, [], p.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class DockerfileTest(unittest.TestCase):
    """Lint-level checks (hadolint's main rules, by hand: no daemon here)."""

    def setUp(self):
        text = read("Dockerfile")
        # Join continuation lines into one instruction each.
        self.instructions = []
        for line in re.sub(r"\\\n", " ", text).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                word, _, rest = line.partition(" ")
                self.instructions.append((word.upper(), rest.strip()))

    def args(self, word):
        return [rest for w, rest in self.instructions if w == word]

    def test_multi_stage_on_debian_12(self):
        froms = self.args("FROM")
        self.assertGreaterEqual(len(froms), 2, "multi-stage: a build stage and a runtime stage")
        for f in froms:
            image = f.split()[0]
            self.assertRegex(image, r"^debian:12(-slim)?$", f"base image {image}: Debian 12, pinned")
        self.assertTrue(any("--from=" in c for c in self.args("COPY")), "the runtime copies from the build stage")

    def test_runs_as_a_non_root_user(self):
        users = self.args("USER")
        self.assertTrue(users, "no USER")
        self.assertNotIn(users[-1].split(":")[0], ("root", "0"))

    def test_healthcheck_on_healthz(self):
        checks = self.args("HEALTHCHECK")
        self.assertEqual(len(checks), 1)
        self.assertIn("/healthz", checks[0], "liveness only: /readyz would mark every container unhealthy "
                                             "during a database blip")
        self.assertIn("--retries", checks[0])

    def test_apt_hygiene(self):
        for run in self.args("RUN"):
            if "apt-get install" in run:
                self.assertIn("--no-install-recommends", run)
                self.assertIn("rm -rf /var/lib/apt/lists", run)
                self.assertIn("apt-get update", run, "update and install in one layer")

    def test_copied_sources_exist(self):
        for c in self.args("COPY"):
            if "--from=" in c:
                continue
            src = c.split()[0]
            self.assertTrue(os.path.exists(os.path.join(harness.source_dir(), src)), f"COPY {src}: no such path")
        self.assertEqual(self.args("ENTRYPOINT"), ['["/usr/local/bin/switchboard"]'])


if __name__ == "__main__":
    unittest.main()
