#!/usr/bin/env bash
# Checks the top-level Dockerfile without a container engine.
#
#   scripts/check_dockerfile.sh [--lint-only] [--keep] [--dockerfile FILE]
#
#  1. Lint: hadolint when it is installed (Debian bookworm does not package it); always these
#     checks: every FROM is Debian bookworm (or an earlier stage), nothing uses `latest` or an
#     untagged image, the final stage has a non-root USER, a HEALTHCHECK, EXPOSE, an exec-form
#     ENTRYPOINT/CMD and ca-certificates; every apt-get install runs after apt-get update in the
#     same RUN, with -y and --no-install-recommends, and removes /var/lib/apt/lists; every COPY
#     source exists in the build context (after .dockerignore); COPY --from names an earlier
#     stage; WORKDIRs are absolute; a metrics-port in a copied *.conf is EXPOSEd.
#  2. Replay: the stages the final stage copies from are replayed into a scratch directory:
#     only the COPYed paths exist there (context files filtered by .dockerignore), WORKDIR is
#     honoured, ENV/ARG are set, and each RUN runs with bash from the WORKDIR. An apt-get
#     install line is skipped only when its packages are already installed here (and says so);
#     scripts/bootstrap.sh runs as it is (it installs nothing when everything is there). The
#     replay's configure and build prove the copied set is complete; every `COPY --from` source
#     of the final stage must then exist.
#  3. Packages: the final stage's lib* packages are exactly those providing the libraries the
#     replayed binaries load (ldd, dpkg -S; libc6 is in every base image); and every header,
#     library, tool and CMake package the replay build used comes from a package that
#     `scripts/bootstrap.sh --build-only` installs (its BUILD_PACKAGES, with their dependencies)
#     or that every Debian image has (Priority: required).
#
# The scratch directory is a fresh `mktemp -d` (SLOTPLANE_REPLAY_DIR to choose the parent), removed
# at the end unless --keep. The replay builds without tests; SLOTPLANE_JOBS sets its parallelism.
# Prints what it did; exits 1 on any problem.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
command -v python3 >/dev/null 2>&1 || {
  echo "check_dockerfile: error: python3 not found (run scripts/bootstrap.sh)" >&2
  exit 1
}

exec python3 - "$root" "$@" <<'PYTHON'
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time

ROOT = sys.argv[1]
ARGS = sys.argv[2:]
problems = []


def say(msg=""):
    print(f"check_dockerfile: {msg}", flush=True)


def problem(msg):
    problems.append(msg)
    print(f"check_dockerfile: PROBLEM: {msg}", flush=True)


def usage():
    print("usage: scripts/check_dockerfile.sh [--lint-only] [--keep] [--dockerfile FILE]",
          file=sys.stderr)
    sys.exit(2)


lint_only = keep = False
dockerfile = os.path.join(ROOT, "Dockerfile")
i = 0
while i < len(ARGS):
    a = ARGS[i]
    if a == "--lint-only":
        lint_only = True
    elif a == "--keep":
        keep = True
    elif a == "--dockerfile" and i + 1 < len(ARGS):
        i += 1
        dockerfile = os.path.abspath(ARGS[i])
    elif a in ("-h", "--help"):
        usage()
    else:
        usage()
    i += 1

# ---------------------------------------------------------------------------------------------
# Parsing


def parse_dockerfile(path):
    """Instructions as dicts {line, kw, args}; continuation lines joined, comments dropped."""
    instrs, buf, start = [], "", None
    with open(path) as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if s.startswith("#") or (not buf and not s):
            continue
        if start is None:
            start = n
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        kw, _, rest = buf.strip().partition(" ")
        instrs.append({"line": start, "kw": kw.upper(), "args": rest.strip()})
        buf, start = "", None
    if buf:
        problem(f"{os.path.basename(path)}:{start}: the file ends inside a continued line")
    return instrs


