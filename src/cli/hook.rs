//! Arguments of `gitops-guard hook …`. They live under `cli` (not beside
//! their handlers in `cmd::hook`) so that `cli` never imports `cmd`: the
//! command line is parsed first, then handed down to the handler.

use clap::{Args, Subcommand, ValueEnum};
use gitops_guard::finding::Severity;
use gitops_guard::hook::pre_receive;
use gitops_guard::report::Format;
use std::path::PathBuf;
use std::time::Duration;

use super::{parse_severity, parse_size};

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Server side: judge a push before any ref moves (install as the
    /// repository's `hooks/pre-receive`, or GitLab `custom_hooks/pre-receive`).
    /// Reads `<old> <new> <ref>` lines on stdin; scans only the commits the
    /// push adds (not reachable from any existing ref), their messages and
    /// the blobs they introduce. Exit 0 accepts the push; anything else rejects it.
    PreReceive(PreReceiveArgs),
    /// Client side: scan the staged changes (what the next commit adds).
    /// Exit 1 stops the commit.
    PreCommit(PreCommitArgs),
    /// Client side: scan the commits a push sends that the remote does not
    /// have yet (not reachable from its remote-tracking refs), their messages
    /// and the blobs they introduce. Exit 1 stops the push.
    PrePush(PrePushArgs),
    /// Write a hook script into a repository (refuses to overwrite a hook it did not write).
    Install(InstallArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnTimeoutArg {
    Reject,
    Allow,
}

#[derive(Debug, Args)]
pub struct PreReceiveArgs {
    /// The repository (default: $GIT_DIR, which git sets for hooks, else `.`).
    #[arg(long, value_name = "DIR")]
    pub git_dir: Option<PathBuf>,

    /// Give up when the scan has used this much CPU time since it got its slot
    /// (e.g. 4s, 500ms; 0: never) [default: git config gitops-guard.timeout, else 4s].
    #[arg(long, value_parser = pre_receive::parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// Most scans at once; more pushes wait in line (0: no limit)
    /// [default: gitops-guard.concurrency, else the number of CPUs].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Longest wait in line for a scan slot (0: no limit) [default: gitops-guard.queueTimeout, else 60s].
    #[arg(long, value_parser = pre_receive::parse_duration, value_name = "DURATION")]
    pub queue_timeout: Option<Duration>,

    /// Directory of the slot lock files; one shared directory makes the limit
    /// server-wide [default: gitops-guard.slotDir, else GIT_DIR/gitops-guard-slots].
    #[arg(long, value_name = "DIR")]
    pub slot_dir: Option<PathBuf>,

    /// What a scan that did not finish (deadline, --max-commits) means [default: gitops-guard.onTimeout, else reject].
    #[arg(long, value_enum)]
    pub on_timeout: Option<OnTimeoutArg>,

    /// Most new commits one push may add (0: no limit) [default: gitops-guard.maxCommits, else 2000].
    #[arg(long, value_name = "N")]
    pub max_commits: Option<usize>,

    /// Categories whose findings block the push (repeatable; `secrets`, `all`,
    /// or a category id) [default: gitops-guard.block, else secrets].
    #[arg(long, value_name = "CATEGORY")]
    pub block: Vec<String>,

    /// Lowest severity that blocks [default: gitops-guard.failOn, else medium].
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Honour `git push -o gitops-guard.skip=<reason>` (also git config
    /// gitops-guard.allowSkip; needs receive.advertisePushOptions). Every skip is logged.
    #[arg(long)]
    pub allow_skip: bool,

    /// Where skips are logged, one JSON line each [default: gitops-guard.auditLog, else GIT_DIR/gitops-guard-audit.log].
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// Scan config file [default: gitops-guard.config, else built-in defaults].
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Blobs larger than this are not read (bytes; K, M, G suffixes allowed) and reject
    /// the push unless `[limits] large-files` in the config allows their path.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub max_file_size: Option<u64>,

    /// Say nothing when the push is accepted.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Also say how the new commits were found and where the time went.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct PreCommitArgs {
    /// A path inside the repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Config file (default: .gitops-guard.toml at the repository root, if present).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Lowest severity that stops the commit [default: config's fail-on, else high, and medium for secret material].
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Skip paths matching GLOB (repeatable).
    #[arg(long, short = 'e', value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Staged files larger than this are not read (bytes; K, M, G suffixes allowed) and
    /// stop the commit unless `[limits] large-files` in the config allows their path.
    #[arg(long, value_parser = parse_size, default_value = "10M", value_name = "SIZE")]
    pub max_file_size: u64,
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name (git passes it).
    pub remote: Option<String>,

    /// The remote's URL (git passes it; unused).
    pub url: Option<String>,

    /// Config file (default: .gitops-guard.toml at the repository root, if present).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Lowest severity that stops the push [default: config's fail-on, else high, and medium for secret material].
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Most new commits to scan (0: no limit); more stops the push.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_commits: usize,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HookArg {
    PreCommit,
    PrePush,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A path inside the repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Which hook.
    #[arg(long, value_enum, default_value_t = HookArg::PreCommit)]
    pub hook: HookArg,
}
