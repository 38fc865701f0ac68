#!/usr/bin/env bash
# Full-history scan, side by side in one run:
#   the floor   `git cat-file --batch-all-objects --batch > /dev/null` (read every object once)
#   gitops-guard `scan --history`
#   trufflehog 2.x `--regex --entropy=False file://REPO` (under a time limit)
#
#   bench/history.sh [REPO...]
#
# With no argument: argo-cd ($ARGO_REPO), the generated repository ($GEN_REPO, built by
# gen-repo.sh if missing) and kube-prometheus ($KP_REPO, small enough for trufflehog to
# finish). REPO may be bare or not.
#
# Environment: HIST_TOOLS ("floor gitops-guard trufflehog": which rows to run; trufflehog
# takes 10+ minutes per large repository); HIST_RUNS (3) hyperfine runs for the floor and gitops-guard (after one
# measuring run that also warms the page cache; 0: report the measuring run alone); TH_TIMEOUT (600) seconds for trufflehog;
# GG_TIMEOUT (1800) for gitops-guard's measuring run; GG_ARGS (extra flags for
# gitops-guard); GG_BUILD=0 to skip `cargo build --release`. Outputs: bench/out/history-*.
#
# The fetched mirrors are partial snapshots: a few large blobs are missing (argo-cd: 105,
# kube-prometheus: 1). `git clone file://…` of them fails, and so would trufflehog's own
# clone; for such a repository trufflehog gets `--repo_path` on a local clone in which
# each missing blob is replaced by a placeholder (see prepared_clone in lib.sh), and
# gitops-guard gets `--allow-missing`. Complete repositories (the generated one) are
# scanned exactly as a user would: `trufflehog … file://REPO`.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

HIST_RUNS=${HIST_RUNS:-3}
HIST_TOOLS=" ${HIST_TOOLS:-floor gitops-guard trufflehog} "
want() { [[ $HIST_TOOLS == *" $1 "* ]]; }
TH_TIMEOUT=${TH_TIMEOUT:-600}
GG_TIMEOUT=${GG_TIMEOUT:-1800}

ensure_git
ensure_jq
ensure_hyperfine
ensure_gnu_time
if want trufflehog; then ensure_trufflehog; fi
if want gitops-guard; then ensure_gg; else GG=""; fi