def split_flags(args):
    """(flags, rest) for COPY/ADD/HEALTHCHECK style `--name=value` prefixes."""
    flags = {}
    words = args.split()
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    return flags, " ".join(words)


def exec_form(text):
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        except ValueError:
            pass
    return None


def copy_args(args):
    flags, rest = split_flags(args)
    words = exec_form(rest) or shlex.split(rest)
    return flags, words[:-1], (words[-1] if words else "")


def stages_of(instrs):
    stages = []
    for ins in instrs:
        if ins["kw"] == "FROM":
            words = split_flags(ins["args"])[1].split()
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append({"line": ins["line"], "image": words[0] if words else "", "name": name,
                           "index": len(stages), "instrs": []})
        elif stages:
            stages[-1]["instrs"].append(ins)
        elif ins["kw"] != "ARG":
            problem(f"line {ins['line']}: {ins['kw']} before the first FROM")
    return stages


def apt_packages(command):
    """Packages named by `apt-get install` in a shell command (options skipped)."""
    packages = []
    for part in re.split(r"&&|;|\|\|", command):
        words = part.split()
        if "apt-get" in words and "install" in words:
            for w in words[words.index("install") + 1:]:
                if not w.startswith("-") and re.match(r"^[a-z0-9][a-z0-9+.\-]+(=\S+)?$", w):
                    packages.append(w.split("=")[0])
    return packages


# ---------------------------------------------------------------------------------------------
# .dockerignore (Docker's rules: paths relative to the context, `**` any number of directories,
# `!` exceptions, the last matching pattern wins; a matched directory takes its contents along)


def load_dockerignore():
    patterns = []
    path = os.path.join(ROOT, ".dockerignore")
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
            patterns.append((negate, glob_regex(pattern)))
    return patterns


def glob_regex(pattern):
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                out += re.escape(c)
            else:
                out += pattern[i:j + 1]
                i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")


IGNORE = load_dockerignore()


def ignored(rel):
    parts = rel.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    result = False
    for negate, regex in IGNORE:
        if any(regex.match(p) for p in prefixes):
            result = not negate
    return result


def context_matches(src):
    """Context paths (relative) a COPY source names, after .dockerignore."""
    src = os.path.normpath(src).lstrip("/")
    if src in (".", ""):
        return ["."]
    if any(ch in src for ch in "*?["):
        regex = glob_regex(src)
        found = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            rel_dir = os.path.relpath(dirpath, ROOT)
            for name in dirnames + filenames:
                rel = os.path.normpath(os.path.join(rel_dir, name))
                if regex.match(rel) and not ignored(rel):
                    found.append(rel)
        return sorted(found)
    if os.path.lexists(os.path.join(ROOT, src)) and not ignored(src):
        return [src]
    return []


# ---------------------------------------------------------------------------------------------
# Lint

instrs = parse_dockerfile(dockerfile)
stages = stages_of(instrs)
if not stages:
    problem("no FROM instruction")
    sys.exit(1)
final = stages[-1]
names = {s["name"]: s for s in stages if s["name"]}
BOOKWORM = re.compile(r"^(docker\.io/(library/)?)?debian:bookworm(-slim|-\d{8}(-slim)?)?"
                      r"(@sha256:[0-9a-f]{64})?$")

say(f"lint {os.path.relpath(dockerfile, ROOT)}: {len(stages)} stage(s), {len(instrs)} instructions")
if shutil.which("hadolint"):
    r = subprocess.run(["hadolint", "--failure-threshold", "error", dockerfile],
                       capture_output=True, text=True)
    for line in (r.stdout + r.stderr).splitlines():
        say(f"  hadolint: {line}")
    if r.returncode != 0:
        problem("hadolint reports errors (above)")
    else:
        say("  hadolint: no errors")
else:
    say("  hadolint is not installed (Debian bookworm has no package): slotplane's own checks only")

