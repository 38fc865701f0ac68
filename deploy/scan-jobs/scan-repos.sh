#!/bin/sh
# Scan the whole history of every repository listed in $REPOS_FILE (one URL or path a line;
# blank lines and # comments ignored) with gitops-guard, one JSON report per repository in
# $RESULTS_DIR. Run by the CronJob and by each pod of the indexed Job.
#
# Sharding: with JOB_COMPLETION_INDEX set (an indexed Job sets it) and SHARD_COUNT=N, this
# pod scans only the repositories whose position in the list (0-based, comments and blank
# lines not counted) is congruent to JOB_COMPLETION_INDEX modulo N. Keep SHARD_COUNT equal
# to the Job's completions.
#
# Config and baseline (both optional, both from the ConfigMap): $CONFIG_FILE (default
# /config/gitops-guard.toml) is passed as --config, and $BASELINE_FILE (default
# /config/baseline.json, a report written by `gitops-guard baseline` or `scan -f json`)
# as --baseline, so a repository fails only on findings the baseline does not hold.
# A missing file is skipped; an empty value turns the default off.
# Incremental rescans: with CACHE_DIR set (the manifests mount a PersistentVolumeClaim at
# /cache), each repository keeps a `--cache` directory there, so a nightly rescan reads only
# the blobs it has not already found clean under the same rules and config. The cache holds
# keyed hashes of clean objects only, no secret; a damaged one is ignored and rebuilt.
#
# Exit code: the worst of the scans (3 a scan could not complete, 1 findings, 0 clean), so
# the Job fails when any repository has findings. URLs are logged with credentials hidden.
set -u
repos=${REPOS_FILE:-/config/repos.txt}
out=${RESULTS_DIR:-/results}
gg=${GITOPS_GUARD:-gitops-guard}
shards=${SHARD_COUNT:-1}
index=${JOB_COMPLETION_INDEX:-}
if [ -n "$index" ] && [ "$index" -ge "$shards" ]; then
	echo "JOB_COMPLETION_INDEX=$index but SHARD_COUNT=$shards: set SHARD_COUNT to the Job's completions" >&2
	exit 2
fi
[ -r "$repos" ] || {
	echo "cannot read the repository list $repos" >&2
	exit 2
}
mkdir -p "$out"
config=${CONFIG_FILE-/config/gitops-guard.toml}
baseline=${BASELINE_FILE-/config/baseline.json}
set --
if [ -n "$config" ] && [ -e "$config" ]; then
	set -- "$@" --config "$config"
	echo "config: $config"
fi
if [ -n "$baseline" ] && [ -e "$baseline" ]; then
	set -- "$@" --baseline "$baseline"
	echo "baseline: $baseline"
fi

worst=0 position=0 scanned=0
while IFS= read -r line || [ -n "$line" ]; do
	url=$(printf '%s' "$line" | sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
	[ -n "$url" ] || continue
	mine=$position
	position=$((position + 1))
	if [ -n "$index" ] && [ $((mine % shards)) -ne "$index" ]; then
		continue
	fi
	shown=$(printf '%s' "$url" | sed -e 's|//[^/@]*@|//***@|')
	name=$(printf '%s' "$url" | sed -e 's|/*$||' -e 's|.*[/:]||' -e 's|\.git$||' | tr -c 'A-Za-z0-9._-' '_')
	report="$out/$mine-$name.json"
	echo "== [$mine] $shown"
	cache=""
	[ -z "${CACHE_DIR:-}" ] || cache="--cache=$CACHE_DIR/$name"
	# shellcheck disable=SC2086
	"$gg" scan "$url" --history --format json --output "$report" $cache "$@" ${GITOPS_GUARD_ARGS:-}
	rc=$?
	scanned=$((scanned + 1))
	case $rc in
	0) ;;
	1) [ "$worst" -eq 3 ] || worst=1 ;;
	*) worst=3 ;;
	esac
done <"$repos"
echo "scanned $scanned repositories (shard ${index:-all} of $shards); exit $worst"
exit "$worst"
