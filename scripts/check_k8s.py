#!/usr/bin/env python3
"""Checks deploy/k8s/: renders the base and every overlay and checks what comes out.

    scripts/check_k8s.py [--bin-dir DIR] [--kubectl KUBECTL]

For deploy/k8s/base and each deploy/k8s/overlays/*/ (offline: `kubectl kustomize`, no cluster):
  - every object has apiVersion, kind, metadata.name, the namespace of the base, and the
    apiVersion this script knows for its kind; the fields each kind needs are there (a basic
    schema per kind; an unknown kind is a problem), and pod specs, containers and probes have no
    unknown field (a misspelt key);
  - containers: an image with a tag other than latest, resource requests (cpu, memory) and a
    memory limit; readiness and liveness probes in Deployments and StatefulSets; every port a
    probe, a Service, a PodMonitor, a ServiceMonitor or a prometheus.io/port annotation names
    exists in the container(s) it points at; every volume mount has a volume; every ConfigMap
    and Secret referenced exists (Secrets: those deploy/k8s/secrets.sh creates) with the key;
  - selectors (Service, PodDisruptionBudget, NetworkPolicy and its peers, PodMonitor,
    ServiceMonitor, HPA target) find what they should; NetworkPolicy ports are ports of the pods
    they lead to;
  - shell scripts in ConfigMaps pass `bash -n`;
  - the arguments of every slotplane-proxy / slotplane-control container, with the files its
    volumes would hold (ConfigMaps as rendered, Secrets from `secrets.sh --dry-run` with sample
    values), are accepted by the real binary: `BINARY --check-config ARGS...` parses every
    option, config file and include, and reads the token and TLS files they name; HTTP probes
    of those containers ask for a path the binary serves (/healthz, /readyz, /metrics).
    The ports and bind addresses in those options must match the container's ports.

The binaries come from build/bin (--bin-dir or SLOTPLANE_BIN_DIR to choose; scripts/build.sh
builds them). Needs kubectl (its built-in kustomize; Debian's kubernetes-client) and PyYAML
(python3-yaml): scripts/bootstrap.sh installs both. Exits 1 on any problem.
"""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("check_k8s: error: PyYAML is missing (apt-get install python3-yaml, or run "
          "scripts/bootstrap.sh)", file=sys.stderr)
    sys.exit(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S = os.path.join(ROOT, "deploy", "k8s")
NAMESPACE = "slotplane"
SLOTPLANE_BINARIES = ("slotplane-proxy", "slotplane-control")
# What both daemons serve on their metrics port (common/metrics_http.h).
SLOTPLANE_HTTP_PATHS = ("/healthz", "/readyz", "/metrics")

# Sample secret values with characters that need quoting in proxy.conf syntax.
SAMPLE_SECRETS = {
    "REDIS_PASSWORD": 'redis "sample" pass\\word',
    "PROXY_PASSWORD": "proxy sample 'pass'",
    "ADMIN_TOKEN": "sample-admin-token",
    "PROXY_TOKEN": "sample-proxy-token",
}

API_VERSIONS = {
    "ConfigMap": "v1",
    "Service": "v1",
    "Secret": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "PodDisruptionBudget": "policy/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "NetworkPolicy": "networking.k8s.io/v1",
    "PodMonitor": "monitoring.coreos.com/v1",
    "ServiceMonitor": "monitoring.coreos.com/v1",
}

# Fields each kind needs (dotted paths), the basic schema check.
REQUIRED = {
    "ConfigMap": [],
    "Service": ["spec.ports"],
    "Secret": [],
    "Deployment": ["spec.selector.matchLabels", "spec.template.metadata.labels",
                   "spec.template.spec.containers"],
    "StatefulSet": ["spec.selector.matchLabels", "spec.serviceName",
                    "spec.template.metadata.labels", "spec.template.spec.containers"],
    "Job": ["spec.template.spec.containers", "spec.template.spec.restartPolicy"],
    "PodDisruptionBudget": ["spec.selector"],
    "HorizontalPodAutoscaler": ["spec.scaleTargetRef.apiVersion", "spec.scaleTargetRef.kind",
                                "spec.scaleTargetRef.name", "spec.maxReplicas", "spec.metrics"],
    "NetworkPolicy": ["spec.podSelector", "spec.policyTypes"],
    "PodMonitor": ["spec.selector", "spec.podMetricsEndpoints"],
    "ServiceMonitor": ["spec.selector", "spec.endpoints"],
}

POD_SPEC_FIELDS = {
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers",
    "dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases",
    "hostIPC", "hostNetwork", "hostPID", "hostUsers", "hostname", "imagePullSecrets",
    "initContainers", "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy",
    "priority", "priorityClassName", "readinessGates", "resourceClaims", "restartPolicy",
    "runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
    "serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace",
    "subdomain", "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints",
    "volumes",
}
CONTAINER_FIELDS = {
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
    "livenessProbe", "name", "ports", "readinessProbe", "resizePolicy", "resources",
    "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
    "volumeMounts", "workingDir",
}
PROBE_FIELDS = {
    "exec", "failureThreshold", "grpc", "httpGet", "initialDelaySeconds", "periodSeconds",
    "successThreshold", "tcpSocket", "terminationGracePeriodSeconds", "timeoutSeconds",
}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")

problems = []


def say(msg=""):
    print(f"check_k8s: {msg}", flush=True)


def problem(where, msg):
    problems.append(f"{where}: {msg}")
    print(f"check_k8s: PROBLEM: {where}: {msg}", flush=True)


def get(obj, path, default=None):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def ident(obj):
    return f"{obj.get('kind', '?')}/{get(obj, 'metadata.name', '?')}"


def selector_matches(selector, labels):
    """Kubernetes label selector semantics (matchLabels, matchExpressions)."""
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pod_template(obj):
    if obj.get("kind") in WORKLOADS:
        return get(obj, "spec.template")
    return None


def container_ports(containers):
    """{name or number: containerPort} for a list of containers."""
    ports = {}
    for c in containers:
        for p in c.get("ports") or []:
            ports[p.get("containerPort")] = p.get("containerPort")
            if p.get("name"):
                ports[p["name"]] = p.get("containerPort")
    return ports


# ---------------------------------------------------------------------------------------------
# Rendering


def kubectl_cmd(args):
    kubectl = args.kubectl or os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl:
        say("error: kubectl not found (scripts/bootstrap.sh installs kubernetes-client)")
        sys.exit(1)
    return kubectl


def render(kubectl, directory):
    r = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                       env=dict(os.environ, KUBECONFIG=os.devnull))
    rel = os.path.relpath(directory, ROOT)
    for line in r.stderr.splitlines():
        if line.strip():
            say(f"  kubectl kustomize {rel}: {line.strip()}")
    if r.returncode != 0:
        problem(rel, f"kubectl kustomize failed (exit {r.returncode})")
        return None
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def sample_secrets():
    """The Secrets deploy/k8s/secrets.sh creates, rendered offline with sample values."""
    env = dict(os.environ, KUBECONFIG=os.devnull, **SAMPLE_SECRETS)
    r = subprocess.run([os.path.join(K8S, "secrets.sh"), "--dry-run"], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        problem("deploy/k8s/secrets.sh", f"--dry-run failed: {r.stderr.strip()}")
        return {}
    secrets = {}
    for d in yaml.safe_load_all(r.stdout):
        if d and d.get("kind") == "Secret":
            secrets[d["metadata"]["name"]] = {
                k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()}
    return secrets


# ---------------------------------------------------------------------------------------------
# Object checks


def check_schema(obj, where):
    for field in ("apiVersion", "kind"):
        if not obj.get(field):
            problem(where, f"no {field}")
    if not get(obj, "metadata.name"):
        problem(where, "no metadata.name")
    kind = obj.get("kind")
    if kind not in REQUIRED:
        problem(where, f"kind {kind} has no schema check in scripts/check_k8s.py (add one)")
        return
    if obj.get("apiVersion") != API_VERSIONS[kind]:
        problem(where, f"apiVersion {obj.get('apiVersion')}, expected {API_VERSIONS[kind]}")
    for path in REQUIRED[kind]:
        if get(obj, path) in (None, [], ""):  # {} is a valid selector: everything
            problem(where, f"missing {path}")
    if get(obj, "metadata.namespace") != NAMESPACE:
        problem(where, f"namespace {get(obj, 'metadata.namespace')}, expected {NAMESPACE}")
    name = get(obj, "metadata.name", "")
    if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name) or len(name) > 253:
        problem(where, f"name {name!r} is not a DNS subdomain")
    if kind == "Service" and len(name) > 63:
        problem(where, "a Service name has at most 63 characters")
    for k, v in (get(obj, "metadata.labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63:
            problem(where, f"label {k}: value must be a string of at most 63 characters")
    if kind == "ConfigMap" and not obj.get("data") and not obj.get("binaryData"):
        problem(where, "ConfigMap without data")


def check_pod(obj, where, objects, secrets):
    kind = obj["kind"]
    template = pod_template(obj)
    spec = get(template, "spec") or {}
    labels = get(template, "metadata.labels") or {}
    selector = get(obj, "spec.selector")
    if kind != "Job" and not selector_matches(selector, labels):
        problem(where, "spec.selector does not match the pod template's labels")
    if kind == "Job" and spec.get("restartPolicy") not in ("Never", "OnFailure"):
        problem(where, "a Job's restartPolicy must be Never or OnFailure")
    for field in spec:
        if field not in POD_SPEC_FIELDS:
            problem(where, f"unknown pod spec field {field}")
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    claims = {get(t, "metadata.name") for t in get(obj, "spec.volumeClaimTemplates") or []}
    if kind == "StatefulSet":
        svc = get(obj, "spec.serviceName")
        if not any(o["kind"] == "Service" and get(o, "metadata.name") == svc for o in objects):
            problem(where, f"serviceName {svc}: no such Service")
    configmaps = {get(o, "metadata.name"): o.get("data") or {} for o in objects
                  if o["kind"] == "ConfigMap"}

    def check_ref(kind_, name, key, ctx):
        store = configmaps if kind_ == "ConfigMap" else secrets
        if name not in store:
            origin = "rendered" if kind_ == "ConfigMap" else "created by deploy/k8s/secrets.sh"
            problem(where, f"{ctx}: {kind_} {name} is not {origin}")
        elif key is not None and key not in store[name]:
            problem(where, f"{ctx}: {kind_} {name} has no key {key}")

    for name, v in volumes.items():
        if "configMap" in v:
            for item in get(v, "configMap.items") or [None]:
                check_ref("ConfigMap", get(v, "configMap.name"), item and item.get("key"),
                          f"volume {name}")
        if "secret" in v:
            for item in get(v, "secret.items") or [None]:
                check_ref("Secret", get(v, "secret.secretName"), item and item.get("key"),
                          f"volume {name}")
        for source in get(v, "projected.sources") or []:
            for kind_, field in (("ConfigMap", "configMap"), ("Secret", "secret")):
                if field in source:
                    for item in source[field].get("items") or [None]:
                        check_ref(kind_, source[field].get("name"), item and item.get("key"),
                                  f"volume {name}")
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    for c in containers:
        cwhere = f"{where} container {c.get('name')}"
        for field in c:
            if field not in CONTAINER_FIELDS:
                problem(cwhere, f"unknown container field {field}")
        image = c.get("image") or ""
        if not image:
            problem(cwhere, "no image")
        elif image.endswith(":latest") or (":" not in image.split("/")[-1] and "@" not in image):
            problem(cwhere, f"image {image}: give a tag other than latest")
        requests = get(c, "resources.requests") or {}
        limits = get(c, "resources.limits") or {}
        for r in ("cpu", "memory"):
            if r not in requests:
                problem(cwhere, f"no resources.requests.{r}")
        if "memory" not in limits:
            problem(cwhere, "no resources.limits.memory")
        ports = container_ports([c])
        for p in c.get("ports") or []:
            n = p.get("name")
            if n and not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", n) or n and len(n) > 15:
                problem(cwhere, f"port name {n!r} is not an IANA service name (≤ 15 characters)")
            if not isinstance(p.get("containerPort"), int) or not 0 < p["containerPort"] < 65536:
                problem(cwhere, f"containerPort {p.get('containerPort')!r} is not a port number")
        if kind in LONG_RUNNING and c in (spec.get("containers") or []):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    problem(cwhere, f"no {probe}")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            p = c.get(probe)
            if not p:
                continue
            for field in p:
                if field not in PROBE_FIELDS:
                    problem(cwhere, f"{probe}: unknown field {field}")
            handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in p]
            if len(handlers) != 1:
                problem(cwhere, f"{probe} needs exactly one of exec, httpGet, tcpSocket, grpc")
            for h in ("httpGet", "tcpSocket", "grpc"):
                if h in p:
                    port = p[h].get("port")
                    if h == "grpc" and not isinstance(port, int):
                        problem(cwhere, f"{probe}.grpc.port must be a number")
                    if port not in ports:
                        problem(cwhere, f"{probe} uses port {port}, which the container does not "
                                        f"declare")
            path = get(p, "httpGet.path")
            runs = os.path.basename((c.get("command") or [""])[0])
            if path is not None and runs in SLOTPLANE_BINARIES and path not in SLOTPLANE_HTTP_PATHS:
                problem(cwhere, f"{probe} asks for {path}, which {runs} does not serve "
                                f"(it serves {', '.join(SLOTPLANE_HTTP_PATHS)})")
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes and m.get("name") not in claims:
                problem(cwhere, f"volumeMount {m.get('name')}: no such volume")
        for e in c.get("env") or []:
            for kind_, ref in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                r = get(e, f"valueFrom.{ref}")
                if r:
                    check_ref(kind_, r.get("name"), r.get("key"), f"env {e.get('name')}")
    annotations = get(template, "metadata.annotations") or {}
    if annotations.get("prometheus.io/scrape") == "true":
        port = annotations.get("prometheus.io/port")
        if port is None or int(port) not in container_ports(spec.get("containers") or []).values():
            problem(where, f"prometheus.io/port {port} is not a container port")


def workloads_matching(objects, selector):
    return [o for o in objects if o["kind"] in WORKLOADS
            and selector_matches(selector, get(pod_template(o), "metadata.labels"))]


def containers_of(workloads):
    return [c for w in workloads for c in get(pod_template(w), "spec.containers") or []]


def check_relations(obj, where, objects):
    kind = obj["kind"]
    if kind == "Service":
        selector = {"matchLabels": get(obj, "spec.selector") or {}}
        targets = workloads_matching(objects, selector)
        if not targets:
            problem(where, "its selector matches no pod template")
        ports = container_ports(containers_of(targets))
        for p in get(obj, "spec.ports") or []:
            target = p.get("targetPort", p.get("port"))
            if targets and target not in ports:
                problem(where, f"port {p.get('name')}: targetPort {target} is no container port "
                               f"of the selected pods")
            if get(obj, "spec.type") == "NodePort" and "nodePort" in p and \
                    not 30000 <= p["nodePort"] <= 32767:
                problem(where, f"nodePort {p['nodePort']} is outside 30000-32767")
            if len(get(obj, "spec.ports")) > 1 and not p.get("name"):
                problem(where, "a Service with several ports must name each")
    elif kind == "PodDisruptionBudget":
        if ("minAvailable" in obj["spec"]) == ("maxUnavailable" in obj["spec"]):
            problem(where, "give exactly one of minAvailable and maxUnavailable")
        if not workloads_matching(objects, get(obj, "spec.selector")):
            problem(where, "its selector matches no pod template")
    elif kind == "HorizontalPodAutoscaler":
        ref = get(obj, "spec.scaleTargetRef")
        target = [o for o in objects if o["kind"] == ref.get("kind")
                  and get(o, "metadata.name") == ref.get("name")]
        if not target:
            problem(where, f"scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not rendered")
        if get(obj, "spec.minReplicas", 1) > get(obj, "spec.maxReplicas", 0):
            problem(where, "minReplicas > maxReplicas")
        for m in get(obj, "spec.metrics") or []:
            resource = get(m, "resource.name")
            if m.get("type") == "Resource" and target:
                for c in containers_of(target):
                    if resource not in (get(c, "resources.requests") or {}):
                        problem(where, f"scales on {resource}, but container {c.get('name')} "
                                       f"has no {resource} request")
        if target and get(target[0], "spec.replicas") is not None:
            problem(where, f"{ident(target[0])} sets spec.replicas: every apply would reset "
                           f"what the autoscaler chose")
    elif kind == "NetworkPolicy":
        selected = workloads_matching(objects, get(obj, "spec.podSelector"))
        if not selected:
            problem(where, "podSelector matches no pod template")
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in get(obj, f"spec.{direction}") or []:
                peers = rule.get(peers_key) or []
                pod_peers = [p for p in peers if "podSelector" in p and "namespaceSelector" not in p]
                peer_pods = []
                for p in pod_peers:
                    matched = workloads_matching(objects, p["podSelector"])
                    if not matched:
                        problem(where, f"{direction} peer {p['podSelector']} matches no pod "
                                       f"template")
                    peer_pods += matched
                # Ports of an ingress rule are the selected pods'; of an egress rule to pods, theirs.
                owners = selected if direction == "ingress" else (peer_pods if pod_peers and
                                                                 len(pod_peers) == len(peers)
                                                                 else None)
                if not owners:
                    continue
                ports = container_ports(containers_of(owners))
                for p in rule.get("ports") or []:
                    if p.get("port") is not None and p["port"] not in ports:
                        problem(where, f"{direction} port {p['port']} is no container port of "
                                       f"the pods it leads to")
    elif kind == "PodMonitor":
        targets = workloads_matching(objects, get(obj, "spec.selector"))
        if not targets:
            problem(where, "its selector matches no pod template")
        ports = container_ports(containers_of(targets))
        for e in get(obj, "spec.podMetricsEndpoints") or []:
            if e.get("port") not in ports:
                problem(where, f"endpoint port {e.get('port')} is no container port of the pods")
    elif kind == "ServiceMonitor":
        services = [o for o in objects if o["kind"] == "Service"
                    and selector_matches(get(obj, "spec.selector"), get(o, "metadata.labels"))]
        if not services:
            problem(where, "its selector matches no Service")
        names = {p.get("name") for s in services for p in get(s, "spec.ports") or []}
        for e in get(obj, "spec.endpoints") or []:
            if e.get("port") not in names:
                problem(where, f"endpoint port {e.get('port')} is no port of the Service")


def check_scripts(obj, where):
    for key, text in (obj.get("data") or {}).items():
        if key.endswith(".sh"):
            r = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            if r.returncode != 0:
                problem(where, f"{key}: bash -n: {r.stderr.strip().splitlines()[0]}")


# ---------------------------------------------------------------------------------------------
# slotplane binaries


class Binary:
    """A slotplane daemon whose arguments are checked by its own `--check-config`."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
        self.mode = None
        if "--check-config" not in r.stdout:
            problem(self.name, f"{path} has no --check-config (an old build? run scripts/build.sh)")
            return
        self.mode = "check-config"
        say(f"{self.name}: arguments are checked with {self.name} --check-config")

    def check(self, argv, where, rewrite):
        """Runs BINARY --check-config ARGS: it parses every option and reads the files they name."""
        if self.mode is None:
            return
        r = subprocess.run([self.path, "--check-config"] + argv, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0 or "configuration OK" not in r.stdout:
            problem(where, f"{self.name} --check-config refuses the arguments: "
                           f"{rewrite.original((r.stdout + r.stderr).strip())}")


class Rewrite:
    """Maps the container's mount paths to a temporary directory holding what they would."""

    def __init__(self, mounts):
        self.mounts = sorted(mounts.items(), key=lambda kv: -len(kv[0]))
        self.regex = re.compile("|".join(re.escape(m) for m, _ in self.mounts)) if mounts else None

    def __call__(self, text):
        if not self.regex:
            return text
        table = dict(self.mounts)
        return self.regex.sub(lambda m: table[m.group(0)], text)

    def original(self, text):
        for mount, local in self.mounts:
            text = text.replace(local, mount)
        return text


def materialize(obj, container, objects, secrets, tmp):
    """Writes the container's mounted files under tmp; returns the Rewrite for its paths."""
    spec = get(pod_template(obj), "spec") or {}
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    configmaps = {get(o, "metadata.name"): o.get("data") or {} for o in objects
                  if o["kind"] == "ConfigMap"}
    mounts = {}
    for index, m in enumerate(container.get("volumeMounts") or []):
        local = os.path.join(tmp, f"mount{index}")
        os.makedirs(local)
        files = {}
        v = volumes.get(m.get("name"), {})

        def add(data, items):
            if items:
                for item in items:
                    if item.get("key") in data:
                        files[item.get("path", item["key"])] = data[item["key"]]
            else:
                files.update(data)

        if "configMap" in v:
            add(configmaps.get(get(v, "configMap.name"), {}), get(v, "configMap.items"))
        if "secret" in v:
            add(secrets.get(get(v, "secret.secretName"), {}), get(v, "secret.items"))
        for source in get(v, "projected.sources") or []:
            if "configMap" in source:
                add(configmaps.get(source["configMap"].get("name"), {}),
                    source["configMap"].get("items"))
            if "secret" in source:
                add(secrets.get(source["secret"].get("name"), {}), source["secret"].get("items"))
        mounts[m["mountPath"].rstrip("/")] = local
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(local, rel)), exist_ok=True)
            with open(os.path.join(local, rel), "w") as f:
                f.write(text)
    rewrite = Rewrite(mounts)
    # Paths inside the written files (include lines) point into the mounts too.
    for _, local in mounts.items():
        for dirpath, _, filenames in os.walk(local):
            for name in filenames:
                path = os.path.join(dirpath, name)
                text = open(path).read()
                with open(path, "w") as f:
                    f.write(rewrite(text))
    return rewrite


