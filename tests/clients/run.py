#!/usr/bin/env python3
"""slotplane's client matrix: every client library of the matrix runs the same workload
(workload.json) against a standalone redis-server and through slotplane-proxy in front of a
3-master Redis Cluster, in each protocol it speaks; the two result files must be identical.

  run.py [--proxy PATH] [--only NAME[/PROTOCOL],...] [--keep DIR] [--self-check]

Exit code 0: every run of the matrix gave identical results (or differed only where
expected_differences.json lists a known slotplane bug); 1: a difference (each printed as step,
command, standalone result, proxy result); 2: setup failure (a server, a client library or
node_modules missing; run.sh installs node_modules first). README.md has the rest.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "conformance"))

import keyslot  # noqa: E402
import resp  # noqa: E402
import servers  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-redis
NODE = os.environ.get("SLOTPLANE_NODE", "node")  # another Node.js binary for a try
CLIENT_TIMEOUT = 180  # seconds for one client's whole workload; every wait inside is bounded

# (name, protocols, argv before "HOST PORT PROTOCOL WORKLOAD OUT")
MATRIX = [
    ("redis-py", (2,), [DEBIAN_PYTHON, os.path.join(HERE, "redis_py_client.py")]),
    ("ioredis5", (2,), [NODE, os.path.join(HERE, "node_client.js"), "ioredis5"]),
    ("ioredis6", (2, 3), [NODE, os.path.join(HERE, "node_client.js"), "ioredis6"]),
    ("node-redis4", (2,), [NODE, os.path.join(HERE, "node_client.js"), "redis4"]),
    ("node-redis5", (2, 3), [NODE, os.path.join(HERE, "node_client.js"), "redis5"]),
    ("redis-cli", (2, 3), [sys.executable, os.path.join(HERE, "redis_cli_client.py")]),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--proxy", default=os.environ.get("SLOTPLANE_PROXY",
                                                     os.path.join(REPO, "build", "bin",
                                                                  "slotplane-proxy")))
    p.add_argument("--only", default="",
                   help="comma-separated runs, e.g. ioredis6/3,redis-cli (default: all)")
    p.add_argument("--keep", help="write every result file into this directory")
    p.add_argument("--self-check", action="store_true",
                   help="a second standalone redis-server in place of the proxy: shows that the "
                        "normalizations cover what two Redis servers already differ in")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The workload: macros expanded once, the same file for every client.

def expand_arg(arg):
    """A workload argument: a string, or a macro that becomes one or more strings."""
    if isinstance(arg, str):
        return [arg]
    if "sha1" in arg:
        return [hashlib.sha1(arg["sha1"].encode()).hexdigest()]
    if "repeat" in arg:  # a large value: the text repeated count times
        return [arg["repeat"] * arg["count"]]
    if "spread" in arg:  # keys over all slots: prefix0, prefix1, ...
        out = []
        for i in range(arg["count"]):
            out.append("%s%d" % (arg["spread"], i))
            if arg.get("values"):
                out.append("value-%d" % i)
        return out
    raise ValueError("unknown workload macro %r" % (arg,))


def expand_cmd(cmd):
    return [piece for arg in cmd for piece in expand_arg(arg)]


def load_workload():
    with open(os.path.join(HERE, "workload.json")) as f:
        workload = json.load(f)
    ids = set()
    for step in workload["steps"]:
        if step["id"] in ids:
            raise ValueError("duplicate step id %s" % step["id"])
        ids.add(step["id"])
        step.setdefault("kind", "cmd")
        if "cmd" in step:
            step["cmd"] = expand_cmd(step["cmd"])
        for sub in step.get("cmds", []):
            sub["cmd"] = expand_cmd(sub["cmd"])
    return workload


def check_workload_keys(workload, node_count):
    """The workload's claims about placement hold: the spread keys cover every master, the two
    EVALSHA keys live on different masters (the script-cache case), so do the PSUBSCRIBE pattern
    and its channel."""
    per = 16384 // node_count

    def master(key):
        return min(keyslot.key_slot(key) // per, node_count - 1)

    steps = {s["id"]: s for s in workload["steps"]}
    spread = steps["mset-spread"]["cmd"][1::2]
    assert len({master(k) for k in spread}) == node_count, "spread keys miss a master"
    a = steps["eval-then-evalsha-same-master"]["cmd"][3]
    b = steps["eval-then-evalsha-other-master"]["cmd"][3]
    assert master(a) != master(b), "the EVALSHA keys must live on different masters"
    pattern = steps["psubscribe"]
    assert master(pattern["pattern"]) != master(pattern["channel"]), \
        "the PSUBSCRIBE pattern must live on another master than the channel"


# ---------------------------------------------------------------------------------------------
# Normalization and comparison.

def sort_key(value):
    return json.dumps(value, sort_keys=True)


CLI_INDEX = re.compile(r"^\s*\d+[)~#] ")  # redis-cli's "1) ", "1~ ", "1# " element prefixes


def normalize(value, rule):
    """A step's result made independent of what Redis itself leaves unspecified."""
    if rule == "sorted":
        if isinstance(value, list):
            return sorted(value, key=sort_key)
        if isinstance(value, dict) and isinstance(value.get("lines"), list):  # redis-cli
            return dict(value, lines=sorted(CLI_INDEX.sub("", line) for line in value["lines"]))
        return value
    if rule == "sha1":  # a large reply: its length and SHA-1 stand for it
        text = json.dumps(value)
        return {"length": len(text), "sha1": hashlib.sha1(text.encode()).hexdigest()}
    if rule == "ttl":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return "present"
        if isinstance(value, str) and value.isdigit() and int(value) > 0:
            return "present"
        if isinstance(value, dict) and isinstance(value.get("lines"), list):  # redis-cli
            lines = value["lines"]
            if len(lines) == 1 and lines[0].startswith("(integer) ") and \
                    int(lines[0].split()[1]) > 0:
                return dict(value, lines=["(integer) present"])
        return value
    return value


