#!/usr/bin/env python3
"""What the test controls cost, end to end: two binaries in one run.

  python3 bench/controls_ab.py --a OLD_BINARY --b NEW_BINARY [--rounds 5] [--duration 5]

A is a build without the test controls (e.g. the commit before them), B a
build with them. Both serve on 127.0.0.1 at once; wrk loads `POST /token`
(client_credentials, 16 connections) on A, then B, then A, ... for
--rounds rounds each, so machine noise hits both alike; the medians of
req/s and of the server's CPU time per request, and B/A, are printed. Then, on B only, the ledger's memory: VmRSS after 10k
requests (the ledger is full after 1000) and after --ledger-requests more
with a 1 KiB query string each (worst-case entries), both to the JWKS.

With --callgrind N it measures instructions instead (load-independent,
deterministic to ~0.03%): each binary runs under valgrind's callgrind with
one persisted key, gets 1100 warm-up requests (the ledger is then full),
its counters are zeroed, then N `POST /token` and 5N `GET
/.well-known/jwks.json` on one keep-alive connection; instructions per
request are printed for A and B (Debian: apt-get install valgrind).

Needs wrk (Debian: apt-get install wrk). Servers are stopped on exit.
"""

import argparse
import glob
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk", "request.lua")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, extra_env=None):
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", RUST_LOG="error", **(extra_env or {}))
    env.pop("ADMIN_TOKEN", None)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{binary} did not become healthy on {url}")


def wrk(url, path, seconds, conns, method="GET", body="", ctype=""):
    env = dict(os.environ, WRK_METHOD=method, WRK_BODY=body, WRK_CTYPE=ctype)
    out = subprocess.run(
        ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{seconds}s", "-s", LUA, url + path],
        env=env, capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout
    m = re.search(r"@@BENCH@@ (\{.*\})", out)
    if not m:
        sys.exit(f"wrk printed no result:\n{out}")
    r = json.loads(m.group(1))
    errors = sum(r[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    if errors:
        sys.exit(f"{errors} errors under load on {url}{path}: {r}")
    return r["requests"] / (r["duration_us"] / 1e6), r["p99_us"] / 1000


def cpu_seconds(pid):
    """User + system CPU time of a process (clock ticks from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def ledger_len(url):
    with urllib.request.urlopen(url + "/_admin/requests", timeout=5) as r:
        return len(json.load(r))


FORM = "grant_type=client_credentials&client_id=bench&client_secret=x"
FORM_TYPE = "application/x-www-form-urlencoded"


def instructions_per_request(binary, keys_dir, n, jwks):
    """Instructions callgrind counts for one request, after warm-up."""
    port = free_port()
    out = os.path.join(keys_dir, f"callgrind.{port}")
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", RUST_LOG="error",
               PERSIST_KEYS_DIR=keys_dir)
    env.pop("ADMIN_TOKEN", None)
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.connect()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"{binary} did not start under valgrind")
                time.sleep(0.1)

        def request():
            if jwks:
                conn.request("GET", "/.well-known/jwks.json")
            else:
                conn.request("POST", "/token", FORM, {"content-type": FORM_TYPE})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                sys.exit(f"{binary}: status {r.status}")

        for _ in range(1100):
            request()
        # The same environment: vgdb names its pipes after USER and HOST.
        control = dict(capture_output=True, check=True, env=env)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], **control)
        for _ in range(n):
            request()
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], **control)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    dumps = [f for f in glob.glob(out + ".*") if re.fullmatch(r".*\.\d+", f)]
    with open(sorted(dumps)[-1]) as f:
        total = int(re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M).group(1))
    return total / n


def callgrind(args):
    with tempfile.TemporaryDirectory() as keys_dir:
        # One key for both: startup is never measured, signing is identical.
        proc, _ = start(args.b, {"PERSIST_KEYS_DIR": keys_dir})
        proc.terminate()
        proc.wait(timeout=10)
        for what, n, jwks in (("POST /token client_credentials", args.callgrind, False),
                              ("GET /.well-known/jwks.json", 5 * args.callgrind, True)):
            a = instructions_per_request(args.a, keys_dir, n, jwks)
            b = instructions_per_request(args.b, keys_dir, n, jwks)
            print(f"{what}, {n} requests: A {a:,.0f} instructions/request, B {b:,.0f} "
                  f"(+{b - a:,.0f}, B/A {b / a:.4f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="binary without the test controls")
    ap.add_argument("--b", required=True, help="binary with the test controls")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--ledger-requests", type=int, default=1_000_000)
    ap.add_argument("--callgrind", type=int, metavar="N",
                    help="count instructions per request under callgrind instead")
    args = ap.parse_args()
    if args.callgrind:
        callgrind(args)
        return

    (pa, ua), (pb, ub) = start(args.a), start(args.b)
    try:
        form, ctype = FORM, FORM_TYPE
        runs = {"A": [], "B": []}
        cpu = {"A": [], "B": []}
        pids = {"A": pa.pid, "B": pb.pid}
        for url in (ua, ub):  # warm both up
            wrk(url, "/token", 1, 16, "POST", form, ctype)
        for i in range(args.rounds):
            for name, url in (("A", ua), ("B", ub)) if i % 2 == 0 else (("B", ub), ("A", ua)):
                before = cpu_seconds(pids[name])
                rate, p99_ms = wrk(url, "/token", args.duration, 16, "POST", form, ctype)
                used = cpu_seconds(pids[name]) - before
                runs[name].append((rate, p99_ms))
                # Server CPU per request: what the server spends, much less
                # sensitive than req/s to other processes taking the cores.
                cpu[name].append(used / (rate * args.duration) * 1e6)
        med = {k: statistics.median(r for r, _ in v) for k, v in runs.items()}
        p99 = {k: statistics.median(p for _, p in v) for k, v in runs.items()}
        print(f"POST /token client_credentials, 16 conn, {args.rounds} x {args.duration} s each, interleaved")
        cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
        for k in ("A", "B"):
            rates = ", ".join(f"{r:,.0f}" for r, _ in runs[k])
            cpus = ", ".join(f"{c:.0f}" for c in cpu[k])
            print(f"  {k}: median {med[k]:,.0f} req/s (p99 {p99[k]:.2f} ms), server CPU "
                  f"{cpu_med[k]:.0f} us/request; runs: {rates} req/s; {cpus} us")
        print(f"  B/A: req/s {med['B'] / med['A']:.3f}, server CPU per request "
              f"{cpu_med['B'] / cpu_med['A']:.3f}")

        # The ledger's memory on B: full after 1000 entries; then flat.
        query = "?q=" + "x" * 1024
        wrk(ub, "/jwks" + query, 2, 16)
        before = rss_kib(pb.pid)
        sent, start_t = 0, time.monotonic()
        while sent < args.ledger_requests:
            rate, _ = wrk(ub, "/jwks" + query, 5, 16)
            sent += int(rate * 5)
        after = rss_kib(pb.pid)
        print(f"ledger memory (B): VmRSS {before / 1024:.1f} MiB after warm-up (ledger full: "
              f"{ledger_len(ub)} entries), {after / 1024:.1f} MiB after ~{sent:,} more requests "
              f"with a 1 KiB query ({time.monotonic() - start_t:.0f} s)")
    finally:
        for p in (pa, pb):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
