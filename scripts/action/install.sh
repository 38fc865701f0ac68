#!/usr/bin/env bash
# The gitops-guard GitHub Action's install step: puts a gitops-guard binary on the runner.
#
#   install.sh          resolve INPUT_VERSION; writes the step output `binary` (a binary is
#                       ready) or `build=true` (nothing to download: the action's next
#                       steps restore the cargo cache and run `install.sh build`)
#   install.sh build    build this action's own source with cargo (--locked); writes `binary`
#
# INPUT_VERSION:
#   auto (default)  the release binary for the action's own ref (GITHUB_ACTION_REF: a tag
#                   `vX.Y.Z`, a moving `v1` / `v1.4` tag (the release of the action's own
#                   version), or the commit a release was built from); built from source
#                   only when no release matches (a branch, an unreleased commit, a platform
#                   without a prebuilt binary)
#   build           always build the action's source
#   X.Y.Z / vX.Y.Z  that release's binary (cargo install from crates.io if it has none)
#   path:/abs/path  a binary already on the runner
#
# A downloaded archive is used only when its SHA-256 matches the release's SHA256SUMS; a
# mismatch, or a release that lists the archive but does not serve it, is an error (exit 3),
# never a silent fallback. Only "this release does not exist / has no archive for this
# platform" falls back to building.
#
# Environment: ACTION_PATH (the action's checkout), GITHUB_ACTION_REF,
# GITHUB_ACTION_REPOSITORY, RUNNER_TEMP, GITHUB_OUTPUT; GITOPS_GUARD_RELEASE_BASE overrides
# where releases are downloaded from (`<base>/<tag>/<asset>`; tests point it at a file://
# directory); GITOPS_GUARD_TARGET overrides the platform's target triple.
set -euo pipefail

version=${INPUT_VERSION:-auto}
action_path=${ACTION_PATH:?ACTION_PATH is the action checkout (github.action_path)}
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
output=${GITHUB_OUTPUT:-/dev/null}
ref=${GITHUB_ACTION_REF:-}
repo=${GITHUB_ACTION_REPOSITORY:-gitops-guard/gitops-guard}
base=${GITOPS_GUARD_RELEASE_BASE:-https://github.com/$repo/releases/download}

die() { # die CODE MESSAGE
	echo "::error title=gitops-guard::$2"
	exit "$1"
}

cargo_cmd() {
	if command -v rustup >/dev/null; then
		# edition 2024: make sure the runner's toolchain is recent enough.
		rustup toolchain install stable --profile minimal --no-self-update >&2
		echo "cargo +stable"
	else
		echo "cargo"
	fi
}

done_with() { # done_with BINARY: print its version, write the output
	"$1" --version
	echo "binary=$1" >>"$output"
	exit 0
}

# The Rust target triple of this runner (the release archives' names use it).
target_triple() {
	if [[ -n ${GITOPS_GUARD_TARGET:-} ]]; then
		echo "$GITOPS_GUARD_TARGET"
		return
	fi
	local os arch
	os=$(uname -s)
	arch=$(uname -m)
	case "$arch" in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*) return 1 ;;
	esac
	case "$os" in
	Linux) echo "$arch-unknown-linux-musl" ;;
	Darwin) echo "$arch-apple-darwin" ;;
	MINGW* | MSYS* | CYGWIN* | Windows_NT) echo "$arch-pc-windows-msvc" ;;
	*) return 1 ;;
	esac
}

sha256_of() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# fetch URL FILE: 0 downloaded, 4 not there (HTTP 404, or no such file:// file), other
# values for any other failure (network, server error), which must not be mistaken for
# "no release".
fetch() {
	local code=0 status
	status=$(curl --silent --show-error --location --proto '=https,file' --retry 3 \
		--output "$2" --write-out '%{http_code}' "$1") || code=$?
	case "$code:$status" in
	0:2?? | 0:000) return 0 ;; # file:// reports 000
	0:404 | 37:*) return 4 ;;
	*)
		echo "gitops-guard: downloading $1 failed (curl exit $code, HTTP $status)" >&2
		return 1
		;;
	esac
}

