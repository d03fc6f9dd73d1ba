#!/usr/bin/env python3
"""Generates dataplane/command/command_table_data.inc from a real Redis server.

Starts a throwaway redis-server on a free 127.0.0.1 port (no persistence, in a temporary
directory), reads COMMAND and COMMAND DOCS over a plain RESP2 socket, stops the server (always,
even on error) and writes two deterministic C++ fragments:

- command_table_data.inc: every command and subcommand: name, arity, flags, legacy key range, key
  specs (with the key flags ACL rules need), group and ACL categories. Routing policy is not part of the data: it lives in
  dataplane/command/routing.cc and is applied when the table is built.
- command_replies_data.inc: for every command and subcommand, its COMMAND INFO entry and its
  COMMAND DOCS value as raw RESP2 bytes and as raw RESP3 bytes (read on a second, HELLO 3
  connection), plus its ACL categories, so that the proxy answers the COMMAND family itself in
  either protocol. Redis lists subcommands in hash-table order, which changes from run to
  run; they are sorted by name here.

Usage: scripts/gen_command_table.py [--redis-server PATH] [--out PATH] [--replies-out PATH]
Standard library only. Rerunning against the same server version yields identical files.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "dataplane" / "command" / "command_table_data.inc"
DEFAULT_REPLIES_OUT = REPO_ROOT / "dataplane" / "command" / "command_replies_data.inc"
SCRIPT_NAME = "scripts/gen_command_table.py"
MAX_COLUMNS = 100

# Redis flag string -> CommandFlag enumerator (dataplane/command/command_table.h). Flags not
# listed here are ignored on purpose: the proxy does not act on them.
FLAG_NAMES = {
    "write": "kCmdWrite",
    "readonly": "kCmdReadonly",
    "denyoom": "kCmdDenyOom",
    "admin": "kCmdAdmin",
    "pubsub": "kCmdPubsub",
    "noscript": "kCmdNoscript",
    "blocking": "kCmdBlocking",
    "loading": "kCmdLoading",
    "stale": "kCmdStale",
    "fast": "kCmdFast",
    "movablekeys": "kCmdMovableKeys",
    "no_multi": "kCmdNoMulti",
    "no_auth": "kCmdNoAuth",
    "skip_monitor": "kCmdSkipMonitor",
    "allow_busy": "kCmdAllowBusy",
}
# Emission order of flags, so that the output does not depend on the server's order.
FLAG_ORDER = list(FLAG_NAMES)

# Key spec flags -> KeySpecAcl enumerator (command_table.h): what ACL key patterns need (%R~ for
# ACCESS, %W~ for INSERT, DELETE and UPDATE, as Redis's ACLSelectorCheckKey), which specs are not
# keys (shard channels) and which specs' flags depend on the arguments (SET, BITFIELD).
KEY_SPEC_ACL_FLAGS = {
    "access": "kKeyAclRead",
    "insert": "kKeyAclWrite",
    "delete": "kKeyAclWrite",
    "update": "kKeyAclWrite",
    "not_key": "kKeyAclNotKey",
    "variable_flags": "kKeyAclVariable",
}
KEY_SPEC_ACL_ORDER = ["kKeyAclRead", "kKeyAclWrite", "kKeyAclNotKey", "kKeyAclVariable"]

# Redis 7.0's ACL categories (ACL CAT), in the order of AclCategory (common/acl_categories.h).
ACL_CATEGORIES = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
                  "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
                  "blocking", "dangerous", "connection", "transaction", "scripting"]


class RedisError(Exception):
    """An error reply, or a server that cannot be started or talked to."""


# --- RESP2 client ----------------------------------------------------------------------------


class RespConnection:
    """A minimal blocking RESP2 client: enough for COMMAND, COMMAND DOCS, INFO and SHUTDOWN."""

    def __init__(self, port, timeout=10.0):
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._reader = self._sock.makefile("rb")

    def close(self):
        self._reader.close()
        self._sock.close()

    def call(self, *args):
        self._sock.sendall(self._encode(args))
        reply = self._read()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def call_typed(self, *args):
        """The reply as a Resp tree that keeps every RESP2 and RESP3 type, for re-encoding."""
        self._sock.sendall(self._encode(args))
        reply = self._read_typed()
        if reply.kind == b"-":
            raise RedisError(reply.value.decode())
        return reply

    @staticmethod
    def _encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def _line(self):
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed mid-reply")
        return line[:-2]

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self._reader.read(size + 2)
            if len(data) != size + 2:
                raise RedisError("connection closed mid-reply")
            return data[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise RedisError("unexpected RESP type byte %r" % kind)

    def _read_typed(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-", b"#", b",", b"(", b"_"):
            return Resp(kind, rest)
        if kind == b":":
            return Resp(kind, int(rest))
        if kind in (b"$", b"=", b"!"):
            size = int(rest)
            if size < 0:
                return Resp(kind, None)
            data = self._reader.read(size + 2)
            if len(data) != size + 2:
                raise RedisError("connection closed mid-reply")
            return Resp(kind, data[:-2])
        if kind in (b"*", b"~", b">", b"%"):
            size = int(rest)
            if size >= 0 and kind == b"%":
                size *= 2  # a map: kept as its flattened key, value list
            return Resp(kind, None if size < 0 else [self._read_typed() for _ in range(size)])
        raise RedisError("unexpected RESP type byte %r" % kind)


class Resp:
    """One RESP2 or RESP3 value with its type byte, re-encoded byte for byte by encode().

    A map's value is its flattened [key, value, ...] list."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    def text(self):
        return self.value.decode()

    def encode(self):
        if self.kind in (b"+", b"-", b"#", b",", b"(", b"_"):
            return self.kind + self.value + b"\r\n"
        if self.kind == b":":
            return b":%d\r\n" % self.value
        if self.value is None:
            return self.kind + b"-1\r\n"
        if self.kind in (b"$", b"=", b"!"):
            return self.kind + b"%d\r\n%s\r\n" % (len(self.value), self.value)
        count = len(self.value) // 2 if self.kind == b"%" else len(self.value)
        return self.kind + b"%d\r\n" % count + b"".join(v.encode() for v in self.value)


