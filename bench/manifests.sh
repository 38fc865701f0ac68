#!/usr/bin/env bash
# Kubernetes policy: `checkov --framework kubernetes` vs `gitops-guard scan` on the shared
# manifest corpora, with both JSON outputs kept for review.
#
#   bench/manifests.sh [DIR...]
#
# With no argument: $CORPUS/manifests and $CORPUS/gitops, where CORPUS defaults to the
# `shared/corpus` folder beside the project checkout. Outputs: bench/out/manifests/
# checkov-NAME.json, gitops-guard-NAME.json and disagreements-NAME.tsv (one row per
# resource where exactly one tool flags a check both have).
#
# Environment: MAN_RUNS (3) hyperfine runs per tool; GG_BUILD=0 to skip `cargo build --release`.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

MAN_RUNS=${MAN_RUNS:-3}
CORPUS=${CORPUS:-$REPO_ROOT/../shared/corpus}

ensure_jq
ensure_hyperfine
ensure_gnu_time
ensure_checkov
ensure_gg

dirs=("$@")
if [[ $# -eq 0 ]]; then
	[[ -d $CORPUS ]] || die "corpus not found at $CORPUS (set CORPUS=/path/to/shared/corpus, or pass directories)"
	dirs=("$CORPUS/manifests" "$CORPUS/gitops")
fi

out=$BENCH_OUT/manifests
mkdir -p "$out"
rows=()
comparisons=()
for d in "${dirs[@]}"; do
	[[ -d $d ]] || die "'$d' is not a directory"
	d=$(cd "$d" && pwd)
	name=$(basename "$d")
	files=$(find "$d" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)
	note "== $name: $d ($files YAML/JSON files)"

	# checkov: --skip-download keeps it offline (otherwise it tries to fetch guidelines and
	# prints a stack trace); --soft-fail makes failed checks exit 0, so a non-zero exit is an error.
	ck_json=$out/checkov-$name.json
	ck_cmd=("$CHECKOV" -d "$d" --framework kubernetes -o json --soft-fail --skip-download)
	time_limited 1800 "$ck_json" "${ck_cmd[@]}"
	[[ $TL_STATUS -eq 0 ]] || die "checkov failed on $d (exit $TL_STATUS): $(tail -c 400 "$ck_json.stderr")"
	jq -e . "$ck_json" >/dev/null || die "checkov output for $d is not JSON: $ck_json"
	printf -v cmd '%q ' "${ck_cmd[@]}"
	hyperfine --style basic --warmup 0 --runs "$MAN_RUNS" --export-json "$out/checkov-$name.hyperfine.json" \
		-n checkov "$cmd" >&2
	ck_summary=$(jq -r '[if type == "array" then .[] else . end | select(.check_type == "kubernetes") | .summary]
		| "\(map(.failed) | add // 0) failed, \(map(.passed) | add // 0) passed, \(map(.resource_count) | add // 0) resources"' "$ck_json")
	rows+=("| $name | checkov $CHECKOV_VERSION --framework kubernetes | $(hyperfine_mean "$out/checkov-$name.hyperfine.json") | $(hyperfine_cpu "$out/checkov-$name.hyperfine.json") s | $ck_summary |")

	if [[ -n $GG ]]; then
		gg_json=$out/gitops-guard-$name.json
		gg_cmd=("$GG" scan --quiet --format json "$d")
		time_limited 600 "$gg_json" "${gg_cmd[@]}"
		if [[ $TL_STATUS -ne 0 && $TL_STATUS -ne 1 ]]; then
			warn "gitops-guard failed on $d (exit $TL_STATUS): $(head -c 400 "$gg_json.stderr")"
			rows+=("| $name | gitops-guard scan | error (exit $TL_STATUS) | - | - |")
			continue
		fi
		printf -v cmd '%q ' "${gg_cmd[@]}"
		hyperfine --style basic --warmup 1 --runs "$MAN_RUNS" -i --export-json "$out/gitops-guard-$name.hyperfine.json" \
			-n gitops-guard "$cmd" >&2
		gg_summary=$(jq -r '.findings | group_by(.category) | map("\(.[0].category) \(length)") | join(", ")
			| if . == "" then "no findings" else . end' "$gg_json")
		rows+=("| $name | gitops-guard scan | $(hyperfine_mean "$out/gitops-guard-$name.hyperfine.json") | $(hyperfine_cpu "$out/gitops-guard-$name.hyperfine.json") s | $gg_summary |")
		cmp=$(python3 "$BENCH_DIR/compare_policy.py" "$ck_json" "$gg_json" "$d" "$out/disagreements-$name.tsv") ||
			die "comparison failed for $name"
		comparisons+=("### $name" "" "$cmp" "" "Disagreements listed in bench/out/manifests/disagreements-$name.tsv." "")
	else
		rows+=("| $name | gitops-guard scan | not built | - | - |")
	fi
done

echo
echo "## Kubernetes policy: checkov vs gitops-guard ($(date -u +%Y-%m-%d), $(machine_line))"
echo
echo "| corpus | tool | wall time | CPU (user+sys) | results |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [[ ${#comparisons[@]} -gt 0 ]]; then
	echo "Per resource, for each gitops-guard check with a checkov counterpart:"
	echo
	printf '%s\n' "${comparisons[@]}"
fi
echo "JSON outputs: bench/out/manifests/ (hyperfine: $MAN_RUNS runs each)."
