#!/bin/sh
# Helm rendering overhead (issue 15 item 4): what gitops-guard itself spends on
# chart discovery, values sets, the split at `# Source:` lines, mapping findings
# back to template/values lines and merging them — helm's own time left out by a
# stand-in `helm` (the one tests/helm.rs uses) that prints a fixed stream.
# Builds N charts (default 50), each with a Flux HelmRelease whose inline values
# make it privileged, and prints CPU time (user+sys) of a scan with rendering
# and with --no-render. No real helm is run.
set -eu
N=${1:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$here/Cargo.toml" >/dev/null 2>&1
bin="$here/target/release/gitops-guard"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/repo/.git"
sed -n '/^const STAND_IN: &str = r#"/,/^"#;/p' "$here/tests/helm.rs" | sed '1s/.*/#!\/bin\/sh/;$d' > "$work/bin/helm"
chmod +x "$work/bin/helm"
tpl=$(sed -n '/^const DEPLOYMENT_TEMPLATE/,/^"#;/p' "$here/tests/helm.rs" | sed '1d;$d')
i=0
while [ "$i" -lt "$N" ]; do
  d="$work/repo/charts/c$i"
  mkdir -p "$d/templates" "$work/repo/clusters/prod"
  printf 'apiVersion: v2\nname: c%s\nversion: 0.1.0\n' "$i" > "$d/Chart.yaml"
  printf 'image: ghcr.io/acme/web:1.0\nsecurityContext:\n  privileged: false\n' > "$d/values.yaml"
  printf '%s\n' "$tpl" > "$d/templates/deployment.yaml"
  printf 'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: c%s\n  namespace: prod\nspec:\n  chart:\n    spec:\n      chart: ./charts/c%s\n      sourceRef: {kind: GitRepository, name: flux-system}\n  values:\n    securityContext:\n      privileged: true\n' "$i" "$i" > "$work/repo/clusters/prod/c$i.yaml"
  i=$((i + 1))
done
cd "$work/repo"
echo "| scan of $N charts + $N HelmReleases | CPU s (user+sys) | max RSS KiB | findings |"
echo "|---|---|---|---|"
for mode in render no-render; do
  extra=; [ "$mode" = no-render ] && extra=--no-render
  out=$( { /usr/bin/time -f '%U %S %M' env PATH="$work/bin:/usr/bin:/bin" "$bin" scan . --threads 1 --format json $extra > "$work/out.json"; } 2>&1 | tail -n 1)
  cpu=$(echo "$out" | awk '{printf "%.2f", $1 + $2}')
  rss=$(echo "$out" | awk '{print $3}')
  n=$(grep -o '"rule":' "$work/out.json" | wc -l)
  echo "| $mode | $cpu | $rss | $n |"
done
