#!/usr/bin/env bash
# Working-tree scan: gitops-guard `scan` vs ripsecrets vs `detect-secrets scan --all-files`
# on the same large trees.
#
#   bench/worktree.sh [TREE_OR_REPO...]
#
# With no argument: a checkout of argo-cd's HEAD ($ARGO_REPO) and of the generated
# repository's HEAD ($GEN_REPO, built by gen-repo.sh if missing). An argument may be a
# directory (scanned as it is) or a git repository (its HEAD is checked out first).
#
# Environment: RUNS (5) hyperfine runs for gitops-guard and ripsecrets, after 1 warmup;
# DS_TIMEOUT (1200) seconds for the single detect-secrets run; GG_BUILD=0 to skip
# `cargo build --release`. Outputs are kept in bench/out/worktree-*.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
DS_TIMEOUT=${DS_TIMEOUT:-1200}

ensure_git
ensure_jq
ensure_hyperfine
ensure_gnu_time
ensure_ripsecrets
ensure_detect_secrets
ensure_gg

# targets: "label<TAB>dir<TAB>planted-tsv-or-empty"
targets=()
if [[ $# -eq 0 ]]; then
	check_repo "$ARGO_REPO" "argo-cd (ARGO_REPO)"
	targets+=("argo-cd"$'\t'"$(worktree_of "$ARGO_REPO" argo-cd)"$'\t')
	ensure_gen_repo
	targets+=("generated"$'\t'"$(worktree_of "$GEN_REPO" generated)"$'\t'"$GEN_REPO/bench-planted.tsv")
else
	for arg in "$@"; do
		[[ -d $arg ]] || die "'$arg' is not a directory"
		name=$(basename "$(cd "$arg" && pwd)")
		name=${name%.git}
		planted=""
		[[ -f $arg/bench-planted.tsv ]] && planted=$(cd "$arg" && pwd)/bench-planted.tsv
		if [[ $(git -C "$arg" rev-parse --is-bare-repository 2>/dev/null) == true ]]; then
			targets+=("$name"$'\t'"$(worktree_of "$arg" "$name")"$'\t'"$planted")
		else
			targets+=("$name"$'\t'"$(cd "$arg" && pwd)"$'\t'"$planted")
		fi
	done
fi

# bench_tool NAME OK_EXIT_CODES OUTFILE hyperfine|single CMD...: one run that keeps the output
# and checks the exit code, then (hyperfine) timed runs. Appends a row to `rows`; uses the
# globals `label` and `count_args` of the tree being measured.
bench_tool() {
	local tool=$1 ok=$2 file=$3 timed=$4
	shift 4
	local status time cpu rss counts findings secret found total unmatched
	note "$tool: findings run"
	time_limited "$DS_TIMEOUT" "$file" "$@"
	status=$TL_STATUS
	if [[ $TL_SECONDS == ">"* ]]; then
		rows+=("| $label | $tool | $TL_SECONDS s (timed out) | - | - | - | - | - |")
		warn "$tool timed out after $DS_TIMEOUT s on $label"
		return
	fi
	if [[ " $ok " != *" $status "* ]]; then
		rows+=("| $label | $tool | error (exit $status) | - | - | - | - | - |")
		warn "$tool failed on $label with exit $status; stderr: $(head -c 400 "$file.stderr")"
		return
	fi
	time="$TL_SECONDS s (1 run)"
	cpu="$TL_CPU s"
	rss=$TL_RSS
	if [[ $timed == hyperfine ]]; then
		local cmd
		printf -v cmd '%q ' "$@"
		hyperfine --style basic --warmup 1 --runs "$RUNS" -i --export-json "$file.hyperfine.json" \
			-n "$tool" "$cmd" >&2
		time=$(hyperfine_mean "$file.hyperfine.json")
		cpu="$(hyperfine_cpu "$file.hyperfine.json") s"
	fi
	counts=$(python3 "$BENCH_DIR/count.py" "$tool" "$file" "${count_args[@]}") ||
		die "could not count $tool findings in $file"
	IFS=$'\t' read -r findings secret found total unmatched <<<"$counts"
	[[ $secret != "-" ]] && findings="$findings ($secret secret)"
	local recall="-"
	[[ $found != "-" ]] && recall="$found / $total"
	rows+=("| $label | $tool | $time | $cpu | $rss MiB | $findings | $recall | $unmatched |")
}

rows=()
summary=()
for t in "${targets[@]}"; do
	IFS=$'\t' read -r label dir planted <<<"$t"
	files=$(find "$dir" -path "$dir/.git" -prune -o -type f -print | wc -l)
	size=$(du -sh --exclude=.git "$dir" | cut -f1)
	note "== $label: $dir ($files files, $size without .git)"
	out=$BENCH_OUT/worktree-$label
	mkdir -p "$out"
	count_args=()
	[[ -n $planted ]] && count_args=("$planted" head)

	if [[ -n $GG ]]; then
		bench_tool gitops-guard "0 1" "$out/gitops-guard.json" hyperfine \
			"$GG" scan --no-render --quiet --format json "$dir"
	else
		rows+=("| $label | gitops-guard | not built | - | - | - | - | - |")
	fi
	bench_tool ripsecrets "0 1" "$out/ripsecrets.txt" hyperfine "$RIPSECRETS" "$dir"
	# detect-secrets takes minutes on a large tree: one run, timed directly. It must run
	# inside the tree: given a path outside the current directory it silently scans nothing.
	bench_tool detect-secrets "0" "$out/detect-secrets.json" single \
		env -C "$dir" "$DETECT_SECRETS" scan --all-files .
	summary+=("| $label | $files | $size |")
done

echo
echo "## Working-tree scan ($(date -u +%Y-%m-%d), $(machine_line))"
echo
echo "| tree | files (without .git) | size |"
echo "|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
echo "| tree | tool | wall time | CPU (user+sys) | peak RSS | findings | planted at HEAD found | secret findings matching no planted secret |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "gitops-guard and ripsecrets: hyperfine, 1 warmup + $RUNS runs (mean ± σ); detect-secrets: one run."
echo "Peak RSS from /usr/bin/time -v on the first (findings) run."
echo "The last two columns apply to the generated repository only (its planted secrets are known)."
