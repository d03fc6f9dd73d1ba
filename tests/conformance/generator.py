"""Random command sequences, reproducible from a seed.

A sequence is a list of steps; a step is a list of commands sent together (one command: not
pipelined; several: pipelined, replies read after all were written). A command is a list of str
arguments (latin-1, so any byte value survives JSON and the socket).

Keys: every sequence draws its own key names (random suffixes, so the keys land in slots all over
the keyspace and on every master) in two kinds:
- plain keys ("k:<n>"), spread over all slots, used by single-key commands and by the multi-key
  commands the proxy splits per slot (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH);
- hash-tagged groups ("{g<n>}:a", "{g<n>}:b", ...), each group in one slot, used by every other
  multi-key command, MULTI blocks, scripts and WATCH.
Each key is used by commands of every type, so wrong-type errors come up naturally.

Nothing generated depends on the clock or on randomness inside Redis, except replies normalized
by compare.py (TTL-like values within a tolerance, random members compared by length or as sorted
whole sets). Expiry uses large relative TTLs, fixed absolute timestamps (far future or past: a past
one deletes at once on both sides) and zero/negative TTLs (delete at once); never a short TTL that
could expire between the two sides' commands.
"""

import random

# Absolute expiry times: fixed, so EXPIRETIME replies are exact.
FUTURE_S = "4102444800"  # 2100-01-01
FUTURE_MS = "4102444800123"
FUTURE2_S = "4133980800"  # 2101-01-01
FUTURE2_MS = "4133980800456"
PAST_S = "1000000000"
BIG_TTL_S = ("100000", "200000", "5000000")
BIG_TTL_MS = ("100000000", "250000000")

# Blocking commands (timeout 0.01 s) among list and sorted-set commands: few, because an empty
# key blocks them for up to 100 ms (Redis checks timeouts at hz 10).
BLOCKING_SHARE = 0.02

