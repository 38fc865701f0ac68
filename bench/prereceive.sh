#!/usr/bin/env bash
# Pre-receive hook latency: real `git push`es of 10 new commits into a large bare repository
# whose pre-receive hook runs `gitops-guard hook pre-receive`.
#
#   bench/prereceive.sh [REPO]          (default: argo-cd, $ARGO_REPO: 71k commits, 18.5k refs)
#
# The server is a local `git clone --mirror` of REPO (objects hard-linked, every ref kept,
# since the ref count is what `rev-list --not --all` pays for). A client that borrows the
# server's objects (alternates) builds 10 commits on top of HEAD with plumbing and pushes
# them to a new branch; the hook records how long gitops-guard took, and, as the floor,
# how long `git rev-list --objects NEW --not --all` took in the same quarantine. Clean
# pushes must be accepted; pushes whose last commit adds a token-shaped secret (built
# here, at run time) must be rejected.
#
# Environment: PUSHES (15) clean pushes, BAD_PUSHES (5) pushes with a secret; GG_BUILD=0.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

PUSHES=${PUSHES:-15}
BAD_PUSHES=${BAD_PUSHES:-5}
repo=${1:-$ARGO_REPO}

ensure_git
ensure_python
ensure_gg
[[ -n $GG ]] || die "gitops-guard is not built; this benchmark measures only its hook"
check_repo "$repo" "pre-receive benchmark repository"
repo=$(cd "$repo" && pwd)
label=$(basename "${repo%/repo}")
label=${label%.git}

work=$BENCH_CACHE/prereceive-$label
server=$work/server.git
client=$work/client
log=$work/hook.log
if [[ ! -f $server/bench-complete ]]; then
	rm -rf "$work"
	mkdir -p "$work"
	note "making the server: local mirror clone of $repo (objects hard-linked)"
	git clone --quiet --mirror "$repo" "$server" >&2 || die "git clone --mirror $repo failed"
	touch "$server/bench-complete"
fi
rm -rf "$client" "$log"
git init --quiet "$client"
echo "$server/objects" >"$client/.git/objects/info/alternates"
git -C "$client" config user.name "Bench Pusher"
git -C "$client" config user.email "bench@example.invalid"

# The hook: time the floor and gitops-guard on the same stdin, inside git's quarantine.
cat >"$server/hooks/pre-receive" <<EOF
#!/usr/bin/env bash
in=\$(mktemp)
trap 'rm -f "\$in"' EXIT
cat >"\$in"
t0=\$(date +%s%N)
while read -r old new ref; do
	git rev-list --objects "\$new" --not --all >/dev/null
done <"\$in"
t1=\$(date +%s%N)
$(printf '%q' "$GG") hook pre-receive <"\$in"
rc=\$?
t2=\$(date +%s%N)
echo "\$(( (t1 - t0) / 1000 )) \$(( (t2 - t1) / 1000 )) \$rc" >>$(printf '%q' "$log")
exit \$rc
EOF
chmod +x "$server/hooks/pre-receive"

base=$(git -C "$server" rev-parse HEAD)
ncommits=$(git -C "$server" rev-list --all --count)
nrefs=$(git -C "$server" for-each-ref | wc -l)
note "server: $ncommits commits, $nrefs refs; HEAD ${base:0:12}"

