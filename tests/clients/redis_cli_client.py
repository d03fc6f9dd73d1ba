#!/usr/bin/env python3
"""The client matrix's redis-cli runner (Debian's redis-tools): every step of the expanded
workload run by `redis-cli [-3] --no-raw`, its formatted output recorded line by line.

  redis_cli_client.py HOST PORT PROTOCOL WORKLOAD OUT

- cmd: one `redis-cli ... ARGS` process per step (its output shows each reply's RESP type:
  `(integer)`, `(double)`, `1# "f" => "v"` for a RESP3 map, `(error)`, `(nil)`);
- pipeline, multi: the commands as lines on one redis-cli's standard input (one connection; the
  transaction between MULTI and EXEC);
- pubsub: `redis-cli SUBSCRIBE` (or `PSUBSCRIBE`) in the background, read until its
  confirmation, then `PUBLISH` from another redis-cli, then read the message;
- blocking: the blocking command by a background redis-cli, `INFO clients` polled until it is
  blocked, then the push from another redis-cli;
- scan: `redis-cli --scan [--pattern P]`, keys sorted;
- script: what a script helper does: `EVALSHA`, then `EVAL` when it answers `NOSCRIPT`;
- watch: one redis-cli fed line by line (WATCH, GET; another redis-cli's write; MULTI ... EXEC).
Writes {"client", "version", "protocol", "results": {step id: value}} as JSON. Every wait is
bounded (DEADLINE seconds); background redis-cli processes are this script's children, stopped
by their pid.
"""

import hashlib
import json
import os
import re
import select
import subprocess
import sys
import time

DEADLINE = 30.0


def quote(arg):
    """One argument for redis-cli's line reader (sdssplitargs): double-quoted, escaped."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Cli:
    def __init__(self, host, port, protocol):
        self.base = ["redis-cli", "-h", host, "-p", str(port), "--no-raw"]
        if protocol == 3:
            self.base.append("-3")

    def run(self, args, stdin_text=None):
        if args and len(args[-1]) > 65536:  # beyond what one argv string may hold: -x, stdin
            args, stdin_text = ["-x"] + args[:-1], args[-1]
        proc = subprocess.run(self.base + args, input=(stdin_text or "").encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=DEADLINE)
        return {"lines": proc.stdout.decode("utf-8", "backslashreplace").splitlines(),
                "rc": proc.returncode}

    def lines_of(self, cmds):
        return "".join(" ".join(quote(a) for a in cmd) + "\n" for cmd in cmds)

    def background(self, args):
        return subprocess.Popen(self.base + args, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def read_lines(proc, count, deadline):
    """Reads `count` lines of a background redis-cli's output, or fewer when the deadline
    passes (then a last line says so)."""
    lines, buf = [], b""
    fd = proc.stdout.fileno()
    while len(lines) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            lines.append("<timeout waiting for output>")
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            lines.append("<redis-cli exited>")
            break
        buf += chunk
        while b"\n" in buf and len(lines) < count:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode("utf-8", "backslashreplace"))
    return lines


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    proc.stdout.close()


def blocked_clients(cli):
    out = cli.run(["INFO", "clients"])["lines"]
    for line in out:
        match = re.match(r"blocked_clients:(\d+)", line.strip())
        if match:
            return int(match.group(1))
    return 0


def run_pubsub(cli, step):
    pattern = step.get("pattern")
    sub = cli.background(["PSUBSCRIBE", pattern] if pattern else ["SUBSCRIBE", step["channel"]])
    try:
        deadline = time.monotonic() + DEADLINE
        # "Reading messages... (press Ctrl-C to quit)" and the 3 lines of the confirmation
        confirmation = read_lines(sub, 4, deadline)
        publish = cli.run(["PUBLISH", step["channel"], step["message"]])
        message = read_lines(sub, 4 if pattern else 3, deadline)
    finally:
        stop(sub)
    out = {"subscribe": confirmation, "publish": publish, "message": message}
    if any(line.startswith("<") for line in confirmation + message):
        out["error"] = "the subscriber's output did not arrive"
    return out


def run_blocking(cli, step):
    blocker = cli.background(step["block"])
    try:
        deadline = time.monotonic() + DEADLINE
        while blocked_clients(cli) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        out = {"blocked": blocked_clients(cli) >= 1}
        out["push"] = cli.run(step["push"])
        output, _ = blocker.communicate(timeout=DEADLINE)
        out["blocked-reply"] = output.decode("utf-8", "backslashreplace").splitlines()
    finally:
        stop(blocker)
    if not out["blocked"]:
        out["error"] = "the command did not block"
    return out


def run_script(cli, step):
    """What a client's script helper does: EVALSHA, and EVAL when the answer is NOSCRIPT."""
    sha = hashlib.sha1(step["script"].encode()).hexdigest()
    out = []
    for key, arg in step["calls"]:
        reply = cli.run(["EVALSHA", sha, "1", key, arg])
        if reply["lines"] and reply["lines"][0].startswith("(error) NOSCRIPT"):
            reply = cli.run(["EVAL", step["script"], "1", key, arg])
        out.append(reply)
    return out


def run_watch(cli, step):
    """One redis-cli fed line by line: WATCH, GET, (a write by another redis-cli), MULTI, SET,
    GET, EXEC."""
    key = step["key"]
    proc = subprocess.Popen(cli.base, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + DEADLINE
        proc.stdin.write(cli.lines_of([["WATCH", key], ["GET", key]]).encode())
        proc.stdin.flush()
        out = {"watch-get": read_lines(proc, 2, deadline)}
        if step["conflict"]:
            out["other"] = cli.run(["SET", key, "from another connection"])
        proc.stdin.write(cli.lines_of([["MULTI"], ["SET", key, "from the transaction"],
                                       ["GET", key], ["EXEC"]]).encode())
        proc.stdin.close()
        output = proc.stdout.read().decode("utf-8", "backslashreplace").splitlines()
        proc.wait(timeout=DEADLINE)
    finally:
        stop(proc)
    out["transaction"] = output
    out["aborted"] = output[3:] == ["(nil)"]  # after MULTI's OK and two QUEUED: EXEC's reply
    return out


def run_step(cli, step):
    kind = step["kind"]
    if kind == "cmd":
        return cli.run(step["cmd"])
    if kind == "pipeline":
        return cli.run([], cli.lines_of(s["cmd"] for s in step["cmds"]))
    if kind == "multi":
        cmds = [["MULTI"]] + [s["cmd"] for s in step["cmds"]] + [["EXEC"]]
        return cli.run([], cli.lines_of(cmds))
    if kind == "pubsub":
        return run_pubsub(cli, step)
    if kind == "blocking":
        return run_blocking(cli, step)
    if kind == "script":
        return run_script(cli, step)
    if kind == "watch":
        return run_watch(cli, step)
    if kind == "scan":
        args = ["--scan"] + (["--pattern", step["match"]] if step.get("match") else [])
        out = cli.run(args)
        out["lines"].sort()
        return out
    raise ValueError("unknown step kind %s" % kind)


def main(argv):
    host, port, protocol, workload_path, out_path = argv
    cli = Cli(host, int(port), int(protocol))
    version = subprocess.run(["redis-cli", "--version"], stdout=subprocess.PIPE,
                             timeout=DEADLINE).stdout.decode().split()[1]
    with open(workload_path) as f:
        workload = json.load(f)
    results = {}
    for step in workload["steps"]:
        results[step["id"]] = run_step(cli, step)
    with open(out_path, "w") as f:
        json.dump({"client": "redis-cli", "version": version, "protocol": int(protocol),
                   "results": results}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
