#!/usr/bin/env bash
# CPU time (user+sys), peak RSS and findings of gitops-guard binaries on the same scans,
# for before/after figures on a shared, loaded machine (wall time there says little).
#
#   bench/cpu-compare.sh RUNS LABEL=BINARY...
#
# Scans, each RUNS times per binary (median reported): the full history of the generated
# repository ($GEN_REPO), the full history of argo-cd ($ARGO_REPO, --allow-missing) and the
# working tree of argo-cd's HEAD ($ARGO_TREE, e.g. `git archive HEAD | tar -x`; see
# README "issue 12: rule breadth"). SCANS="gen-history argo-history argo-tree" picks rows.
# The JSON outputs stay in bench/out/cpu-compare/LABEL-SCAN.json for diffing findings.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs=$1
shift
ARGO_TREE=${ARGO_TREE:-/tmp/argo-wt}
SCANS=${SCANS:-gen-history argo-history argo-tree}
out=$BENCH_OUT/cpu-compare
mkdir -p "$out"
ensure_gnu_time
args_of() {
	case $1 in
	gen-history) echo "scan --history --quiet --format json $GEN_REPO" ;;
	argo-history) echo "scan --history --allow-missing --quiet --format json $ARGO_REPO" ;;
	argo-tree) echo "scan --quiet --format json $ARGO_TREE" ;;
	esac
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| scan | binary | CPU user+sys (median of $runs) | runs | peak RSS | findings (secret) |"
echo "|---|---|---|---|---|---|"
for scan in $SCANS; do
	for pair in "$@"; do
		label=${pair%%=*} bin=${pair#*=}
		cpus=() rss=()
		for ((i = 0; i < runs; i++)); do
			# shellcheck disable=SC2046
			time_limited 3600 "$out/$label-$scan.json" "$bin" $(args_of "$scan")
			[[ $TL_STATUS -le 1 ]] || die "$label $scan: exit $TL_STATUS: $(head -c 300 "$out/$label-$scan.json.stderr")"
			cpus+=("$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$out/$label-$scan.json.time")")
			rss+=("$TL_RSS")
		done
		cpu=$(printf '%s\n' "${cpus[@]}" | median)
		mem=$(printf '%s\n' "${rss[@]}" | median)
		IFS=$'\t' read -r findings secret _ < <(python3 "$BENCH_DIR/count.py" gitops-guard "$out/$label-$scan.json")
		echo "| $scan | $label | $cpu s | ${cpus[*]} | $mem MiB | $findings ($secret) |"
	done
done