for s in stages:
    where = f"line {s['line']}"
    image = s["image"]
    earlier = {t["name"] for t in stages[:s["index"]] if t["name"]}
    if image in earlier:
        say(f"  FROM {image} (an earlier stage)")
    elif not BOOKWORM.match(image):
        problem(f"{where}: FROM {image}: images must be Debian bookworm (debian:bookworm or "
                f"debian:bookworm-slim, optionally with a date or digest)")
    else:
        say(f"  FROM {image}: pinned to bookworm")
    if image.endswith(":latest") or ":" not in image.split("/")[-1] and "@" not in image \
            and image not in earlier:
        problem(f"{where}: FROM {image} uses `latest` (give a tag)")
    for ins in s["instrs"]:
        kw, args, ln = ins["kw"], ins["args"], ins["line"]
        if "latest" in re.findall(r":(latest)\b", args):
            problem(f"line {ln}: {kw} uses `latest`")
        if kw == "WORKDIR" and not args.startswith("/"):
            problem(f"line {ln}: WORKDIR {args} is relative")
        if kw == "ADD":
            problem(f"line {ln}: use COPY, not ADD")
        if kw in ("COPY", "ADD"):
            flags, srcs, dest = copy_args(args)
            if not srcs:
                problem(f"line {ln}: {kw} needs a source and a destination")
            if "from" in flags:
                ref = flags["from"]
                if ref not in earlier and not (ref.isdigit() and int(ref) < s["index"]):
                    problem(f"line {ln}: COPY --from={ref} names no earlier stage")
            else:
                for src in srcs:
                    if not context_matches(src):
                        problem(f"line {ln}: COPY source {src} is not in the build context "
                                f"(missing, or excluded by .dockerignore)")
        if kw == "RUN" and "apt-get" in args and " install" in args:
            for part in [p for p in re.split(r"&&|;", args) if "apt-get" in p and "install" in p]:
                if "--no-install-recommends" not in part:
                    problem(f"line {ln}: apt-get install without --no-install-recommends")
                if not re.search(r"(^|\s)(-y|--yes|-qq?y|--assume-yes)(\s|$)", part):
                    problem(f"line {ln}: apt-get install without -y")
            if "apt-get update" not in args or args.index("apt-get update") > args.index("install"):
                problem(f"line {ln}: apt-get install without apt-get update before it in the same RUN")
            if not re.search(r"rm -rf /var/lib/apt/lists/\*?", args):
                problem(f"line {ln}: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN")
        if kw == "RUN" and re.search(r"(^|\s)(sudo)\s", args):
            problem(f"line {ln}: RUN uses sudo")

kws = [i["kw"] for i in final["instrs"]]
users = [i for i in final["instrs"] if i["kw"] == "USER"]
if not users:
    problem("the final stage has no USER: it would run as root")
else:
    user = users[-1]["args"].split(":")[0]
    if user in ("root", "0"):
        problem(f"line {users[-1]['line']}: the final stage runs as root (USER {users[-1]['args']})")
    elif not user.isdigit():
        problem(f"line {users[-1]['line']}: USER {user}: use a numeric uid, which Kubernetes' "
                f"runAsNonRoot can verify")
    else:
        say(f"  final stage: USER {users[-1]['args']} (non-root)")
health = [i for i in final["instrs"] if i["kw"] == "HEALTHCHECK"]
if not health or health[-1]["args"].upper().startswith("NONE"):
    problem("the final stage has no HEALTHCHECK")
else:
    say(f"  final stage: HEALTHCHECK {health[-1]['args']}")
exposed = set()
for ins in final["instrs"]:
    if ins["kw"] == "EXPOSE":
        exposed.update(p.split("/")[0] for p in ins["args"].split())
if not exposed:
    problem("the final stage EXPOSEs no port")
else:
    say(f"  final stage: EXPOSE {' '.join(sorted(exposed))}")