# --- Throwaway server ------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayServer:
    """A redis-server in a temporary directory; stopped and removed on exit, even on error.

    Only a server that reports our child's process id is ever sent SHUTDOWN: another process may
    take the chosen port between the probe and the start.
    """

    ATTEMPTS = 5

    def __init__(self, binary):
        self._binary = binary
        self._tmp = None
        self._proc = None
        self._ours = False
        self.port = None

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="slotplane-gen-")
        try:
            for _ in range(self.ATTEMPTS):
                if self._start():
                    return self
                self._stop()
            raise RedisError("could not start redis-server after %d attempts; its log ends:\n%s"
                             % (self.ATTEMPTS, self._log_tail()))
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        self._stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return False

    def _log_path(self):
        return os.path.join(self._tmp.name, "redis.log")

    def _log_tail(self, lines=5):
        try:
            with open(self._log_path(), "rb") as log:
                return b"".join(log.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"

    def _start(self):
        """True once our server answers on self.port."""
        self.port = free_port()
        log = open(self._log_path(), "ab")
        args = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self._tmp.name,
                "--daemonize", "no"]
        try:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        except OSError as err:
            raise RedisError("cannot run %s: %s" % (self._binary, err)) from err
        finally:
            log.close()
        return self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                conn = RespConnection(self.port, timeout=1.0)
                try:
                    info = conn.call("INFO", "server")
                finally:
                    conn.close()
                self._ours = "process_id:%d\r\n" % self._proc.pid in info
                return self._ours
            except (OSError, RedisError):
                time.sleep(0.05)
        return False

    def _stop(self):
        if self._proc is None:
            return
        if self._proc.poll() is None:
            if self._ours:
                self._send_shutdown()
            else:
                self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        self._ours = False

    def _send_shutdown(self):
        try:
            conn = RespConnection(self.port, timeout=2.0)
            try:
                conn.call("SHUTDOWN", "NOSAVE")
            finally:
                conn.close()
        except (OSError, RedisError):
            pass  # the server closes the connection instead of replying


# --- Reply decoding --------------------------------------------------------------------------


def pairs(flat):
    """A RESP2 flattened map ([k1, v1, k2, v2, ...]) as a dict."""
    return dict(zip(flat[0::2], flat[1::2]))


def decode_key_spec(raw):
    spec = pairs(raw)
    begin = pairs(spec["begin_search"])
    begin_args = pairs(begin["spec"]) if begin["spec"] else {}
    find = pairs(spec["find_keys"])
    find_args = pairs(find["spec"]) if find["spec"] else {}
    return {
        "begin": begin["type"],
        "begin_args": begin_args,
        "find": find["type"],
        "find_args": find_args,
        "incomplete": "incomplete" in (f.lower() for f in spec.get("flags", [])),
        "acl": sorted({KEY_SPEC_ACL_FLAGS[f.lower()] for f in spec.get("flags", [])
                       if f.lower() in KEY_SPEC_ACL_FLAGS}, key=KEY_SPEC_ACL_ORDER.index),
    }


