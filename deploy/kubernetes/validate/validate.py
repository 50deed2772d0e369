"""Checks one rendered overlay of deploy/kubernetes/ (scripts/k8s-validate.sh runs it).

    validate.py OVERLAY_DIR RENDERED_YAML KUBERNETES_VERSION NODE_DIR

1. Every built-in resource against the Kubernetes schemas of KUBERNETES_VERSION
   (kubernetes-validate, strict: an unknown field fails).
2. The operators' resources: ExternalSecret and SecretStore against the schemas generated
   from the External Secrets operator's CRDs (node, external-secrets.mjs); RabbitmqCluster,
   MariaDB, Database, User, Grant against operator-schemas.yaml (written here).
   A resource of any other kind fails: nothing is skipped silently.
3. The invariants below (`check_*`).

Prints every problem, then one summary line; exits 1 if there was any problem.
"""

import json
import os
import re
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

# Our images and the uid each runs as (deploy/services.Dockerfile, deploy/web.Dockerfile).
OUR_IMAGES = {"shop/admin": 10001, "shop/main": 10001, "shop/web": 101}
# How long each process takes to stop on its own after SIGTERM, at most
# (docs/operating/processes.md: an API 15 s; a consumer finishes its batch; nginx its
# requests: compose's 15 s).
SHUTDOWN_SECONDS = 15
# Secrets the operators make, by the kind and name of the resource that makes them.
OPERATOR_SECRETS = {
    "RabbitmqCluster": lambda name: (
        f"{name}-default-user",
        {"username", "password", "host", "port", "default_user.conf", "provider", "type"},
    ),
}
NAMESPACED_EXCEPT = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterSecretStore"}

problems = []


def problem(resource, message):
    kind = resource.get("kind", "?") if resource else "-"
    name = (resource.get("metadata") or {}).get("name", "?") if resource else "-"
    problems.append(f"{kind}/{name}: {message}")