for ins in final["instrs"]:
    if ins["kw"] in ("ENTRYPOINT", "CMD") and exec_form(ins["args"]) is None:
        problem(f"line {ins['line']}: {ins['kw']} in shell form (use the JSON exec form: signals "
                f"reach the process)")
if "ENTRYPOINT" not in kws and "CMD" not in kws:
    problem("the final stage has neither ENTRYPOINT nor CMD")
final_packages = []
for ins in final["instrs"]:
    if ins["kw"] == "RUN":
        final_packages += apt_packages(ins["args"])
if "ca-certificates" not in final_packages:
    problem("the final stage does not install ca-certificates")
for ins in final["instrs"]:
    if ins["kw"] == "COPY" and "from" not in split_flags(ins["args"])[0]:
        for src in copy_args(ins["args"])[1]:
            for rel in context_matches(src):
                path = os.path.join(ROOT, rel)
                if rel.endswith(".conf") and os.path.isfile(path):
                    for line in open(path):
                        m = re.match(r"\s*metrics-port\s+(\d+)", line)
                        if m and m.group(1) != "0" and m.group(1) not in exposed:
                            problem(f"{rel} sets metrics-port {m.group(1)}, which is not EXPOSEd")
                        elif m:
                            say(f"  {rel}: metrics-port {m.group(1)} is EXPOSEd")
lint_problems = len(problems)
say(f"lint: {'no problem' if not lint_problems else f'{lint_problems} problem(s)'}")

if lint_only:
    sys.exit(1 if problems else 0)

# ---------------------------------------------------------------------------------------------
# Replay


def needed_stages():
    """Stages the final stage copies from, directly or through FROM/COPY --from, in order."""
    wanted, todo = set(), [final]
    while todo:
        s = todo.pop()
        refs = []
        for ins in s["instrs"]:
            if ins["kw"] == "COPY":
                ref = split_flags(ins["args"])[0].get("from")
                if ref:
                    refs.append(ref)
        if s["image"] in names:
            refs.append(s["image"])
        for ref in refs:
            t = names.get(ref) or (stages[int(ref)] if ref.isdigit() else None)
            if t is not None and t["index"] not in wanted:
                wanted.add(t["index"])
                todo.append(t)
    return [s for s in stages if s["index"] in wanted]


def copy_into(src_abs, dest_abs, rel_base, from_context):
    """Docker COPY of one source: a directory's contents, or a file."""
    if os.path.isdir(src_abs):
        os.makedirs(dest_abs, exist_ok=True)
        for dirpath, dirnames, filenames in os.walk(src_abs):
            rel_dir = os.path.relpath(dirpath, src_abs)
            if from_context:
                dirnames[:] = [d for d in dirnames
                               if not ignored(os.path.normpath(os.path.join(rel_base, rel_dir, d)))]
            os.makedirs(os.path.join(dest_abs, rel_dir), exist_ok=True)
            for name in filenames:
                if from_context and ignored(os.path.normpath(os.path.join(rel_base, rel_dir, name))):
                    continue
                shutil.copy2(os.path.join(dirpath, name),
                             os.path.join(dest_abs, rel_dir, name), follow_symlinks=False)
    else:
        os.makedirs(os.path.dirname(dest_abs), exist_ok=True)
        shutil.copy2(src_abs, dest_abs, follow_symlinks=False)


def in_root(stage_root, path):
    return os.path.join(stage_root, path.lstrip("/"))


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.stdout.strip() == "install ok installed"


