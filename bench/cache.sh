#!/usr/bin/env bash
# Nightly incremental rescan (`scan --history --cache`), reproducible:
#
#   bench/cache.sh [REPO]          (default: argo-cd, $ARGO_REPO)
#
# 1. A scratch copy of REPO whose objects are hard links (no bytes copied; the
#    mirror itself is never written to).
# 2. `scan --history --cache=DIR`: full scan, builds the cache.
# 3. 10 new commits on a new branch, made with plumbing only (no checkout, so
#    objects missing from a partial snapshot do not matter): each changes one
#    manifest and adds one file.
# 4. The rescan with the cache, and (CACHE_FRESH=1, the default) the same
#    rescan without it, side by side; their findings are compared.
#
# The cache keeps the findings of a blob with a secret only under the user's
# key, so the scans run with GITOPS_GUARD_HMAC_KEY (a fixed bench key unless
# set; GITOPS_GUARD_HMAC_KEY= empty measures a keyless cache, which reads those
# blobs again).
#
# Environment: GG_ARGS (extra flags, e.g. --all-categories), GG_BUILD=0 to skip
# `cargo build --release`, CACHE_FRESH=0 to skip the fresh rescan. Outputs under
# bench/out/cache-*.
set -euo pipefail
export GITOPS_GUARD_HMAC_KEY="${GITOPS_GUARD_HMAC_KEY-bench-cache-key-0123456789abcdef}"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ensure_git
ensure_jq
ensure_gnu_time
ensure_gg
[[ -n $GG ]] || die "gitops-guard is not built"

src=${1:-$ARGO_REPO}
check_repo "$src" "repository"
src_git=$(git -C "$src" rev-parse --absolute-git-dir)
label=$(basename "$(dirname "$src_git")")
[[ $label == *argo-cd* ]] && label=argo-cd
out=$BENCH_OUT/cache-$label
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/gg-cache-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. hard-linked scratch repository
repo=$work/repo.git
git init -q --bare "$repo"
cp -al "$src_git/objects/." "$repo/objects/"
cp -r "$src_git/refs/." "$repo/refs/"
[[ -f $src_git/packed-refs ]] && cp "$src_git/packed-refs" "$repo/"
cp "$src_git/HEAD" "$repo/HEAD"

args=(scan --history --no-render --quiet --format json --verbose)
[[ $(missing_objects "$repo" | wc -l) -gt 0 ]] && args+=(--allow-missing)
# shellcheck disable=SC2206
args+=(${GG_ARGS:-})
cache=$work/cache

row() { printf '| %s | %s s | %s s | %s MiB | %s |\n' "$1" "$TL_SECONDS" "$TL_CPU" "$TL_RSS" "$2"; }
rows=()

# 2. full scan, cache built
note "full scan with --cache"
time_limited 3600 "$out/full.json" "$GG" "${args[@]}" "--cache=$cache" "$repo"
[[ $TL_STATUS -le 1 ]] || die "full scan failed (exit $TL_STATUS): $(tail -c 400 "$out/full.json.stderr")"
rows+=("$(row "full \`scan --history --cache\` (cache built)" "$(jq -r '.stats | "\(.blobs_scanned) blobs read, \(.cache.added) entered"' "$out/full.json")")")

# 3. ten commits
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
parent=$(git --git-dir="$repo" rev-parse HEAD)
index=$work/index
for i in $(seq 1 10); do
	GIT_INDEX_FILE=$index git --git-dir="$repo" read-tree "$parent"
	new=$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nightly-%s\ndata:\n  url: http://10.0.%s.1/\n' "$i" "$i" |
		git --git-dir="$repo" hash-object -w --stdin)
	readme=$( (git --git-dir="$repo" cat-file blob "$parent:README.md" 2>/dev/null || true; echo "nightly $i") |
		git --git-dir="$repo" hash-object -w --stdin)
	GIT_INDEX_FILE=$index git --git-dir="$repo" update-index --add --cacheinfo "100644,$new,bench/nightly-$i.yaml"
	GIT_INDEX_FILE=$index git --git-dir="$repo" update-index --add --cacheinfo "100644,$readme,README.md"
	tree=$(GIT_INDEX_FILE=$index git --git-dir="$repo" write-tree)
	parent=$(git --git-dir="$repo" commit-tree "$tree" -p "$parent" -m "nightly change $i")
done
git --git-dir="$repo" update-ref refs/heads/bench-nightly "$parent"

# 4. rescans
note "rescan with --cache after 10 commits"
time_limited 3600 "$out/rescan.json" "$GG" "${args[@]}" "--cache=$cache" "$repo"
[[ $TL_STATUS -le 1 ]] || die "rescan failed (exit $TL_STATUS): $(tail -c 400 "$out/rescan.json.stderr")"
rows+=("$(row "rescan \`--cache\` after 10 new commits" "$(jq -r '.stats | "\(.blobs_scanned) blobs read, \(.cache.hits) known clean"' "$out/rescan.json")")")
same="-"
if [[ ${CACHE_FRESH:-1} != 0 ]]; then
	note "the same rescan without the cache"
	time_limited 3600 "$out/fresh.json" "$GG" "${args[@]}" "$repo"
	rows+=("$(row "rescan without the cache" "$(jq -r '.stats | "\(.blobs_scanned) blobs read"' "$out/fresh.json")")")
	if cmp -s <(jq -S .findings "$out/rescan.json") <(jq -S .findings "$out/fresh.json"); then
		same="identical"
	else
		same="DIFFERENT"
		warn "cached and fresh findings differ: see $out/rescan.json and $out/fresh.json"
	fi
fi

echo
echo "## Incremental rescan, $label ($(date -u +%Y-%m-%d), $(machine_line))"
echo
echo "| run | wall | CPU (user+sys) | peak RSS | objects |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Findings of the cached and the fresh rescan: $same. Phases of the cached rescan (--verbose):"
echo
echo '```'
grep '^phase\|^cache' "$out/rescan.json.stderr" || true
echo '```'
