"""Runs one sequence against both sides and compares every reply (compare.verdict).

Each sequence starts from an empty keyspace: FLUSHALL and SCRIPT FLUSH on the standalone server
and through the proxy (which sends them to every master), on a long-lived admin connection per
side; then a fresh client connection per side (HELLO 3 first with --protocol 3), so nothing a
sequence leaves on its connection (an open MULTI, a WATCH) reaches the next one.

A step's commands are written to both sides before either side's replies are read; a step of
several commands is a pipeline. Pseudo-commands: SCAN-ALL (SCAN's whole loop, see Side.scan_all)
and OTHER (the rest of the command sent by a second client connection, e.g. to write a key that
the first one WATCHes). The sequence stops at its first difference, or known difference
(compare.KNOWN_DIFFERENCES), since the keyspaces may have diverged after it.
"""

import socket

import compare
import resp
from generator import FUNCTION_LIBRARY, command_name

HOST = "127.0.0.1"
SCAN_ALL_MAX_CALLS = 1000


class SideError(Exception):
    pass


class Side:
    """One server the sequences run against: its port, the protocol, an admin connection."""

    def __init__(self, name, port, protocol, timeout):
        self.name, self.port, self.protocol, self.timeout = name, port, protocol, timeout
        self.admin = resp.Connection(HOST, port, timeout=timeout)
        self.conn = None
        self.other = None  # a second client, for the OTHER pseudo-command (opened when needed)
        self.broken = None  # the first failure on the client connection since reset()

    def setup_once(self):
        """Loads the function library FCALL uses (FLUSHALL does not remove it)."""
        raw, node = self.admin.call("FUNCTION", "LOAD", "REPLACE", FUNCTION_LIBRARY)
        if node[0] == "-":
            raise SideError("%s: FUNCTION LOAD failed: %r" % (self.name, raw))

    def reset(self):
        """Empty keyspace and script cache, a fresh client connection."""
        self.admin.send_commands([["FLUSHALL", "SYNC"], ["SCRIPT", "FLUSH", "SYNC"]])
        for _ in range(2):
            raw, node = self.admin.read_reply()
            if node[0] == "-":
                raise SideError("%s: reset failed: %r" % (self.name, raw))
        self.close_client()
        self.broken = None
        self.conn = resp.Connection(HOST, self.port, timeout=self.timeout)
        if self.protocol == 3:
            raw, node = self.conn.call("HELLO", "3")
            if node[0] != "%":
                raise SideError("%s: HELLO 3 refused: %r" % (self.name, raw))

    def close_client(self):
        for conn in (self.conn, self.other):
            if conn is not None:
                conn.close()
        self.conn = self.other = None

    def other_call(self, cmd):
        """cmd on the second client connection (another client of the same server)."""
        try:
            if self.other is None:
                self.other = resp.Connection(HOST, self.port, timeout=self.timeout)
                if self.protocol == 3:
                    self.other.call("HELLO", "3")
            return self.other.call(*cmd)
        except (OSError, socket.timeout, resp.ProtocolError) as e:
            text = ("other connection failed: %s" % e).encode()
            return b"!" + text, ("!", text)

    def close(self):
        self.close_client()
        self.admin.close()

    def read(self):
        """One reply, or a ('!', description) node when the connection failed (then at once for
        every later read until reset(): one timeout per sequence at most)."""
        if self.broken is None:
            try:
                return self.conn.read_reply()
            except (OSError, socket.timeout, resp.ProtocolError) as e:
                self.broken = ("connection failed: %s" % e).encode()
        return b"!" + self.broken, ("!", self.broken)

    def send(self, cmds):
        if self.broken is not None:
            return False
        try:
            self.conn.send_commands(cmds)
            return True
        except OSError as e:
            self.broken = ("send failed: %s" % e).encode()
            return False

    def scan_all(self, cmd):
        """SCAN's whole cursor loop; the sorted, de-duplicated keys as one RESP array."""
        extra = cmd[1:]
        cursor, keys = "0", set()
        for _ in range(SCAN_ALL_MAX_CALLS):
            if not self.send([["SCAN", cursor] + extra + ["COUNT", "50"]]):
                return self.read()
            raw, node = self.read()
            if node[0] != "*" or len(node[1]) != 2:
                return raw, node
            cursor = node[1][0][1].decode()
            keys.update(item[1] for item in node[1][1][1])
            if cursor == "0":
                node = ("*", [("$", k) for k in sorted(keys)])
                return resp.encode(node), node
        node = ("!", b"SCAN did not finish in %d calls" % SCAN_ALL_MAX_CALLS)
        return node[1], node


class Outcome:
    """What a sequence gave: commands run, counts per verdict, the first difference."""

    def __init__(self):
        self.commands = 0
        self.allowed = {}
        self.known = {}
        self.diff = None  # (step index, command, standalone (raw, node), proxy (raw, node))
        self.normalized = 0

    def failed(self):
        return self.diff is not None


def run_sequence(steps, standalone, proxy):
    standalone.reset()
    proxy.reset()
    out = Outcome()
    queued = None  # commands queued since MULTI, None outside a transaction
    for index, cmds in enumerate(steps):
        if cmds[0][0] == "SCAN-ALL":
            replies = [[standalone.scan_all(cmds[0])], [proxy.scan_all(cmds[0])]]
        elif cmds[0][0] == "OTHER":
            replies = [[standalone.other_call(cmds[0][1:])], [proxy.other_call(cmds[0][1:])]]
        else:
            ok_a = standalone.send(cmds)
            ok_b = proxy.send(cmds)
            replies = [[side.read() if ok else (b"!send failed", ("!", b"send failed"))
                        for _ in cmds] for side, ok in ((standalone, ok_a), (proxy, ok_b))]
        for cmd, a, b in zip(cmds, replies[0], replies[1]):
            out.commands += 1
            name = command_name(cmd)
            kind, rule = compare.verdict(cmd, a, b, queued if name == "EXEC" else None)
            if kind == "allowed":
                out.allowed[rule] = out.allowed.get(rule, 0) + 1
            elif kind == "known":
                out.known[rule] = out.known.get(rule, 0) + 1
                return out  # the keyspaces may differ from here on: the sequence ends
            elif kind == "diff":
                out.diff = (index, cmd, a, b)
                return out
            elif rule == "normalized":
                out.normalized += 1
            queued = _track_transaction(queued, cmd, name)
            if a[1][0] == "!" or b[1][0] == "!":
                return out  # a connection failed on both sides alike: nothing more to compare
    return out


def _track_transaction(queued, cmd, name):
    if cmd[0] == "OTHER":  # another connection: not part of this client's transaction
        return queued
    if queued is None:
        return [] if name == "MULTI" else None
    if name in ("EXEC", "DISCARD"):
        return None
    if name != "MULTI":
        queued.append(cmd)
    return queued