def replay_stage(stage, scratch, roots):
    stage_root = os.path.join(scratch, stage["name"] or f"stage{stage['index']}")
    if stage["image"] in roots:
        shutil.copytree(roots[stage["image"]], stage_root, symlinks=True)
    else:
        os.makedirs(stage_root)
    roots[stage["name"] or str(stage["index"])] = stage_root
    workdir, env = "/", dict(os.environ)
    say(f"replay stage {stage['name'] or stage['index']} (FROM {stage['image']}) in {stage_root}")
    for ins in stage["instrs"]:
        kw, args, ln = ins["kw"], ins["args"], ins["line"]
        if kw == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir, args))
            os.makedirs(in_root(stage_root, workdir), exist_ok=True)
            say(f"  line {ln}: WORKDIR {workdir}")
        elif kw in ("ENV", "ARG"):
            for word in shlex.split(args):
                if "=" in word:
                    k, _, v = word.partition("=")
                    if kw == "ENV" or k not in env:
                        env[k] = v
            if kw == "ENV" and "=" not in args and len(args.split(None, 1)) == 2:
                k, v = args.split(None, 1)
                env[k] = v
            say(f"  line {ln}: {kw} {args}")
        elif kw == "COPY":
            flags, srcs, dest = copy_args(args)
            dest_abs = in_root(stage_root, os.path.join(workdir, dest))
            to_dir = dest.endswith("/") or len(srcs) > 1
            for src in srcs:
                if "from" in flags:
                    base = roots.get(flags["from"])
                    matches = [os.path.relpath(p, base) for p in
                               ([in_root(base, src)] if os.path.lexists(in_root(base, src)) else [])]
                else:
                    base = ROOT
                    matches = context_matches(src)
                if not matches:
                    problem(f"line {ln}: COPY {src}: nothing to copy")
                    return None
                for rel in matches:
                    src_abs = os.path.join(base, rel)
                    if os.path.isdir(src_abs) or not to_dir:
                        target = dest_abs
                    else:
                        target = os.path.join(dest_abs, os.path.basename(rel))
                    copy_into(src_abs, target, rel, "from" not in flags)
            say(f"  line {ln}: COPY {' '.join(srcs)} -> {os.path.normpath(os.path.join(workdir, dest))}")
        elif kw == "RUN":
            cwd = in_root(stage_root, workdir)
            for token in shlex.split(args.replace("&&", " ").replace(";", " ")):
                if token.startswith("/") and workdir != "/" and \
                        (token == workdir or token.startswith(workdir + "/")):
                    problem(f"line {ln}: RUN names {token} by its absolute path: the replay cannot "
                            f"run it (use a path relative to WORKDIR {workdir})")
                    return None
            packages = apt_packages(args)
            if packages:
                missing = [p for p in packages if not installed(p)]
                if missing:
                    problem(f"line {ln}: apt-get line not replayed: {' '.join(missing)} not installed "
                            f"on this machine (install them and run again)")
                    return None
                say(f"  line {ln}: RUN apt-get ... skipped: its {len(packages)} packages are "
                    f"already installed here")
                continue
            argv = exec_form(args) or ["bash", "-c", args]
            say(f"  line {ln}: RUN {args}")
            log = os.path.join(scratch, f"run-line{ln}.log")
            started = time.monotonic()
            with open(log, "w") as out:
                r = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT)
            took = time.monotonic() - started
            with open(log) as f:
                tail = f.read().splitlines()[-(40 if r.returncode else 3):]
            for line in tail:
                say(f"    | {line}")
            if r.returncode != 0:
                problem(f"line {ln}: RUN failed with exit code {r.returncode} after {took:.0f}s "
                        f"(its last lines above; --keep keeps all of it in {log})")
                return None
            say(f"    ok in {took:.0f}s")
        elif kw not in ("LABEL", "EXPOSE", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD", "VOLUME",
                        "STOPSIGNAL", "SHELL"):
            say(f"  line {ln}: {kw} not replayed")
    return stage_root


