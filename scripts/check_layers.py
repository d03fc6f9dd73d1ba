#!/usr/bin/env python3
"""Checks slotplane's folder layering, so that the source tree stays a stack of layers.

1. No include cycle between folders. Every `#include "..."` in a `.h`/`.cc` file under common/,
   dataplane/ or controlplane/ that names a project path (`common/...`, `dataplane/...`,
   `controlplane/...`, `proto/...`, or a generated `slotplane/v1/*.pb.h` / `*.grpc.pb.h`, which
   belongs to proto/slotplane/v1, where its .proto lives) is an edge from the including file's
   folder to the included file's folder (`dataplane/session`, `dataplane` for files directly in
   dataplane/, ...). A strongly connected component of more than one folder is a cycle: each one
   is printed with one example include per edge, and enough cycles to cover every edge inside it.
2. Only dataplane/worker.{h,cc} and dataplane/proxy.{h,cc} include dataplane/worker.h: the
   layers below the proxy reach a worker through narrower interfaces, never the whole Worker.
3. Every folder holding source files (.h, .cc, .proto, .py, .sh) under common/, dataplane/,
   controlplane/, proto/, tests/, scripts/ or deploy/ has a README.md saying what it owns and
   what may depend on it. Exempt: tests/fuzz/corpus/* and tests/fuzz/dict (generated fuzzer
   data, no sources of their own). The folders under tests/unit/ mirror the source tree and are
   described by tests/unit/README.md, which they require instead of a README of their own.

Usage:
  scripts/check_layers.py              run the checks; exit 0 with a summary line, else 1
  scripts/check_layers.py --graph      print the folder graph, one `A -> B, C` line per folder
  scripts/check_layers.py --self-test  check the checks on a small fake tree in a temp dir
  --root DIR                           the tree to check (default: this repository)
Standard library only.
"""

import argparse
import os
import re
import sys
import tempfile
from collections import defaultdict, deque
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Folders whose C++ includes form the graph.
CODE_ROOTS = ("common", "dataplane", "controlplane")
# Include prefixes that name a project file; the folder is the included path's directory.
PROJECT_PREFIXES = ("common/", "dataplane/", "controlplane/", "proto/")
# Generated protobuf/gRPC headers: `slotplane/v1/x.pb.h` is generated from
# `proto/slotplane/v1/x.proto`.
GENERATED_PROTO = re.compile(r"^(slotplane/v1)/[^/]+\.(?:grpc\.)?pb\.h$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')

WORKER_HEADER = "dataplane/worker.h"
WORKER_HEADER_ALLOWED = frozenset(
    {"dataplane/worker.h", "dataplane/worker.cc", "dataplane/proxy.h", "dataplane/proxy.cc"})

# Folders that need a README.md when they hold source files.
README_ROOTS = ("common", "dataplane", "controlplane", "proto", "tests", "scripts", "deploy")
SOURCE_SUFFIXES = (".h", ".cc", ".proto", ".py", ".sh")
# Generated data folders: no README required (a prefix covers the folder and everything below).
README_EXEMPT = ("tests/fuzz/corpus", "tests/fuzz/dict")
# Folders (and everything below) described by one README.md at their top.
README_COVERED_BY = ("tests/unit",)


def _walk_files(root, top, suffixes):
    """Yields (relative posix path, absolute Path) of files under root/top, sorted, skipping
    hidden folders, __pycache__ and node_modules (npm's installs, e.g. tests/clients')."""
    base = root / top
    if not base.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and d not in ("__pycache__", "node_modules"))
        for name in sorted(filenames):
            if name.endswith(suffixes):
                path = Path(dirpath) / name
                yield path.relative_to(root).as_posix(), path


def include_target_folder(included):
    """The folder an included path belongs to, or None when it is not a project path."""
    m = GENERATED_PROTO.match(included)
    if m:
        return "proto/" + m.group(1)
    if included.startswith(PROJECT_PREFIXES):
        return os.path.dirname(included)
    return None


def scan_includes(root):
    """Returns (folders, includes): every folder holding scanned C++ files, and a list of
    (file, line number, included path, from folder, to folder) for project includes."""
    folders = set()
    includes = []
    for top in CODE_ROOTS:
        for rel, path in _walk_files(root, top, (".h", ".cc")):
            src = os.path.dirname(rel)
            folders.add(src)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    dst = include_target_folder(m.group(1))
                    if dst is not None:
                        includes.append((rel, lineno, m.group(1), src, dst))
    return folders, includes