def effective_options(argv, rewrite):
    """The last value of each option from -c files (with includes) and flags, as parsed."""
    values = {}

    def read(path, depth=0):
        if depth > 8 or not os.path.isfile(path):
            return
        for line in open(path):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0].lower() == "include" and len(words) > 1:
                read(words[1].strip("\"'"), depth + 1)
            elif len(words) > 1:
                values[words[0].lower()] = words[1].strip("\"'")

    for i, a in enumerate(argv):
        if a == "-c" and i + 1 < len(argv):
            read(argv[i + 1])
    for i, a in enumerate(argv):
        if a.startswith("--") and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            values[a[2:]] = argv[i + 1]
        elif a == "-p" and i + 1 < len(argv):
            values["port"] = argv[i + 1]
    return values


def check_ports_match(binary, values, container, where):
    ports = container_ports([container])
    if binary == "slotplane-proxy":
        listen = [("port", values.get("port", "7777"), "client")]
    else:
        address = values.get("listen", "127.0.0.1:7700")
        host, _, port = address.rpartition(":")
        if host.strip("[]") in ("127.0.0.1", "::1", "localhost"):
            problem(where, f"listen {address} is loopback only: nothing outside the pod reaches it")
        listen = [("listen", port, "grpc")]
    metrics = values.get("metrics-port", "0")
    if metrics == "0" and "metrics" in ports:
        problem(where, "the container declares a metrics port, but metrics-port is not set")
    if metrics != "0":
        listen.append(("metrics-port", metrics, "metrics"))
        if values.get("metrics-bind", "127.0.0.1") in ("127.0.0.1", "::1", "localhost"):
            problem(where, "metrics-bind is loopback: Prometheus cannot scrape it")
    for option, port, port_name in listen:
        if port_name not in ports:
            problem(where, f"the container declares no port named {port_name} ({option} {port})")
        elif str(ports[port_name]) != str(port):
            problem(where, f"{option} is {port}, but the container's port {port_name} is "
                           f"{ports[port_name]}")