def categories_of(names):
    found = {n.lower().lstrip("@") for n in names}
    unknown = found - set(ACL_CATEGORIES)
    if unknown:
        raise RedisError("unknown ACL categories %s: update common/acl_categories.h" % unknown)
    return [c for c in ACL_CATEGORIES if c in found]


def decode_command(raw):
    name, arity, flags, first, last, step = raw[:6]
    return {
        "name": name.lower(),
        "arity": arity,
        "flags": sorted({f.lower() for f in flags} & FLAG_NAMES.keys(), key=FLAG_ORDER.index),
        "first": first,
        "last": last,
        "step": step,
        "categories": categories_of(raw[6]),
        "key_specs": [decode_key_spec(s) for s in raw[8]],
        "subcommands": sorted((decode_command(s) for s in raw[9]), key=lambda c: c["name"]),
    }


def groups_from_docs(docs_reply):
    """Maps every command and subcommand name to its COMMAND DOCS group."""
    groups = {}

    def visit(name, doc):
        doc = pairs(doc)
        groups[name.lower()] = doc.get("group", "")
        for sub_name, sub_doc in pairs(doc.get("subcommands") or []).items():
            visit(sub_name, sub_doc)

    for name, doc in pairs(docs_reply).items():
        visit(name, doc)
    return groups


def fetch(binary):
    with ThrowawayServer(binary) as server:
        conn = RespConnection(server.port)
        try:
            info = conn.call("INFO", "server")
            version = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                           if line.startswith("redis_version:"))
            commands = [decode_command(c) for c in conn.call("COMMAND")]
            groups = groups_from_docs(conn.call("COMMAND", "DOCS"))
            replies = replies_from(conn.call_typed("COMMAND"), conn.call_typed("COMMAND", "DOCS"))
        finally:
            conn.close()
        replies = with_resp3(replies, fetch_resp3_replies(server.port))
    return version, sorted(commands, key=lambda c: c["name"]), groups, replies


# --- Raw COMMAND INFO / COMMAND DOCS replies -------------------------------------------------

INFO_ACL_CATEGORIES = 6  # positions in a COMMAND INFO entry
INFO_SUBCOMMANDS = 9
DOCS_SUBCOMMANDS = b"subcommands"


def sorted_info(entry):
    """A COMMAND INFO entry with its subcommand entries (recursively) sorted by name."""
    fields = list(entry.value)
    subs = fields[INFO_SUBCOMMANDS].value
    fields[INFO_SUBCOMMANDS] = Resp(fields[INFO_SUBCOMMANDS].kind,
                                    sorted((sorted_info(sub) for sub in subs),
                                           key=lambda e: e.value[0].value))
    return Resp(entry.kind, fields)


def sorted_docs(doc):
    """A COMMAND DOCS value with its "subcommands" map (recursively) sorted by name."""
    fields = list(doc.value)
    for i in range(0, len(fields), 2):
        if fields[i].value == DOCS_SUBCOMMANDS:
            flat = fields[i + 1].value
            pairs_ = sorted(zip(flat[0::2], flat[1::2]), key=lambda p: p[0].value)
            fields[i + 1] = Resp(fields[i + 1].kind,
                                 [x for name, sub in pairs_ for x in (name, sorted_docs(sub))])
    return Resp(doc.kind, fields)


def replies_from(command_reply, docs_reply):
    """{name: (info bytes, docs bytes, acl categories)} for every command and subcommand."""
    docs = {}

    def visit_docs(name, doc):
        docs[name.lower()] = doc
        for i in range(0, len(doc.value), 2):
            if doc.value[i].value == DOCS_SUBCOMMANDS:
                flat = doc.value[i + 1].value
                for sub_name, sub_doc in zip(flat[0::2], flat[1::2]):
                    visit_docs(sub_name.text(), sub_doc)

    flat = docs_reply.value
    for name, doc in zip(flat[0::2], flat[1::2]):
        visit_docs(name.text(), doc)

    replies = {}

    def visit_info(entry):
        name = entry.value[0].text().lower()
        if name not in docs:
            raise RedisError("%s: in COMMAND but not in COMMAND DOCS" % name)
        categories = " ".join(c.text() for c in entry.value[INFO_ACL_CATEGORIES].value)
        replies[name] = (sorted_info(entry).encode(), sorted_docs(docs[name]).encode(), categories)
        for sub in entry.value[INFO_SUBCOMMANDS].value:
            visit_info(sub)

    for entry in command_reply.value:
        visit_info(entry)
    return replies