def build_graph(folders, includes):
    """Returns (nodes, edges): edges maps (A, B) to the first include (file, line, path) that
    makes A depend on B, for A != B."""
    nodes = set(folders)
    edges = {}
    for rel, lineno, included, src, dst in includes:
        nodes.add(dst)
        if src != dst and (src, dst) not in edges:
            edges[(src, dst)] = (rel, lineno, included)
    return nodes, edges


def strongly_connected_components(nodes, edges):
    """Tarjan's algorithm, iterative. Returns the components as sorted lists."""
    succ = defaultdict(list)
    for a, b in sorted(edges):
        succ[a].append(b)
    index = {}
    low = {}
    on_stack = set()
    stack = []
    components = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_path(succ, start, goal, allowed):
    """Shortest path start..goal inside allowed (BFS), as a list of nodes, or None."""
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for child in succ[node]:
            if child in allowed and child not in previous:
                previous[child] = node
                queue.append(child)
    return None


def cycles_covering(component, edges):
    """Short cycles inside one strongly connected component that together use every edge of
    it: for each edge A -> B not yet used, A -> B plus a shortest path from B back to A. Each
    cycle is a list of folders [A, B, ..., A]."""
    members = set(component)
    succ = defaultdict(list)
    for a, b in sorted(edges):
        if a in members and b in members:
            succ[a].append(b)
    covered = set()
    cycles = []
    for a in sorted(succ):
        for b in succ[a]:
            if (a, b) in covered:
                continue
            back = _shortest_path(succ, b, a, members)
            cycle = [a] + back
            cycles.append(cycle)
            covered.update(zip(cycle, cycle[1:]))
    return cycles


def forbidden_worker_includes(includes):
    return [(rel, lineno, included) for rel, lineno, included, _, _ in includes
            if included == WORKER_HEADER and rel.startswith("dataplane/")
            and rel not in WORKER_HEADER_ALLOWED]


def _under(folder, prefixes):
    return any(folder == p or folder.startswith(p + "/") for p in prefixes)


def folders_without_readme(root):
    """Folders (relative posix paths, sorted) that hold source files and lack a README.md."""
    needing = set()
    for top in README_ROOTS:
        for rel, _ in _walk_files(root, top, SOURCE_SUFFIXES):
            folder = os.path.dirname(rel)
            if _under(folder, README_EXEMPT):
                continue
            for cover in README_COVERED_BY:
                if _under(folder, (cover,)):
                    folder = cover
                    break
            needing.add(folder)
    return sorted(f for f in needing if not (root / f / "README.md").is_file())


class Report:
    def __init__(self, root):
        folders, self.includes = scan_includes(root)
        self.nodes, self.edges = build_graph(folders, self.includes)
        self.cycle_groups = [c for c in strongly_connected_components(self.nodes, self.edges)
                             if len(c) > 1]
        self.worker = forbidden_worker_includes(self.includes)
        self.no_readme = folders_without_readme(root)

    def ok(self):
        return not (self.cycle_groups or self.worker or self.no_readme)

    def graph_lines(self):
        succ = defaultdict(list)
        for a, b in sorted(self.edges):
            succ[a].append(b)
        return ["%s -> %s" % (n, ", ".join(succ[n]) if succ[n] else "(none)")
                for n in sorted(self.nodes)]

    def problem_lines(self):
        out = []
        for group in self.cycle_groups:
            out.append("include cycle among %d folders: %s" % (len(group), ", ".join(group)))
            for cycle in cycles_covering(group, self.edges):
                out.append("  cycle: " + " -> ".join(cycle))
                for a, b in zip(cycle, cycle[1:]):
                    rel, lineno, included = self.edges[(a, b)]
                    out.append("    %s -> %s: %s:%d includes %s" % (a, b, rel, lineno, included))
        if self.worker:
            out.append("%s included outside %s:" % (WORKER_HEADER,
                                                     ", ".join(sorted(WORKER_HEADER_ALLOWED))))
            out.extend("  %s:%d includes %s" % w for w in self.worker)
        if self.no_readme:
            out.append("folders with source files but no README.md:")
            out.extend("  " + f for f in self.no_readme)
        return out

    def summary(self):
        if self.ok():
            return "check_layers: %d folders, %d edges, no cycles" % (len(self.nodes),
                                                                     len(self.edges))
        return ("check_layers: FAILED: %d folders, %d edges; %d include cycle group(s), "
                "%d forbidden %s include(s), %d folder(s) without README.md" %
                (len(self.nodes), len(self.edges), len(self.cycle_groups), len(self.worker),
                 WORKER_HEADER, len(self.no_readme)))