# make_commits N TAG SECRET(0/1) -> prints the new tip: N commits on top of $base, each adding
# one small manifest; with SECRET=1 the last one adds a GitHub-shaped token (valid checksum).
make_commits() {
	local n=$1 tag=$2 secret=$3 parent=$base i blob tree idx content
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$client" read-tree "$base"
	for ((i = 1; i <= n; i++)); do
		content="apiVersion: v1
kind: ConfigMap
metadata:
  name: bench-$tag-$i
data:
  revision: \"$tag-$i-$(date +%s%N)\"
"
		if [[ $secret == 1 && $i == "$n" ]]; then
			content+="  GITHUB_TOKEN: $(python3 -c '
import random, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
b = "".join(random.SystemRandom().choice(A) for _ in range(30))
n = zlib.crc32(b.encode()); s = ""
for _ in range(6):
    s = A[n % 62] + s; n //= 62
print("ghp_" + b + s)')
"
		fi
		blob=$(printf '%s' "$content" | git -C "$client" hash-object -w --stdin)
		GIT_INDEX_FILE=$idx git -C "$client" update-index --add --cacheinfo "100644,$blob,bench-push/$tag/cm-$i.yaml"
		tree=$(GIT_INDEX_FILE=$idx git -C "$client" write-tree)
		parent=$(git -C "$client" commit-tree "$tree" -p "$parent" -m "bench: push $tag commit $i")
	done
	rm -f "$idx"
	printf '%s' "$parent"
}

push_times=()
accepted=0 rejected_ok=0 wrong=()
for ((p = 1; p <= PUSHES + BAD_PUSHES; p++)); do
	bad=0
	((p > PUSHES)) && bad=1
	tip=$(make_commits 10 "p$p" "$bad")
	ref=refs/heads/bench/push-$p
	start=$(now)
	set +e
	git -C "$client" push --quiet "$server" "$tip:$ref" >"$work/push-$p.out" 2>&1
	st=$?
	set -e
	push_times+=("$(elapsed "$start")")
	if [[ $bad == 0 && $st == 0 ]]; then
		accepted=$((accepted + 1))
	elif [[ $bad == 1 && $st != 0 ]]; then
		rejected_ok=$((rejected_ok + 1))
	else
		wrong+=("push $p (secret: $bad, git push exit $st)")
		warn "push $p: unexpected outcome (secret: $bad, exit $st): $(tail -c 600 "$work/push-$p.out")"
	fi
	git -C "$server" update-ref -d "$ref" 2>/dev/null || true
done

[[ -s $log ]] || die "the hook never ran (see $work/push-1.out)"
stats() { # stats COLUMN FROM TO -> "median / p95 / max" in ms over log lines FROM..TO
	sed -n "$2,$3p" "$log" | awk -v c="$1" '{ print $c / 1000 }' | sort -n |
		awk '{ v[NR] = $1 } END { p = int(NR * 0.95 + 0.5); if (p < 1) p = 1; printf "%.1f / %.1f / %.1f ms", v[int((NR + 1) / 2)], v[p], v[NR] }'
}
push_stats() {
	printf '%s\n' "${push_times[@]:$1:$2}" | sort -n |
		awk '{ v[NR] = $1 * 1000 } END { printf "%.0f ms", v[int((NR + 1) / 2)] }'
}
total=$((PUSHES + BAD_PUSHES))

echo
echo "## Pre-receive latency ($(date -u +%Y-%m-%d), $(machine_line))"
echo
echo "Server: $label, $ncommits commits, $nrefs refs. Each push: 10 new commits (one new file each) to a new branch."
echo
echo "| pushes | \`git rev-list --objects NEW --not --all\` (floor) median / p95 / max | gitops-guard hook pre-receive median / p95 / max | whole \`git push\` median | outcome |"
echo "|---|---|---|---|---|"
echo "| $PUSHES clean | $(stats 1 1 "$PUSHES") | $(stats 2 1 "$PUSHES") | $(push_stats 0 "$PUSHES") | $accepted / $PUSHES accepted |"
if ((BAD_PUSHES > 0)); then
	echo "| $BAD_PUSHES with a secret | $(stats 1 $((PUSHES + 1)) "$total") | $(stats 2 $((PUSHES + 1)) "$total") | $(push_stats "$PUSHES" "$BAD_PUSHES") | $rejected_ok / $BAD_PUSHES rejected |"
fi
echo
echo "Times measured inside the hook with date +%s%N; hook stdout/stderr of each push in $work/push-N.out."
if [[ ${#wrong[@]} -gt 0 ]]; then
	echo
	echo "**Unexpected outcomes:** ${wrong[*]}"
	exit 1
fi