def fetch_resp3_replies(port):
    """replies_from() of a HELLO 3 connection: the same entries in RESP3 (maps and sets)."""
    conn = RespConnection(port)
    try:
        conn.call_typed("HELLO", "3")
        return replies_from(conn.call_typed("COMMAND"), conn.call_typed("COMMAND", "DOCS"))
    finally:
        conn.close()


def with_resp3(replies, replies3):
    """{name: (info, docs, acl categories, RESP3 info, RESP3 docs)}."""
    if set(replies) != set(replies3):
        raise RedisError("RESP2 and RESP3 COMMAND list different commands")
    return {name: replies[name] + replies3[name][:2] for name in replies}


# --- C++ emission ----------------------------------------------------------------------------


def identifier(name):
    """"client|no-evict" -> "ClientNoEvict"."""
    parts = name.replace("|", "_").replace("-", "_").split("_")
    return "".join(p[:1].upper() + p[1:] for p in parts)


def cpp_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def wrap(prefix, items, suffix, indent):
    """Joins items with ", " after prefix, breaking lines at MAX_COLUMNS."""
    lines, line = [], prefix
    for i, item in enumerate(items):
        piece = item + (", " if i + 1 < len(items) else suffix)
        if len(line) + len(piece.rstrip()) > MAX_COLUMNS and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece
    lines.append(line.rstrip())
    return lines


def key_spec_fields(spec):
    begin = {"index": "kIndex", "keyword": "kKeyword"}.get(spec["begin"], "kUnknown")
    find = {"range": "kRange", "keynum": "kKeynum"}.get(spec["find"], "kUnknown")
    b, f = spec["begin_args"], spec["find_args"]
    keyword = cpp_string(b["keyword"].upper()) if begin == "kKeyword" else "nullptr"
    keystep = f.get("keystep", 1)
    return ["Begin::" + begin, str(b.get("index", 0)), keyword, str(b.get("startfrom", 0)),
            "Find::" + find, str(f.get("lastkey", 0)), str(keystep), str(f.get("limit", 0)),
            str(f.get("keynumidx", 0)), str(f.get("firstkey", 0)),
            "true" if spec["incomplete"] else "false", " | ".join(spec["acl"]) or "0"]


def emit_key_specs(cmd, out):
    if not cmd["key_specs"]:
        return "nullptr"
    array = "kSpecs" + identifier(cmd["name"])
    out.append("constexpr KeySpec %s[] = {" % array)
    for spec in cmd["key_specs"]:
        out.extend(wrap("    {", key_spec_fields(spec), "},", "     "))
    out.extend(["};", ""])
    return array


def command_fields(cmd, specs, subs, groups):
    flags = " | ".join(FLAG_NAMES[f] for f in cmd["flags"]) or "0"
    return [cpp_string(cmd["name"]), str(cmd["arity"]), flags, str(cmd["first"]),
            str(cmd["last"]), str(cmd["step"]), specs, str(len(cmd["key_specs"])), subs,
            str(len(cmd["subcommands"])), cpp_string(groups.get(cmd["name"], "")),
            " | ".join("kAcl" + c.capitalize() for c in cmd["categories"]) or "0"]


def emit_command(cmd, groups, out):
    """Emits the arrays a command refers to; returns its CommandData initializer lines."""
    subs = "nullptr"
    if cmd["subcommands"]:
        sub_entries = [emit_command(sub, groups, out) for sub in cmd["subcommands"]]
        subs = "kSubcommands" + identifier(cmd["name"])
        out.append("constexpr CommandData %s[] = {" % subs)
        for entry in sub_entries:
            out.extend(entry)
        out.extend(["};", ""])
    specs = emit_key_specs(cmd, out)
    return wrap("    {", command_fields(cmd, specs, subs, groups), "},", "     ")


def all_names(commands):
    for cmd in commands:
        yield cmd["name"]
        yield from all_names(cmd["subcommands"])


def check_shape(commands):
    """The C++ side assumes one level of subcommands and one identifier per name."""
    for cmd in commands:
        for sub in cmd["subcommands"]:
            if sub["subcommands"]:
                raise RedisError("%s: nested subcommands are not supported" % sub["name"])
    seen = {}
    for name in all_names(commands):
        other = seen.setdefault(identifier(name), name)
        if other != name:
            raise RedisError("names %r and %r map to one C++ identifier" % (other, name))