def image_repo_and_tag(image):
    """('registry/path/name', 'tag' or None, digest or None)."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def ours(image):
    repo, _, _ = image_repo_and_tag(image)
    for name in OUR_IMAGES:
        if repo == name or repo.endswith("/" + name):
            return name
    return None


def pod_specs(resources):
    for r in resources:
        if r["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield r, r["spec"]["template"]["spec"], r["spec"]["template"]["metadata"]


# ---- 1 and 2: schemas ------------------------------------------------------------------

def check_schemas(resources, version, node_dir):
    operator_schemas = yaml.safe_load(open(os.path.join(HERE, "operator-schemas.yaml")))
    defs = operator_schemas["$defs"]
    external, counts = [], {"kubernetes": 0, "external-secrets": 0, "operator-schemas": 0}
    for r in resources:
        key = f"{r.get('apiVersion')}/{r.get('kind')}"
        if r.get("apiVersion") == "external-secrets.io/v1":
            external.append(r)
            continue
        if key in operator_schemas["kinds"]:
            schema = dict(operator_schemas["kinds"][key], **{"$defs": defs})
            validator = jsonschema.Draft202012Validator(schema)
            errors = sorted(validator.iter_errors(r), key=lambda e: list(e.absolute_path))
            for e in errors:
                path = "/".join(str(p) for p in e.absolute_path)
                problem(r, f"{key} schema: {path}: {e.message}")
            counts["operator-schemas"] += 1
            continue
        try:
            kubernetes_validate.validate(r, version, strict=True)
            counts["kubernetes"] += 1
        except kubernetes_validate.SchemaNotFoundError:
            problem(r, f"no schema for {key} (Kubernetes {version}, operator-schemas.yaml, external-secrets)")
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            problem(r, f"Kubernetes {version} schema: {path}: {e.message}")
    if external:
        result = subprocess.run(
            # A copy beside its node_modules (ES modules resolve from the script's folder).
            ["node", os.path.join(node_dir, "external-secrets.mjs")],
            input=json.dumps(external), capture_output=True, text=True, cwd=node_dir,
        )
        for line in result.stdout.splitlines():
            problems.append(f"{line} (external-secrets.io/v1 schema)")
        if result.returncode != 0 and not result.stdout.strip():
            problems.append(f"external-secrets.mjs failed: {result.stderr.strip()[-500:]}")
        counts["external-secrets"] = len(external)
    return counts


# ---- 3: invariants ---------------------------------------------------------------------

def check_deployments(resources):
    """Probes, resources, securityContext, non-root with the image's uid, grace period."""
    hpa_targets = {r["spec"]["scaleTargetRef"]["name"] for r in resources
                   if r["kind"] == "HorizontalPodAutoscaler"}
    for r, spec, _ in pod_specs(resources):
        if r["kind"] != "Deployment":
            continue
        if r["metadata"]["name"] in hpa_targets and "replicas" in r["spec"]:
            problem(r, "spec.replicas is set although a HorizontalPodAutoscaler owns it")
        pod_sc = spec.get("securityContext") or {}
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for c in spec.get("initContainers", []) + spec["containers"]:
            init = c in spec.get("initContainers", [])
            what = f"{'init ' if init else ''}container {c['name']}"
            if not init:
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in c:
                        problem(r, f"{what}: no {probe}")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for kind in ("cpu", "memory"):
                    if kind not in (res.get(part) or {}):
                        problem(r, f"{what}: no resources.{part}.{kind}")
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                problem(r, f"{what}: securityContext.allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problem(r, f"{what}: securityContext.readOnlyRootFilesystem is not true")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problem(r, f"{what}: securityContext.capabilities.drop lacks ALL")
            if sc.get("privileged"):
                problem(r, f"{what}: privileged")
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                problem(r, f"{what}: runAsNonRoot is not true")
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                problem(r, f"{what}: seccompProfile is not RuntimeDefault")
            uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
            name = ours(c.get("image", ""))
            if uid in (None, 0):
                problem(r, f"{what}: no non-zero runAsUser")
            elif name and uid != OUR_IMAGES[name]:
                problem(r, f"{what}: runAsUser {uid}, but {name} runs as {OUR_IMAGES[name]}")
            if not init:
                pause = 0
                pre = ((c.get("lifecycle") or {}).get("preStop") or {})
                command = (pre.get("exec") or {}).get("command") or []
                if command[:1] == ["sleep"] and len(command) == 2:
                    pause = int(command[1])
                elif "sleep" in pre:
                    pause = int(pre["sleep"]["seconds"])
                if grace <= pause + SHUTDOWN_SECONDS:
                    problem(r, f"{what}: terminationGracePeriodSeconds {grace} is not more than "
                               f"the preStop pause ({pause} s) and the shutdown ({SHUTDOWN_SECONDS} s)")


def check_probe_ports(resources):
    """Every probe's port is a port the container declares."""
    for r, spec, _ in pod_specs(resources):
        for c in spec["containers"]:
            names = {p.get("name") for p in c.get("ports", []) if p.get("name")}
            numbers = {p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                p = c.get(probe)
                if not p:
                    continue
                ports = [p[k]["port"] for k in ("httpGet", "tcpSocket", "grpc") if k in p]
                if "exec" in p:
                    script = " ".join(p["exec"].get("command", []))
                    ports += [int(n) for n in re.findall(r"/dev/tcp/[^/\s]+/(\d+)", script)]
                    if not ports and "http" in script:
                        problem(r, f"container {c['name']}: {probe} names no port we can check")
                for port in ports:
                    if port not in (names if isinstance(port, str) else numbers):
                        problem(r, f"container {c['name']}: {probe} port {port!r} is not a declared containerPort")


def check_images(resources):
    """Our images are tagged (not latest, not the base's dev); any other is pinned."""
    images = []
    for r, spec, _ in pod_specs(resources):
        for c in spec.get("initContainers", []) + spec["containers"]:
            images.append((r, c.get("image", "")))
    for r in resources:
        if r["kind"] in ("RabbitmqCluster", "MariaDB") and "image" in r.get("spec", {}):
            images.append((r, r["spec"]["image"]))
    for r, image in images:
        _, tag, digest = image_repo_and_tag(image)
        if ours(image):
            if not digest and tag in (None, "latest", "dev"):
                problem(r, f"image {image}: our images need the overlay's tag (not {tag or 'none'})")
        elif not digest and tag in (None, "latest"):
            problem(r, f"image {image}: not ours and not pinned (a version tag or a digest)")


def walk_secret_refs(node, path=""):
    """(path, name, key) of every *SecretKeyRef / secretKeyRef below node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k.lower().endswith("secretkeyref") and isinstance(v, dict) and "name" in v:
                yield f"{path}/{k}", v["name"], v.get("key")
            else:
                yield from walk_secret_refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_secret_refs(v, f"{path}/{i}")


def check_references(resources, overlay_dir):
    """Secrets, ConfigMaps, ServiceAccounts, Services, ports and targets that are named exist."""
    by_kind = {}
    for r in resources:
        by_kind.setdefault(r["kind"], {})[r["metadata"]["name"]] = r

    # Secrets: made here, by an ExternalSecret, by an operator, or by hand (manual-secrets.yaml).
    secrets = {}
    for name, s in by_kind.get("Secret", {}).items():
        secrets[name] = set(s.get("data", {})) | set(s.get("stringData", {}))
    for name, es in by_kind.get("ExternalSecret", {}).items():
        target = (es["spec"].get("target") or {}).get("name", name)
        keys = {d["secretKey"] for d in es["spec"].get("data", [])}
        if es["spec"].get("dataFrom") or (es["spec"].get("target") or {}).get("template"):
            keys = None  # any key
        secrets[target] = keys
    for kind, made in OPERATOR_SECRETS.items():
        for name in by_kind.get(kind, {}):
            secret, keys = made(name)
            secrets[secret] = keys
    manual = os.path.join(overlay_dir, "manual-secrets.yaml")
    if os.path.exists(manual):
        for entry in yaml.safe_load(open(manual)) or []:
            secrets[entry["name"]] = set(entry["keys"])

    def need_secret(r, where, name, key):
        if name not in secrets:
            problem(r, f"{where}: Secret {name} is made nowhere (a Secret, an ExternalSecret, "
                       f"an operator, or the overlay's manual-secrets.yaml)")
        elif key is not None and secrets[name] is not None and key not in secrets[name]:
            problem(r, f"{where}: Secret {name} has no key {key}")

    for r in resources:
        if r["kind"] in ("ExternalSecret", "Secret"):
            continue
        for where, name, key in walk_secret_refs(r.get("spec", {}), "spec"):
            need_secret(r, where, name, key)

    configmaps = by_kind.get("ConfigMap", {})
    service_accounts = by_kind.get("ServiceAccount", {})
    pods = []  # (workload, pod labels, container ports by name and number)
    for r, spec, meta in pod_specs(resources):
        sa = spec.get("serviceAccountName")
        if sa and sa not in service_accounts:
            problem(r, f"ServiceAccount {sa} does not exist")
        ports = set()
        for c in spec.get("initContainers", []) + spec["containers"]:
            for p in c.get("ports", []):
                ports |= {p["containerPort"], p.get("name")}
            for e in c.get("envFrom", []):
                if "secretRef" in e:
                    need_secret(r, f"container {c['name']} envFrom", e["secretRef"]["name"], None)
                if "configMapRef" in e and e["configMapRef"]["name"] not in configmaps:
                    problem(r, f"container {c['name']}: ConfigMap {e['configMapRef']['name']} does not exist")
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and ref.get("key") not in configmaps.get(ref["name"], {}).get("data", {}):
                    problem(r, f"container {c['name']}: ConfigMap {ref['name']} has no key {ref.get('key')}")
        for v in spec.get("volumes", []):
            if "secret" in v:
                need_secret(r, f"volume {v['name']}", v["secret"]["secretName"], None)
        pods.append((r, meta.get("labels", {}), ports))

    def selected(selector):
        return [(w, ports) for w, labels, ports in pods
                if selector and all(labels.get(k) == v for k, v in selector.items())]

    for name, svc in by_kind.get("Service", {}).items():
        matches = selected(svc["spec"].get("selector"))
        if not matches:
            problem(svc, "its selector matches no pod template")
        for p in svc["spec"].get("ports", []):
            target = p.get("targetPort", p["port"])
            for w, ports in matches:
                if target not in ports:
                    problem(svc, f"targetPort {target!r} is not a port of {w['kind']}/{w['metadata']['name']}")
    for name, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        if not selected(pdb["spec"]["selector"].get("matchLabels")):
            problem(pdb, "its selector matches no pod template")
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        ref = hpa["spec"]["scaleTargetRef"]
        if ref["name"] not in by_kind.get(ref["kind"], {}):
            problem(hpa, f"scaleTargetRef {ref['kind']}/{ref['name']} does not exist")
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"]["maxReplicas"]:
            problem(hpa, "minReplicas is above maxReplicas")
    for name, ing in by_kind.get("Ingress", {}).items():
        for rule in ing["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                svc = by_kind.get("Service", {}).get(backend["name"])
                if not svc:
                    problem(ing, f"backend Service {backend['name']} does not exist")
                    continue
                port = backend["port"].get("name", backend["port"].get("number"))
                if port not in {p.get("name") for p in svc["spec"]["ports"]} | {p["port"] for p in svc["spec"]["ports"]}:
                    problem(ing, f"backend port {port!r} is not a port of Service {backend['name']}")
        issuer = any(k.startswith("cert-manager.io/") for k in ing["metadata"].get("annotations", {}))
        for tls in ing["spec"].get("tls", []):
            if tls.get("secretName") and not issuer:
                need_secret(ing, "tls", tls["secretName"], None)


def check_namespace(resources, overlay_dir):
    """One namespace for everything, made by the overlay itself."""
    namespaces = {r["metadata"].get("namespace") for r in resources if r["kind"] not in NAMESPACED_EXCEPT}
    made = {r["metadata"]["name"] for r in resources if r["kind"] == "Namespace"}
    if len(namespaces) != 1 or None in namespaces:
        problems.append(f"-: the resources are in namespaces {sorted(map(str, namespaces))}, not one")
    elif not namespaces <= made:
        problems.append(f"-: namespace {namespaces.pop()} is not made by the overlay")


def main():
    overlay_dir, rendered, version, node_dir = sys.argv[1:5]
    resources = [r for r in yaml.safe_load_all(open(rendered)) if r]
    counts = check_schemas(resources, version, node_dir)
    check_deployments(resources)
    check_probe_ports(resources)
    check_images(resources)
    check_references(resources, overlay_dir)
    check_namespace(resources, overlay_dir)
    overlay = os.path.basename(os.path.normpath(overlay_dir))
    for p in problems:
        print(f"{overlay}: {p}")
    print(f"k8s-validate: {overlay}: {len(resources)} resources: {counts['kubernetes']} against "
          f"Kubernetes {version} (strict), {counts['external-secrets']} against the External "
          f"Secrets CRDs, {counts['operator-schemas']} against operator-schemas.yaml; "
          f"invariants checked; {len(problems)} problems", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
