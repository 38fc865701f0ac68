#!/usr/bin/env bash
# CPU cost of the second values verifiers take from a secret's file
# (`[rule.verify.context]`), on a synthetic tree built to stress it: FILES files of ~8 KiB,
# each with a Twilio SID + auth token, a Shopify shop + token, a Cloudflare e-mail + global
# key, a Docker Hub `docker login -u` + PAT, a Mailchimp key, and 60 filler lines with an
# e-mail each (the e-mail regex reads every byte). Values are random, made here.
#
#   bench/verify-context.sh RUNS LABEL=BINARY...
#
# Per binary: `scan` (context is not looked up: it must cost nothing) and `scan
# --verify-dry-run` (context looked up, every request built, none sent). Median CPU
# user+sys of RUNS runs and peak RSS.
set -euo pipefail
runs=$1
shift
files=${FILES:-2000}
tree=$(mktemp -d)
trap 'rm -rf "$tree" "$tree.time"' EXIT
python3 - "$tree" "$files" <<'PY'
import os, random, string, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
al, hx = string.ascii_letters + string.digits, "0123456789abcdef"
r = lambda k, cs=al: "".join(rng.choice(cs) for _ in range(k))
for i in range(n):
    filler = "".join(f"key{j}: value {r(8)} user{j}@example.org\n" for j in range(60))
    body = (f"TWILIO_ACCOUNT_SID=AC{r(32, hx)}\nTWILIO_AUTH_TOKEN={r(32, hx)}\n"
            f"SHOP=acme{i}.myshopify.com\nSHOPIFY_TOKEN=shpat_{r(32, hx)}\n"
            f"CF_API_EMAIL=ops{i}@corp.io\nCF_API_KEY={r(37, hx)}\n"
            f"echo dckr_pat_{r(27)} | docker login -u acme{i} --password-stdin\n"
            f"MAILCHIMP_API_KEY={r(32, hx)}-us21\n")
    d = os.path.join(root, f"d{i % 20}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.env"), "w") as f:
        f.write(filler + body + filler)
PY
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| binary | scan | CPU user+sys (median of $runs) | peak RSS |"
echo "|---|---|---|---|"
for pair in "$@"; do
	label=${pair%%=*} bin=${pair#*=}
	for mode in scan dry-run; do
		extra=()
		[[ $mode == dry-run ]] && extra=(--verify-dry-run)
		cpus=() rss=0
		for ((i = 0; i < runs; i++)); do
			# Exit 1 (findings) is expected.
			/usr/bin/time -o "$tree.time" -f '%U %S %M' "$bin" scan "$tree" --quiet --format json "${extra[@]}" >/dev/null 2>&1 || true
			read -r u s m < <(tail -1 "$tree.time")
			cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
			((m > rss)) && rss=$m
		done
		echo "| $label | $mode | $(printf '%s\n' "${cpus[@]}" | median) s | $((rss / 1024)) MiB |"
	done
done
