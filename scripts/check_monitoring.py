#!/usr/bin/env python3
"""Checks deploy/prometheus/ and deploy/grafana/ against real daemons and a real Prometheus.

    scripts/check_monitoring.py [--bin-dir DIR]

  1. `promtool check rules` and `promtool test rules` (deploy/prometheus/tests/), and
     `promtool check config` of deploy/prometheus/prometheus.yml;
  2. starts a Redis Cluster (3 masters, `redis-server` on free loopback ports, not yet
     created), slotplane-control and slotplane-proxy subscribed to it, each with a metrics port:
     the proxy's GET /readyz answers 503 (no topology) until `redis-cli --cluster create` runs,
     then 200; GET /healthz answers 200 throughout; the control plane's /readyz likewise;
  3. runs commands of several classes through the proxy and `slotplanectl status` against the
     control plane, then scrapes both daemons: every metric
     the Grafana dashboard's queries name (deploy/grafana/slotplane.json) is in the scrapes, and
     every slotplane metric of the scrapes is in docs/metrics.md;
  4. starts Prometheus on loopback with the alert rules and a config scraping both daemons every
     second, polls its API until both targets are up, and queries the latency histogram
     (`histogram_quantile` over slotplane_proxy_command_duration_seconds_bucket) and a control
     plane gauge: each must return series; every dashboard query must evaluate.

Every process is started on free loopback ports in a temporary directory and stopped at the
end. Every wait polls with a deadline. The binaries come from build/bin (--bin-dir or
SLOTPLANE_BIN_DIR). Needs redis-server, redis-cli, promtool and prometheus (Debian's
`prometheus` package; scripts/bootstrap.sh installs it). Exits 1 on any problem.
"""

import json
import os
import re
import shutil
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROM_DIR = os.path.join(ROOT, "deploy", "prometheus")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "slotplane.json")
METRICS_DOC = os.path.join(ROOT, "docs", "metrics.md")
DEADLINE = 60  # seconds for each wait: generous for a loaded 2-core machine

problems = []


def say(msg):
    print(f"check_monitoring: {msg}", flush=True)


def problem(msg):
    problems.append(msg)
    print(f"check_monitoring: PROBLEM: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_redis_port():
    """A free port whose cluster bus port (+10000) is free too."""
    for _ in range(100):
        p = free_port()
        if p + 10000 > 65535:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 10000))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair for a Redis node")


def http_get(port, path, timeout=5):
    """(status, body) of GET http://127.0.0.1:port/path; (None, error) when unreachable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def wait_for(what, check, deadline=DEADLINE):
    """Polls check() (a truthy value or None) until truthy or the deadline; returns its value."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    problem(f"timed out after {deadline}s waiting for {what}")
    return None


class Processes:
    def __init__(self):
        self.procs = []

    def start(self, name, argv, log):
        out = open(log, "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append((name, p, log))
        return p

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p, log in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                problem(f"{name} did not stop within 30 s of SIGTERM")
                continue
            if name.startswith("slotplane") and p.returncode != 0:
                problem(f"{name} exited with {p.returncode} after SIGTERM (log: {log})")

    def check_alive(self):
        for name, p, log in self.procs:
            if p.poll() is not None:
                tail = open(log, errors="replace").read()[-2000:]
                problem(f"{name} exited with {p.returncode}:\n{tail}")
                return False
        return True


def promtool_checks():
    promtool = shutil.which("promtool")
    if not promtool:
        problem("promtool not found (Debian package prometheus; run scripts/bootstrap.sh)")
        return
    for argv, cwd in (
            ([promtool, "check", "rules", "slotplane.rules.yml"], PROM_DIR),
            ([promtool, "test", "rules", "tests/slotplane.rules.test.yml"], PROM_DIR),
            ([promtool, "check", "config", "prometheus.yml"], PROM_DIR)):
        r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
        shown = " ".join(["promtool"] + argv[1:])
        if r.returncode != 0:
            problem(f"{shown} failed:\n{r.stdout}{r.stderr}")
        else:
            say(f"{shown}: ok")


def dashboard_metrics():
    """Every metric name the dashboard's queries use."""
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dashboard)
    names = set()
    for e in exprs:
        names.update(re.findall(r"\b((?:slotplane|process)_[a-z0-9_]+)", e))
    return exprs, names


def scraped_names(text):
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}


def documented_names():
    text = open(METRICS_DOC).read()
    return set(re.findall(r"`((?:slotplane|process)_[a-z0-9_]+)`", text))


def base_name(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)