def render(version, commands, groups):
    check_shape(commands)
    out = [
        "// Generated by %s from redis-server %s. DO NOT EDIT." % (SCRIPT_NAME, version),
        "// Regenerate with: python3 %s [--redis-server PATH] [--out PATH]" % SCRIPT_NAME,
        "//",
        "// Included only by command_table.cc, which defines CommandData and the Begin/Find"
        " aliases.",
        "// KeySpec fields: begin, index, keyword, startfrom, find, lastkey, keystep, limit,",
        "// keynumidx, firstkey, incomplete, acl. CommandData fields: name, arity, flags,",
        "// first_key, last_key, key_step, key_specs, num_key_specs, subcommands,",
        "// num_subcommands, group, acl_categories.",
        "",
        "// clang-format off",
        "",
        "constexpr char kGeneratedFromRedisVersion[] = %s;" % cpp_string(version),
        "// The longest command or \"parent|subcommand\" name.",
        "constexpr size_t kMaxGeneratedNameLength = %d;" % max(map(len, all_names(commands))),
        "",
    ]
    entries = [emit_command(cmd, groups, out) for cmd in commands]
    out.append("constexpr CommandData kGeneratedCommands[] = {")
    for entry in entries:
        out.extend(entry)
    out.append("};")
    out.append("")
    out.append("// clang-format on")
    return "\n".join(out) + "\n"


def cpp_bytes(data, indent):
    """A C++ string literal of arbitrary bytes, split into adjacent literals at MAX_COLUMNS.

    Printable ASCII stays readable; every other byte is a three-digit octal escape (which never
    swallows a following digit); '?' is escaped so that no trigraph can form.
    """
    pieces = []
    for byte in data:
        ch = chr(byte)
        if ch in "\\\"?":
            pieces.append("\\" + ch)
        elif ch == "\r":
            pieces.append("\\r")
        elif ch == "\n":
            pieces.append("\\n")
        elif 32 <= byte < 127:
            pieces.append(ch)
        else:
            pieces.append("\\%03o" % byte)
    lines, line = [], indent + '"'
    for piece in pieces:
        if len(line) + len(piece) + 1 > MAX_COLUMNS:
            lines.append(line + '"')
            line = indent + '"'
        line += piece
    if line != indent + '"' or not lines:
        lines.append(line + '"')
    return lines


def render_replies(version, replies):
    out = [
        "// Generated by %s from redis-server %s. DO NOT EDIT." % (SCRIPT_NAME, version),
        "// Regenerate with: python3 %s [--redis-server PATH] [--replies-out PATH]" % SCRIPT_NAME,
        "//",
        "// Included only by command_replies.cc, which defines CommandReplyData. For every command",
        "// and subcommand, sorted by name: its COMMAND INFO entry and its COMMAND DOCS value as raw",
        "// RESP2 (subcommands sorted by name), and its ACL categories. Fields: name, info,",
        "// info_size, docs, docs_size, [info3, info3_size, docs3, docs3_size,] acl_categories.",
        "// info3 and docs3 are the same entry and value as a HELLO 3 connection gets them (RESP3).",
        "",
        "// clang-format off",
        "",
        "constexpr CommandReplyData kGeneratedCommandReplies[] = {",
    ]
    for name in sorted(replies):
        info, docs, categories, info3, docs3 = replies[name]
        out.append("    {%s," % cpp_string(name))
        out.extend(cpp_bytes(info, "     "))
        out[-1] += ", %d," % len(info)
        out.extend(cpp_bytes(docs, "     "))
        out[-1] += ", %d," % len(docs)
        out.extend(cpp_bytes(info3, "     "))
        out[-1] += ", %d," % len(info3)
        out.extend(cpp_bytes(docs3, "     "))
        out[-1] += ", %d," % len(docs3)
        out.append("     %s}," % cpp_string(categories))
    out.append("};")
    out.append("")
    out.append("// clang-format on")
    return "\n".join(out) + "\n"


def write_if_changed(path, text):
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server",
                        help="redis-server binary to read the command table from")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the table .inc file to write")
    parser.add_argument("--replies-out", default=str(DEFAULT_REPLIES_OUT),
                        help="the COMMAND INFO/DOCS replies .inc file to write")
    args = parser.parse_args(argv)
    try:
        version, commands, groups, replies = fetch(args.redis_server)
    except (OSError, RedisError) as err:
        print("gen_command_table: %s" % err, file=sys.stderr)
        return 1
    changed = write_if_changed(args.out, render(version, commands, groups))
    print("%s %s: %d commands from redis %s" % ("wrote" if changed else "unchanged", args.out,
                                                 len(commands), version))
    changed = write_if_changed(args.replies_out, render_replies(version, replies))
    print("%s %s: %d commands and subcommands" % ("wrote" if changed else "unchanged",
                                                  args.replies_out, len(replies)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
