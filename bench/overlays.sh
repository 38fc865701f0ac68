#!/usr/bin/env bash
# Kustomize rendering (issue 15): a rendered scan of a repository with N overlays of one
# base, against the same scan file by file (--no-render) and against the floor, the N
# `kustomize build` runs alone.
#
#   bench/overlays.sh [N]
#
# The repository is generated into $BENCH_CACHE/overlays-N/ (rebuilt each run): base/ with
# 3 Deployments, a Service and a deny-all NetworkPolicy; components/hardening (a JSON 6902
# patch); overlays/o1..oN, each with `namespace:`, `namePrefix:`, a strategic-merge patch, an
# `images:` rewrite, a secretGenerator and the component. Each row: CPU (user+sys) and wall
# seconds, from GNU time, median of RUNS runs; plus findings and the render stats.
#
# Environment: RUNS (3), GG_BIN (default target/release/gitops-guard), GG_BUILD=0 to skip
# `cargo build --release`.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-50}
RUNS=${RUNS:-3}
ensure_jq
ensure_gnu_time
ensure_gg
[[ -n $GG ]] || die "gitops-guard is not built"
if command -v kustomize >/dev/null; then
	KBUILD=(kustomize build)
elif command -v kubectl >/dev/null; then
	KBUILD=(kubectl kustomize)
else
	die "neither kustomize nor kubectl on PATH: nothing to render"
fi

work=$BENCH_CACHE/overlays-$N
rm -rf "$work"
mkdir -p "$work/base" "$work/components/hardening"
cat >"$work/base/kustomization.yaml" <<'EOF'
resources:
  - deploy.yaml
  - service.yaml
  - netpol.yaml
EOF
for app in api web worker; do
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $app
  labels: {app: $app, owner: team, env: all}
spec:
  selector:
    matchLabels: {app: $app}
  template:
    metadata:
      labels: {app: $app, owner: team, env: all}
    spec:
      containers:
        - name: $app
          image: ghcr.io/example/$app:1.0.0
          ports:
            - containerPort: 8080
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 100m, memory: 64Mi}
---
EOF
done >"$work/base/deploy.yaml"
cat >"$work/base/service.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
    - port: 80
      targetPort: 8080
EOF
cat >"$work/base/netpol.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
EOF
cat >"$work/components/hardening/kustomization.yaml" <<'EOF'
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /spec/template/spec/automountServiceAccountToken
        value: false
EOF
for i in $(seq 1 "$N"); do
	o=$work/overlays/o$i
	mkdir -p "$o"
	cat >"$o/kustomization.yaml" <<EOF
namespace: team-$i
namePrefix: o$i-
resources:
  - ../../base
components:
  - ../../components/hardening
patches:
  - path: harden.yaml
images:
  - name: ghcr.io/example/api
    newTag: 1.0.$i
secretGenerator:
  - name: settings
    literals:
      - LOG_LEVEL=debug
EOF
	cat >"$o/harden.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            seccompProfile: {type: RuntimeDefault}
EOF
done
note "generated $work: base, 1 component, $N overlays"

# median of RUNS runs of "$@": prints "cpu wall" (seconds)
measure() {
	local runs=() i
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f '%U %S %e' -o "$work/.time" "$@" >"$work/.out" 2>/dev/null || true
		runs+=("$(tail -n 1 "$work/.time" | awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }')")
	done
	printf '%s\n' "${runs[@]}" | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2)'
}

floor() {
	local i
	for i in $(seq 1 "$N"); do "${KBUILD[@]}" "$work/overlays/o$i" >/dev/null; done
}
export -f floor 2>/dev/null || true

echo "| what | CPU s | wall s | policy findings | render |"
echo "|---|---|---|---|---|"
read -r cpu wall < <(measure "$GG" scan --quiet --format json --no-render "$work")
json=$("$GG" scan --quiet --format json --no-render "$work" || true)
fnd=$(jq '[.findings[] | select(.category == "policy")] | length' <<<"$json")
echo "| gitops-guard --no-render | $cpu | $wall | $fnd | - |"
read -r cpu wall < <(measure "$GG" scan --quiet --format json "$work")
json=$("$GG" scan --quiet --format json "$work" || true)
fnd=$(jq '[.findings[] | select(.category == "policy")] | length' <<<"$json")
rs=$(jq -r '.stats.render | "\(.rendered)/\(.roots) rendered, \(.failed) failed, \(.files_consumed) files"' <<<"$json")
echo "| gitops-guard (rendered) | $cpu | $wall | $fnd | $rs |"
read -r cpu wall < <(measure bash -c "$(declare -f floor); KBUILD=(${KBUILD[*]}); N=$N; work=$work; floor")
echo "| floor: $N × ${KBUILD[*]} | $cpu | $wall | - | - |"
machine_line
