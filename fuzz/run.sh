#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each, one after the
# other on one core, seeded from fixtures/ and, when present, ../shared/corpus.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        (default: 60 s, every target)
#
# Needs the nightly toolchain (`rustup toolchain list`) and cargo-fuzz
# (`cargo install cargo-fuzz`). The fuzz crate is its own workspace: nothing
# here touches the main crate's build or `.ci/run`. New inputs go to
# fuzz/corpus/<target>/ and crashes to fuzz/artifacts/<target>/ (both
# git-ignored); seeds are read in place, never copied into the repository.
# Prints one line per target (seconds, executions, crashes) and exits 1 if any
# target crashed, hung (-timeout) or ran out of memory (-rss_limit_mb).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$PWD
ROOT=$(cd .. && pwd)
SHARED=$ROOT/../shared/corpus

SECS=${1:-60}
shift || true
ALL=(manifest_yaml scan_blob sops_tree sops_config age sealed_secret kustomization
  hook_stdin config_toml baseline_json decoders helm_output)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

command -v cargo-fuzz >/dev/null || {
  echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 2
}
rustup toolchain list | grep -q '^nightly' || {
  echo "fuzz/run.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 2
}

# Seed directories (read recursively by libFuzzer) for one target.
seeds() {
  local d=()
  add() { for p in "$@"; do [ -e "$p" ] && d+=("$p"); done; }
  case $1 in
    manifest_yaml) add "$ROOT/fixtures/k8s" "$ROOT/fixtures/policy" "$ROOT/fixtures/demo" "$SHARED/manifests" "$SHARED/gitops" ;;
    scan_blob) add "$ROOT/fixtures" ;;
    sops_tree) add "$ROOT/fixtures/encryption" "$SHARED/sops" ;;
    sops_config | kustomization) ;; # picked by file name below
    age) add "$ROOT/fixtures/encryption/age-file-malformed" "$ROOT/fixtures/encryption/age-file-not-encrypted" "$SHARED/age" ;;
    sealed_secret) add "$ROOT/fixtures/encryption/sealed-secret-not-ciphertext" "$ROOT/fixtures/encryption/sealed-secret-template-plaintext" "$SHARED/sealed-secrets" ;;
    config_toml) add "$ROOT/patterns" ;;
    decoders) add "$ROOT/fixtures/encryption/sops-malformed-value" "$ROOT/fixtures/k8s" ;;
    hook_stdin | baseline_json | helm_output) ;; # made below
  esac
  [ ${#d[@]} -eq 0 ] || printf '%s\n' "${d[@]}"
}

# Seeds that are single files (by name) or made here go into the target's
# own corpus directory (git-ignored).
prepare() {
  local t=$1 c=$FUZZ_DIR/corpus/$1
  mkdir -p "$c"
  case $t in
    sops_config) find "$ROOT/fixtures" "$SHARED" -name '.sops.y*ml' 2>/dev/null |
      while read -r f; do cp "$f" "$c/seed-$(cksum <"$f" | cut -d' ' -f1)"; done ;;
    kustomization) find "$ROOT/fixtures" "$SHARED" -name 'kustomization.y*ml' 2>/dev/null |
      while read -r f; do cp "$f" "$c/seed-$(cksum <"$f" | cut -d' ' -f1)"; done ;;
    config_toml) cp "$ROOT/.gitops-guard.toml" "$c/seed-self.toml" ;;
    helm_output)
      # A template, a NUL, and what helm prints for it.
      printf 'spec:\n  template:\n    spec:\n      containers:\n        - name: {{ .Chart.Name }}\n          securityContext:\n            {{- toYaml .Values.securityContext | nindent 12 }}\n\0---\n# Source: web/templates/d.yaml\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n' >"$c/seed-deployment" ;;
    hook_stdin)
      z=0000000000000000000000000000000000000000
      a=1111111111111111111111111111111111111111
      printf '%s %s refs/heads/main\n' "$z" "$a" >"$c/seed-create"
      printf '%s %s refs/heads/a\n%s %s refs/tags/v1\n' "$a" "$z" "$z" "$a" >"$c/seed-two"
      printf 'refs/heads/main %s refs/heads/main %s\n' "$a" "$z" >"$c/seed-pre-push" ;;
    baseline_json)
      # A real report as the seed: the demo fixtures scanned to JSON.
      (cd "$ROOT" && cargo run --quiet -- scan fixtures/demo --format json --quiet >"$c/seed-report.json" 2>/dev/null) || true ;;
  esac
}

echo "fuzz/run.sh: building ${#TARGETS[@]} target(s) with nightly" >&2
cargo +nightly fuzz build >&2

status=0
printf '%-15s %8s %12s %8s\n' target seconds execs crashes
for t in "${TARGETS[@]}"; do
  prepare "$t"
  mapfile -t extra < <(seeds "$t")
  log=$FUZZ_DIR/artifacts/$t.log
  mkdir -p "$FUZZ_DIR/artifacts/$t"
  touch "$log.start"
  start=$(date +%s)
  set +e
  cargo +nightly fuzz run "$t" "$FUZZ_DIR/corpus/$t" "${extra[@]}" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$FUZZ_DIR/artifacts/$t" -type f -newer "$log.start" | wc -l)
  [ "$rc" -eq 0 ] || { status=1; crashes=$((crashes > 0 ? crashes : 1)); }
  printf '%-15s %8s %12s %8s\n' "$t" "$took" "${execs:-?}" "$crashes"
  [ "$rc" -eq 0 ] || echo "  $t failed (exit $rc): see $log" >&2
done
exit $status
