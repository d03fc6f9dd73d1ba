"""Starts the two sides the tester compares, on free 127.0.0.1 ports, and always stops them.

- a standalone redis-server (no persistence);
- a Redis Cluster of three masters (no replicas: the tester compares replies, not failover),
  slots assigned with CLUSTER ADDSLOTSRANGE and joined with CLUSTER MEET, then slotplane-proxy
  in front of it (`--enable-cross-slot yes`, so MGET/MSET/DEL/EXISTS/UNLINK/TOUCH split).

Every process is started in its own process group and registered with atexit; Servers.stop()
(also called from a finally block by run.py) sends SIGTERM, then SIGKILL after a grace period.
Every wait polls with a deadline.
"""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import resp

HOST = "127.0.0.1"
_LIVE = []  # every Process not yet stopped, for the atexit hook


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_free_port(rng, with_bus=False):
    """A port in 40000-54000 that is free now (and its +10000 cluster bus port too)."""
    for _ in range(200):
        port = rng.randrange(40000, 54000)
        if _port_free(port) and (not with_bus or _port_free(port + 10000)):
            return port
    raise RuntimeError("no free loopback port found")


class Process:
    """A child process in its own process group, stopped by stop() or at interpreter exit."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        _LIVE.append(self)

    def alive(self):
        return self.popen.poll() is None

    def stop(self, grace=10.0):
        if self in _LIVE:
            _LIVE.remove(self)
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=grace)
        self.log.close()
        return self.popen.returncode

    def tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("latin-1")
        except OSError:
            return ""


@atexit.register
def _stop_all():
    for proc in list(_LIVE):
        proc.stop(grace=5.0)


def _wait(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, resp.ProtocolError):
            pass
        time.sleep(0.05)
    raise RuntimeError("timed out after %ds waiting for %s" % (seconds, what))


def _call(port, *args, timeout=5.0):
    conn = resp.Connection(HOST, port, timeout=timeout)
    try:
        return conn.call(*args)[1]
    finally:
        conn.close()


def _pings(port):
    return _call(port, "PING", timeout=1.0) == ("+", b"PONG")


def _start_redis(workdir, name, port, extra):
    node_dir = os.path.join(workdir, name)
    os.makedirs(node_dir)
    argv = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
            "--appendonly", "no", "--dir", node_dir, "--daemonize", "no"] + extra
    proc = Process(argv, os.path.join(node_dir, "redis.log"))
    _wait(lambda: proc.alive() and _pings(port), 20, "redis-server %s on port %d" % (name, port))
    return proc


class Servers:
    """The standalone server and the proxy (with its cluster); ports in .standalone_port and
    .proxy_port. With proxy_binary None, a second standalone server stands in for the proxy
    (run.py --self-check: the tester's own normalizations checked against Redis alone)."""

    def __init__(self, proxy_binary, masters=3, seed=None, proxy_threads=2):
        self.procs = []
        self.workdir = tempfile.mkdtemp(prefix="slotplane-conformance-")
        rng = random.Random(seed if seed is not None else os.getpid())
        rng = random.Random(rng.random() + time.time())  # ports: never reproducible on purpose
        try:
            self.standalone_port = pick_free_port(rng)
            self.procs.append(_start_redis(self.workdir, "standalone", self.standalone_port, []))
            self.node_ports = []
            if proxy_binary is None:  # self-check: a second standalone server in its place
                self.proxy_port = pick_free_port(rng)
                self.proxy = _start_redis(self.workdir, "standalone2", self.proxy_port, [])
                self.procs.append(self.proxy)
                return
            for i in range(masters):
                port = pick_free_port(rng, with_bus=True)
                self.procs.append(_start_redis(self.workdir, "node%d" % i, port,
                                               ["--cluster-enabled", "yes",
                                                "--cluster-config-file", "nodes.conf",
                                                "--cluster-node-timeout", "5000"]))
                self.node_ports.append(port)
            self._form_cluster()
            self.proxy_port = pick_free_port(rng)
            argv = [proxy_binary, "--port", str(self.proxy_port), "--bind", HOST,
                    "--daemonize", "no", "--threads", str(proxy_threads),
                    "--log-level", "warning", "--enable-cross-slot", "yes"]
            for port in self.node_ports:
                argv += ["--cluster", "%s:%d" % (HOST, port)]
            self.proxy = Process(argv, os.path.join(self.workdir, "proxy.log"))
            self.procs.append(self.proxy)
            _wait(lambda: self.proxy.alive() and _pings(self.proxy_port), 30,
                  "slotplane-proxy on port %d" % self.proxy_port)
        except BaseException:
            self.stop()
            raise

    def _form_cluster(self):
        ports = self.node_ports
        per = 16384 // len(ports)
        for i, port in enumerate(ports):
            last = 16383 if i == len(ports) - 1 else (i + 1) * per - 1
            reply = _call(port, "CLUSTER", "ADDSLOTSRANGE", str(i * per), str(last))
            if reply != ("+", b"OK"):
                raise RuntimeError("CLUSTER ADDSLOTSRANGE on %d: %r" % (port, reply))
        for port in ports[1:]:
            _call(port, "CLUSTER", "MEET", HOST, str(ports[0]))

        def stable():
            for port in ports:
                info = _call(port, "CLUSTER", "INFO")[1]
                if b"cluster_state:ok" not in info or \
                        b"cluster_known_nodes:%d" % len(ports) not in info:
                    return False
            return True
        _wait(stable, 60, "the cluster to agree (cluster_state:ok)")

    def stop(self):
        """Stops every process (proxy first); returns the proxy's exit code or None."""
        code = None
        for proc in reversed(self.procs):
            rc = proc.stop()
            if proc is getattr(self, "proxy", None):
                code = rc
        self.procs = []
        shutil.rmtree(self.workdir, ignore_errors=True)
        return code