# release TAG: download and verify TAG's archive for this platform, then finish with it.
# Returns 4 when there is nothing to download (no such release, no archive for us).
release() {
	local tag=$1 target dir sums archive want got rc=0
	target=$(target_triple) || {
		echo "gitops-guard: no prebuilt binary for $(uname -sm)" >&2
		return 4
	}
	dir=$tmp/gitops-guard-release
	rm -rf "$dir"
	mkdir -p "$dir"
	sums=$dir/SHA256SUMS
	fetch "$base/$tag/SHA256SUMS" "$sums" || rc=$?
	case $rc in
	0) ;;
	4)
		echo "gitops-guard: no release $tag at $base" >&2
		return 4
		;;
	*) die 3 "could not download the SHA256SUMS of release $tag from $base" ;;
	esac
	archive=gitops-guard-$tag-$target.tar.gz
	[[ $target == *windows* ]] && archive=gitops-guard-$tag-$target.zip
	# `<64 hex>  <name>` (sha256sum's format; `*name` in binary mode).
	want=$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$sums")
	if [[ -z $want ]]; then
		echo "gitops-guard: release $tag has no $archive" >&2
		return 4
	fi
	rc=0
	fetch "$base/$tag/$archive" "$dir/$archive" || rc=$?
	((rc == 0)) || die 3 "release $tag lists $archive in SHA256SUMS but it could not be downloaded"
	got=$(sha256_of "$dir/$archive")
	if [[ $got != "$want" ]]; then
		die 3 "$archive does not match SHA256SUMS of release $tag (expected $want, got $got); not using it"
	fi
	echo "gitops-guard: $archive matches SHA256SUMS ($got)"
	case "$archive" in
	*.zip) unzip -q -o "$dir/$archive" -d "$dir" ;;
	*) tar -xzf "$dir/$archive" -C "$dir" ;;
	esac
	local bin=$dir/${archive%.tar.gz}/gitops-guard
	[[ $target == *windows* ]] && bin=$dir/${archive%.zip}/gitops-guard.exe
	[[ -x $bin ]] || die 3 "$archive does not hold ${bin#"$dir"/}"
	done_with "$bin"
}

# The release tag the action's ref names: the ref itself when it is a full version tag
# `vX.Y.Z…`; for a moving major/minor tag (`v1`, `v1.4`), the release of the action's own
# Cargo.toml version when that version is under it; for a commit SHA, the tag
# `v<Cargo.toml version>` when that release was built from this very commit (its
# SOURCE_COMMIT asset, listed in SHA256SUMS, says so); nothing otherwise (a branch).
tag_for_ref() {
	local v
	v=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$action_path/Cargo.toml" | head -n1)
	if [[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
		echo "$ref"
		return 0
	fi
	[[ -n $v ]] || return 1
	if [[ $ref =~ ^v[0-9]+(\.[0-9]+)?$ ]]; then
		[[ $v == "${ref#v}."* ]] || return 1
		echo "v$v"
		return 0
	fi
	[[ $ref =~ ^[0-9a-f]{40}$ ]] || return 1
	local tag=v$v dir rc=0 want
	dir=$tmp/gitops-guard-release-commit
	rm -rf "$dir"
	mkdir -p "$dir"
	fetch "$base/$tag/SHA256SUMS" "$dir/SHA256SUMS" || rc=$?
	((rc == 0)) || return 1
	fetch "$base/$tag/SOURCE_COMMIT" "$dir/SOURCE_COMMIT" || return 1
	want=$(awk '$2 == "SOURCE_COMMIT" || $2 == "*SOURCE_COMMIT" { print $1; exit }' "$dir/SHA256SUMS")
	[[ -n $want && $(sha256_of "$dir/SOURCE_COMMIT") == "$want" ]] || return 1
	[[ $(tr -d '[:space:]' <"$dir/SOURCE_COMMIT") == "$ref" ]] || return 1
	echo "$tag"
}

build() {
	echo "::group::Building gitops-guard from $action_path"
	$(cargo_cmd) build --release --locked --features verify --manifest-path "$action_path/Cargo.toml" \
		--target-dir "$tmp/gitops-guard-target" >&2
	echo "::endgroup::"
	done_with "$tmp/gitops-guard-target/release/gitops-guard"
}

need_build() {
	echo "gitops-guard: $1; building from source"
	echo "build=true" >>"$output"
	exit 0
}

if [[ ${1:-} == build ]]; then
	build
fi

case "$version" in
path:*)
	bin=${version#path:}
	[[ -x $bin ]] || die 2 "$bin is not an executable"
	done_with "$bin"
	;;
build)
	need_build "version: build"
	;;
auto)
	if tag=$(tag_for_ref); then
		rc=0
		release "$tag" || rc=$?
		((rc == 4)) || exit "$rc"
		need_build "no prebuilt binary of release $tag for this runner"
	fi
	need_build "no release matches the action's ref '${ref:-(none)}'"
	;;
*)
	rc=0
	release "v${version#v}" || rc=$?
	((rc == 4)) || exit "$rc"
	echo "::group::Installing gitops-guard ${version#v} from crates.io"
	$(cargo_cmd) install gitops-guard --locked --features verify --version "${version#v}" --root "$tmp/gitops-guard" >&2
	echo "::endgroup::"
	done_with "$tmp/gitops-guard/bin/gitops-guard"
	;;
esac
