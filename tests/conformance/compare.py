"""Deciding whether two replies to the same command are the same.

Replies are compared byte for byte first. Only when the bytes differ is one of these applied, in
this order (README.md lists them with the reasons):

1. NORMALIZATIONS (Redis leaves the order or the exact value unspecified; the same on any two
   standalone servers):
   - order-free collections sorted: KEYS, SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS, HGETALL
     (field/value pairs), SPOP/SRANDMEMBER/HRANDFIELD/ZRANDMEMBER with a positive count (the whole
     collection here: the generator's count exceeds any collection it builds), the element list of
     HSCAN/SSCAN/ZSCAN (with COUNT 1000, one call returns everything);
   - random picks compared by shape only: RANDOMKEY and SRANDMEMBER/HRANDFIELD/ZRANDMEMBER without
     a count (nil or not), with a negative count (number of elements);
   - clock-dependent integers within a tolerance: TTL, EXPIRETIME (5 s), PTTL, PEXPIRETIME
     (5000 ms), when both are >= 0 (generous for a loaded or sanitized build; every relative
     TTL generated is >= 100000 s);
   - INFO: only the keyspace section is generated; its avg_ttl values are dropped (an average over
     expiring keys sampled at a different moment on each node);
   - EXEC: element by element, each with its queued command's rule.
   SCAN is not compared call by call: the runner walks the whole cursor loop on each side and
   compares the sorted set of keys (the "SCAN-ALL" pseudo-command).
2. ALLOWED (what a cluster cannot do): a read-only command whose keys span several slots and
   that the proxy does not split (SINTER, SUNION, SDIFF, PFCOUNT) answers -CROSSSLOT through the
   proxy; COMMAND COUNT is one more through the proxy (its own PROXY command is in its table).
3. KNOWN_DIFFERENCES: real differences found by the tester that are not fixed yet. Each has an id,
   the reproduction and a narrow matcher; a match is reported but does not fail the run, so CI
   stays green until it is fixed (then the entry is deleted; the run prints entries never seen).
"""

import keyslot
import resp
from generator import command_name