def check_slotplane_containers(obj, where, objects, secrets, binaries, seen_confs):
    spec = get(pod_template(obj), "spec") or {}
    for c in spec.get("containers") or []:
        command = c.get("command") or []
        binary = os.path.basename(command[0]) if command else ""
        if c.get("image", "").split(":")[0].endswith("slotplane") and not command:
            problem(f"{where} container {c.get('name')}", "give the binary in `command` (the "
                                                          "image's ENTRYPOINT reads its own "
                                                          "proxy.conf first)")
            continue
        if binary not in SLOTPLANE_BINARIES:
            continue
        cwhere = f"{where} container {c.get('name')}"
        b = binaries.get(binary)
        if b is None:
            continue
        with tempfile.TemporaryDirectory(prefix="slotplane-k8s.") as tmp:
            rewrite = materialize(obj, c, objects, secrets, tmp)
            argv = [rewrite(a) for a in command[1:] + (c.get("args") or [])]
            for i, a in enumerate(argv):
                if a == "-c" and i + 1 < len(argv):
                    seen_confs.add(rewrite.original(argv[i + 1]))
            values = effective_options(argv, rewrite)
            b.check(argv, cwhere, rewrite)
            check_ports_match(binary, values, c, cwhere)
            shown = " ".join(command + (c.get("args") or []))
            say(f"  {cwhere}: {shown}")