def dpkg_owners(paths):
    """{path: set(packages)} for the paths dpkg knows (merged /usr aliases tried)."""
    owners = {}
    candidates = {}
    for p in paths:
        variants = {p, os.path.realpath(p)}
        for v in list(variants):
            for a, b in (("/usr/lib/", "/lib/"), ("/lib/", "/usr/lib/"), ("/usr/bin/", "/bin/"),
                         ("/bin/", "/usr/bin/"), ("/usr/sbin/", "/sbin/")):
                if v.startswith(a):
                    variants.add(b + v[len(a):])
        for v in variants:
            candidates.setdefault(v, set()).add(p)
    items = sorted(candidates)
    for k in range(0, len(items), 500):
        r = subprocess.run(["dpkg", "-S"] + items[k:k + 500], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            pkgs, sep, path = line.partition(": ")
            if not sep or path not in candidates:
                continue
            for pkg in pkgs.split(", "):
                for orig in candidates[path]:
                    owners.setdefault(orig, set()).add(pkg.split(":")[0])
    return owners


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def check_runtime_packages(binaries):
    libs = {}
    for b in binaries:
        r = subprocess.run(["ldd", b], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if "not found" in line:
                problem(f"{os.path.basename(b)}: {line.strip()}")
            m = re.search(r"=>\s+(/\S+)", line)
            if m:
                libs.setdefault(m.group(1), set()).add(os.path.basename(b))
    owners = dpkg_owners(list(libs))
    needed = {}
    for lib, users in sorted(libs.items()):
        pkgs = owners.get(lib)
        if not pkgs:
            problem(f"{lib} (loaded by {', '.join(sorted(users))}) belongs to no Debian package")
            continue
        for p in pkgs:
            needed.setdefault(p, set()).add(os.path.basename(lib))
    listed = set(final_packages)
    say(f"runtime packages: the binaries load {len(libs)} libraries from "
        f"{len(needed)} packages: {' '.join(sorted(needed))}")
    for p in sorted(needed):
        if p not in listed and p != "libc6":
            problem(f"the final stage does not install {p} ({', '.join(sorted(needed[p]))})")
    for p in sorted(listed):
        if p.startswith("lib") and p not in needed:
            problem(f"the final stage installs {p}, which provides no library the binaries load")
    if all(p in listed or p == "libc6" for p in needed):
        say("  every one is installed by the final stage (libc6 comes with the base image)")


def bootstrap_build_packages():
    script = os.path.join(ROOT, "scripts", "bootstrap.sh")
    text = open(script).read()
    m = re.search(r"^BUILD_PACKAGES=\((.*?)^\)", text, re.S | re.M)
    if not m:
        return None
    body = re.sub(r"#.*", "", m.group(1))
    return body.split()


def check_build_packages(stage_roots):
    packages = bootstrap_build_packages()
    if packages is None:
        problem("scripts/bootstrap.sh has no BUILD_PACKAGES list")
        return
    caches = []
    for stage_root in stage_roots:
        for dirpath, dirnames, filenames in os.walk(stage_root):
            if "CMakeCache.txt" in filenames:
                caches.append((stage_root, dirpath))
    if len(caches) != 1:
        problem(f"expected one CMake build directory in the replay, found {len(caches)}")
        return
    stage_root, build = caches[0]
    used = set()
    r = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        p = line.strip()
        if p.startswith("/") and not p.startswith(stage_root):
            used.add(p)
    with open(os.path.join(build, "build.ninja")) as f:
        for line in f:
            if line.strip().startswith("LINK_LIBRARIES ="):
                for w in line.split("=", 1)[1].split():
                    if w.startswith("/") and not w.startswith(stage_root):
                        used.add(w)
                    elif w.startswith("-l"):
                        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib"):
                            for ext in (".so", ".a"):
                                cand = os.path.join(d, f"lib{w[2:]}{ext}")
                                if os.path.exists(cand):
                                    used.add(cand)
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_\-]+):(FILEPATH|PATH)=(/.*)$", line.strip())
            if not m or m.group(1).startswith("CCACHE") or m.group(1).startswith("CMAKE_INSTALL"):
                continue
            path = m.group(3)
            if m.group(1).endswith("_DIR") and os.path.isdir(path):
                used.update(os.path.join(path, n) for n in os.listdir(path)
                            if n.endswith(".cmake"))
            elif os.path.isfile(path):
                used.add(path)
    closure = set()
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
                        "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                        "--no-enhances"] + packages, capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line and not line.startswith(" ") and not line.startswith("<"):
            closure.add(line.strip().split(":")[0])
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Priority} ${Essential}\n"],
                       capture_output=True, text=True)
    base = {l.split()[0] for l in r.stdout.splitlines()
            if len(l.split()) >= 2 and (l.split()[1] == "required" or l.endswith(" yes"))}
    allowed = closure | base
    owners = dpkg_owners(sorted(used))
    outside = {}
    unowned = [p for p in sorted(used) if p not in owners]
    for path, pkgs in owners.items():
        if not pkgs & allowed:
            outside.setdefault(", ".join(sorted(pkgs)), []).append(path)
    say(f"build packages: the replay used {len(used)} files outside the scratch directory "
        f"(headers, libraries, tools, CMake packages); BUILD_PACKAGES ({len(packages)}) with "
        f"their dependencies are {len(closure)} packages, plus {len(base)} every Debian image has")
    for pkgs, paths in sorted(outside.items()):
        problem(f"the build used {paths[0]}" + (f" and {len(paths) - 1} more" if len(paths) > 1
                else "") + f" from {pkgs}, which scripts/bootstrap.sh --build-only does not "
                f"install (add it to BUILD_PACKAGES)")
    if unowned:
        say(f"  {len(unowned)} file(s) belong to no package (not checked): "
            f"{' '.join(unowned[:5])}{' …' if len(unowned) > 5 else ''}")
    if not outside:
        say("  every one comes from BUILD_PACKAGES, their dependencies or the base image")