repos=()
if [[ $# -eq 0 ]]; then
	check_repo "$ARGO_REPO" "argo-cd (ARGO_REPO)"
	ensure_gen_repo
	repos=("$ARGO_REPO" "$GEN_REPO")
	if [[ -e $KP_REPO ]]; then
		repos+=("$KP_REPO")
	else
		warn "kube-prometheus not found at $KP_REPO (KP_REPO); skipping it"
	fi
else
	repos=("$@")
fi

label_of() {
	local p
	p=$(cd "$1" && pwd)
	case $p in
	*/argoproj+argo-cd/*) echo argo-cd ;;
	*/prometheus-operator+kube-prometheus/*) echo kube-prometheus ;;
	"$(cd "$GEN_REPO" 2>/dev/null && pwd)") echo generated ;;
	*)
		p=${p%/.git}
		p=${p%/repo}
		p=$(basename "$p")
		echo "${p%.git}"
		;;
	esac
}

# measure OUTFILE LIMIT CMD...: one run under /usr/bin/time -v and a time limit.
# Sets M_STATUS, M_SECONDS (or ">LIMIT"), M_CPU (user+sys s), M_RSS (MiB).
measure() {
	local out=$1 limit=$2
	shift 2
	time_limited "$limit" "$out" "$@"
	M_STATUS=$TL_STATUS M_SECONDS=$TL_SECONDS M_CPU=$TL_CPU M_RSS=$TL_RSS
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }

rows=()
corpus=()
for repo in "${repos[@]}"; do
	label=$(label_of "$repo")
	check_repo "$repo" "$label"
	repo=$(cd "$repo" && pwd)
	out=$BENCH_OUT/history-$label
	mkdir -p "$out"
	planted=""
	[[ -f $repo/bench-planted.tsv ]] && planted=$repo/bench-planted.tsv
	count_args=()
	[[ -n $planted ]] && count_args=("$planted" history)

	note "== $label: $repo"
	read -r nblobs blob_mib < <(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
		awk '$1 == "blob" { n++; s += $2 } END { printf "%d %.0f\n", n, s / 1048576 }')
	ncommits=$(git -C "$repo" rev-list --all --count)
	nrefs=$(git -C "$repo" for-each-ref | wc -l)
	pack=$(du -sh "$(git -C "$repo" rev-parse --absolute-git-dir)/objects" | cut -f1)
	nmissing=$(missing_objects "$repo" | wc -l)
	corpus+=("| $label | $ncommits | $nrefs | $nblobs | $blob_mib MiB | $pack | $nmissing |")
	gg_args=(scan --history --no-render --quiet --format json)
	gg_label="gitops-guard scan --history"
	if [[ $nmissing -gt 0 ]]; then
		gg_args+=(--allow-missing)
		gg_label+=" --allow-missing"
	fi
	# shellcheck disable=SC2206
	gg_args+=(${GG_ARGS:-} "$repo")

	# 1. the floor
	floor_mean=0
	if want floor; then
		note "floor: git cat-file --batch-all-objects --batch"
		floor_cmd="git -C $(printf '%q' "$repo") cat-file --batch-all-objects --batch > /dev/null"
		measure "$out/floor.out" 3600 bash -c "$floor_cmd"
		[[ $M_STATUS -eq 0 ]] || die "git cat-file failed on $repo (exit $M_STATUS): $(head -c 300 "$out/floor.out.stderr")"
		floor_rss=$M_RSS
		if [[ $HIST_RUNS -gt 0 ]]; then
			hyperfine --style basic --warmup 0 --runs "$HIST_RUNS" --export-json "$out/floor.hyperfine.json" \
				-n floor "$floor_cmd" >&2
			floor_mean=$(jq '.results[0].mean' "$out/floor.hyperfine.json")
			floor_time=$(hyperfine_mean "$out/floor.hyperfine.json")
			floor_cpu=$(hyperfine_cpu "$out/floor.hyperfine.json")
		else
			floor_mean=$M_SECONDS floor_time="$M_SECONDS s (1 run)" floor_cpu=$M_CPU
		fi
		rows+=("| $label | \`git cat-file --batch-all-objects --batch\` (floor) | $floor_time | $floor_cpu s | $floor_rss MiB | - | - | 1.00× |")
	fi

	# 2. gitops-guard
	gg_mean=""
	if ! want gitops-guard; then
		:
	elif [[ -n $GG ]]; then
		note "gitops-guard scan --history (measuring run)"
		measure "$out/gitops-guard.json" "$GG_TIMEOUT" "$GG" "${gg_args[@]}"
		if [[ $M_SECONDS == ">"* ]]; then
			rows+=("| $label | $gg_label | $M_SECONDS s (timed out) | $M_CPU s | $M_RSS MiB | - | - | - |")
		elif [[ $M_STATUS -ne 0 && $M_STATUS -ne 1 ]]; then
			warn "gitops-guard failed on $label (exit $M_STATUS): $(head -c 400 "$out/gitops-guard.json.stderr")"
			rows+=("| $label | $gg_label | error (exit $M_STATUS) | - | $M_RSS MiB | - | - | - |")
		else
			gg_rss=$M_RSS
			if [[ $HIST_RUNS -gt 0 ]]; then
				printf -v gg_cmd '%q ' "$GG" "${gg_args[@]}"
				hyperfine --style basic --warmup 0 --runs "$HIST_RUNS" -i --export-json "$out/gitops-guard.hyperfine.json" \
					-n gitops-guard "$gg_cmd" >&2
				gg_mean=$(jq '.results[0].mean' "$out/gitops-guard.hyperfine.json")
				gg_time=$(hyperfine_mean "$out/gitops-guard.hyperfine.json")
				gg_cpu=$(hyperfine_cpu "$out/gitops-guard.hyperfine.json")
			else
				gg_mean=$M_SECONDS gg_time="$M_SECONDS s (1 run)" gg_cpu=$M_CPU
			fi
			IFS=$'\t' read -r findings secret found total unmatched < <(python3 "$BENCH_DIR/count.py" gitops-guard \
				"$out/gitops-guard.json" "${count_args[@]}") || die "could not count gitops-guard findings"
			recall="-"
			[[ $found != "-" ]] && recall="$found / $total; $unmatched secret findings match none"
			rows+=("| $label | $gg_label | $gg_time | $gg_cpu s | $gg_rss MiB | $findings ($secret secret) | $recall | $(ratio "$gg_mean" "$floor_mean") |")
		fi
	else
		rows+=("| $label | gitops-guard scan --history | not built | - | - | - | - | - |")
	fi

	# 3. trufflehog 2.x: clones the repository itself (into TMPDIR), then diffs every commit
	# of every branch. One run under the time limit; its temporary clone is removed after.
	want trufflehog || continue
	note "trufflehog $TRUFFLEHOG_VERSION --regex --entropy=False (limit $TH_TIMEOUT s)"
	th_tmp=$BENCH_CACHE/tmp-trufflehog
	rm -rf "$th_tmp"
	mkdir -p "$th_tmp"
	th_args=(--regex --entropy=False --json)
	th_label="trufflehog $TRUFFLEHOG_VERSION --regex --entropy=False file://…"
	if [[ $nmissing -gt 0 ]]; then
		th_args+=(--repo_path "$(prepared_clone "$repo" "$label")")
		th_label="trufflehog $TRUFFLEHOG_VERSION --regex --entropy=False --repo_path (local clone, $nmissing missing objects replaced)"
	fi
	TMPDIR=$th_tmp measure "$out/trufflehog.jsonl" "$TH_TIMEOUT" "$TRUFFLEHOG" "${th_args[@]}" "file://$repo"
	rm -rf "$th_tmp"
	th_time="$M_SECONDS s"
	th_cpu="$M_CPU s"
	partial=""
	if [[ $M_SECONDS == ">"* ]]; then
		th_time="$M_SECONDS s (timed out)"
		th_cpu="≥ $M_CPU s"
		partial=" (partial)"
	elif [[ $M_STATUS -gt 1 ]] || grep -q '^Traceback' "$out/trufflehog.jsonl.stderr"; then
		# exit 1 means "found something", but an uncaught Python exception also exits 1.
		warn "trufflehog failed on $label (exit $M_STATUS): $(tail -c 400 "$out/trufflehog.jsonl.stderr")"
		th_time="crashed after $M_SECONDS s (exit $M_STATUS)"
		partial=" (partial)"
		M_STATUS=99
	fi
	IFS=$'\t' read -r findings _ found total unmatched < <(python3 "$BENCH_DIR/count.py" trufflehog \
		"$out/trufflehog.jsonl" "${count_args[@]}") || die "could not count trufflehog findings"
	distinct=$(jq -r '.stringsFound[]' "$out/trufflehog.jsonl" 2>/dev/null | sort -u | wc -l)
	recall="-"
	[[ $found != "-" ]] && recall="$found / $total$partial; $unmatched findings match none"
	vs="-"
	if [[ $M_SECONDS != ">"* && $M_STATUS -le 1 ]]; then
		vs=$(ratio "$M_SECONDS" "$floor_mean")
	elif [[ $M_SECONDS == ">"* ]]; then
		vs=">$(ratio "$TH_TIMEOUT" "$floor_mean")"
	fi
	rows+=("| $label | $th_label | $th_time | $th_cpu | $M_RSS MiB | $findings$partial ($distinct distinct strings) | $recall | $vs |")
	if [[ -n $gg_mean ]]; then
		th_s=${M_SECONDS#>}
		speedup=$(ratio "$th_s" "$gg_mean")
		[[ $M_SECONDS == ">"* ]] && speedup=">$speedup"
		rows+=("| $label | → gitops-guard vs trufflehog | $speedup faster | | | | | |")
	fi
done

echo
echo "## Full-history scan ($(date -u +%Y-%m-%d), $(machine_line))"
echo
echo "| repo | commits (all refs) | refs | blobs | blob bytes | pack | objects missing from the snapshot |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${corpus[@]}"
echo
echo "| repo | command | wall time | CPU (user+sys) | peak RSS | findings | planted found (history) | wall × floor |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [[ $HIST_RUNS -gt 0 ]]; then
	echo "Floor and gitops-guard: hyperfine, $HIST_RUNS runs (mean ± σ) after one measuring run; trufflehog: one run."
else
	echo "One run of each (HIST_RUNS=0)."
fi
echo "Peak RSS from /usr/bin/time -v on the measuring run. 'planted found' applies to the generated repository."
