#!/usr/bin/env bash
# Install every peer tool the benchmarks compare against into $BENCH_CACHE
# and check that each one runs. Safe to rerun: installed tools are kept.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ensure_git
ensure_jq
ensure_hyperfine
ensure_gnu_time
ensure_ripsecrets
ensure_detect_secrets
ensure_trufflehog
ensure_checkov
ensure_peers_pip

printf '| tool | version | path |\n|---|---|---|\n'
printf '| hyperfine | %s | %s |\n' "$(hyperfine --version | awk '{print $2}')" "$(command -v hyperfine)"
printf '| ripsecrets | %s | %s |\n' "$("$RIPSECRETS" --version | awk '{print $NF}')" "$RIPSECRETS"
printf '| detect-secrets | %s | %s |\n' "$("$DETECT_SECRETS" --version)" "$DETECT_SECRETS"
printf '| trufflehog | %s (GitPython %s) | %s |\n' "$TRUFFLEHOG_VERSION" \
	"$("${TRUFFLEHOG%/*}/python" -c 'import git; print(git.__version__)')" "$TRUFFLEHOG"
printf '| checkov | %s | %s |\n' "$("$CHECKOV" --version)" "$CHECKOV"
printf '| betterleaks | %s | %s |\n' "$("$BETTERLEAKS" --version)" "$BETTERLEAKS"
printf '| kingfisher | %s | %s |\n' "$("$KINGFISHER" --version | awk '{print $NF}')" "$KINGFISHER"
printf '| git | %s | %s |\n' "$(git --version | awk '{print $3}')" "$(command -v git)"