started = time.monotonic()
parent = os.environ.get("SLOTPLANE_REPLAY_DIR") or None
if parent:
    os.makedirs(parent, exist_ok=True)
scratch = tempfile.mkdtemp(prefix="slotplane-dockerfile.", dir=parent)
roots = {}
try:
    replayed = None
    for stage in needed_stages():
        replayed = replay_stage(stage, scratch, roots)
        if replayed is None:
            break
    if replayed is not None:
        binaries = []
        for ins in final["instrs"]:
            if ins["kw"] != "COPY":
                continue
            flags, srcs, _ = copy_args(ins["args"])
            if "from" not in flags:
                continue
            base = roots.get(flags["from"])
            if base is None:
                continue
            for src in srcs:
                path = in_root(base, src)
                if not os.path.lexists(path):
                    problem(f"line {ins['line']}: COPY --from={flags['from']} {src}: the replay "
                            f"produced no such file")
                elif os.path.isfile(path) and is_elf(path):
                    binaries.append(path)
                elif os.path.isdir(path):
                    binaries += [os.path.join(path, n) for n in sorted(os.listdir(path))
                                 if is_elf(os.path.join(path, n))]
        say(f"final stage copies {len(binaries)} binaries from the replay: "
            f"{' '.join(os.path.basename(b) for b in binaries)}")
        if binaries:
            check_runtime_packages(binaries)
        uses_build_only = any("bootstrap.sh --build-only" in i["args"]
                              for s in needed_stages() for i in s["instrs"] if i["kw"] == "RUN")
        if uses_build_only:
            check_build_packages([roots[s["name"] or str(s["index"])] for s in needed_stages()])
        else:
            say("the build stages do not run scripts/bootstrap.sh --build-only: "
                "build package check skipped")
finally:
    if keep:
        say(f"scratch directory kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)

say(f"replay and package checks took {time.monotonic() - started:.0f}s")
if problems:
    say(f"FAILED: {len(problems)} problem(s)")
    sys.exit(1)
say("OK: the Dockerfile passes every check")
PYTHON
