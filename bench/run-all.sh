#!/usr/bin/env bash
# Run every benchmark: install peers, build the generated repository and gitops-guard,
# then the working-tree, history and manifest comparisons. The Markdown tables are
# printed and also collected in bench/out/results-<UTC date>.md.
#
#   bench/run-all.sh
#
# Takes about an hour on 2 cores (most of it trufflehog and detect-secrets hitting their
# time limits on argo-cd). All environment variables of the single scripts apply.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

results=$BENCH_OUT/results-$(date -u +%Y%m%dT%H%M%SZ).md
{
	echo "# gitops-guard benchmarks"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(machine_line), gitops-guard at $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
} >"$results"

failed=()
step() {
	local name=$1
	shift
	note "### $name"
	if "$@" | tee -a "$results"; then
		:
	else
		failed+=("$name")
		warn "$name failed; continuing with the next benchmark"
	fi
}

step setup "$BENCH_DIR/setup.sh"
ensure_gen_repo
# Build once here; the scripts below then skip the build.
ensure_gg
export GG_BUILD=0
step worktree "$BENCH_DIR/worktree.sh"
step history "$BENCH_DIR/history.sh"
step manifests "$BENCH_DIR/manifests.sh"
step hostile "$BENCH_DIR/hostile.sh"
step peers "$BENCH_DIR/peers.sh"
if [[ -n $GG ]] && "$GG" hook pre-receive --help >/dev/null 2>&1; then
	step prereceive "$BENCH_DIR/prereceive.sh"
else
	warn "skipping prereceive.sh: this gitops-guard has no 'hook pre-receive' subcommand yet"
fi

echo
note "all tables collected in $results"
if [[ ${#failed[@]} -gt 0 ]]; then
	die "failed: ${failed[*]}"
fi
