#!/usr/bin/env bash
# gitops-guard against the strongest peers (issue 13): default `scan --history` vs
# Betterleaks (`betterleaks git`) vs Kingfisher (`kingfisher scan --git-history full`) vs
# the floor `git cat-file --batch-all-objects --batch` on kube-prometheus, the generated
# repository and argo-cd, at 2 threads and at all cores; then the working tree of argo-cd's
# HEAD: gitops-guard `scan` vs ripsecrets vs `betterleaks fs` vs Kingfisher
# (`--git-history none`).
#
#   bench/peers.sh
#
# Environment: PEER_RUNS (3) runs per cell, median reported; PEER_TIMEOUT (1800 s) per run;
# PEER_THREADS ("2 <nproc>") thread counts (a count above nproc is skipped, equal ones are
# run once); PEER_REPOS ("kube-prometheus generated argo-cd"); PEER_TOOLS ("floor
# gitops-guard betterleaks kingfisher"); ARGO_TREE (a checkout of argo-cd's HEAD; default
# worktree_of $ARGO_REPO); PEER_PARTS ("history tree"). With a thread count below nproc every tool runs under
# `taskset -c 0-(N-1)` (as the issue measured), and the tool's own thread setting is N
# (gitops-guard --threads, GOMAXPROCS for Betterleaks, -j for Kingfisher).
# Kingfisher runs with --no-validate (no network) and --no-update-check; Betterleaks with
# its defaults (decoding depth 5, archives). Peers read the mirrors through prepared_clone
# (missing objects mapped to a placeholder blob), gitops-guard with --allow-missing.
# CPU = user+sys from GNU time; the figure to compare on a shared machine.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

PEER_RUNS=${PEER_RUNS:-3}
PEER_TIMEOUT=${PEER_TIMEOUT:-1800}
cores=$(nproc)
PEER_THREADS=${PEER_THREADS:-2 $cores}
PEER_REPOS=${PEER_REPOS:-kube-prometheus generated argo-cd}
PEER_TOOLS=${PEER_TOOLS:-floor gitops-guard betterleaks kingfisher}
PEER_PARTS=${PEER_PARTS:-history tree}
out=$BENCH_OUT/peers
mkdir -p "$out"
ensure_gnu_time
ensure_peers_pip
ensure_ripsecrets
ensure_gg
[[ -n $GG ]] || die "gitops-guard is not built"

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# findings TOOL FILE -> number of findings in a tool's output (best effort).
findings() {
	python3 - "$1" "$2" <<'PY'
import json, sys
tool, path = sys.argv[1], sys.argv[2]
try:
    text = open(path, encoding="utf-8", errors="replace").read()
    if tool == "ripsecrets":
        print(sum(1 for l in text.splitlines() if l.strip()))
    elif tool == "gitops-guard":
        d = json.loads(text)
        f = d["findings"] if isinstance(d, dict) else d
        print(f"{len(f)} ({sum(1 for x in f if x.get('category') == 'secret')} secret)")
    elif tool in ("kingfisher", "betterleaks"):
        # Kingfisher appends a second JSON document (a summary) after the report
        d = json.JSONDecoder().raw_decode(text.lstrip())[0] if text.strip() else []
        f = d.get("findings", d) if isinstance(d, dict) else d
        print(len(f) if isinstance(f, list) else "?")
    else:
        d = json.loads(text) if text.strip() else []
        print(len(d) if isinstance(d, list) else "?")
except Exception:
    print("?")
PY
}

# cell TOOL LABEL CMD... : run CMD PEER_RUNS times, print a table row.
cell() {
	local tool=$1 label=$2 i cpus=() walls=() rss=() f="-" st="" file
	shift 2
	file="$out/$label, $tool.out"
	for ((i = 0; i < PEER_RUNS; i++)); do
		time_limited "$PEER_TIMEOUT" "$file" "$@"
		if [[ $TL_STATUS -eq 124 || $TL_STATUS -eq 137 ]]; then
			st="timed out"
			break
		fi
		# findings: exit 1 (gitops-guard, Betterleaks), 200/205 (Kingfisher)
		if [[ $TL_STATUS -gt 1 && ! ($tool == kingfisher && ($TL_STATUS -eq 200 || $TL_STATUS -eq 205)) ]]; then
			st="exit $TL_STATUS: $(head -c 200 "$file.stderr" | tr '\n|' '  ')"
			break
		fi
		# Betterleaks exits 1 on findings and on errors alike
		if [[ $tool == betterleaks ]] && grep -q ' ERR ' "$file.stderr"; then
			st="error: $(grep -m1 ' ERR ' "$file.stderr" | head -c 200 | tr '|' ' ')"
			break
		fi
		cpus+=("$TL_CPU") walls+=("$TL_SECONDS") rss+=("$TL_RSS")
	done
	if [[ -n $st ]]; then
		echo "| $label | $tool | $st | | | | |"
		return
	fi
	[[ $tool == floor ]] || f=$(findings "$tool" "$file")
	echo "| $label | $tool | $(printf '%s\n' "${walls[@]}" | median) s | $(printf '%s\n' "${cpus[@]}" | median) s | ${cpus[*]} | $(printf '%s\n' "${rss[@]}" | median) MiB | $f |"
}