def normalized_results(workload, results):
    out = {}
    for step in workload["steps"]:
        value = results.get(step["id"], {"missing": "the client recorded no result"})
        if step["kind"] in ("pipeline", "multi") and isinstance(value, list):
            value = [normalize(v, sub.get("normalize")) for v, sub in zip(value, step["cmds"])]
        out[step["id"]] = normalize(value, step.get("normalize"))
    return out


def has_error(value):
    text = json.dumps(value)
    return '"error"' in text or '"missing"' in text or '"timeout"' in text


# Steps whose result must never be an error on either side: an identical failure on both sides
# would otherwise pass (the message that never arrived, the BLPOP that never got its push).
MUST_SUCCEED = ("pubsub", "subscribed-commands", "blocking", "scan", "script")


def load_expected():
    with open(os.path.join(HERE, "expected_differences.json")) as f:
        return json.load(f)["differences"]


def expected_for(expected, run, step_id):
    name, protocol = run
    for entry in expected:
        if entry["step"] == step_id and entry.get("client", name) == name and \
                entry.get("protocol", protocol) == protocol:
            return entry
    return None


def differs_beyond(entry, a, b):
    """True when a and b differ in more than the entry's "field" (an entry without one covers
    the whole step)."""
    field = entry.get("field")
    if field is None:
        return False
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return True
    return {k: v for k, v in a.items() if k != field} != {k: v for k, v in b.items() if k != field}


# ---------------------------------------------------------------------------------------------
# Running.

def flush(port):
    conn = resp.Connection(servers.HOST, port, timeout=10)
    try:
        for args in (("FLUSHALL", "SYNC"), ("SCRIPT", "FLUSH", "SYNC")):
            reply = conn.call(*args)[1]
            if reply != ("+", b"OK"):
                raise RuntimeError("%s on port %d: %r" % (" ".join(args), port, reply))
    finally:
        conn.close()


def run_client(argv, port, protocol, workload_path, out_path):
    """Runs one client over the workload; returns (results dict, meta) or raises."""
    cmd = argv + [servers.HOST, str(port), str(protocol), workload_path, out_path]
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=CLIENT_TIMEOUT, cwd=HERE)
    elapsed = time.monotonic() - started
    if proc.returncode != 0 or not os.path.exists(out_path):
        raise RuntimeError("client %s exited %d:\n%s" % (
            " ".join(argv), proc.returncode, proc.stdout.decode("utf-8", "replace")[-4000:]))
    with open(out_path) as f:
        data = json.load(f)
    return data, elapsed


def describe(step):
    if step["kind"] in ("cmd",):
        return " ".join(step["cmd"])[:200]
    if step["kind"] in ("pipeline", "multi"):
        return step["kind"] + ": " + " | ".join(" ".join(s["cmd"]) for s in step["cmds"])[:300]
    return step["kind"] + " " + json.dumps({k: v for k, v in step.items()
                                             if k not in ("id", "kind")})


def compare_run(run, workload, side_results, expected):
    """Prints every difference; returns (failures, expected differences seen)."""
    failures, seen = 0, []
    a = normalized_results(workload, side_results["standalone"])
    b = normalized_results(workload, side_results["proxy"])
    label = "%s/RESP%d" % run
    for step in workload["steps"]:
        sid = step["id"]
        for side, values in (("standalone", a), ("proxy", b)):
            if step["kind"] in MUST_SUCCEED and has_error(values[sid]):
                print("FAIL %s step %s (%s) failed on the %s side: %s" % (
                    label, sid, describe(step), side, json.dumps(values[sid])[:1000]))
                failures += 1
            if step["kind"] == "watch" and (not isinstance(values[sid], dict) or
                                            values[sid].get("aborted") != step["conflict"]):
                print("FAIL %s step %s (%s) on the %s side: EXEC %s, expected %s: %s" % (
                    label, sid, describe(step), side, "aborted" if step["conflict"] else "ran",
                    "the opposite", json.dumps(values[sid])[:1000]))
                failures += 1
        if a[sid] == b[sid]:
            continue
        entry = expected_for(expected, run, sid)
        if entry is not None and not differs_beyond(entry, a[sid], b[sid]):
            seen.append(entry)
            print("known %s step %s: %s (%s)" % (label, sid, entry["reason"], entry["pointer"]))
            continue
        failures += 1
        print("FAIL %s step %s\n  command:    %s\n  standalone: %s\n  proxy:      %s" % (
            label, sid, describe(step), json.dumps(a[sid])[:2000], json.dumps(b[sid])[:2000]))
    return failures, seen


