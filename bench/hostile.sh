#!/usr/bin/env bash
# Hostile sizes and counts (issue 11): many findings in one file must cost linear time,
# and a huge blob in history must be judged by its size without being inflated.
#
#   bench/hostile.sh
#
# Cases, generated into $BENCH_CACHE/hostile/ at run time (the tokens are GitHub-shaped
# with valid checksums, made up here, never committed):
#   lines-30000     one token per line, 30,000 lines (1.4 MB)       `scan FILE`
#   oneline-9M      a 9 MB single line, a token every ~300 bytes   `scan FILE`
#   history-1G      a repository whose history holds a 1 GB blob   `scan --history`
#                   (zeros: 1 MB packed; over the default 10 MB size limit)
# Each row: wall seconds, peak RSS (GNU time), findings, and whether every token was found.
#
# Environment: GG_BIN (default target/release/gitops-guard), GG_BUILD=0 to skip
# `cargo build --release`, HOSTILE_LIMIT (wall-clock limit per run, default 300s),
# HOSTILE_BIG_MB (size of the history blob, default 1024).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

HOSTILE_LIMIT=${HOSTILE_LIMIT:-300s}
HOSTILE_BIG_MB=${HOSTILE_BIG_MB:-1024}

ensure_jq
ensure_gnu_time
ensure_gg
[[ -n $GG ]] || die "gitops-guard is not built"

work=$BENCH_CACHE/hostile
out=$BENCH_OUT/hostile
mkdir -p "$work" "$out"

# gen_tokens N SEED: N GitHub classic tokens (ghp_ + 30 random + 6 base62 CRC32), one a line.
gen_tokens() {
	python3 - "$1" "$2" <<'EOF'
import random, sys, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(n):
    s = ""
    while n:
        s, n = A[n % 62] + s, n // 62
    return s.rjust(6, "0")
r = random.Random(int(sys.argv[2]))
for _ in range(int(sys.argv[1])):
    body = "".join(r.choice(A) for _ in range(30))
    print("ghp_" + body + b62(zlib.crc32(body.encode())))
EOF
}

if [[ ! -s $work/lines-30000.env ]]; then
	note "generating lines-30000.env"
	gen_tokens 30000 1 | sed 's/^/TOKEN=/' >"$work/lines-30000.env"
fi
if [[ ! -s $work/oneline-9M.txt ]]; then
	note "generating oneline-9M.txt"
	gen_tokens 30000 2 | python3 -c '
import sys
pad = "x" * 250
parts = ["\"k%d\": \"%s\", \"p%d\": \"%s\"" % (i, t.strip(), i, pad) for i, t in enumerate(sys.stdin)]
sys.stdout.write("{" + ", ".join(parts) + "}\n")' >"$work/oneline-9M.txt"
fi
big_repo=$work/history-${HOSTILE_BIG_MB}M.git
if [[ ! -d $big_repo ]]; then
	note "generating $big_repo (a ${HOSTILE_BIG_MB} MB blob of zeros in history)"
	tmp=$work/history-tmp
	rm -rf "$tmp"
	git init -q -b main "$tmp"
	head -c $((HOSTILE_BIG_MB * 1024 * 1024)) /dev/zero >"$tmp/disk.img"
	gen_tokens 1 3 | sed 's/^/TOKEN=/' >"$tmp/app.env"
	git -C "$tmp" add -A
	git -C "$tmp" -c user.name=bench -c user.email=bench@example.invalid commit -q -m big
	git -C "$tmp" rm -q disk.img
	git -C "$tmp" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "drop it"
	git clone -q --bare "$tmp" "$big_repo"
	rm -rf "$tmp"
fi

echo
echo "### Hostile sizes and counts"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(machine_line)"
echo
echo "| case | command | wall s | peak RSS MiB | findings | tokens | exit |"
echo "|---|---|---:|---:|---:|---:|---:|"

row() {
	local name=$1 tokens=$2
	shift 2
	time_limited "$HOSTILE_LIMIT" "$out/$name.json" "$GG" "$@" --format json
	local n="-"
	if [[ $TL_STATUS -le 1 ]]; then
		n=$(jq '.findings | length' "$out/$name.json")
	fi
	echo "| $name | \`gitops-guard ${*/#$work\//}\` | $TL_SECONDS | $TL_RSS | $n | $tokens | $TL_STATUS |"
}

row lines-30000 30000 scan "$work/lines-30000.env"
row oneline-9M 30000 scan "$work/oneline-9M.txt"
row "history-${HOSTILE_BIG_MB}M" 1 scan --history "$big_repo"
echo
echo "Expected: both files in well under 2 s with every token found; the history row reports"
echo "its one token, lists disk.img as too_large (stats.skipped_blobs) and stays far below the"
echo "blob's size in memory. Raw outputs: $out/."
