#!/usr/bin/env bash
# Writes DIR/SHA256SUMS (`sha256sum` format, sorted by name) over every other file in DIR,
# so `sha256sum -c SHA256SUMS` in DIR checks them all. The release workflow runs it once more
# over the merged artifacts of every platform.
set -euo pipefail
dir=${1:?usage: sha256sums.sh DIR}
cd "$dir"
export LC_ALL=C
files=()
for f in *; do
	[[ -f $f && $f != SHA256SUMS* ]] && files+=("$f")
done
((${#files[@]})) || {
	echo "sha256sums.sh: $dir holds no files" >&2
	exit 2
}
if command -v sha256sum >/dev/null; then
	sha256sum -- "${files[@]}" >SHA256SUMS.tmp
else
	shasum -a 256 -- "${files[@]}" >SHA256SUMS.tmp
fi
mv SHA256SUMS.tmp SHA256SUMS