def self_test():
    """Builds fake trees and asserts that each rule catches what it should, and nothing else."""

    def write(root, rel, text=""):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    with tempfile.TemporaryDirectory(prefix="check_layers.") as tmp:
        root = Path(tmp)
        write(root, "common/README.md")
        write(root, "common/util.h", "#include <string>\n")
        # dataplane/a <-> dataplane/b is a cycle; dataplane/c -> dataplane/a is not part of it.
        write(root, "dataplane/a/README.md")
        write(root, "dataplane/a/a.h", '#include "common/util.h"\n#include "dataplane/b/b.h"\n')
        write(root, "dataplane/b/README.md")
        write(root, "dataplane/b/b.cc", '// b\n#include "dataplane/a/a.h"\n')
        write(root, "dataplane/c/README.md")
        write(root, "dataplane/c/c.cc",
              '#include "dataplane/a/a.h"\n#include "slotplane/v1/config.pb.h"\n'
              '#include "absl/strings/str_cat.h"\n')
        # The worker header: allowed in proxy.h and worker.cc, forbidden in dataplane/c.
        write(root, "dataplane/README.md")
        write(root, "dataplane/worker.h", '#include "common/util.h"\n')
        write(root, "dataplane/worker.cc", '#include "dataplane/worker.h"\n')
        write(root, "dataplane/proxy.h", '#include "dataplane/worker.h"\n')
        write(root, "dataplane/c/uses_worker.cc", '\n\n#include "dataplane/worker.h"\n')
        # No README: controlplane/x (forbidden), tests/unit/dataplane/a (covered by
        # tests/unit/README.md, also missing), tests/fuzz/corpus/p (exempt).
        write(root, "controlplane/x/x.cc", '#include "common/util.h"\n')
        write(root, "tests/unit/dataplane/a/a_test.cc")
        write(root, "tests/fuzz/corpus/p/seed.sh")
        write(root, "proto/slotplane/v1/README.md")
        write(root, "proto/slotplane/v1/config.proto")

        r = Report(root)
        assert r.cycle_groups == [["dataplane/a", "dataplane/b"]], r.cycle_groups
        assert cycles_covering(r.cycle_groups[0], r.edges) == [
            ["dataplane/a", "dataplane/b", "dataplane/a"]]
        assert r.edges[("dataplane/b", "dataplane/a")] == ("dataplane/b/b.cc", 2,
                                                           "dataplane/a/a.h"), r.edges
        assert ("dataplane/c", "proto/slotplane/v1") in r.edges, r.edges
        assert r.worker == [("dataplane/c/uses_worker.cc", 3, "dataplane/worker.h")], r.worker
        assert r.no_readme == ["controlplane/x", "tests/unit"], r.no_readme
        assert not r.ok()
        text = "\n".join(r.problem_lines())
        assert "dataplane/b -> dataplane/a: dataplane/b/b.cc:2 includes dataplane/a/a.h" in text
        assert "dataplane/c/uses_worker.cc:3 includes dataplane/worker.h" in text
        assert "dataplane/c -> dataplane, dataplane/a, proto/slotplane/v1" in r.graph_lines()

        # Fix everything: the same tree passes.
        write(root, "dataplane/b/b.cc", "// b\n")
        (root / "dataplane/c/uses_worker.cc").unlink()
        write(root, "controlplane/x/README.md")
        write(root, "tests/unit/README.md")
        r = Report(root)
        assert r.ok(), r.problem_lines()
        assert r.summary() == "check_layers: 7 folders, 6 edges, no cycles", r.summary()

        # A cycle of three folders, with a chord: every edge inside is shown in some cycle.
        write(root, "dataplane/b/b.cc", '#include "dataplane/c/c.h"\n')
        write(root, "dataplane/c/c.h", '#include "dataplane/a/a.h"\n#include "dataplane/b/b.h"\n')
        write(root, "dataplane/b/b.h", '#include "dataplane/c/c.h"\n')
        r = Report(root)
        assert r.cycle_groups == [["dataplane/a", "dataplane/b", "dataplane/c"]], r.cycle_groups
        inside = {e for e in r.edges if e[0] in r.cycle_groups[0] and e[1] in r.cycle_groups[0]}
        used = set()
        for cycle in cycles_covering(r.cycle_groups[0], r.edges):
            assert cycle[0] == cycle[-1], cycle
            used.update(zip(cycle, cycle[1:]))
        assert used == inside, (used, inside)
    print("check_layers: self-test passed")


def main():
    parser = argparse.ArgumentParser(
        description="Checks slotplane's folder layering (see the header of this file).")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="tree to check")
    parser.add_argument("--graph", action="store_true",
                        help="print the folder graph as `A -> B, C` lines and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check the checks on a fake tree in a temporary directory")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    report = Report(args.root.resolve())
    if args.graph:
        print("\n".join(report.graph_lines()))
        return 0
    for line in report.problem_lines():
        print(line)
    print(report.summary())
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
