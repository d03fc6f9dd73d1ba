#!/usr/bin/env python3
"""CPU accounting for slotplane's benchmarks.

  cpu_sample.py ticks PID...          print the summed utime+stime of the PIDs, in clock ticks
                                      (from /proc/PID/stat); fails if a PID is gone
  cpu_sample.py run FILE -- CMD...    run CMD (stdio passed through), then write the CPU time it
                                      and its waited-for children used (user+sys, seconds) to
                                      FILE; exits with CMD's exit status
"""

import os
import signal
import subprocess
import sys


def proc_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        stat = f.read()
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = stat[stat.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    if rest[0] == "Z":
        raise ProcessLookupError(pid)
    return int(rest[11]) + int(rest[12])


def cmd_ticks(args: list) -> int:
    if not args:
        print("usage: cpu_sample.py ticks PID...", file=sys.stderr)
        return 2
    total = 0
    for arg in args:
        try:
            total += proc_ticks(int(arg))
        except (OSError, ValueError, IndexError):
            print(f"cpu_sample.py: process {arg} is not running", file=sys.stderr)
            return 1
    print(total)
    return 0


def cmd_run(args: list) -> int:
    if len(args) < 3 or args[1] != "--":
        print("usage: cpu_sample.py run FILE -- CMD...", file=sys.stderr)
        return 2
    out_file, cmd = args[0], args[2:]
    try:
        child = subprocess.Popen(cmd)
    except OSError as e:
        print(f"cpu_sample.py: cannot run {cmd[0]}: {e}", file=sys.stderr)
        return 127
    # A Ctrl-C reaches the child through the terminal; wait for it instead of dying first.
    # SIGTERM is passed on, so stopping this process stops the command too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    _, status, usage = os.wait4(child.pid, 0)
    with open(out_file, "w", encoding="ascii") as f:
        f.write(f"{usage.ru_utime + usage.ru_stime:.6f}\n")
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("ticks", "run"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] == "ticks":
        return cmd_ticks(sys.argv[2:])
    return cmd_run(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
