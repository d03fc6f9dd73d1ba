"""Delta debugging of a failing sequence: drop commands while the sequence still fails.

ddmin over the flat list of commands (each remembers its step, so pipelines stay pipelines),
chunks halving from n/2 down to single commands, then single commands once more until nothing can
be removed. Candidates that break a transaction (valid()) are skipped without a replay. Bounded
by a number of replays and a time budget: the result is the smallest failing
sequence found within them, and always one that failed when last replayed.
"""

import time

import keyslot
from generator import command_name, is_key


def _to_steps(flat):
    steps, last = [], None
    for step_id, cmd in flat:
        if step_id != last:
            steps.append([])
            last = step_id
        steps[-1].append(cmd)
    return steps


def valid(steps):
    """A candidate the generator could have produced: every MULTI is closed by EXEC or DISCARD
    and the keys between them are in one slot (dropping EXEC would otherwise pull later commands
    on other slots into the transaction: a cluster difference, not the one being shrunk)."""
    keys = None
    for cmds in steps:
        for cmd in cmds:
            name = command_name(cmd)
            if keys is None:
                if name == "MULTI":
                    keys = []
                continue
            if cmd[0] == "OTHER":
                continue
            if name in ("EXEC", "DISCARD"):
                keys = None
                continue
            keys += [a for a in cmd[1:] if is_key(a)]
            if not keyslot.same_slot(keys):
                return False
    return keys is None


def shrink(steps, still_fails, max_replays=400, max_seconds=120.0):
    """steps: the failing sequence; still_fails(steps) -> bool replays a candidate."""
    flat = [(i, cmd) for i, cmds in enumerate(steps) for cmd in cmds]
    deadline = time.monotonic() + max_seconds
    replays = 0

    def budget_left():
        return replays < max_replays and time.monotonic() < deadline

    chunk = max(1, len(flat) // 2)
    while budget_left():
        removed_any = False
        start = 0
        while start < len(flat) and budget_left():
            candidate = flat[:start] + flat[start + chunk:]
            replays += 1
            if candidate and valid(_to_steps(candidate)) and still_fails(_to_steps(candidate)):
                flat = candidate  # keep the chunk size: the same position now holds new commands
                removed_any = True
            else:
                start += chunk
        if not removed_any:
            if chunk == 1:
                break
            chunk = max(1, chunk // 2)
    return _to_steps(flat), replays
