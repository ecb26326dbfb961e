"""The long versions of the reliability scenarios, with PostgreSQL on the
production settings (deploy/postgresql.conf: fsync and synchronous_commit on),
and a table of what they measured. `tools/dev reliability [SCENARIO...]`.

Exit status 1 when any scenario broke an invariant (each problem is printed).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios  # noqa: E402  (its fault_rig puts tests/e2e on the path)
import harness  # noqa: E402

LONG = {
    "crash": lambda conf: scenarios.crash(kills=5, duration_s=60, rate_per_kind=100, conf=conf),
    "db_restart": lambda conf: scenarios.db_restart(down_s=5.0, before_s=5.0, after_s=10.0,
                                                    rate_per_kind=100, conf=conf),
    "backend_drop": lambda conf: scenarios.backend_drop(duration_s=30.0, rate_per_kind=100, conf=conf),
    # The server and PostgreSQL on one half of the cores, the generator on the
    # other: sharing them, the generator cannot offer three times what the
    # server does.
    "overload": lambda conf: scenarios.overload(burst_s=30.0, multiple=3.0, measure_s=10.0, after_s=15.0,
                                                conf=conf, split=True),
}


def fuzz(seconds):
    """Every libFuzzer target of the fuzz build (SB_FUZZ_BUILD_DIR, which
    `tools/dev reliability` builds) for `seconds` each, through tools/fuzz-run:
    executions and crashes per target."""
    build = os.environ.get("SB_FUZZ_BUILD_DIR")
    if not build:
        return {"scenario": "fuzz", "targets": [], "seconds": seconds,
                "problems": ["SB_FUZZ_BUILD_DIR is not set: run it as `tools/dev reliability fuzz`"]}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([os.path.join(harness.source_dir(), "tools", "fuzz-run"), "--build-dir", build,
                              "--seconds", str(seconds), "--json", out.name],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        targets = json.loads(out.read().decode() or "[]")
    problems = [f"{t['target']}: {t['crashes']} crash(es)" for t in targets if t["crashes"]]
    problems += [f"{t['target']}: {t['error']}" for t in targets if t["error"]]
    if run.returncode != 0 and not problems:
        problems.append(f"fuzz-run exited {run.returncode}: {run.stderr.strip()[-500:]}")
    if not targets:
        problems.append("no fuzz target ran")
    return {"scenario": "fuzz", "targets": targets, "seconds": seconds, "problems": problems}


def fuzz_table(r):
    lines = ["| fuzz target | seconds | executions | exec/s | crashes |", "| --- | ---: | ---: | ---: | ---: |"]
    for t in r["targets"]:
        crashes = "did not run" if t["error"] else f"{t['crashes']}"
        lines.append(f"| `{t['target']}` | {r['seconds']} | {t['executions']:,} | {t['exec_s']:,} | {crashes} |")
    total = sum(t["executions"] for t in r["targets"])
    crashes = sum(t["crashes"] for t in r["targets"])
    lines.append(f"| all {len(r['targets'])} | {r['seconds'] * len(r['targets'])} | {total:,} | | {crashes} |")
    return "\n".join(lines)


def fmt_s(v):
    return "—" if v is None else f"{v:.2f} s"


def row(r):
    load = r["load"]
    led = r["ledger"]
    n503 = load["non_200"].get("503", 0)
    if r["scenario"] == "crash":
        what = (f"3 kinds × {load['offered_rate'] / 3:.0f}/s for {load['duration_s']:.0f} s, "
                f"{r['conversations']} conversations routed to 6 agents")
        faults = f"{r['kills']} SIGKILLs + restarts"
        recover = f"serving {max(r['restart_s']):.2f} s after a kill (slowest restart)"
    elif r["scenario"] == "db_restart":
        what = f"3 kinds × {load['offered_rate'] / 3:.0f}/s + a probe every 20 ms"
        faults = f"PostgreSQL stopped (fast) for {r['down_s']:.1f} s"
        recover = f"first 200 {fmt_s(r['reconnect_s'])} after PostgreSQL's return"
    elif r["scenario"] == "backend_drop":
        what = f"3 kinds × {load['offered_rate'] / 3:.0f}/s"
        faults = f"{r['terminated']} writer backends terminated mid-batch"
        recover = f"first 200 {fmt_s(r['reconnect_s'])} after the last termination"
    else:
        what = (f"{r['offered_rps']:,.0f}/s offered = {r['multiple']:.0f}× the measured capacity "
                f"({r['capacity_rps']:,.0f}/s) for {r['burst_s']:.0f} s on {r['connections']:,} connections")
        faults = "overload"
        if r.get("cores"):
            what += (f"; server + PostgreSQL on core(s) {','.join(map(str, r['cores']['server']))}, "
                     f"generator on {','.join(map(str, r['cores']['load']))}")
        recover = f"full service {fmt_s(r['recovered_s'])} after the burst"
        if r["recovered_s"] is not None:
            recover += (f" ({fmt_s(max(0.0, r['recovered_s'] - r['load_ended_s']))} after the generator's last request, "
                        f"{fmt_s(r['load_ended_s'])} past the burst)")
    slowest = r.get("slowest_answer_s")
    if slowest is None:
        slowest = load["answer_max_ms"] / 1000.0
    # Requests that never left the load generator (no free connection
    # within the timeout) are not the server's timeouts; they are noted below.
    timeouts = load["timeouts"] - r.get("expired_in_client", 0)
    verdict = "ok" if not r["problems"] else "FAILED"
    return (f"| {r['scenario']} | {what} | {faults} | {led['acknowledged']:,} | {led['stored_distinct']:,} | "
            f"{led['duplicates']} | {n503:,} | {timeouts:,} | {slowest:.2f} s | {recover} | "
            f"{r['peak_rss_mb']:.0f} MB | {verdict} |")


HEADER = ("| scenario | load | faults | acknowledged | stored | duplicates | 503s | timeouts | slowest answer | "
          "time to recover | peak RSS | result |\n"
          "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenarios", nargs="*", help=f"some of {', '.join(LONG)}, fuzz (default: all)")
    ap.add_argument("--fuzz-seconds", type=int, default=30, help="seconds per fuzz target (default 30)")
    ap.add_argument("--conf", default=os.path.join(harness.source_dir(), "deploy", "postgresql.conf"),
                    help="PostgreSQL settings file for the private clusters")
    args = ap.parse_args()
    names = args.scenarios or [*LONG, "fuzz"]
    unknown = [n for n in names if n not in LONG and n != "fuzz"]
    if unknown:
        ap.error(f"unknown scenario {unknown[0]!r}: expected some of {', '.join(LONG)}, fuzz")
    results = []
    fuzzed = None
    t0 = time.monotonic()
    for name in names:
        if name == "fuzz":
            scenarios.log(f"=== fuzz ({args.fuzz_seconds} s per target)")
            fuzzed = fuzz(args.fuzz_seconds)
            continue
        scenarios.log(f"=== {name} (long version)")
        r = LONG[name](args.conf)
        scenarios.log(scenarios.summary(r))
        results.append(r)
    cores = os.cpu_count()
    print()
    print(f"Reliability: {cores} cores, PostgreSQL with {os.path.relpath(args.conf, harness.source_dir())}, "
          f"{time.monotonic() - t0:.0f} s in all")
    print()
    if results:
        print(HEADER)
        for r in results:
            print(row(r))
        print()
    if fuzzed is not None:
        print(fuzz_table(fuzzed))
        print()
    problems = [(r["scenario"], p) for r in [*results, *([fuzzed] if fuzzed else [])] for p in r["problems"]]
    for r in results:
        if r["scenario"] == "crash":
            c = r["consistency"]
            print(f"- crash: consistency after {r['kills']} kills: " + ", ".join(f"{k} {v}" for k, v in c.items())
                  + f"; agents resolved {r['resolved_by_agents']} conversations during the run; "
                  f"re-delivered {r['load']['resend_pending']} requests, "
                  f"{r['load']['unacknowledged']} never acknowledged")
        if r["scenario"] == "overload":
            a = r["answer_ms"]
            print(f"- overload: the load generator sent {r['burst_sent_rps']:,.0f}/s of the {r['offered_rps']:,.0f}/s "
                  f"scheduled ({r['expired_in_client']:,} requests found no free connection within the timeout); "
                  f"acknowledged {r['burst_acknowledged_rps']:,.0f}/s during the burst; answers (any status, from "
                  f"the send) p50 {a['p50']:.1f} ms, p99 {a['p99']:.1f} ms, max {a['max']:.1f} ms; "
                  f"RSS before the burst {r['rss_before_burst_mb']:.0f} MB")
        if r["scenario"] == "db_restart":
            print(f"- db_restart: probes while PostgreSQL was down: {r['probes_during_outage']}; "
                  f"slowest answer then {r['slowest_answer_during_outage_s']:.2f} s")
    for name, p in problems:
        print(f"PROBLEM {name}: {p}")
    print("all invariants held" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