def redis_cli(port, *args, timeout=30):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def main():
    bin_dir = os.environ.get("SLOTPLANE_BIN_DIR", os.path.join(ROOT, "build", "bin"))
    args = sys.argv[1:]
    if args[:1] == ["--bin-dir"] and len(args) == 2:
        bin_dir = args[1]
    elif args:
        print(__doc__, file=sys.stderr)
        return 2
    for tool in ("redis-server", "redis-cli", "prometheus", "promtool"):
        if not shutil.which(tool):
            problem(f"{tool} not found (run scripts/bootstrap.sh)")
    for b in ("slotplane-proxy", "slotplane-control", "slotplanectl"):
        if not os.access(os.path.join(bin_dir, b), os.X_OK):
            problem(f"{bin_dir}/{b} missing (run scripts/build.sh)")
    if problems:
        return 1

    promtool_checks()
    exprs, wanted = dashboard_metrics()
    say(f"dashboard: {len(exprs)} queries naming {len(wanted)} metrics")

    tmp = tempfile.mkdtemp(prefix="slotplane-monitoring-")
    procs = Processes()
    try:
        run(bin_dir, tmp, procs, exprs, wanted)
    finally:
        procs.stop_all()
        if problems:
            say(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        say(f"FAILED: {len(problems)} problem(s)")
        return 1
    say("OK")
    return 0


def run(bin_dir, tmp, procs, exprs, wanted):
    # 1. Three Redis nodes, cluster mode, not yet a cluster.
    ports = [free_redis_port() for _ in range(3)]
    for p in ports:
        d = os.path.join(tmp, f"redis-{p}")
        os.makedirs(d)
        procs.start(f"redis-server:{p}", [
            "redis-server", "--port", str(p), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
            "--cluster-config-file", os.path.join(d, "nodes.conf"), "--dir", d,
            "--save", "", "--appendonly", "no", "--protected-mode", "no"],
            os.path.join(d, "redis.log"))
    for p in ports:
        if not wait_for(f"redis-server on {p}",
                        lambda p=p: redis_cli(p, "PING").stdout.strip() == "PONG"):
            return

    # 2. slotplane-control and slotplane-proxy, before the cluster exists.
    control_port, control_metrics = free_port(), free_port()
    proxy_port, proxy_metrics = free_port(), free_port()
    seeds = ",".join(f"127.0.0.1:{p}" for p in ports)
    # The watch stream needs a proxy credential (slotplane-control refuses to start without one).
    token_file = os.path.join(tmp, "proxy.token")
    with open(token_file, "w") as f:
        f.write(secrets.token_hex(16) + "\n")
    os.chmod(token_file, 0o600)
    procs.start("slotplane-control", [
        os.path.join(bin_dir, "slotplane-control"), "--listen", f"127.0.0.1:{control_port}",
        "--cluster", seeds, "--data-dir", os.path.join(tmp, "control-store"),
        "--poll-interval", "200", "--metrics-port", str(control_metrics),
        "--proxy-token-file", token_file],
        os.path.join(tmp, "control.log"))
    procs.start("slotplane-proxy", [
        os.path.join(bin_dir, "slotplane-proxy"), "--port", str(proxy_port), "--threads", "2",
        "--cluster", seeds, "--control-plane", f"127.0.0.1:{control_port}",
        "--control-plane-proxy-token-file", token_file,
        "--topology-refresh-interval", "200", "--metrics-port", str(proxy_metrics)],
        os.path.join(tmp, "proxy.log"))
    for name, port in (("slotplane-control", control_metrics), ("slotplane-proxy", proxy_metrics)):
        if not wait_for(f"{name} GET /healthz = 200",
                        lambda port=port: procs.check_alive() and
                        http_get(port, "/healthz")[0] == 200):
            return
        status, body = http_get(port, "/readyz")
        if status != 503:
            problem(f"{name}: GET /readyz before the cluster exists answered {status} {body!r}, "
                    f"not 503")
        else:
            say(f"{name}: /readyz before the cluster exists: 503 {body.strip()!r}")

    # 3. The cluster appears: both turn ready.
    r = redis_cli(ports[0], "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                  "--cluster-yes", timeout=120)
    if r.returncode != 0:
        problem(f"redis-cli --cluster create failed: {r.stdout}{r.stderr}")
        return
    started = time.monotonic()
    for name, port in (("slotplane-control", control_metrics), ("slotplane-proxy", proxy_metrics)):
        if not wait_for(f"{name} GET /readyz = 200 after the cluster was created",
                        lambda port=port: http_get(port, "/readyz")[0] == 200):
            return
        say(f"{name}: /readyz 200 {time.monotonic() - started:.1f}s after the cluster was created")

    # 4. Traffic of several classes through the proxy.
    commands = [["SET", "k", "v"], ["GET", "k"], ["MGET", "k", "k"], ["DBSIZE"], ["PING"],
                ["INCR", "k"], ["PUBLISH", "ch", "m"], ["NOSUCHCOMMAND"]]
    for c in commands:
        for _ in range(5):
            redis_cli(proxy_port, *c)
    # And an admin call (slotplane_control_admin_calls_total has series once one was made).
    r = subprocess.run([os.path.join(bin_dir, "slotplanectl"), "--addr",
                        f"127.0.0.1:{control_port}", "status"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        problem(f"slotplanectl status failed: {r.stdout}{r.stderr}")

    # 5. Scrapes: the dashboard's metrics exist, and the scraped ones are documented.
    scrape = ""
    for name, port in (("slotplane-proxy", proxy_metrics), ("slotplane-control", control_metrics)):
        status, body = http_get(port, "/metrics")
        if status != 200:
            problem(f"{name}: GET /metrics answered {status}")
        scrape += body
    names = scraped_names(scrape)
    missing = sorted(n for n in wanted if n not in names)
    if missing:
        problem(f"the dashboard uses metrics no scrape has: {', '.join(missing)}")
    else:
        say(f"all {len(wanted)} dashboard metrics are in the scrapes")
    documented = documented_names()
    undocumented = sorted({base_name(n) for n in names
                           if n.startswith(("slotplane_", "process_"))} - documented)
    if undocumented:
        problem(f"docs/metrics.md does not list: {', '.join(undocumented)}")
    for line in ('slotplane_proxy_command_duration_seconds_bucket{class="read",le="+Inf"}',
                 'slotplane_proxy_commands_total{command="get",outcome="ok"}',
                 'slotplane_proxy_ready 1', 'slotplane_proxy_build_info{'):
        if line not in scrape:
            problem(f"the proxy's scrape has no {line}")

    # 6. A real Prometheus scrapes both and answers queries on the histogram.
    prom_port = free_port()
    config = os.path.join(tmp, "prometheus.yml")
    shutil.copy(os.path.join(PROM_DIR, "slotplane.rules.yml"), tmp)
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [slotplane.rules.yml]
scrape_configs:
  - job_name: slotplane-proxy
    static_configs: [{{targets: ["127.0.0.1:{proxy_metrics}"]}}]
  - job_name: slotplane-control
    static_configs: [{{targets: ["127.0.0.1:{control_metrics}"]}}]
""")
    procs.start("prometheus", [
        "prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp}/tsdb",
        f"--web.listen-address=127.0.0.1:{prom_port}"], os.path.join(tmp, "prometheus.log"))

    def api(path):
        status, body = http_get(prom_port, path)
        if status != 200:
            return None
        return json.loads(body)

    def targets_up():
        if not procs.check_alive():
            return True  # stop waiting; the problem is recorded
        t = api("/api/v1/targets")
        if not t:
            return False
        active = t["data"]["activeTargets"]
        up = {a["labels"]["job"] for a in active if a["health"] == "up"}
        return {"slotplane-proxy", "slotplane-control"} <= up

    if not wait_for("Prometheus: both targets up", targets_up) or problems:
        return
    say("prometheus: both targets up")

    def query(expr):
        def check():
            res = api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
            return res and res["data"]["result"]
        result = wait_for(f"a result for {expr}", check)
        if result:
            say(f"prometheus: {expr} -> {len(result)} series, e.g. "
                f"{result[0]['metric']} = {result[0]['value'][1]}")

    # More traffic so that rate() over two scrapes sees an increase.
    for _ in range(3):
        for c in commands:
            redis_cli(proxy_port, *c)
        time.sleep(1.1)
    query("slotplane_proxy_command_duration_seconds_bucket")
    query("histogram_quantile(0.99, sum by (le, class) "
          "(rate(slotplane_proxy_command_duration_seconds_bucket[30s])))")
    query("slotplane_control_proxies_connected")

    # Every dashboard query parses and evaluates (its variables as the dashboard's defaults).
    bad = 0
    for e in exprs:
        q = (e.replace("$proxy_job", "slotplane-proxy").replace("$control_job", "slotplane-control")
             .replace("$instance", ".*").replace("$__rate_interval", "30s"))
        status, body = http_get(prom_port, "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
        if status != 200:
            bad += 1
            problem(f"dashboard query {e!r} fails in Prometheus: {status} {body[:300]}")
    if not bad:
        say(f"prometheus: all {len(exprs)} dashboard queries evaluate")


if __name__ == "__main__":
    sys.exit(main())
