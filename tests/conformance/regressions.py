"""Regression case files (regressions/*.json): one shrunk sequence each, replayed by every run.

Format (JSON; arguments are latin-1 strings, so any byte value round-trips):
  {"description": "...", "seed": S, "protocol": 2, "steps": [[["SET", "k", "v"]], ...]}
A case passes when replaying it shows no difference other than ALLOWED and KNOWN_DIFFERENCES.
"""

import glob
import json
import os

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")


def load_all():
    cases = []
    for path in sorted(glob.glob(os.path.join(DIR, "*.json"))):
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        case["path"] = path
        cases.append(case)
    return cases


def write(seed, sequence_index, protocol, steps, description):
    """Writes a new case; returns its path (never overwrites an existing file)."""
    os.makedirs(DIR, exist_ok=True)
    base = "seed%d-seq%d-resp%d" % (seed, sequence_index, protocol)
    path = os.path.join(DIR, base + ".json")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(DIR, "%s-%d.json" % (base, n))
    head = {"description": description, "seed": seed, "sequence": sequence_index,
            "protocol": protocol}
    lines = ["{"]
    lines += [" %s: %s," % (json.dumps(k), json.dumps(v, ensure_ascii=True))
              for k, v in head.items()]
    lines.append(' "steps": [')
    lines.append(",\n".join("  " + json.dumps(step, ensure_ascii=True) for step in steps))
    lines.append(" ]")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path