# ---------------------------------------------------------------------------------------------


def main():
    global K8S
    import argparse
    parser = argparse.ArgumentParser(description="Checks deploy/k8s/ (see the module doc).")
    parser.add_argument("--bin-dir", default=os.environ.get("SLOTPLANE_BIN_DIR",
                                                            os.path.join(ROOT, "build", "bin")))
    parser.add_argument("--kubectl")
    parser.add_argument("--dir", default=K8S, help="the deploy/k8s tree to check (for tests)")
    args = parser.parse_args()
    K8S = os.path.abspath(args.dir)
    kubectl = kubectl_cmd(args)
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True,
                             env=dict(os.environ, KUBECONFIG=os.devnull)).stdout
    say(f"kubectl: {kubectl}: {' '.join(version.split())[:160]}")

    binaries = {}
    for name in SLOTPLANE_BINARIES:
        path = os.path.join(args.bin_dir, name)
        if os.access(path, os.X_OK):
            binaries[name] = Binary(path)
        else:
            problem(name, f"{path} is not built (scripts/build.sh; --bin-dir or "
                          f"SLOTPLANE_BIN_DIR to use another build)")
    secrets = sample_secrets()
    say(f"secrets from deploy/k8s/secrets.sh --dry-run (sample values): "
        f"{', '.join(f'{k} ({len(v)} keys)' for k, v in sorted(secrets.items()))}")

    dirs = [os.path.join(K8S, "base")]
    overlays = os.path.join(K8S, "overlays")
    if os.path.isdir(overlays):
        dirs += [os.path.join(overlays, d) for d in sorted(os.listdir(overlays))
                 if os.path.isfile(os.path.join(overlays, d, "kustomization.yaml"))]
    for d in dirs:
        rel = os.path.relpath(d, ROOT)
        before = len(problems)
        objects = render(kubectl, d)
        if objects is None:
            continue
        kinds = {}
        for o in objects:
            kinds[o.get("kind")] = kinds.get(o.get("kind"), 0) + 1
        say(f"{rel}: {len(objects)} objects: "
            f"{', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}")
        seen_confs = set()
        for o in objects:
            where = f"{rel}: {ident(o)}"
            check_schema(o, where)
            if o.get("kind") not in REQUIRED:
                continue
            if o["kind"] in WORKLOADS:
                check_pod(o, where, objects, secrets)
                check_slotplane_containers(o, where, objects, secrets, binaries, seen_confs)
            elif o["kind"] == "ConfigMap":
                check_scripts(o, where)
            else:
                check_relations(o, where, objects)
        for o in objects:
            if o["kind"] == "ConfigMap":
                for key in o.get("data") or {}:
                    if key in ("proxy.conf", "control.conf") and \
                            not any(c.endswith("/" + key) for c in seen_confs):
                        problem(f"{rel}: {ident(o)}", f"{key} is passed to no container with -c")
        found = len(problems) - before
        say(f"{rel}: {'ok' if not found else f'{found} problem(s)'}")
    checked = sorted(b.name for b in binaries.values() if b.mode)
    say("binary checks: " + (", ".join(f"{n} --check-config" for n in checked) or "none ran"))
    if problems:
        say(f"FAILED: {len(problems)} problem(s)")
        return 1
    say(f"OK: {len(dirs)} kustomizations pass every check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
