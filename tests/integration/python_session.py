#!/usr/bin/python3
"""Runs one session of mixed commands with redis-py (Debian's python3-redis) against a
slotplane-proxy and against a single standalone redis-server, and compares every result.

Usage: python_session.py PROXY_PORT REDIS_PORT
Exit code 0 when both gave the same results; otherwise each difference is printed and the exit
code is 1. Both servers are flushed first; nothing else may use them meanwhile. Run it with
/usr/bin/python3: it needs the Debian package, not a virtualenv.
"""

import random
import sys

import redis


def session(r):
    """Yields (label, result) pairs; results must not depend on which server answered."""
    rng = random.Random(7)
    yield "flushall", r.flushall()
    yield "ping", r.ping()
    yield "echo", r.echo("hello\r\nworld")

    # Strings, counters, binary values, expiry.
    for i in range(200):
        r.set("str:%d" % i, "value-%d" % i)
    yield "get", [r.get("str:%d" % i) for i in range(0, 200, 7)]
    yield "mget", r.mget(["str:%d" % i for i in range(0, 200, 3)] + ["missing"])
    yield "mset", r.mset({"m:%d" % i: i for i in range(100)})
    yield "mget-mset", r.mget(["m:%d" % i for i in range(100)])
    yield "incr", [r.incr("counter") for _ in range(10)]
    yield "incrby", r.incrby("counter", 32)
    yield "incrbyfloat", r.incrbyfloat("float", 1.5)
    binary = bytes(range(256))
    yield "set-binary", r.set(b"bin\x00\xff", binary)
    yield "get-binary", r.get(b"bin\x00\xff") == binary
    yield "setex", r.setex("ttl:a", 1000, "x")
    yield "ttl", 990 <= r.ttl("ttl:a") <= 1000
    yield "persist", r.persist("ttl:a")
    yield "ttl-after-persist", r.ttl("ttl:a")
    yield "append", r.append("str:1", "-more")
    yield "getrange", r.getrange("str:1", 0, 4)
    yield "strlen", r.strlen("str:1")
    yield "setnx", [r.setnx("str:2", "no"), r.setnx("fresh", "yes")]
    yield "getdel", r.getdel("fresh")

    # Hashes, lists, sets, sorted sets.
    yield "hset", r.hset("h", mapping={"f%d" % i: i for i in range(20)})
    yield "hgetall", r.hgetall("h")
    yield "hincrby", r.hincrby("h", "f3", 10)
    yield "hmget", r.hmget("h", ["f1", "f3", "nope"])
    yield "rpush", r.rpush("l", *range(30))
    yield "lrange", r.lrange("l", 5, 15)
    yield "lpop", r.lpop("l", 3)
    yield "llen", r.llen("l")
    yield "sadd", r.sadd("s", *["m%d" % i for i in range(25)])
    yield "smembers", sorted(r.smembers("s"))
    yield "sismember", [r.sismember("s", "m3"), r.sismember("s", "zz")]
    yield "zadd", r.zadd("z", {"a": 1, "b": 2.5, "c": -1, "d": 10})
    yield "zrange", r.zrange("z", 0, -1, withscores=True)
    yield "zincrby", r.zincrby("z", 5, "a")
    yield "zrangebyscore", r.zrangebyscore("z", 0, 7)
    yield "type", [r.type(k) for k in ("str:0", "h", "l", "s", "z", "nope")]

    # Pipelines (no transaction): replies in order, across shards.
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        key = "p:%d" % rng.randrange(60)
        op = rng.randrange(4)
        if op == 0:
            pipe.set(key, i)
        elif op == 1:
            pipe.get(key)
        elif op == 2:
            pipe.incr("pc:%d" % rng.randrange(10))
        else:
            pipe.delete(key)
    yield "pipeline", pipe.execute()

    # Keyspace-wide commands.
    yield "dbsize", r.dbsize()
    yield "keys", sorted(r.keys("str:1*"))
    yield "scan_iter", sorted(r.scan_iter(match="m:*", count=10))
    yield "scan_iter-type", sorted(r.scan_iter(_type="hash"))
    yield "exists", r.exists(*["str:%d" % i for i in range(50)], "nope", "h")
    yield "delete", r.delete(*["m:%d" % i for i in range(0, 100, 2)])
    yield "unlink", r.unlink(*["m:%d" % i for i in range(1, 100, 4)])
    yield "touch", r.touch("str:3", "str:4", "nope")
    yield "dbsize-after", r.dbsize()
    yield "randomkey", r.randomkey() is not None
    yield "rename", r.rename("{t}a", "{t}b") if r.set("{t}a", 1) else None
    yield "get-renamed", r.get("{t}b")

    # Scripts.
    sha = r.script_load("return redis.call('GET', KEYS[1])")
    yield "script_load", sha
    yield "script_exists", r.script_exists(sha, "0" * 40)
    yield "evalsha", r.evalsha(sha, 1, "str:5")
    yield "eval", r.eval("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}", 1, "ectr", "x")
    script = r.register_script("return redis.call('SET', KEYS[1], ARGV[1])")
    yield "register_script", script(keys=["scripted"], args=["v"])
    yield "get-scripted", r.get("scripted")
    yield "script_flush", r.script_flush()
    yield "script_exists-after", r.script_exists(sha)

    # Server and connection commands client libraries use.
    info = r.info()
    yield "info-mode", info["redis_mode"]
    yield "info-keys", info.get("db0", {}).get("keys")
    yield "info-server", sorted(k for k in ("redis_version", "os", "process_id", "tcp_port")
                                if k in r.info("server"))
    yield "config_get", r.config_get("maxmemory-policy")
    yield "client_setname", r.client_setname("py-session")
    yield "client_getname", r.client_getname()
    yield "client_id", isinstance(r.client_id(), int)
    yield "time", len(r.time())
    yield "lastsave", r.lastsave() is not None
    yield "memory_usage", r.memory_usage("str:7") is not None
    yield "object", r.object("encoding", "l")
    yield "flushdb", r.flushdb()
    yield "dbsize-empty", r.dbsize()
    yield "randomkey-empty", r.randomkey()


def run(port):
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    results = []
    for label, value in session(r):
        results.append((label, value))
    r.close()
    return results


def main(argv):
    proxy_port, redis_port = int(argv[1]), int(argv[2])
    try:
        through_proxy = run(proxy_port)
    except redis.RedisError as err:
        print("through the proxy: %r" % err)
        return 1
    direct = run(redis_port)
    differences = 0
    for (label, got), (_, want) in zip(through_proxy, direct):
        if got != want:
            differences += 1
            print("%s: proxy gave %r, redis-server gave %r" % (label, got, want))
    print("%d steps, %d differences" % (len(direct), differences))
    return 0 if differences == 0 and len(through_proxy) == len(direct) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
