#!/usr/bin/env bash
# The gitops-guard GitHub Action's scan step (action.yml runs it; tests/action.rs runs it
# with a recorded event payload against a real repository).
#
# What is scanned follows the event:
#   pull_request(_target)  what base.sha..head.sha introduces (--range)
#   push                   before..after; the whole history of `after` when `before` is all
#                          zeros (a new branch) or no longer exists (a force push); nothing
#                          when `after` is all zeros (a deleted branch)
#   anything else          the history of every ref (schedule, workflow_dispatch)
# INPUT_MODE=worktree|history overrides this.
#
# Environment (action inputs): GG (the binary), INPUT_PATH (.), INPUT_FAIL_ON (medium),
# INPUT_ARGS (extra scan flags), INPUT_SARIF_FILE, INPUT_MODE (auto).
# GitHub's: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP.
#
# Writes: annotations (workflow commands) on stdout, SARIF to INPUT_SARIF_FILE, a Markdown
# summary to GITHUB_STEP_SUMMARY, outputs findings / blocking / sarif-file / exit-code.
# Exits like gitops-guard: 0 clean, 1 findings at or above fail-on, 2 usage, 3 scan error.
set -uo pipefail

GG=${GG:-gitops-guard}
path=${INPUT_PATH:-.}
fail_on=${INPUT_FAIL_ON:-medium}
mode=${INPUT_MODE:-auto}
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
sarif=${INPUT_SARIF_FILE:-$tmp/gitops-guard.sarif}
json=$tmp/gitops-guard-report.json
output=${GITHUB_OUTPUT:-/dev/null}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
event=${GITHUB_EVENT_NAME:-}
payload=${GITHUB_EVENT_PATH:-}
zero=0000000000000000000000000000000000000000

fail() { # fail CODE MESSAGE: an error annotation, a summary line, the outputs, exit CODE
	echo "::error title=gitops-guard::$2"
	printf '### gitops-guard\n\n:x: %s\n' "$2" >>"$summary"
	{
		echo "findings=0"
		echo "blocking=0"
		echo "exit-code=$1"
	} >>"$output"
	exit "$1"
}

command -v jq >/dev/null || fail 2 "jq is needed to read the event payload (it is on GitHub's runners)"
command -v "$GG" >/dev/null || [[ -x $GG ]] || fail 2 "gitops-guard binary not found: $GG"

field() { # field JQ-PATH: a string from the event payload ('' when absent)
	[[ -n $payload && -f $payload ]] || return 0
	jq -r "$1 // empty" "$payload"
}

has_commit() { git -C "$path" cat-file -e "$1^{commit}" 2>/dev/null; }

# Make sure the commits to compare are here; a shallow checkout lacks them.
need_commits() {
	local missing=() c
	for c in "$@"; do has_commit "$c" || missing+=("$c"); done
	((${#missing[@]} == 0)) && return 0
	git -C "$path" fetch --quiet --no-tags origin "${missing[@]}" 2>/dev/null || true
	for c in "${missing[@]}"; do
		has_commit "$c" || return 1
	done
}

scan_args=()
what=""
case "$mode:$event" in
worktree:*)
	what="the working tree"
	;;
history:*)
	scan_args=(--history)
	what="the history of every ref"
	;;
auto:pull_request | auto:pull_request_target)
	base=$(field .pull_request.base.sha)
	head=$(field .pull_request.head.sha)
	[[ -n $base && -n $head ]] || fail 2 "the $event payload has no pull_request.base.sha / head.sha"
	need_commits "$base" "$head" ||
		fail 2 "commits $base / $head are not in the checkout; use actions/checkout with fetch-depth: 0"
	scan_args=(--range "$base..$head")
	what="what pull request #$(field .pull_request.number) adds (\`${base:0:12}..${head:0:12}\`)"
	;;
