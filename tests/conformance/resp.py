"""RESP2/RESP3 on a raw socket: encode commands, read replies as exact bytes plus a parsed tree.

The parsed tree is only used to normalize the few replies whose order Redis leaves unspecified
(compare.py); the comparison itself starts from the raw bytes each server sent.

A reply node is a tuple (kind, value): kind is the RESP type byte as a one-character str
('+', '-', ':', '$', '*', '%', '~', ',', '(', '=', '_', '#', '>', '|'), value is bytes, int,
None (null bulk/array), a list of nodes ('*', '~', '>'), or a list of (key, value) node pairs
('%', '|'). An attribute ('|') is kept as its own node followed by the reply it annotates.
"""

import socket
import time

CRLF = b"\r\n"
_AGGREGATES = "*~>"
_PAIRS = "%|"
_LINES = "+-:,(_#"
_BULKS = "$="


class ProtocolError(Exception):
    """The peer sent bytes that are not RESP, or closed the connection mid-reply."""


def encode_command(args):
    """One command as a RESP array of bulk strings; args are bytes or str (latin-1). A command
    whose first argument is the pseudo-name INLINE is sent as an inline command instead: the
    other arguments joined by spaces on one line."""
    if args and args[0] == "INLINE":
        return " ".join(args[1:]).encode("latin-1") + CRLF
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("latin-1")
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def parse(buf, pos):
    """Parses one reply starting at buf[pos]. Returns (node, end) or None when incomplete."""
    line_end = buf.find(CRLF, pos)
    if line_end < 0:
        return None
    kind = chr(buf[pos])
    head = bytes(buf[pos + 1:line_end])
    nxt = line_end + 2
    if kind in _LINES:
        if kind == ":":
            return (kind, int(head)), nxt
        if kind == "_":
            return (kind, None), nxt
        return (kind, head), nxt
    if kind in _BULKS:
        n = int(head)
        if n < 0:
            return (kind, None), nxt
        if len(buf) < nxt + n + 2:
            return None
        return (kind, bytes(buf[nxt:nxt + n])), nxt + n + 2
    if kind in _AGGREGATES or kind in _PAIRS:
        n = int(head)
        if n < 0:
            return (kind, None), nxt
        count = n * 2 if kind in _PAIRS else n
        items = []
        for _ in range(count):
            parsed = parse(buf, nxt)
            if parsed is None:
                return None
            item, nxt = parsed
            items.append(item)
        if kind in _PAIRS:
            items = [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        return (kind, items), nxt
    raise ProtocolError("unexpected RESP type byte %r at offset %d" % (kind, pos))


def encode(node):
    """The canonical RESP bytes of a node (the inverse of parse for well-formed replies)."""
    kind, value = node
    if kind in _LINES:
        if kind == ":":
            return b":%d\r\n" % value
        if kind == "_":
            return b"_\r\n"
        return kind.encode() + value + CRLF
    if kind in _BULKS:
        if value is None:
            return kind.encode() + b"-1\r\n"
        return kind.encode() + b"%d\r\n" % len(value) + value + CRLF
    if value is None:
        return kind.encode() + b"-1\r\n"
    out = [kind.encode() + b"%d\r\n" % len(value)]
    for item in value:
        if kind in _PAIRS:
            out.append(encode(item[0]))
            out.append(encode(item[1]))
        else:
            out.append(encode(item))
    return b"".join(out)


class Connection:
    """A blocking client socket with a per-operation timeout; replies read as (raw, node)."""

    def __init__(self, host, port, timeout=10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def send_commands(self, commands):
        self.send(b"".join(encode_command(c) for c in commands))

    def read_reply(self):
        """One reply: (raw bytes, node). An attribute is returned with the reply it precedes."""
        deadline = time.monotonic() + self.timeout
        while True:
            parsed = parse(self.buf, 0) if self.buf else None
            if parsed is not None:
                node, end = parsed
                if node[0] == "|":  # attribute: read the reply it annotates too
                    rest = parse(self.buf, end)
                    if rest is not None:
                        raw = bytes(self.buf[:rest[1]])
                        del self.buf[:rest[1]]
                        return raw, ("|+", [node, rest[0]])
                else:
                    raw = bytes(self.buf[:end])
                    del self.buf[:end]
                    return raw, node
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no complete reply within %.1fs" % self.timeout)
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("connection closed by peer")
            self.buf += chunk

    def call(self, *args):
        self.send(encode_command(args))
        return self.read_reply()
