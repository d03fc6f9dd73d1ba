#!/usr/bin/python3
"""The client matrix's redis-py runner (Debian's python3-redis; run it with /usr/bin/python3).

  redis_py_client.py HOST PORT PROTOCOL WORKLOAD OUT

Runs every step of the expanded workload (run.py writes it) with redis-py's own API — generic
commands through execute_command (so redis-py's reply callbacks apply), pipeline(),
pipeline(transaction=True), pubsub(), a blocking command on a second connection, scan_iter(),
register_script(), pipeline().watch() — and writes
{"client", "version", "protocol", "results": {step id: value}} as JSON. python3-redis 4.3.4
speaks RESP2 only (protocol=3 came in redis-py 5.0): PROTOCOL must be 2.
"""

import json
import sys
import threading
import time

import redis

DEADLINE = 30.0  # seconds for any wait inside a step


def plain(value):
    """A reply as JSON: errors as {"error": text}, sets sorted, dicts as ordered pairs."""
    if isinstance(value, Exception):
        return {"error": str(value), "type": type(value).__name__}
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((plain(v) for v in value), key=json.dumps)}
    if isinstance(value, dict):
        return {"map": [[plain(k), plain(v)] for k, v in value.items()]}
    return value


def call(r, args):
    try:
        return plain(r.execute_command(*args))
    except redis.RedisError as e:
        return plain(e)


def blocked_clients(r):
    info = r.execute_command("INFO", "clients")
    return int(info.get("blocked_clients", 0))


def run_pubsub(r, step):
    """SUBSCRIBE (or PSUBSCRIBE with "pattern") on a second connection, PUBLISH, the message."""
    sub = r.pubsub()
    pattern = step.get("pattern")
    out = {}
    try:
        if pattern:
            sub.psubscribe(pattern)
        else:
            sub.subscribe(step["channel"])
        out["subscribe"] = plain(sub.get_message(timeout=DEADLINE))
        out["publish"] = r.publish(step["channel"], step["message"])
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            msg = sub.get_message(timeout=1.0)
            if msg is not None:
                out["message"] = plain(msg)
                break
        else:
            out["message"] = {"timeout": "no message within %ds" % DEADLINE}
        if pattern:
            sub.punsubscribe(pattern)
        else:
            sub.unsubscribe(step["channel"])
        out["unsubscribe"] = plain(sub.get_message(timeout=DEADLINE))
    finally:
        sub.close()
    return out


def run_blocking(r, host, port, step):
    """The blocking command on a second connection, served by step["push"] from the first once
    INFO shows a blocked client."""
    result = {}
    blocker = redis.Redis(host=host, port=port, socket_timeout=DEADLINE + 10)

    def block():
        try:
            result["blocked-reply"] = plain(blocker.execute_command(*step["block"]))
        except redis.RedisError as e:
            result["blocked-reply"] = plain(e)

    thread = threading.Thread(target=block)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while blocked_clients(r) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    result["blocked"] = blocked_clients(r) >= 1
    result["push"] = call(r, step["push"])
    thread.join(DEADLINE + 15)
    blocker.close()
    if thread.is_alive() or not result["blocked"]:
        result["error"] = "the command did not block, or did not return"
    return result


def run_script(r, step):
    """register_script: EVALSHA, and EVAL when the server answers NOSCRIPT."""
    script = r.register_script(step["script"])
    out = []
    for key, arg in step["calls"]:
        try:
            out.append(plain(script(keys=[key], args=[arg])))
        except redis.RedisError as e:
            out.append(plain(e))
    return out


def run_watch(r, step):
    """WATCH, GET, (a write by another connection), MULTI, SET, GET, EXEC."""
    key = step["key"]
    out = {}
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            out["get"] = plain(pipe.get(key))
            if step["conflict"]:
                out["other"] = call(r, ["SET", key, "from another connection"])
            pipe.multi()
            pipe.set(key, "from the transaction")
            pipe.get(key)
            out["exec"] = plain(pipe.execute())
            out["aborted"] = False
        except redis.WatchError as e:
            out["exec"] = plain(e)
            out["aborted"] = True
    return out


def run_step(r, host, port, step):
    kind = step["kind"]
    if kind == "cmd":
        return call(r, step["cmd"])
    if kind in ("pipeline", "multi"):
        pipe = r.pipeline(transaction=(kind == "multi"))
        for sub in step["cmds"]:
            pipe.execute_command(*sub["cmd"])
        try:
            return plain(pipe.execute(raise_on_error=False))
        except redis.RedisError as e:
            return plain(e)
    if kind == "pubsub":
        return run_pubsub(r, step)
    if kind == "blocking":
        return run_blocking(r, host, port, step)
    if kind == "script":
        return run_script(r, step)
    if kind == "watch":
        return run_watch(r, step)
    if kind == "scan":
        keys = r.scan_iter(match=step.get("match"), count=step.get("count"))
        return sorted(plain(list(keys)))
    raise ValueError("unknown step kind %s" % kind)


def main(argv):
    host, port, protocol, workload_path, out_path = argv
    if protocol != "2":
        raise SystemExit("redis-py %s speaks RESP2 only" % redis.__version__)
    with open(workload_path) as f:
        workload = json.load(f)
    r = redis.Redis(host=host, port=int(port), socket_timeout=DEADLINE + 10)
    results = {}
    for step in workload["steps"]:
        results[step["id"]] = run_step(r, host, int(port), step)
    r.close()
    with open(out_path, "w") as f:
        json.dump({"client": "redis-py", "version": redis.__version__, "protocol": 2,
                   "results": results}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
