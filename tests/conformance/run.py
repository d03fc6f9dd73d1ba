#!/usr/bin/env python3
"""slotplane's differential conformance tester: random command sequences, each run against a
standalone redis-server and through slotplane-proxy in front of a 3-master Redis Cluster, every
reply compared byte for byte (compare.py says what may differ and why). README.md has the rest.

  run.py --seed S --sequences N --length L [--protocol 2|3] [--proxy PATH]
  run.py --regressions-only            # only replay regressions/*.json
  run.py --replay FILE.json            # one case, every reply printed
  run.py --coverage                    # table commands of the data groups never generated

Exit code 0 when no difference other than the allowed and known ones was seen; 1 otherwise
(each difference printed with its seed and sequence, shrunk and written to regressions/); 2 on a
setup failure (a server that did not start, the proxy exiting non-zero on SIGTERM); 3 when
interrupted (SIGINT/SIGTERM: the totals so far are printed and the servers stopped).
Standard library only; Python 3.7+.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402
import coverage  # noqa: E402
import generator  # noqa: E402
import regressions  # noqa: E402
import runner  # noqa: E402
import servers  # noqa: E402
import shrink  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sequences", type=int, default=200)
    p.add_argument("--first", type=int, default=0,
                   help="index of the first sequence (to rerun sequence I of a seed: --first I "
                        "--sequences 1)")
    p.add_argument("--length", type=int, default=20, help="commands per sequence (about)")
    p.add_argument("--protocol", type=int, choices=(2, 3), default=2)
    p.add_argument("--proxy", default=os.environ.get("SLOTPLANE_PROXY",
                                                     os.path.join(REPO, "build", "bin",
                                                                  "slotplane-proxy")))
    p.add_argument("--max-seconds", type=float, default=0,
                   help="stop generating new sequences after this long (0: no limit)")
    p.add_argument("--timeout", type=float, default=10.0, help="socket timeout per reply")
    p.add_argument("--no-regressions", action="store_true", help="skip regressions/*.json")
    p.add_argument("--regressions-only", action="store_true")
    p.add_argument("--replay", help="replay one regression file and print every reply")
    p.add_argument("--no-write", action="store_true",
                   help="do not write shrunk failures to regressions/")
    p.add_argument("--max-failures", type=int, default=3,
                   help="stop after this many failing sequences (each is shrunk)")
    p.add_argument("--coverage", action="store_true")
    p.add_argument("--self-check", action="store_true",
                   help="compare two standalone servers (no proxy): checks the tester itself")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def show(raw):
    text = raw.decode("latin-1")
    return text if len(text) < 2000 else text[:2000] + "...(%d bytes)" % len(raw)


def format_steps(steps):
    lines = []
    for cmds in steps:
        prefix = "  " if len(cmds) == 1 else "  | "
        for cmd in cmds:
            lines.append(prefix + json.dumps(cmd, ensure_ascii=True))
    return "\n".join(lines)


def report_diff(title, steps, outcome):
    index, cmd, a, b = outcome.diff
    print("MISMATCH %s at step %d, command %s" % (title, index, json.dumps(cmd)))
    print(" standalone: %r" % show(a[0]))
    print(" slotplane:  %r" % show(b[0]))
    print(" sequence (steps; '|' marks pipelined commands):")
    print(format_steps(steps[:index + 1]))
    sys.stdout.flush()


class Totals:
    def __init__(self):
        self.sequences = self.commands = self.failures = self.normalized = 0
        self.allowed, self.known = {}, {}

    def add(self, outcome):
        self.sequences += 1
        self.commands += outcome.commands
        self.normalized += outcome.normalized
        for src, dst in ((outcome.allowed, self.allowed), (outcome.known, self.known)):
            for k, v in src.items():
                dst[k] = dst.get(k, 0) + v
        if outcome.failed():
            self.failures += 1


def replay_regressions(sides, totals, quiet):
    ok = True
    for case in regressions.load_all():
        if case.get("protocol", 2) != sides[0].protocol:
            continue
        outcome = runner.run_sequence(case["steps"], *sides)
        totals.add(outcome)
        if outcome.failed():
            ok = False
            report_diff("in regression %s" % os.path.basename(case["path"]), case["steps"], outcome)
        elif not quiet:
            print("regression %s: ok" % os.path.basename(case["path"]))
    return ok


def shrink_and_record(args, seq_index, steps, outcome, sides):
    name = generator.command_name(outcome.diff[1])

    def still_fails(candidate):  # the same command must still differ, not just any
        replay = runner.run_sequence(candidate, *sides)
        return replay.failed() and generator.command_name(replay.diff[1]) == name

    small, replays = shrink.shrink(steps, still_fails)
    final = runner.run_sequence(small, *sides)
    print("shrunk to %d commands in %d replays:" % (sum(map(len, small)), replays))
    print(format_steps(small))
    if final.failed():
        report_diff("(shrunk) seed %d sequence %d" % (args.seed, seq_index), small, final)
        if not args.no_write:
            _, cmd, a, b = final.diff
            description = "command %s: standalone %r, slotplane %r" % (
                json.dumps(cmd), show(a[0])[:200], show(b[0])[:200])
            path = regressions.write(args.seed, seq_index, args.protocol, small, description)
            print("regression case written: %s" % os.path.relpath(path, REPO))
    else:
        print("(the shrunk sequence no longer fails on replay: timing-dependent?)")


def replay_one(path, sides):
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    standalone, proxy = sides
    standalone.reset()
    proxy.reset()
    for cmds in case["steps"]:
        for side in sides:
            side.send(cmds)
        for cmd in cmds:
            a, b = standalone.read(), proxy.read()
            print("%s\n  standalone: %r\n  slotplane:  %r" % (json.dumps(cmd), show(a[0]),
                                                              show(b[0])))
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stop the servers and print the totals
    if args.coverage:
        return coverage.report(REPO)
    if args.self_check:
        args.proxy = None
    elif not os.access(args.proxy, os.X_OK):
        print("slotplane-proxy not found at %s (build it, or pass --proxy)" % args.proxy)
        return 2
    if shutil.which("redis-server") is None:
        print("redis-server not found in PATH")
        return 2
    started = time.monotonic()
    cluster = servers.Servers(args.proxy, seed=args.seed)
    sides = []
    exit_code = 0
    try:
        sides = [runner.Side("standalone", cluster.standalone_port, args.protocol, args.timeout),
                 runner.Side("slotplane", cluster.proxy_port, args.protocol, args.timeout)]
        for side in sides:
            side.setup_once()
        print("servers up in %.1fs: standalone :%d, slotplane-proxy :%d, masters %s; protocol "
              "RESP%d" % (time.monotonic() - started, cluster.standalone_port, cluster.proxy_port,
                          cluster.node_ports, args.protocol))
        sys.stdout.flush()
        if args.replay:
            return replay_one(args.replay, sides)
        totals = Totals()
        if not args.no_regressions:
            if not replay_regressions(sides, totals, args.quiet):
                exit_code = 1
        if not args.regressions_only:
            try:
                exit_code = max(exit_code, random_sequences(args, sides, totals))
            except KeyboardInterrupt:
                print("interrupted (SIGINT/SIGTERM)")
                exit_code = max(exit_code, 3)
        elapsed = time.monotonic() - started
        print("RESULT: %d sequences, %d commands, %d mismatching sequences, %.1fs; "
              "normalized replies %d; allowed differences %s; known differences %s"
              % (totals.sequences, totals.commands, totals.failures, elapsed, totals.normalized,
                 json.dumps(totals.allowed, sort_keys=True), json.dumps(totals.known,
                                                                        sort_keys=True)))
        unseen = [e["id"] for e in compare.KNOWN_DIFFERENCES if e["id"] not in totals.known]
        if unseen and not args.regressions_only:
            print("note: known differences not seen in this run (fixed? then delete them): %s"
                  % ", ".join(unseen))
    except (runner.SideError, RuntimeError) as e:
        print("setup failed: %s" % e)
        if cluster.proxy.alive() is False:
            print(cluster.proxy.tail())
        exit_code = 2
    finally:
        for side in sides:
            side.close()
        if not cluster.proxy.alive():
            print("slotplane-proxy exited during the run; its log:\n%s" % cluster.proxy.tail())
            exit_code = 2
        proxy_rc = cluster.stop()
        if proxy_rc not in (0, None):
            print("slotplane-proxy exited with %s on SIGTERM" % proxy_rc)
            exit_code = 2
    return exit_code


def random_sequences(args, sides, totals):
    deadline = time.monotonic() + args.max_seconds if args.max_seconds > 0 else None
    failures = 0
    last_report = time.monotonic()
    for i in range(args.first, args.first + args.sequences):
        if deadline is not None and time.monotonic() > deadline:
            print("time budget reached after %d sequences" % (i - args.first))
            break
        steps = generator.SequenceGenerator("%d:%d" % (args.seed, i)).sequence(args.length)
        outcome = runner.run_sequence(steps, *sides)
        totals.add(outcome)
        if outcome.failed():
            failures += 1
            report_diff("seed %d sequence %d" % (args.seed, i), steps, outcome)
            shrink_and_record(args, i, steps, outcome, sides)
            if failures >= args.max_failures:
                print("stopping after %d failing sequences" % failures)
                break
        if time.monotonic() - last_report > (120 if args.quiet else 30):
            last_report = time.monotonic()
            print("... %d sequences, %d commands, %d failing" % (totals.sequences, totals.commands,
                                                                totals.failures))
            sys.stdout.flush()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