SORT_ELEMENTS = {"KEYS", "SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "COMMAND|LIST"}
SCAN_PAIRS = {"HSCAN", "ZSCAN"}
RANDOM_WITH_COUNT = {"SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"}
RANDOM_SINGLE = {"RANDOMKEY", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"}
TOLERANCE = {"TTL": 5, "EXPIRETIME": 5, "PTTL": 5000, "PEXPIRETIME": 5000}
CROSSSLOT_READS = {"SINTER", "SUNION", "SDIFF", "PFCOUNT"}


# Real differences between slotplane and Redis that the tester found and that are not fixed.
# Each entry: id, what differs (with a minimal reproduction), and match(cmd, standalone_node,
# proxy_node) -> bool, as narrow as possible.
KNOWN_DIFFERENCES = [
    {
        "id": "evalsha-in-multi",
        # EVALSHA queued in MULTI, of a script EVAL'd (or loaded) through the proxy on another
        # master only: the proxy's script cache (dataplane/core/script_cache.h) loads a script on
        # a master that answers NOSCRIPT and sends the EVALSHA again, but a transaction cannot be
        # sent again (its other commands ran), so inside EXEC the node's NOSCRIPT stays. Minimal
        # sequence (seed 20261208, sequence 14088; regressions/evalsha-in-multi-resp2.json):
        #   EVAL_RO "return redis.call('GET', KEYS[1])" 1 k:967823398
        #   MULTI | EVALSHA d3c21d0c2b9ca22f82737626a27bcaf5d288f99f 1 {g807476552}:a | EXEC
        #   standalone: *1 $-1    slotplane: *1 -NOSCRIPT No matching script. Please use EVAL.
        # Outside MULTI, EVALSHA matches Redis (the cache fixed script-cache-per-master).
        "in_exec": True,
        "match": lambda cmd, a, b: (cmd[0].upper() in ("EVALSHA", "EVALSHA_RO") and b[0] == "-"
                                    and b[1].startswith(b"NOSCRIPT")),
    },
    {
        "id": "script-exists-after-eval-in-multi",
        # An EVAL queued in MULTI runs on its slot's master when EXEC runs; the proxy's script
        # cache learns only the EVALs it runs itself (and SCRIPT LOAD), so SCRIPT EXISTS of that
        # script answers 0 unless every master has it. (Learning it at queue time would be wrong
        # after DISCARD; at EXEC time is not done yet.) Minimal sequence (seed 20261208, sequence
        # 18429; regressions/eval-in-multi-script-exists-resp2.json):
        #   MULTI | EVAL "return redis.call('LRANGE', KEYS[1], 0, -1)" 1 {g332322822}:b | EXEC
        #   SCRIPT EXISTS 08a8f392fa2afa779bfae927f77d2bb399eb43a3 <40 zeros>
        #   standalone: *2 :1 :0    slotplane: *2 :0 :0
        "match": lambda cmd, a, b: (
            cmd[0].upper() == "SCRIPT" and len(cmd) > 1 and cmd[1].upper() == "EXISTS"
            and a[0] == b[0] == "*" and len(a[1]) == len(b[1])
            and all(y[1] <= x[1] for x, y in zip(a[1], b[1]))),
    },
]


def _key(node):
    return resp.encode(node)


def _sorted(items):
    return sorted(items, key=lambda n: _key(n) if isinstance(n, tuple) and isinstance(n[0], str)
                  else _key(n[0]) + _key(n[1]))


def _sort_pairs(node):
    kind, value = node
    if kind == "%":
        return (kind, _sorted(value))
    if value and all(item[0] == "*" for item in value):  # RESP3: a list of [field, value]
        return (kind, _sorted(value))
    pairs = [(value[i], value[i + 1]) for i in range(0, len(value) - 1, 2)]
    flat = []
    for a, b in _sorted(pairs):
        flat += [a, b]
    return (kind, flat)


def _count_arg(cmd):
    if len(cmd) < 3:
        return None
    try:
        return int(cmd[2])
    except ValueError:
        return None


def normalize(cmd, node):
    """The canonical form of a reply to cmd (a node; or a tuple tag for shape-only compares)."""
    if cmd[0] == "INLINE":
        cmd = cmd[1:]
    kind, value = node
    if kind in ("-", "!") or value is None or kind == "|+":
        return node
    name = command_name(cmd)
    if name in SORT_ELEMENTS and isinstance(value, list):
        return (kind, _sorted(value)) if kind != "%" else _sort_pairs(node)
    if name == "HGETALL" and isinstance(value, list):
        return _sort_pairs(node)
    if name in ("SSCAN",) + tuple(SCAN_PAIRS) and kind == "*" and len(value) == 2:
        inner = value[1]
        if isinstance(inner[1], list):
            inner = _sort_pairs(inner) if name in SCAN_PAIRS else (inner[0], _sorted(inner[1]))
        return (kind, [value[0], inner])
    if name in RANDOM_WITH_COUNT and _count_arg(cmd) is not None and isinstance(value, list):
        count = _count_arg(cmd)
        if count < 0:
            return ("shape", kind, len(value))
        paired = len(cmd) > 3 and cmd[3].upper() in ("WITHVALUES", "WITHSCORES")
        return _sort_pairs(node) if paired else (kind, _sorted(value))
    if name in RANDOM_SINGLE and len(cmd) == (1 if name == "RANDOMKEY" else 2):
        return ("shape", kind)
    if name == "DUMP" and kind == "$":
        # The serialized form of a hashtable-encoded set or hash follows the dict's order, which
        # depends on each server's random hash seed: compared by length only.
        return ("shape", kind, len(value))
    if name == "INFO" and isinstance(value, bytes):
        lines = []
        for line in value.split(b"\r\n"):
            if line.startswith(b"db"):
                line = b",".join(p for p in line.split(b",") if not p.startswith(b"avg_ttl="))
            lines.append(line)
        return (kind, b"\r\n".join(lines))
    return node


def _within_tolerance(cmd, a, b):
    if cmd[0] == "INLINE":
        cmd = cmd[1:]
    tol = TOLERANCE.get(command_name(cmd))
    return (tol is not None and a[0] == ":" and b[0] == ":" and a[1] >= 0 and b[1] >= 0
            and abs(a[1] - b[1]) <= tol)


def same_node(cmd, a, b, queued=None):
    """True when two parsed replies to cmd are equal after cmd's normalization."""
    if a == b:
        return True
    if command_name(cmd) == "EXEC" and queued is not None:
        return False  # element by element in _node_verdict
    if _within_tolerance(cmd, a, b):
        return True
    return normalize(cmd, a) == normalize(cmd, b)


def allowed_difference(cmd, a, b):
    """The name of the ALLOWED rule that covers this difference, or None."""
    name = command_name(cmd)
    if name in CROSSSLOT_READS and b[0] == "-" and b[1].startswith(b"CROSSSLOT") \
            and not keyslot.same_slot(cmd[1:]):
        return "crossslot-read"
    if name == "COMMAND|COUNT" and a[0] == b[0] == ":" and b[1] == a[1] + 1:
        return "proxy-command"
    return None


def known_difference(cmd, a, b, in_exec=False):
    """The id of the KNOWN_DIFFERENCES entry that explains a != b; an entry marked in_exec
    explains only an element of an EXEC reply."""
    for entry in KNOWN_DIFFERENCES:
        if entry.get("in_exec") and not in_exec:
            continue
        if entry["match"](cmd, a, b):
            return entry["id"]
    return None


def verdict(cmd, a, b, queued=None):
    """('same'|'allowed'|'known'|'diff', rule id or None). a, b: (raw, node) of the standalone
    server and of the proxy; queued: for EXEC, the commands queued since MULTI."""
    if a[0] == b[0]:
        return "same", None
    return _node_verdict(cmd, a[1], b[1], queued)


def _node_verdict(cmd, a, b, queued=None, in_exec=False):
    if same_node(cmd, a, b, queued):
        return "same", "normalized"
    if command_name(cmd) == "EXEC" and queued is not None and a[0] == b[0] == "*" \
            and isinstance(a[1], list) and isinstance(b[1], list) \
            and len(a[1]) == len(b[1]) == len(queued):
        worst = ("same", "normalized")
        for q, x, y in zip(queued, a[1], b[1]):
            v = _node_verdict(q, x, y, in_exec=True)
            if v[0] == "diff":
                return v
            if v[0] != "same":
                worst = v
        return worst
    rule = allowed_difference(cmd, a, b)
    if rule:
        return "allowed", rule
    known = known_difference(cmd, a, b, in_exec)
    if known:
        return "known", known
    return "diff", None