auto:push)
	before=$(field .before)
	after=$(field .after)
	[[ -n $after ]] || fail 2 "the push payload has no 'after' commit"
	if [[ $after == "$zero" ]]; then
		echo "gitops-guard: $(field .ref) was deleted; nothing to scan"
		printf '### gitops-guard\n\nBranch deleted: nothing to scan.\n' >>"$summary"
		printf 'findings=0\nblocking=0\nexit-code=0\n' >>"$output"
		exit 0
	fi
	need_commits "$after" || fail 2 "commit $after is not in the checkout; use actions/checkout with fetch-depth: 0"
	if [[ -z $before || $before == "$zero" ]] || ! need_commits "$before"; then
		scan_args=(--history --ref "$after")
		what="the whole history of \`${after:0:12}\` (new branch, or the old tip is gone)"
	else
		scan_args=(--range "$before..$after")
		what="what the push adds (\`${before:0:12}..${after:0:12}\`)"
	fi
	;;
auto:*)
	scan_args=(--history)
	what="the history of every ref"
	;;
*)
	fail 2 "mode must be auto, history or worktree (got '$mode')"
	;;
esac

mkdir -p "$(dirname "$sarif")"
rm -f "$json"
# INPUT_ARGS is split on whitespace on purpose: it holds extra flags.
# shellcheck disable=SC2086
"$GG" scan "$path" "${scan_args[@]}" --quiet --format github \
	--report "sarif:$sarif" --report "json:$json" --fail-on "$fail_on" ${INPUT_ARGS:-}
code=$?

if [[ ! -s $json ]]; then
	fail "$((code == 0 ? 3 : code))" "the scan produced no report (exit $code); see the log above"
fi

rank='{"info":0,"low":1,"medium":2,"high":3,"critical":4}'
findings=$(jq '[.findings[] | select(.suppressed == null)] | length' "$json")
blocking=$(jq --argjson r "$rank" --arg f "$fail_on" \
	'[.findings[] | select(.suppressed == null and $r[.severity] >= $r[$f])] | length' "$json")
errors=$(jq '.errors | length' "$json")

{
	echo "### gitops-guard"
	echo
	echo "Scanned $what: $(jq -r '"\(.stats.blobs_scanned) blob(s), \(.stats.commits_scanned // 0) commit(s)"' "$json")."
	echo
	if ((findings == 0)); then
		echo ":white_check_mark: No findings."
	else
		if ((blocking > 0)); then
			echo ":x: **$blocking finding(s) at or above \`$fail_on\`** fail this check ($findings in all)."
		else
			echo ":warning: $findings finding(s), none at or above \`$fail_on\`."
		fi
		echo
		live=$(jq '[.findings[] | select(.suppressed == null and .verification.status == "live")] | length' "$json")
		if ((live > 0)); then
			echo
			echo ":rotating_light: **$live finding(s) verified live**: the provider accepted them; rotate these first."
		fi
		echo
		# The "verified" column only when the scan verified (--verify in args).
		verified=$(jq '[.findings[] | select(.verification != null)] | length' "$json")
		if ((verified > 0)); then
			echo "| severity | rule | where | commit | verified | what |"
			echo "|---|---|---|---|---|---|"
		else
			echo "| severity | rule | where | commit | what |"
			echo "|---|---|---|---|---|"
		fi
		jq -r --argjson r "$rank" --argjson v "$verified" '
			def cell: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
			[.findings[] | select(.suppressed == null)]
			| sort_by(-$r[.severity])
			| .[:50][]
			| "| \(.severity) | `\(.rule)` | `\(.path):\(.line)` | \(if .commit then "`" + .commit[:12] + "`" else "" end) \(if $v > 0 then "| " + (if .verification then (.verification.status + (if .verification.detail then " (" + .verification.detail + ")" else "" end) | cell) else "" end) + " " else "" end)| \((.message + (if .match then ": `" + .match + "`" else "" end)) | cell) |"
		' "$json"
		if ((findings > 50)); then
			echo
			echo "… and $((findings - 50)) more: see the code scanning alerts or the SARIF file."
		fi
	fi
	if ((errors > 0)); then
		echo
		echo ":x: The scan is incomplete ($errors error(s)):"
		jq -r '.errors[:10][] | "- `\(.path)`: \(.message)"' "$json"
	fi
	echo
} >>"$summary"

{
	echo "findings=$findings"
	echo "blocking=$blocking"
	echo "sarif-file=$sarif"
	# upload-sarif resolves the SARIF's repository-relative paths against this.
	echo "checkout-path=$(cd "$path" && pwd)"
	echo "exit-code=$code"
} >>"$output"

exit "$code"