# pinned N -> the `taskset` prefix that keeps a run on N cores when N < nproc.
pinned() {
	if [[ $1 -lt $cores ]] && command -v taskset >/dev/null; then
		echo "taskset -c 0-$(($1 - 1))"
	fi
}

repo_of() {
	case $1 in
	kube-prometheus) echo "$KP_REPO" ;;
	generated) echo "$GEN_REPO" ;;
	argo-cd) echo "$ARGO_REPO" ;;
	esac
}

threads=$(printf '%s\n' $PEER_THREADS | awk -v c="$cores" '$1 <= c' | sort -un)
if [[ " $PEER_PARTS " == *" history "* ]]; then
echo
echo "### history ($(machine_line))"
echo
echo "Median of $PEER_RUNS runs; CPU = user+sys. Betterleaks $("$BETTERLEAKS" --version), $("$KINGFISHER" --version)."
echo
echo "| scan | tool | wall (median) | CPU (median) | CPU runs | peak RSS | findings |"
echo "|---|---|---|---|---|---|---|"
for name in $PEER_REPOS; do
	repo=$(repo_of "$name")
	if ! git -C "$repo" rev-parse --verify -q HEAD >/dev/null 2>&1; then
		echo "| $name | - | not available at $repo | | | | |"
		continue
	fi
	peer_repo=$repo
	if [[ -n $(missing_objects "$repo" | head -1) ]]; then
		peer_repo=$(prepared_clone "$repo" "$name")/.git
	fi
	for tool in $PEER_TOOLS; do
		if [[ $tool == floor ]]; then
			cell floor "$name history" sh -c 'git -C "$1" cat-file --batch-all-objects --batch >/dev/null' _ "$repo"
			continue
		fi
		for n in $threads; do
			label="$name history, $n threads"
			case $tool in
			gitops-guard)
				cell gitops-guard "$label" $(pinned "$n") "$GG" scan --history --no-render --allow-missing --threads "$n" --quiet --format json "$repo"
				;;
			betterleaks)
				cell betterleaks "$label" $(pinned "$n") env GOMAXPROCS="$n" "$BETTERLEAKS" git "$peer_repo" --no-banner --no-color --log-level=error -o -
				;;
			kingfisher)
				cell kingfisher "$label" $(pinned "$n") "$KINGFISHER" scan "$peer_repo" --git-history full -j "$n" --no-validate --no-update-check -f json
				;;
			esac
		done
	done
done

fi
[[ " $PEER_PARTS " == *" tree "* ]] || exit 0
tree=${ARGO_TREE:-$(worktree_of "$ARGO_REPO" argo-cd)}
echo
echo "### working tree: argo-cd HEAD ($tree, $(find "$tree" -path "$tree/.git" -prune -o -type f -print | wc -l) files)"
echo
echo "| scan | tool | wall (median) | CPU (median) | CPU runs | peak RSS | findings |"
echo "|---|---|---|---|---|---|---|"
for n in $threads; do
	label="argo-cd tree, $n threads"
	cell gitops-guard "$label" $(pinned "$n") "$GG" scan --no-render --threads "$n" --quiet --format json "$tree"
	cell ripsecrets "$label" $(pinned "$n") "$RIPSECRETS" "$tree"
	cell betterleaks "$label" $(pinned "$n") env GOMAXPROCS="$n" "$BETTERLEAKS" fs "$tree" --no-banner --no-color --log-level=error -o -
	cell kingfisher "$label" $(pinned "$n") "$KINGFISHER" scan "$tree" --git-history none -j "$n" --no-validate --no-update-check -f json
done
