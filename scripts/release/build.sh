#!/usr/bin/env bash
# Builds one platform's release artifacts into an output directory:
#
#   gitops-guard-<tag>-<target>.tar.gz   (.zip for Windows) the binary, README, CHANGELOG
#   gitops-guard-<tag>-<target>.cdx.json CycloneDX SBOM (when cargo-cyclonedx is installed;
#                                        required with --sbom)
#   SOURCE_COMMIT                        the commit the artifacts were built from (the GitHub
#                                        Action matches a SHA-pinned ref against it)
#   SHA256SUMS                           `sha256sum` format over every other file in the directory
#
# The release workflow (.github/workflows/release.yml) runs it once per target and merges the
# directories; locally it builds the host's artifacts:
#
#   scripts/release/build.sh                      # cargo build --profile dist, host target
#   scripts/release/build.sh --target x86_64-unknown-linux-musl --sbom
#   scripts/release/build.sh --binary target/debug/gitops-guard --out /tmp/dist   # no build
#
# Options: --target TRIPLE, --profile NAME (default dist), --target-dir DIR, --binary PATH (use
# a built binary, skip cargo), --tag vX.Y.Z (default v<Cargo.toml version>), --out DIR
# (default target/dist), --sbom (fail without cargo-cyclonedx).
# Archives are reproducible: sorted names, fixed owner and mtime (SOURCE_DATE_EPOCH or the
# commit's time), gzip without a timestamp.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target="" profile=dist target_dir="" binary="" tag="" out="" need_sbom=0
while (($#)); do
	case "$1" in
	--target) target=$2 && shift ;;
	--profile) profile=$2 && shift ;;
	--target-dir) target_dir=$2 && shift ;;
	--binary) binary=$2 && shift ;;
	--tag) tag=$2 && shift ;;
	--out) out=$2 && shift ;;
	--sbom) need_sbom=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build.sh: unknown argument $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
tag=${tag:-v$version}
[[ -n $target ]] || target=$(rustc -vV | sed -n 's/^host: //p')
out=${out:-$root/target/dist}
target_dir=${target_dir:-$root/target}
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}

exe=gitops-guard
[[ $target == *windows* ]] && exe=gitops-guard.exe
if [[ -z $binary ]]; then
	cargo build --locked --manifest-path "$root/Cargo.toml" --profile "$profile" --features verify \
		--target "$target" --target-dir "$target_dir" >&2
	# cargo's directory for a profile: `dev` builds into debug/.
	dir=$profile
	[[ $profile == dev ]] && dir=debug
	binary=$target_dir/$target/$dir/$exe
fi
[[ -x $binary ]] || {
	echo "build.sh: $binary is not an executable" >&2
	exit 2
}

name=gitops-guard-$tag-$target
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$binary" "$stage/$name/$exe"
cp "$root/README.md" "$root/CHANGELOG.md" "$stage/$name/"
for f in "$root"/LICENSE*; do [[ -e $f ]] && cp "$f" "$stage/$name/"; done
chmod 0755 "$stage/$name/$exe"
touch -d "@$SOURCE_DATE_EPOCH" "$stage/$name" "$stage/$name"/*

if [[ $target == *windows* ]]; then
	archive=$name.zip
	rm -f "$out/$archive"
	# Windows runners have 7-Zip; elsewhere Info-ZIP's zip.
	if command -v zip >/dev/null; then
		(cd "$stage" && find "$name" | LC_ALL=C sort | zip -q -X -@ "$out/$archive")
	else
		(cd "$stage" && 7z a -tzip -bd "$out/$archive" "$name" >/dev/null)
	fi
else
	archive=$name.tar.gz
	# GNU tar (the release runners' and this script's Linux); bsdtar on macOS lacks --sort.
	tar_cmd=tar
	command -v gtar >/dev/null && tar_cmd=gtar
	(cd "$stage" && "$tar_cmd" --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - "$name") | gzip -n >"$out/$archive"
fi
echo "$commit" >"$out/SOURCE_COMMIT"

if cargo cyclonedx --version >/dev/null 2>&1; then
	# Describes the crate and its dependencies for this target (not the dev-dependencies).
	cargo cyclonedx --manifest-path "$root/Cargo.toml" --format json --spec-version 1.5 --target "$target" \
		--override-filename "$name.cdx" >&2
	mv "$root/$name.cdx.json" "$out/$name.cdx.json"
elif ((need_sbom)); then
	echo "build.sh: --sbom needs cargo-cyclonedx (cargo install --locked cargo-cyclonedx)" >&2
	exit 2
else
	echo "build.sh: NOTE: cargo-cyclonedx is not installed; no SBOM" >&2
fi

"$root/scripts/release/sha256sums.sh" "$out"
echo "$out/$archive"
