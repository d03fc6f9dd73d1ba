#!/usr/bin/env python3
"""Checks of the tester's own parts, without any server (CTest conformance_selftest, label unit):
RESP round trips (every RESP3 type), key slots, the comparison rules, the shrinker, the
generator's reproducibility and the regression file format."""

import os
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare  # noqa: E402
import generator  # noqa: E402
import keyslot  # noqa: E402
import regressions  # noqa: E402
import resp  # noqa: E402
import shrink  # noqa: E402


def node(raw):
    parsed = resp.parse(bytearray(raw), 0)
    assert parsed is not None and parsed[1] == len(raw), raw
    return parsed[0]


class RespTest(unittest.TestCase):
    SAMPLES = [b"+OK\r\n", b"-ERR x\r\n", b":-12\r\n", b"$3\r\na\r\n\r\n", b"$-1\r\n", b"*-1\r\n",
               b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", b"%1\r\n+k\r\n,1.5\r\n", b"~2\r\n:1\r\n:2\r\n",
               b"_\r\n", b"#t\r\n", b"(12345678901234567890\r\n", b"=7\r\ntxt:abc\r\n",
               b">2\r\n+message\r\n$1\r\nx\r\n"]

    def test_round_trip(self):
        for raw in self.SAMPLES:
            self.assertEqual(resp.encode(node(raw)), raw)

    def test_incomplete(self):
        for raw in self.SAMPLES:
            for cut in range(len(raw)):
                self.assertIsNone(resp.parse(bytearray(raw[:cut]), 0), raw[:cut])

    def test_encode_command_and_inline(self):
        self.assertEqual(resp.encode_command(["GET", "\x00\xff"]),
                         b"*2\r\n$3\r\nGET\r\n$2\r\n\x00\xff\r\n")
        self.assertEqual(resp.encode_command(["INLINE", "GET", "k"]), b"GET k\r\n")


class KeySlotTest(unittest.TestCase):
    def test_known_slots(self):
        self.assertEqual(keyslot.key_slot("foo"), 12182)
        self.assertEqual(keyslot.key_slot("{user1000}.following"), keyslot.key_slot("user1000"))
        self.assertEqual(keyslot.key_slot("{}x"), keyslot.crc16(b"{}x") % 16384)
        self.assertTrue(keyslot.same_slot(["{a}1", "{a}2"]))


class CompareTest(unittest.TestCase):
    def verdict(self, cmd, a, b, queued=None):
        return compare.verdict(cmd, (a, node(a)), (b, node(b)), queued)[0]

    def test_order_free_replies(self):
        self.assertEqual(self.verdict(["SMEMBERS", "s"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
                                      b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"), "same")
        fg = b"*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n"
        gf = b"*4\r\n$1\r\ng\r\n$1\r\n2\r\n$1\r\nf\r\n$1\r\n1\r\n"
        swapped = b"*4\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\ng\r\n$1\r\n1\r\n"
        self.assertEqual(self.verdict(["HGETALL", "h"], fg, gf), "same")
        # pairs stay pairs: swapping values between fields is a difference
        self.assertEqual(self.verdict(["HGETALL", "h"], fg, swapped), "diff")
        # ordered replies are not normalized
        self.assertEqual(self.verdict(["LRANGE", "l", "0", "-1"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
                                      b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"), "diff")

    def test_ttl_tolerance(self):
        self.assertEqual(self.verdict(["TTL", "k"], b":100\r\n", b":99\r\n"), "same")
        self.assertEqual(self.verdict(["TTL", "k"], b":100\r\n", b":90\r\n"), "diff")  # > 5 s
        self.assertEqual(self.verdict(["TTL", "k"], b":-1\r\n", b":1\r\n"), "diff")

    def test_exec_elements_use_their_commands_rules(self):
        queued = [["TTL", "k"], ["GET", "k"]]
        self.assertEqual(self.verdict(["EXEC"], b"*2\r\n:100\r\n$1\r\nv\r\n",
                                      b"*2\r\n:99\r\n$1\r\nv\r\n", queued), "same")
        self.assertEqual(self.verdict(["EXEC"], b"*2\r\n:100\r\n$1\r\nv\r\n",
                                      b"*2\r\n:100\r\n$1\r\nw\r\n", queued), "diff")

    def test_allowed_and_known(self):
        cross = ["SUNION", "{a}x", "{b}y"]
        err = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        self.assertEqual(self.verdict(cross, b"*0\r\n", err), "allowed")
        self.assertEqual(self.verdict(["SUNION", "{a}x", "{a}y"], b"*0\r\n", err), "diff")
        # A known difference (none is open now: this one is made up) is reported as such.
        made_up = {"id": "made-up", "match": lambda cmd, a, b: cmd[0] == "EVALSHA" and b[0] == "-"}
        with mock.patch.object(compare, "KNOWN_DIFFERENCES", [made_up]):
            self.assertEqual(self.verdict(["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                                           "1", "{b}y"], b":1\r\n",
                                          b"-NOSCRIPT No matching script. Please use EVAL.\r\n"),
                             "known")


    def test_evalsha_noscript_known_only_inside_exec(self):
        noscript = b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
        evalsha = ["EVALSHA", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "1", "{g}:a"]
        self.assertEqual(self.verdict(evalsha, b"$-1\r\n", noscript), "diff")
        self.assertEqual(self.verdict(["EXEC"], b"*1\r\n$-1\r\n", b"*1\r\n" + noscript,
                                      [evalsha]), "known")


class ShrinkTest(unittest.TestCase):
    def test_minimal_sequence(self):
        steps = [[["SET", "k:1", str(i)]] for i in range(40)]
        steps[7] = [["A"]]
        steps[30] = [["B"], ["C"]]

        def fails(candidate):  # fails while A comes before B
            names = [c[0] for cmds in candidate for c in cmds]
            return "A" in names and "B" in names and names.index("A") < names.index("B")
        small, _ = shrink.shrink(steps, fails)
        self.assertEqual(small, [[["A"]], [["B"]]])

    def test_transactions_stay_single_slot(self):
        self.assertTrue(shrink.valid([[["MULTI"]], [["SET", "{g1}:a", "1"]], [["EXEC"]]]))
        self.assertFalse(shrink.valid([[["MULTI"]], [["SET", "{g1}:a", "1"], ["SET", "k:1", "1"]]]))


class GeneratorTest(unittest.TestCase):
    def test_reproducible(self):
        a = generator.SequenceGenerator("5:17").sequence(30)
        b = generator.SequenceGenerator("5:17").sequence(30)
        self.assertEqual(a, b)
        self.assertNotEqual(a, generator.SequenceGenerator("5:18").sequence(30))

    def test_transactions_single_slot(self):
        for i in range(300):
            self.assertTrue(shrink.valid(generator.SequenceGenerator("t:%d" % i).sequence(30)), i)


class RegressionFileTest(unittest.TestCase):
    def test_round_trip(self):
        steps = [[["SET", "k:1", "\x00\xff\r\n"]], [["GET", "k:1"], ["PING"]]]
        with tempfile.TemporaryDirectory() as tmp:
            old, regressions.DIR = regressions.DIR, tmp
            try:
                regressions.write(1, 2, 2, steps, "d")
                (case,) = regressions.load_all()
            finally:
                regressions.DIR = old
        self.assertEqual(case["steps"], steps)


if __name__ == "__main__":
    unittest.main()
