#!/usr/bin/env python3
"""Writes docs/reliability.md from the JSON lines of a fault-suite run (tests/faults/run.sh --doc).

    reliability_doc.py REPORT DOC COMMAND MACHINE REVISION OUTCOMES CONTROL_DOWN_S SOAK_S

REPORT holds one JSON object per load (slotplane-faultload's summary, named by its scenario);
OUTCOMES is "1=passed 2=passed ..." as run.sh saw them. The document is replaced whole: it is the
latest run's figures, never edited by hand.
"""

import datetime
import json
import sys


def main(argv):
    report, doc, command, machine, revision, outcomes, control_down, soak = argv[1:9]
    rows = [json.loads(line) for line in open(report, encoding="utf-8") if line.strip()]
    out = [
        "# Reliability: the fault suite's latest figures",
        "",
        "Written by `tests/faults/run.sh --doc` (do not edit by hand; run it again). What each",
        "scenario does and asserts: [`tests/faults/README.md`](../tests/faults/README.md).",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, revision `{revision}`",
        f"- machine: {machine}",
        f"- control plane outage (scenario 5): {control_down} s; soak (scenario 9): {soak} s",
        f"- outcome per scenario: {outcomes.strip()}",
        "",
        "| load | errors | p99 ms | max ms | longest stall ms | lost acknowledged writes |"
        " applied twice | errors by kind |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        kinds = "; ".join(
            f"{n} `{k}`" for k, n in sorted(r["errors_by_kind"].items(), key=lambda x: -x[1]))
        out.append(
            f'| {r["name"]} | {r["errors"]} | {r["p99_ms"]:.1f} | {r["max_ms"]:.1f} | '
            f'{r["max_stall_ms"]:.0f} | {r["lost_writes"]} | {r["unexpected_increments"]} | '
            f'{kinds or "–"} |')
    out += [
        "",
        "Errors through slotplane in scenario 1 are writes that were already written to the",
        "master when it died: they may have run, so they are reported (`connection to cluster node",
        "… was lost before the reply arrived`) and never sent twice; everything else waits for the",
        "promoted replica (`failover-hold-timeout`). The same kill straight at the cluster with a",
        "cluster-aware client shows the cluster's own errors and losses for comparison.",
        "",
    ]
    with open(doc, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