def selected_runs(only):
    wanted = [w for w in only.split(",") if w]
    runs = []
    for name, protocols, argv in MATRIX:
        for protocol in protocols:
            if not wanted or name in wanted or "%s/%d" % (name, protocol) in wanted:
                runs.append((name, protocol, argv))
    if wanted and not runs:
        raise SystemExit("run.py: --only %s matches no run of the matrix" % only)
    return runs


def workload_for(workload, name, protocol):
    """The steps one run executes: a step's "protocols" limits it to those protocols; its
    "not_for" names clients that cannot express it, with the reason (printed, never silent)."""
    steps = []
    for step in workload["steps"]:
        if protocol not in step.get("protocols", (2, 3)):
            continue
        reason = step.get("not_for", {}).get(name)
        if reason:
            print("note: %s/RESP%d does not run step %s: %s" % (name, protocol, step["id"], reason))
            continue
        steps.append(step)
    return dict(workload, steps=steps)


def run_one(run, client_argv, ports, workload, expected, tmp):
    """Runs one client in one protocol on both sides and compares; returns (failures, known
    differences seen, summary row)."""
    name, protocol = run
    path = os.path.join(tmp, "workload-%s-resp%d.json" % (name, protocol))
    with open(path, "w") as f:
        json.dump(workload, f)
    side_results, meta, times = {}, {}, {}
    try:
        for side in ("standalone", "proxy"):
            flush(ports[side])
            out = os.path.join(tmp, "%s-resp%d-%s.json" % (name, protocol, side))
            meta, times[side] = run_client(client_argv, ports[side], protocol, path, out)
            side_results[side] = meta["results"]
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        print("FAIL %s/RESP%d: the client did not complete: %s" % (name, protocol, e))
        return 1, [], (name, "?", protocol, "client failed")
    failures, seen = compare_run(run, workload, side_results, expected)
    if failures:
        verdict = "%d difference(s)" % failures
    else:
        verdict = "identical" + (" but %d known" % len(seen) if seen else "")
    print("%-12s %-8s RESP%d %3d steps  standalone %.1fs proxy %.1fs  %s" % (
        name, meta.get("version", "?"), protocol, len(workload["steps"]),
        times["standalone"], times["proxy"], verdict), flush=True)
    return failures, seen, (name, meta.get("version", "?"), protocol, verdict)


def main(argv):
    args = parse_args(argv)
    if not args.self_check and not os.access(args.proxy, os.X_OK):
        print("run.py: slotplane-proxy not found at %s (build it, or --proxy)" % args.proxy)
        return 2
    workload = load_workload()
    check_workload_keys(workload, 3)
    expected = load_expected()
    runs = selected_runs(args.only)
    tmp = tempfile.mkdtemp(prefix="slotplane-clients-")
    srv = None
    total_failures, rows, seen_all = 0, [], []
    try:
        srv = servers.Servers(None if args.self_check else args.proxy, seed=os.getpid())
        ports = {"standalone": srv.standalone_port, "proxy": srv.proxy_port}
        for name, protocol, client_argv in runs:
            run = (name, protocol)
            failures, seen, row = run_one(run, client_argv, ports,
                                          workload_for(workload, name, protocol), expected, tmp)
            total_failures += failures
            seen_all += [(run, e) for e in seen]
            rows.append(row)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            for f in os.listdir(tmp):
                shutil.copy(os.path.join(tmp, f), args.keep)
    except (RuntimeError, AssertionError) as e:
        print("run.py: setup failed: %s" % e)
        return 2
    finally:
        code = srv.stop() if srv is not None else 0
        shutil.rmtree(tmp, ignore_errors=True)
    if code not in (0, None):
        print("run.py: slotplane-proxy exited %s on SIGTERM" % code)
        return 2
    unseen = [e for e in expected if not any(e is s for _, s in seen_all)
              and any(e.get("client", n) == n and e.get("protocol", p) == p
                      for n, p, _ in runs)]
    for entry in unseen:
        print("note: expected difference %s/%s (%s) was not seen: if it is fixed, delete its "
              "entry in expected_differences.json" % (entry.get("client", "*"), entry["step"],
                                                     entry["reason"]))
    print("\nclient matrix: %d run(s), %d failing step(s), %d known difference(s)" % (
        len(rows), total_failures, len(seen_all)))
    for name, version, protocol, verdict in rows:
        print("  %-12s %-8s RESP%d  %s" % (name, version, protocol, verdict))
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
