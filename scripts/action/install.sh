#!/usr/bin/env bash
# The gitops-guard GitHub Action's install step: puts a gitops-guard binary on the runner and
# writes its path to the step output `binary`.
#
#   INPUT_VERSION=build   (default) build this action's own source with cargo (--locked)
#   INPUT_VERSION=X.Y.Z   cargo install gitops-guard X.Y.Z from crates.io
#   INPUT_VERSION=path:/abs/path/to/gitops-guard   use a binary already on the runner
set -euo pipefail

version=${INPUT_VERSION:-build}
action_path=${ACTION_PATH:?ACTION_PATH is the action checkout (github.action_path)}
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
output=${GITHUB_OUTPUT:-/dev/null}

cargo_cmd() {
	if command -v rustup >/dev/null; then
		# edition 2024: make sure the runner's toolchain is recent enough.
		rustup toolchain install stable --profile minimal --no-self-update >&2
		echo "cargo +stable"
	else
		echo "cargo"
	fi
}

case "$version" in
path:*)
	bin=${version#path:}
	[[ -x $bin ]] || {
		echo "::error title=gitops-guard::$bin is not an executable"
		exit 2
	}
	;;
build)
	echo "::group::Building gitops-guard from $action_path"
	$(cargo_cmd) build --release --locked --manifest-path "$action_path/Cargo.toml" \
		--target-dir "$tmp/gitops-guard-target" >&2
	echo "::endgroup::"
	bin=$tmp/gitops-guard-target/release/gitops-guard
	;;
*)
	echo "::group::Installing gitops-guard $version from crates.io"
	$(cargo_cmd) install gitops-guard --locked --version "$version" --root "$tmp/gitops-guard" >&2
	echo "::endgroup::"
	bin=$tmp/gitops-guard/bin/gitops-guard
	;;
esac
"$bin" --version
echo "binary=$bin" >>"$output"
