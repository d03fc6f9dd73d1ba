#!/usr/bin/env python3
"""Checks of the client matrix's own parts, without a server or a client library: the workload
expands and keeps its placement claims, the normalizations, the comparison (a difference fails,
a known one limited to its field does not, an identical failure of a must-succeed step fails,
a WATCH step must abort exactly when it says) and the per-run step selection.
CTest client_matrix_selftest, label unit. Exit code 0 when every check passes.
"""

import contextlib
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run  # noqa: E402


def quietly(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = fn(*args)
    return result, out.getvalue()


def check_workload():
    workload = run.load_workload()
    run.check_workload_keys(workload, 3)
    steps = {s["id"]: s for s in workload["steps"]}
    assert len(steps) == len(workload["steps"]), "step ids are unique"
    mset = steps["mset-spread"]["cmd"]
    assert mset[:3] == ["MSET", "cm:spread:0", "value-0"] and len(mset) == 1 + 2 * 48, mset[:3]
    sha = steps["evalsha-loaded"]["cmd"][1]
    assert len(sha) == 40 and all(c in "0123456789abcdef" for c in sha), sha
    assert len(steps["big-set"]["cmd"][2]) == 16 * 16384
    for kind in ("cmd", "pipeline", "multi", "watch", "script", "pubsub", "subscribed-commands",
                 "blocking", "scan"):
        assert any(s["kind"] == kind for s in workload["steps"]), "no %s step" % kind
    return workload


def check_normalize():
    assert run.normalize(["b", "a"], "sorted") == ["a", "b"]
    cli = {"lines": ['1) "b"', '2) "a"'], "rc": 0}
    assert run.normalize(cli, "sorted")["lines"] == ['"a"', '"b"']
    assert run.normalize({"lines": ['1~ "z"', '2~ "y"']}, "sorted")["lines"] == ['"y"', '"z"']
    assert run.normalize(99999, "ttl") == "present"
    assert run.normalize(-1, "ttl") == -1 and run.normalize(-2, "ttl") == -2
    assert run.normalize({"lines": ["(integer) 12"]}, "ttl")["lines"] == ["(integer) present"]
    assert run.normalize({"lines": ["(integer) -1"]}, "ttl")["lines"] == ["(integer) -1"]
    big = run.normalize("x" * 1000, "sha1")
    assert big["length"] == 1002 and big != run.normalize("x" * 999 + "y", "sha1")


def check_compare(workload):
    steps = [{"id": "get", "kind": "cmd", "cmd": ["GET", "k"]},
             {"id": "psubscribe", "kind": "pubsub", "pattern": "p*", "channel": "pc",
              "message": "m"},
             {"id": "blpop", "kind": "blocking", "block": ["BLPOP", "q", "30"],
              "push": ["RPUSH", "q", "v"]},
             {"id": "watch", "kind": "watch", "key": "w", "conflict": True}]
    small = dict(workload, steps=steps)
    expected = [{"step": "psubscribe", "field": "publish", "reason": "r", "pointer": "p"}]
    good = {"get": "v", "psubscribe": {"publish": 1, "message": ["p*", "pc", "m"]},
            "blpop": {"blocked": True, "blocked-reply": ["q", "v"]},
            "watch": {"exec": None, "aborted": True}}
    run_id = ("redis-py", 2)

    def compare(proxy, standalone=None):
        sides = {"standalone": standalone or good, "proxy": proxy}
        return quietly(run.compare_run, run_id, small, sides, expected)[0]

    assert compare(dict(good)) == (0, [])
    failures, seen = compare(dict(good, psubscribe={"publish": 0,
                                                    "message": ["p*", "pc", "m"]}))
    assert failures == 0 and len(seen) == 1, "a known difference in its field"
    failures, _ = compare(dict(good, psubscribe={"publish": 0, "message": None}))
    assert failures == 1, "a known difference does not cover the other fields"
    assert compare(dict(good, get="other"))[0] == 1, "a plain difference fails"
    assert compare(dict(good, get=None))[0] == 1, "a missing value is a difference"
    missing = {k: v for k, v in good.items() if k != "get"}
    assert compare(missing)[0] == 1, "a step without a result fails"
    failed = dict(good, blpop={"blocked": False, "error": "did not block"})
    assert compare(failed, failed)[0] == 2, "an identical failure of a must-succeed step fails"
    ran = dict(good, watch={"exec": ["OK"], "aborted": False})
    assert compare(ran, ran)[0] == 2, "a WATCH step that should abort but ran fails"


def check_selection(workload):
    resp2, _ = quietly(run.workload_for, workload, "node-redis5", 2)
    resp3, _ = quietly(run.workload_for, workload, "node-redis5", 3)
    cli3, printed = quietly(run.workload_for, workload, "redis-cli", 3)
    only3 = [s["id"] for s in workload["steps"] if s.get("protocols") == [3]]
    assert only3 and not any(s["id"] in only3 for s in resp2["steps"])
    assert all(any(s["id"] == i for s in resp3["steps"]) for i in only3)
    assert not any(s["id"] in only3 for s in cli3["steps"]) and "does not run step" in printed
    assert [r[:2] for r in run.selected_runs("redis-cli/3,redis-py")] == [
        ("redis-py", 2), ("redis-cli", 3)]


def main():
    workload = check_workload()
    check_normalize()
    check_compare(workload)
    check_selection(workload)
    print("client matrix selftest: ok")


if __name__ == "__main__":
    main()