SCRIPTS = [
    ("return redis.call('GET', KEYS[1])", 1, 0),
    ("return redis.call('SET', KEYS[1], ARGV[1])", 1, 1),
    ("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, 1),
    ("return redis.call('LRANGE', KEYS[1], 0, -1)", 1, 0),
    ("return redis.pcall('HGET', KEYS[1], 'f')", 1, 0),
    ("redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LLEN', KEYS[1])", 1, 1),
    ("redis.call('DEL', KEYS[1], KEYS[2]) return redis.call('EXISTS', KEYS[1], KEYS[2])", 2, 0),
    ("return {1, 2.5, 'x', {3, 'y'}, false, true, nil, 7}", 0, 0),
    ("return redis.error_reply('my error')", 0, 0),
    ("return redis.status_reply('FINE')", 0, 0),
    ("return redis.call('NOSUCHCOMMAND')", 0, 0),
    ("return tostring(tonumber(ARGV[1]) * 2)", 0, 1),
    ("return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", 1, 0),
    ("return redis.call('TYPE', KEYS[1])", 1, 0),
    ("return redis.call('HSET', KEYS[1], ARGV[1], ARGV[1])", 1, 1),
    ("return 3.99", 0, 0),
    ("error('raised')", 0, 0),
]

# A library loaded on both sides before the run (run.py), so FCALL has something to call.
FUNCTION_LIBRARY = (
    "#!lua name=conformance\n"
    "redis.register_function('cf_get', function(keys, args)"
    " return redis.call('GET', keys[1]) end)\n"
    "redis.register_function{function_name='cf_len', flags={'no-writes'},"
    " callback=function(keys, args) return redis.call('STRLEN', keys[1]) end}\n"
    "redis.register_function('cf_set', function(keys, args)"
    " return redis.call('SET', keys[1], args[1]) end)\n")

VALUES = ["0", "1", "2", "7", "-3", "10", "42", "1.5", "3e2", "a", "b", "hello", "x" * 70,
          "with space", "\x00\xff\r\n", "", "9223372036854775807", "-inf", "café"]
BIG_VALUE = "".join(chr(32 + i % 90) for i in range(200000))
MEMBERS = ["m0", "m1", "m2", "m3", "m4", "5", "6", "7", "x" * 70, "\x01\x02"]
SCORES = ["0", "1", "2.5", "-1", "100", "1e3", "-inf", "+inf", "3", "0.1"]
FIELDS = ["f0", "f1", "f2", "f3", "f", "x" * 70]

# Command names in error-provoking forms: wrong arity and unknown commands.
ARITY_PROBES = [["GET"], ["SET", "{k}"], ["HSET", "{k}", "f"], ["LPUSH", "{k}"],
                ["ZADD", "{k}", "1"], ["EXPIRE", "{k}"], ["SADD", "{k}"], ["XADD", "{k}", "1-1"],
                ["PFADD"], ["GEOADD", "{k}", "1"], ["INCRBY", "{k}"], ["LRANGE", "{k}", "0"],
                ["EXISTS"], ["DEL"], ["MGET"], ["MSET", "{k}"], ["EVAL"], ["ECHO"],
                ["PING", "a", "b"], ["TYPE"], ["RENAME", "{k}"], ["BITCOUNT", "{k}", "1"],
                ["OBJECT"], ["XGROUP"], ["GETEX"], ["SETRANGE", "{k}", "0"]]
UNKNOWN_PROBES = [["FOOBAR"], ["FOOBAR", "a", "b"], ["GETT", "{k}"], ["XYZZY", "1", "2", "3", "4"],
                  ["OBJECT", "NOSUCHSUB", "{k}"], ["XINFO", "NOSUCH"], ["SCRIPT", "NOSUCH"]]


ODD_KEYS = ["", "{}", "{}x", "a{b", "x{}{y}", "\x00bin\xff", "k:{"]

COMMAND_PROBES = ["get", "set", "mget", "eval", "xreadgroup", "nosuchcommand", "object|encoding",
                  "zadd", "blmpop", "sort"]
GETKEYS_PROBES = [["SET", "a", "b"], ["MSET", "a", "1", "b", "2"], ["EVAL", "return 1", "1", "k"],
                  ["ZUNIONSTORE", "d", "2", "a", "b"], ["GET"], ["PING"], ["NOSUCH", "x"]]


class SequenceGenerator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        r = self.rng
        self.plain = ["k:%d" % r.randrange(10 ** 9) for _ in range(6)]
        if r.random() < 0.3:  # an odd key name: empty, empty hash tag, unclosed tag, binary
            self.plain.append(r.choice(ODD_KEYS))
        self.groups = []
        for _ in range(2):
            tag = "g%d" % r.randrange(10 ** 9)
            self.groups.append(["{%s}:%s" % (tag, c) for c in "abcd"])
        self.stream_ids = {}
        self.loaded_scripts = []

    # ---- pickers -------------------------------------------------------------------------
    def key(self):
        r = self.rng
        if r.random() < 0.5:
            return r.choice(self.plain)
        return r.choice(r.choice(self.groups))

    def group(self):
        return self.rng.choice(self.groups)

    def same_slot_keys(self, n):
        g = self.group()
        return [self.rng.choice(g) for _ in range(n)]

    def any_keys(self, n):
        return [self.key() for _ in range(n)]

    def many(self):
        """How many keys a splittable multi-key command names: usually 1-5, sometimes 20-60
        (with repeats: split into many per-slot parts, duplicates across and within parts)."""
        return self.rng.randint(1, 5) if self.rng.random() < 0.95 else self.rng.randint(20, 60)

    def value(self):
        if self.rng.random() < 0.005:
            return BIG_VALUE  # larger than any socket buffer: replies and requests in pieces
        return self.rng.choice(VALUES)

    def member(self):
        return self.rng.choice(MEMBERS)

    def members(self, lo=1, hi=4):
        return [self.member() for _ in range(self.rng.randint(lo, hi))]

    def score(self):
        return self.rng.choice(SCORES)

    def field(self):
        return self.rng.choice(FIELDS)

    def small(self, lo=-3, hi=10):
        return str(self.rng.randint(lo, hi))

    def maybe(self, p, *args):
        return list(args) if self.rng.random() < p else []

    def pick(self, *options):
        return list(self.rng.choice(options))

    # ---- strings -------------------------------------------------------------------------
    def c_string(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["SET", k, self.value()] + self.pick([], ["EX", r.choice(BIG_TTL_S)],
                                                         ["PX", r.choice(BIG_TTL_MS)],
                                                         ["EXAT", FUTURE_S], ["PXAT", FUTURE_MS],
                                                         ["KEEPTTL"], ["EX", "0"])
            + self.pick([], [], ["NX"], ["XX"]) + self.maybe(0.2, "GET"),
            lambda: ["GET", k],
            lambda: ["GETSET", k, self.value()],
            lambda: ["GETDEL", k],
            lambda: ["GETEX", k] + self.pick([], ["EX", r.choice(BIG_TTL_S)], ["PERSIST"],
                                             ["EXAT", FUTURE_S], ["PXAT", PAST_S]),
            lambda: ["SETNX", k, self.value()],
            lambda: ["SETEX", k, r.choice(BIG_TTL_S), self.value()],
            lambda: ["PSETEX", k, r.choice(BIG_TTL_MS), self.value()],
            lambda: ["MSET"] + sum([[x, self.value()] for x in self.any_keys(self.many())], []),
            lambda: ["MGET"] + self.any_keys(self.many()),
            lambda: ["MSETNX"] + sum([[x, self.value()] for x in self.same_slot_keys(2)], []),
            lambda: ["APPEND", k, self.value()],
            lambda: ["STRLEN", k],
            lambda: ["INCR", k], lambda: ["DECR", k],
            lambda: ["INCRBY", k, self.small(-100, 100)],
            lambda: ["DECRBY", k, self.small()],
            lambda: ["INCRBYFLOAT", k, r.choice(["1.5", "-0.25", "1e2", "abc", "0"])],
            lambda: ["GETRANGE", k, self.small(), self.small(-5, 20)],
            lambda: ["SUBSTR", k, self.small(), self.small()],
            lambda: ["SETRANGE", k, self.small(0, 20), self.value()],
            lambda: ["LCS"] + self.same_slot_keys(2)
            + self.pick([], ["LEN"], ["IDX", "WITHMATCHLEN"]),
        ]
        return r.choice(choices)()

    # ---- lists ---------------------------------------------------------------------------
    def c_list(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: [r.choice(["LPUSH", "RPUSH"]), k] + self.members(),
            lambda: [r.choice(["LPUSHX", "RPUSHX"]), k] + self.members(1, 2),
            lambda: [r.choice(["LPOP", "RPOP"]), k] + self.maybe(0.5, self.small(0, 4)),
            lambda: ["LLEN", k],
            lambda: ["LRANGE", k, self.small(-5, 3), self.small(-3, 10)],
            lambda: ["LINDEX", k, self.small(-4, 5)],
            lambda: ["LSET", k, self.small(-3, 4), self.member()],
            lambda: ["LINSERT", k, r.choice(["BEFORE", "AFTER"]), self.member(), self.member()],
            lambda: ["LREM", k, self.small(-2, 2), self.member()],
            lambda: ["LTRIM", k, self.small(0, 3), self.small(-3, 8)],
            lambda: ["LPOS", k, self.member()] + self.maybe(0.4, "RANK", r.choice(["1", "-1", "2"]))
            + self.maybe(0.4, "COUNT", self.small(0, 3)),
            lambda: ["LMOVE"] + self.same_slot_keys(2) + [r.choice(["LEFT", "RIGHT"]),
                                                          r.choice(["LEFT", "RIGHT"])],
            lambda: ["RPOPLPUSH"] + self.same_slot_keys(2),
            lambda: ["LMPOP", "2"] + self.same_slot_keys(2) + [r.choice(["LEFT", "RIGHT"])]
            + self.maybe(0.5, "COUNT", self.small(1, 3)),
        ]
        if r.random() < BLOCKING_SHARE:
            return r.choice([[r.choice(["BLPOP", "BRPOP"])] + self.same_slot_keys(2) + ["0.01"],
                             ["BLMOVE"] + self.same_slot_keys(2) + ["LEFT", "RIGHT", "0.01"],
                             ["BRPOPLPUSH"] + self.same_slot_keys(2) + ["0.01"],
                             ["BLMPOP", "0.01", "2"] + self.same_slot_keys(2) + ["RIGHT"]])
        return r.choice(choices)()

    # ---- hashes --------------------------------------------------------------------------
    def c_hash(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["HSET", k]
            + sum([[self.field(), self.value()] for _ in range(r.randint(1, 3))], []),
            lambda: ["HMSET", k, self.field(), self.value()],
            lambda: ["HSETNX", k, self.field(), self.value()],
            lambda: ["HGET", k, self.field()],
            lambda: ["HMGET", k, self.field(), self.field()],
            lambda: ["HDEL", k, self.field(), self.field()],
            lambda: ["HLEN", k], lambda: ["HEXISTS", k, self.field()],
            lambda: ["HGETALL", k], lambda: ["HKEYS", k], lambda: ["HVALS", k],
            lambda: ["HINCRBY", k, self.field(), self.small()],
            lambda: ["HINCRBYFLOAT", k, self.field(), r.choice(["1.5", "-2", "x"])],
            lambda: ["HSTRLEN", k, self.field()],
            lambda: ["HRANDFIELD", k] + self.pick([], ["100"], ["100", "WITHVALUES"], ["-3"]),
            lambda: ["HSCAN", k, "0", "COUNT", "1000"] + self.maybe(0.3, "MATCH", "f*"),
        ]
        return r.choice(choices)()

    # ---- sets ----------------------------------------------------------------------------
    def c_set(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["SADD", k] + self.members(1, 5),
            lambda: ["SREM", k] + self.members(1, 2),
            lambda: ["SCARD", k], lambda: ["SISMEMBER", k, self.member()],
            lambda: ["SMISMEMBER", k] + self.members(1, 3),
            lambda: ["SMEMBERS", k],
            lambda: [r.choice(["SINTER", "SUNION", "SDIFF"])]
            + self.same_slot_keys(r.randint(1, 3)),
            # Read-only across slots: the proxy answers -CROSSSLOT (compare.py allows it).
            lambda: [r.choice(["SINTER", "SUNION", "SDIFF"])] + self.any_keys(2),
            lambda: [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])]
            + self.same_slot_keys(3),
            lambda: ["SINTERCARD", "2"] + self.same_slot_keys(2) + self.maybe(0.3, "LIMIT", "1"),
            lambda: ["SMOVE"] + self.same_slot_keys(2) + [self.member()],
            lambda: ["SPOP", k, "100"],
            lambda: ["SRANDMEMBER", k] + self.pick(["100"], ["-3"], []),
            lambda: ["SSCAN", k, "0", "COUNT", "1000"],
        ]
        return r.choice(choices)()

    # ---- sorted sets ---------------------------------------------------------------------
    def c_zset(self):
        r, k = self.rng, self.key()
        rng_lex = lambda: r.choice(["-", "+", "[m1", "(m3", "[5"])
        choices = [
            lambda: ["ZADD", k] + self.pick([], [], ["NX"], ["XX"], ["GT"], ["LT"], ["GT", "CH"])
            + sum([[self.score(), self.member()] for _ in range(r.randint(1, 3))], []),
            lambda: ["ZADD", k, "INCR", self.score(), self.member()],
            lambda: ["ZREM", k] + self.members(1, 2),
            lambda: ["ZCARD", k], lambda: ["ZSCORE", k, self.member()],
            lambda: ["ZMSCORE", k] + self.members(1, 3),
            lambda: ["ZINCRBY", k, self.score(), self.member()],
            lambda: [r.choice(["ZRANK", "ZREVRANK"]), k, self.member()],
            lambda: ["ZCOUNT", k, r.choice(["-inf", "0", "(1"]), r.choice(["+inf", "3", "(100"])],
            lambda: ["ZLEXCOUNT", k, rng_lex(), rng_lex()],
            lambda: ["ZRANGE", k, self.small(-3, 2), self.small(-2, 5)] + self.maybe(0.3, "REV")
            + self.maybe(0.5, "WITHSCORES"),
            lambda: ["ZRANGE", k, r.choice(["-inf", "0", "(1"]), r.choice(["+inf", "3"]), "BYSCORE"]
            + self.maybe(0.3, "LIMIT", "0", "2") + self.maybe(0.5, "WITHSCORES"),
            lambda: [r.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k, rng_lex(), rng_lex()],
            lambda: ["ZREVRANGE", k, "0", self.small(-1, 3)] + self.maybe(0.5, "WITHSCORES"),
            lambda: ["ZINTERCARD", "2"] + self.same_slot_keys(2) + self.maybe(0.3, "LIMIT", "1"),
            lambda: ["ZRANGEBYSCORE", k, "-inf", "+inf", "WITHSCORES"],
            lambda: ["ZREVRANGEBYSCORE", k, "+inf", r.choice(["0", "-inf"])],
            lambda: [r.choice(["ZPOPMIN", "ZPOPMAX"]), k] + self.maybe(0.5, self.small(0, 3)),
            lambda: ["ZREMRANGEBYRANK", k, "0", self.small(0, 2)],
            lambda: ["ZREMRANGEBYSCORE", k, "-inf", r.choice(["1", "(2.5"])],
            lambda: ["ZREMRANGEBYLEX", k, "[m0", "[m2"],
            lambda: [r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])]
            + self.zstore_args(),
            lambda: [r.choice(["ZUNION", "ZINTER", "ZDIFF"]), "2"] + self.same_slot_keys(2)
            + self.maybe(0.5, "WITHSCORES"),
            lambda: ["ZRANGESTORE"] + self.same_slot_keys(2) + ["0", "-1"],
            lambda: ["ZMPOP", "2"] + self.same_slot_keys(2) + [r.choice(["MIN", "MAX"])]
            + self.maybe(0.5, "COUNT", "2"),
            lambda: ["ZRANDMEMBER", k] + self.pick([], ["100"], ["100", "WITHSCORES"], ["-2"]),
            lambda: ["ZSCAN", k, "0", "COUNT", "1000"],
        ]
        if r.random() < BLOCKING_SHARE:
            return r.choice([[r.choice(["BZPOPMIN", "BZPOPMAX"])] + self.same_slot_keys(2)
                             + ["0.01"],
                             ["BZMPOP", "0.01", "2"] + self.same_slot_keys(2) + ["MIN"]])
        return r.choice(choices)()

    def zstore_args(self):
        keys = self.same_slot_keys(3)
        extra = []
        if self.rng.random() < 0.3:
            extra = ["AGGREGATE", self.rng.choice(["SUM", "MIN", "MAX"])]
        return [keys[0], "2", keys[1], keys[2]] + extra

    # ---- streams -------------------------------------------------------------------------
    def next_stream_id(self, k):
        """Explicit ids that usually grow (sometimes repeat, which both sides must refuse)."""
        ms, seq = self.stream_ids.get(k, (0, 0))
        if self.rng.random() < 0.9:
            ms += self.rng.randint(0, 3)
            seq = seq + 1 if self.rng.random() < 0.5 else 0
            if (ms, seq) == (0, 0):
                seq = 1
        self.stream_ids[k] = (ms, seq)
        return "%d-%d" % (ms, seq) if self.rng.random() < 0.9 else "%d-*" % (ms + 1)

    def c_stream(self):
        r, k = self.rng, self.key()
        grp = r.choice(["g1", "g2"])
        choices = [
            lambda: ["XADD", k] + self.maybe(0.2, "MAXLEN", self.small(1, 5))
            + [self.next_stream_id(k), self.field(), self.value()],
            lambda: ["XADD", k, "NOMKSTREAM", self.next_stream_id(k), "f", "v"],
            lambda: ["XLEN", k],
            lambda: ["XRANGE", k, "-", "+"] + self.maybe(0.3, "COUNT", "2"),
            lambda: ["XREVRANGE", k, "+", "-"] + self.maybe(0.3, "COUNT", "2"),
            lambda: ["XDEL", k, "%d-%d" % (r.randint(0, 5), r.randint(0, 2))],
            lambda: ["XTRIM", k, "MAXLEN", self.small(0, 4)],
            lambda: ["XGROUP", "CREATE", k, grp, r.choice(["0", "$"])]
            + self.maybe(0.5, "MKSTREAM"),
            lambda: ["XGROUP", "DESTROY", k, grp],
            lambda: ["XGROUP", "CREATECONSUMER", k, grp, r.choice(["c1", "c2"])],
            lambda: ["XGROUP", "DELCONSUMER", k, grp, r.choice(["c1", "c2"])],
            lambda: ["XGROUP", "SETID", k, grp, "0"],
            lambda: ["XREADGROUP", "GROUP", grp, r.choice(["c1", "c2"]), "COUNT", "2", "STREAMS", k,
                     r.choice([">", "0"])],
            lambda: ["XREAD", "COUNT", "3", "STREAMS", k, "0"],
            lambda: ["XACK", k, grp, "%d-%d" % (r.randint(0, 5), r.randint(0, 2))],
            lambda: ["XPENDING", k, grp],
            lambda: ["XCLAIM", k, grp, "c3", "0", "%d-%d" % (r.randint(0, 5), r.randint(0, 2)),
                     "JUSTID"],
            lambda: ["XAUTOCLAIM", k, grp, "c3", "0", "0", "COUNT", "5", "JUSTID"],
            lambda: ["XINFO", "STREAM", k],
            lambda: ["XINFO", "GROUPS", k],
            lambda: ["XSETID", k, "%d-%d" % (r.randint(5, 20), 0)],
        ]
        return r.choice(choices)()

    # ---- bitmaps, HyperLogLog, geo -------------------------------------------------------
    def c_bitmap(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["SETBIT", k, self.small(0, 200), r.choice(["0", "1"])],
            lambda: ["GETBIT", k, self.small(0, 200)],
            lambda: ["BITCOUNT", k]
            + self.pick([], ["0", "-1"], ["1", "3", "BIT"], ["0", "2", "BYTE"]),
            lambda: ["BITPOS", k, r.choice(["0", "1"])] + self.pick([], ["1"], ["0", "-1", "BIT"]),
            lambda: ["BITOP", r.choice(["AND", "OR", "XOR"])] + self.same_slot_keys(3),
            lambda: ["BITOP", "NOT"] + self.same_slot_keys(2),
            lambda: ["BITFIELD", k] + self.pick(["GET", "u8", "0"],
                                                ["SET", "i8", "8", self.small()],
                                                ["OVERFLOW", r.choice(["SAT", "WRAP", "FAIL"]),
                                                 "INCRBY", "u4", "2", self.small(0, 20)]),
            lambda: ["BITFIELD_RO", k, "GET", "i16", "#1"],
        ]
        return r.choice(choices)()

    def c_hll(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["PFADD", k] + self.members(0, 4),
            lambda: ["PFCOUNT", k],
            lambda: ["PFCOUNT"] + self.same_slot_keys(2),
            lambda: ["PFCOUNT"] + self.any_keys(2),  # read-only; CROSSSLOT allowed when split
            lambda: ["PFMERGE"] + self.same_slot_keys(3),
        ]
        return r.choice(choices)()

    def c_geo(self):
        r, k = self.rng, self.key()
        places = [("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
                  ("2.349014", "48.864716", "Paris"), ("-0.127758", "51.507351", "London"),
                  ("200", "10", "Bad")]
        def add():
            chosen = [places[i] for i in sorted(r.sample(range(len(places)), r.randint(1, 3)))]
            return (["GEOADD", k] + self.pick([], [], ["NX"], ["XX"], ["CH"])
                    + sum(map(list, chosen), []))
        choices = [
            add,
            lambda: ["GEODIST", k, "Palermo", r.choice(["Catania", "Paris", "m0"])]
            + self.maybe(0.5, r.choice(["km", "mi", "ft"])),
            lambda: ["GEOPOS", k, "Palermo", "Paris", "nowhere"],
            lambda: ["GEOHASH", k, "Palermo", "London"],
            lambda: ["GEOSEARCH", k, "FROMLONLAT", "15", "37", "BYRADIUS",
                     r.choice(["100", "2000"]),
                     "km", "ASC"] + self.maybe(0.5, "WITHCOORD") + self.maybe(0.5, "WITHDIST"),
            lambda: ["GEOSEARCH", k, "FROMMEMBER", "Palermo", "BYBOX", "4000", "4000", "km", "DESC",
                     "COUNT", "2"],
            lambda: ["GEOSEARCHSTORE"] + self.same_slot_keys(2)
            + ["FROMLONLAT", "15", "37", "BYRADIUS", "500", "km", "ASC"],
            lambda: ["GEORADIUS", k, "15", "37", "200", "km", "ASC", "WITHDIST"],
            lambda: [r.choice(["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]), k, "Paris", "1000",
                     "km", "ASC"],
            lambda: ["GEORADIUS_RO", k, "15", "37", "300", "km", "ASC", "COUNT", "1"],
        ]
        return r.choice(choices)()

    # ---- generic key commands ------------------------------------------------------------
    def c_generic(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: [r.choice(["EXISTS", "DEL", "UNLINK", "TOUCH"])] + self.any_keys(self.many()),
            lambda: ["TYPE", k],
            lambda: [r.choice(["RENAME", "RENAMENX"])] + self.same_slot_keys(2),
            lambda: ["COPY"] + self.same_slot_keys(2) + self.maybe(0.5, "REPLACE"),
            # GT/LT only with absolute times: two relative TTLs of the same length compare by the
            # millisecond each was set in, which differs between the two sides.
            lambda: ["EXPIRE", k, r.choice(BIG_TTL_S + ("0", "-5"))]
            + self.pick([], [], ["NX"], ["XX"]),
            lambda: ["PEXPIRE", k, r.choice(BIG_TTL_MS)] + self.pick([], ["NX"], ["XX"]),
            lambda: ["EXPIREAT", k, r.choice([FUTURE_S, FUTURE2_S, PAST_S])]
            + self.pick([], [], ["NX"], ["XX"], ["GT"], ["LT"]),
            lambda: ["PEXPIREAT", k, r.choice([FUTURE_MS, FUTURE2_MS])]
            + self.pick([], ["GT"], ["LT"]),
            lambda: [r.choice(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), k],
            lambda: ["PERSIST", k],
            lambda: ["OBJECT", "ENCODING", k],
            lambda: ["DUMP", k],
            lambda: [r.choice(["SORT", "SORT_RO"]), k] + self.maybe(0.3, "LIMIT", "0", "3")
            + self.maybe(0.5, "ALPHA") + self.maybe(0.3, "DESC"),
            lambda: ["KEYS", r.choice(["*", "k:*", "*{*", "nomatch*"])],
            lambda: ["DBSIZE"],
            lambda: ["RANDOMKEY"],
            lambda: ["SCAN-ALL"] + self.pick([], ["MATCH", "k:*"], ["TYPE", "string"]),
            lambda: ["PING"] + self.maybe(0.3, "hi"),
            lambda: ["ECHO", self.value()],
            lambda: ["INFO", "keyspace"],
            lambda: ["OBJECT", r.choice(["REFCOUNT", "FREQ", "HELP"]), k],
            lambda: ["WAIT", "0", "0"],
            lambda: ["UNWATCH"],
            lambda: ["CLIENT", "SETNAME", r.choice(["conf", "a-b", "bad name"])],
            lambda: ["CLIENT", "GETNAME"],
            lambda: ["COMMAND", "INFO"] + r.sample(COMMAND_PROBES, 2),
            lambda: ["COMMAND", "GETKEYS"] + r.choice(GETKEYS_PROBES),
            lambda: ["COMMAND", "DOCS", r.choice(COMMAND_PROBES)],
            # Inline commands (a plain text line, no RESP framing): runner.py sends them as such.
            lambda: ["INLINE"] + (self.pick(["PING"], ["GET", k], ["SET", k, "inline"],
                                            ["EXISTS", k, k], ["INCR", k])
                                  if k not in ODD_KEYS else ["PING"]),
        ]
        return r.choice(choices)()

    # ---- server and connection commands whose replies do not depend on the process -------
    def c_server(self):
        r, k = self.rng, self.key()
        choices = [
            lambda: ["CLIENT", "KILL", "USER", r.choice(["nosuchuser", "default-nope"])],
            lambda: ["CLIENT", "NO-EVICT", r.choice(["on", "off", "maybe"])],
            lambda: ["PUBSUB", r.choice(["NUMPAT", "CHANNELS", "SHARDCHANNELS"])],
            lambda: ["PUBSUB", r.choice(["NUMSUB", "SHARDNUMSUB"]), "ch:%d" % r.randint(0, 3)],
            lambda: [r.choice(["PUBLISH", "SPUBLISH"]), "ch:%d" % r.randint(0, 3), self.value()],
            lambda: ["CONFIG", "GET", r.choice(["maxmemory-policy", "hash-max-listpack-entries",
                                                "list-max-listpack-size", "nosuchparam"])],
            lambda: ["SELECT", "0"],
            lambda: ["COMMAND", "COUNT"],
            lambda: [r.choice(["XGROUP", "XINFO", "SCRIPT", "FUNCTION", "OBJECT"]), "HELP"],
            lambda: ["FUNCTION", r.choice(["STATS", "DUMP"])],
            lambda: ["COMMAND", "LIST", "FILTERBY", "PATTERN", r.choice(["xa*", "z*", "get*"])],
            lambda: ["ECHO"], lambda: ["PING", "a", "b"], lambda: ["RANDOMKEY", "x"],
            lambda: ["DBSIZE", "x"], lambda: ["WATCH"], lambda: ["UNWATCH", "x"],
            lambda: ["EVAL", "return 1", "2", self.key()],
            lambda: ["EVAL", "return KEYS[1]", "1", self.key(), "b", "c"],
            lambda: ["MSET", k, "1", k],  # odd pairs: refused at EXEC, queued in MULTI
            lambda: ["EXEC"], lambda: ["DISCARD"],
            lambda: ["BLPOP", self.key(), r.choice(["x", "-1"])],
            lambda: ["SCAN", r.choice(["abc", "0"]), "COUNT", r.choice(["x", "0"])],
        ]
        return r.choice(choices)()

    # ---- scripts and functions -----------------------------------------------------------
    def c_script(self):
        r = self.rng
        body, nkeys, nargs = r.choice(SCRIPTS)
        keys = self.same_slot_keys(nkeys)
        args = [r.choice(["1", "2", "abc", "5"]) for _ in range(nargs)]
        choices = [
            lambda: [r.choice(["EVAL", "EVAL"]), body, str(nkeys)] + keys + args,
            lambda: ["SCRIPT", "LOAD", body],
            lambda: [r.choice(["EVALSHA", "EVALSHA", "EVALSHA_RO"]), sha1_hex(body), str(nkeys)]
            + keys + args,
            lambda: ["SCRIPT", "EXISTS", sha1_hex(body), "0" * 40],
            lambda: ["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", self.key()],
            lambda: ["EVAL_RO", "return redis.call('SET', KEYS[1], 'x')", "1", self.key()],
            lambda: ["EVAL", "return 1", r.choice(["3", "-1", "x"]), self.key()],
            lambda: ["FCALL", r.choice(["cf_get", "cf_set", "nosuchfn"]), "1", self.key(), "v"],
            lambda: ["FCALL_RO", r.choice(["cf_len", "cf_set"]), "1", self.key()],
        ]
        return r.choice(choices)()

    # ---- errors --------------------------------------------------------------------------
    def c_error(self):
        r = self.rng
        probe = r.choice(ARITY_PROBES + UNKNOWN_PROBES)
        return [self.key() if a == "{k}" else a for a in probe]

    # ---- steps ---------------------------------------------------------------------------
    TYPES = ["c_string", "c_list", "c_hash", "c_set", "c_zset", "c_stream", "c_bitmap", "c_hll",
             "c_geo", "c_generic", "c_script", "c_error", "c_server"]
    WEIGHTS = [12, 9, 9, 9, 9, 7, 5, 4, 4, 14, 5, 3, 3]

    def command(self):
        kind = self.rng.choices(self.TYPES, self.WEIGHTS)[0]
        return getattr(self, kind)()

    def slot_command(self, keys):
        """A command for a MULTI block: its keys all in one group (one slot)."""
        saved = self.plain, self.groups
        self.plain, self.groups = keys, [keys]
        try:
            while True:
                cmd = self.command()
                if cmd[0] not in ("SCAN-ALL", "KEYS", "DBSIZE", "RANDOMKEY", "INFO", "SCRIPT",
                                  "BLPOP", "BRPOP", "BLMOVE", "BZPOPMIN", "BZPOPMAX", "BRPOPLPUSH",
                                  "BLMPOP", "WAIT", "FUNCTION", "CLIENT", "COMMAND", "PUBSUB",
                                  "PUBLISH", "SPUBLISH", "CONFIG", "SELECT", "EXEC", "DISCARD",
                                  "WATCH", "SCAN"):
                    return cmd
        finally:
            self.plain, self.groups = saved

    def transaction(self):
        r = self.rng
        keys = self.group()
        cmds = []
        if r.random() < 0.2:
            watched = r.choice(keys)
            cmds.append(["WATCH", watched])
            if r.random() < 0.5:  # another client writes the watched key: EXEC must fail
                cmds.append(["OTHER", r.choice(["SET", "APPEND"]), watched, "other"])
        cmds.append(["MULTI"])
        for _ in range(r.randint(1, 5)):
            cmds.append(self.slot_command(keys))
        cmds.append(["EXEC"] if r.random() < 0.9 else ["DISCARD"])
        return cmds

    def sequence(self, length):
        """length commands (about), grouped into steps."""
        r = self.rng
        steps = []
        count = 0
        while count < length:
            roll = r.random()
            if roll < 0.08:
                cmds = self.transaction()
                if r.random() < 0.5 and not any(c[0] == "OTHER" for c in cmds):
                    steps.append(cmds)  # the whole block pipelined
                else:
                    steps.extend([c] for c in cmds)
            elif roll < 0.25:
                size = r.randint(2, 6) if r.random() < 0.9 else r.randint(20, 60)
                cmds = [self.command() for _ in range(size)]
                cmds = [c for c in cmds if c[0] != "SCAN-ALL"] or [["PING"]]
                steps.append(cmds)
            else:
                cmds = [self.command()]
                steps.append(cmds)
            count += len(cmds)
        for cmds in steps:  # command names in any letter case, as Redis accepts them
            for cmd in cmds:
                if cmd[0] not in ("SCAN-ALL", "INLINE", "OTHER") and r.random() < 0.1:
                    cmd[0] = "".join(c.lower() if r.random() < 0.5 else c for c in cmd[0])
        return steps


def is_key(arg):
    """True for the key names SequenceGenerator draws (no value or member looks like one)."""
    return ((arg.startswith("k:") and arg[2:].isdigit()) or (arg.startswith("{g") and "}:" in arg)
            or (arg in ODD_KEYS and arg != ""))  # "" is a value too; odd keys stay out of MULTI


def sha1_hex(text):
    import hashlib
    return hashlib.sha1(text.encode("latin-1")).hexdigest()


def generated_command_names(samples=20000, seed=1):
    """The set of command names (upper case, 'PARENT|SUB' for containers) the generator emits."""
    g = SequenceGenerator(seed)
    names = set()
    for _ in range(samples):
        for cmd in g.transaction() + [g.command()]:
            names.add(command_name(cmd))
    return names


CONTAINERS = {"OBJECT", "XGROUP", "XINFO", "SCRIPT", "FUNCTION", "CLIENT", "CONFIG", "COMMAND",
              "MEMORY", "CLUSTER"}


def command_name(cmd):
    if cmd[0] in ("INLINE", "OTHER"):
        cmd = cmd[1:]
    name = cmd[0].upper()
    if name in CONTAINERS and len(cmd) > 1:
        return name + "|" + cmd[1].upper()
    return name
