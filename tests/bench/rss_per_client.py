#!/usr/bin/env python3
"""Memory a proxy spends per client connection, from its RSS (/proc/PID/status VmRSS).

  rss_per_client.py idle HOST PORT PID N [--deadline S]
      Opens N connections to HOST:PORT, sends one GET (of a key that does not exist) on each,
      reads every reply, and keeps them open and idle. Prints one line of key=value pairs:
        base_kb   RSS before the first connection
        idle_kb   RSS with the N clients connected and idle after their GET
        closed_kb RSS after all N closed: settled (up to 20 samples 50 ms apart, stopping early
                  when two in a row agree: the proxy handles the closes asynchronously), then
                  settled again 2.5 s later (slotplane gives heap memory back from a once-a-second
                  cron after a burst of closes)
        errors    error replies received (a proxy that refused a client shows here)
      Exits 1 when a connection or a reply fails (the harness is broken, or the proxy is).

  rss_per_client.py peak PID FILE MAX_SECONDS
      Samples PID's RSS every 50 ms until SIGTERM, SIGINT or MAX_SECONDS, then writes the
      highest value (kB) to FILE: the peak while a load runs.

Every wait is bounded (--deadline, default 60 s, for the whole idle run).
"""

import resource
import signal
import socket
import sys
import time


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ProcessLookupError(pid)


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        new = hard if hard == resource.RLIM_INFINITY else min(hard, max(need, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def reply_complete(buf: bytes) -> bool:
    """True when buf holds one whole RESP2 reply to GET (bulk, nil or error)."""
    end = buf.find(b"\r\n")
    if end < 0:
        return False
    if buf[:1] == b"$":
        length = int(buf[1:end])
        return length < 0 or len(buf) >= end + 2 + length + 2
    return True


def read_reply(sock: socket.socket, deadline: float) -> bytes:
    buf = b""
    while not reply_complete(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete reply before the deadline")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the reply")
        buf += chunk
    return buf


# How long after the closes settled closed_kb is sampled (see the docstring).
CLOSED_WAIT_S = 2.5


def settle(pid: int, samples: int = 20, interval: float = 0.05) -> int:
    last = rss_kb(pid)
    for _ in range(samples):
        time.sleep(interval)
        now = rss_kb(pid)
        if now == last:
            return now
        last = now
    return last


def cmd_idle(args: list) -> int:
    deadline_s = 60.0
    if "--deadline" in args:
        i = args.index("--deadline")
        deadline_s = float(args[i + 1])
        del args[i : i + 2]
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, pid, n = args[0], int(args[1]), int(args[2]), int(args[3])
    deadline = time.monotonic() + deadline_s
    raise_fd_limit(n + 64)
    base = rss_kb(pid)
    socks = []
    errors = 0
    try:
        for _ in range(n):
            s = socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic()))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
        for i, s in enumerate(socks):
            key = b"rss-per-client:absent:%d" % i
            s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
        for s in socks:
            if read_reply(s, deadline)[:1] == b"-":
                errors += 1
        idle = rss_kb(pid)
    except (OSError, ValueError) as e:
        print(f"rss_per_client.py: {len(socks)} of {n} clients connected, then: {e}", file=sys.stderr)
        for s in socks:
            s.close()
        return 1
    for s in socks:
        s.close()
    settle(pid)
    time.sleep(CLOSED_WAIT_S)
    closed = settle(pid)
    print(f"base_kb={base} idle_kb={idle} closed_kb={closed} errors={errors}")
    return 0


def cmd_peak(args: list) -> int:
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pid, out_file, max_s = int(args[0]), args[1], float(args[2])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    peak = 0
    end = time.monotonic() + max_s
    while not stop and time.monotonic() < end:
        try:
            peak = max(peak, rss_kb(pid))
        except OSError:
            break
        time.sleep(0.05)
    with open(out_file, "w", encoding="ascii") as f:
        f.write(f"{peak}\n")
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("idle", "peak"):
        print(__doc__, file=sys.stderr)
        return 2
    return cmd_idle(sys.argv[2:]) if sys.argv[1] == "idle" else cmd_peak(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
