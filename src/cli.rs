//! Command-line interface (clap derive). Each `///` doc is the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use gitops_guard::finding::{Category, Severity};
use gitops_guard::report::Format;
use std::path::PathBuf;

pub mod hook;
pub mod sources;

/// Guard GitOps repositories: secrets, plaintext Kubernetes Secrets,
/// unencrypted SOPS/SealedSecrets/age files and unsafe pod specs, in the
/// working tree, the whole Git history, or the commits being pushed.
///
/// Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config
/// error, 3 scan error (the scan is incomplete).
#[derive(Debug, Parser)]
#[command(name = "gitops-guard", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Shown under every `--help`: a CI author wires exit codes before anything else.
pub const EXIT_CODES: &str = "Exit codes:\n  0  clean (no finding at or above --fail-on)\n  1  findings at or above --fail-on\n  2  usage or config error (bad flag, missing path, unreadable config)\n  3  scan error: the scan is incomplete, so it never passes";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a directory or file (the working tree) for findings.
    Scan(ScanArgs),
    /// Write a baseline: a JSON report whose findings later scans suppress (--baseline).
    Baseline(BaselineArgs),
    /// List or explain the rules and checks.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// List the Git repositories a fleet repository deploys from (Flux
    /// GitRepository, Argo CD Application/ApplicationSet), flag plain HTTP and
    /// credentials in URLs; --scan-sources scans each one's history.
    Sources(sources::SourcesArgs),
    /// Run as a Git hook: pre-receive (server), pre-commit (client), or install one.
    Hook {
        #[command(subcommand)]
        command: hook::HookCommand,
    },
    /// Print a shell completion script, e.g.
    /// `gitops-guard completions bash > ~/.local/share/bash-completion/completions/gitops-guard`.
    Completions {
        /// Shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `gitops-guard man > gitops-guard.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule and check with its category and severity.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        /// Only rules of this category.
        #[arg(long, value_parser = parse_category)]
        category: Option<Category>,
    },
    /// Explain one rule or check: what it finds, why it matters, how to fix it.
    Explain {
        /// Rule or check id, e.g. github-pat-classic.
        id: String,
        /// Config whose `[[rule]]`s are explained too [default: $GITOPS_GUARD_CONFIG,
        /// else the nearest .gitops-guard.toml from here up to the repository root].
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Groups of categories for `--only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Only {
    /// Leaked or unprotected secret material: secret, plaintext-secret-manifest,
    /// secret-env-var, kustomize-secret-literal, unencrypted-sops/sealed-secret/age.
    Secrets,
    /// Pod-security and supply-chain checks.
    Policy,
    /// hardcoded-ip and plain-http.
    Network,
}

impl Only {
    pub fn categories(self) -> Vec<Category> {
        Category::ALL
            .into_iter()
            .filter(|c| match self {
                Only::Secrets => c.is_secret_material(),
                Only::Policy => *c == Category::Policy,
                Only::Network => matches!(c, Category::HardcodedIp | Category::PlainHttp),
            })
            .collect()
    }
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct ScanArgs {
    /// Directory or file to scan; `-` reads standard input as one file. A
    /// bare repository or `.git` directory is scanned through its history.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// More files or directories, scanned as one (pre-commit's files mode:
    /// `gitops-guard scan FILE…`). Repository-wide absence checks
    /// (network-policy-coverage, no-service-account-token) are left out,
    /// since the files may be a part of the repository.
    #[arg(value_name = "PATH")]
    pub more: Vec<PathBuf>,

    /// With `-`: the path standard input is reported (and judged) under,
    /// e.g. `--stdin-name apps/web/secret.yaml` [default: <stdin>].
    #[arg(long, value_name = "PATH")]
    pub stdin_name: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the report in FORMAT to FILE (repeatable), e.g.
    /// `--report sarif:results.sarif --report json:report.json`: one scan, several outputs.
    #[arg(long, value_parser = parse_report_target, value_name = "FORMAT:FILE")]
    pub report: Vec<(Format, PathBuf)>,

    /// Config file [default: $GITOPS_GUARD_CONFIG, else the nearest
    /// .gitops-guard.toml from PATH up to the repository root].
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Show only findings at or above SEVERITY (display only: the exit code
    /// still follows --fail-on over every finding).
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,

    /// Lowest severity that makes the run fail (exit 1) [default: config's fail-on, else high, and medium for secret material].
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Skip paths matching GLOB (repeatable; a pattern without `/` matches at any depth).
    #[arg(long, short = 'e', value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Files larger than this are not read (bytes; K, M, G suffixes allowed): skipped and
    /// listed; with --range or --since-commit a scan error unless `[limits] large-files`
    /// in the config allows the path.
    #[arg(long, value_parser = parse_size, default_value = "10M", value_name = "SIZE")]
    pub max_file_size: u64,

    /// Only report these categories (repeatable), e.g. --category secret.
    #[arg(long, value_parser = parse_category, value_name = "CATEGORY")]
    pub category: Vec<Category>,

    /// Only report a group of categories (repeatable).
    #[arg(long, value_enum)]
    pub only: Vec<Only>,

    /// Suppress the findings listed in a previous JSON report.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Also show suppressed findings (marked as such).
    #[arg(long)]
    pub show_suppressed: bool,

    /// Print secrets in full. For local triage only: never in CI logs.
    #[arg(long)]
    pub show_secrets: bool,

    /// Layers of encoding (base64, base64url, hex, percent, `\u` escapes)
    /// undone to look for encoded secrets; 0 turns decoding off
    /// [default: config's `[secrets] decode-depth`, else 2; at most 4].
    #[arg(long, value_name = "N")]
    pub decode_depth: Option<u8>,

    /// Worker threads, at most 1024 (default 0: one per core).
    #[arg(long, default_value_t = 0, value_parser = parse_threads, value_name = "N")]
    pub threads: usize,

    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// No progress and no summary: only the report (and errors) are printed.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Scan the Git history (every ref) instead of the working tree: each
    /// unique blob once, reported with the commit that introduced it.
    #[arg(long, help_heading = "History")]
    pub history: bool,

    /// Only what the commits in A..B introduce (commits reachable from B, not from A).
    #[arg(long, value_name = "A..B", help_heading = "History")]
    pub range: Option<String>,

    /// Only what the commits after SHA introduce (SHA..HEAD, or SHA.. each --ref).
    #[arg(
        long,
        value_name = "SHA",
        conflicts_with = "range",
        help_heading = "History"
    )]
    pub since_commit: Option<String>,

    /// Walk local branches only (not tags, remote-tracking refs or the stash).
    #[arg(long, conflicts_with = "git_ref", help_heading = "History")]
    pub branches_only: bool,

    /// Walk only this ref or revision (repeatable).
    #[arg(long = "ref", value_name = "REF", help_heading = "History")]
    pub git_ref: Vec<String>,

    /// With a full --history scan: also run the policy, hardcoded-ip and
    /// plain-http checks on every past version of every manifest. Off by
    /// default: a leaked secret stays in history, a superseded Deployment's
    /// securityContext does not matter (ranges and pushes check everything).
    #[arg(long, help_heading = "History")]
    pub all_categories: bool,

    /// Skip and count objects missing from the repository instead of failing (exit 3).
    #[arg(long, help_heading = "History")]
    pub allow_missing: bool,

    /// Remember which blobs, commit messages and identities were found clean
    /// under this rule set, config and options, and read only the others on
    /// the next history scan (scheduled rescans). `--cache=DIR`; a bare
    /// `--cache`: `gitops-guard-cache` in the git directory. Holds no secret: keyed
    /// hashes of clean objects only.
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        require_equals = true,
        help_heading = "History"
    )]
    pub cache: Option<Option<PathBuf>>,

    /// Print where the time went (each phase of a history scan) on stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Judge Kustomize overlays and Helm charts file by file instead of
    /// rendering them (`kustomize build` / `kubectl kustomize`, `helm
    /// template`) first [config: `[render] enabled`].
    #[arg(long)]
    pub no_render: bool,

    /// Extra `kustomize build` options for every rendered root, as Argo
    /// CD's `kustomize.buildOptions` writes them, given with `=`:
    /// `--kustomize-build-options="--load-restrictor LoadRestrictionsNone"`.
    /// Only `--load-restrictor` is passed (the Argo CD plugin uses it).
    #[arg(long, value_name = "OPTIONS", allow_hyphen_values = true)]
    pub kustomize_build_options: Option<String>,
    /// Check each distinct secret found with its provider (HTTPS, to the
    /// host in the rule's verifier only) and mark findings live, invalid or
    /// unknown; live ones become critical. Sends the secrets found to their
    /// providers: see README "Verification" [default: config's `verify`].
    #[arg(long, help_heading = "Verification")]
    pub verify: bool,

    /// List the requests --verify would send (secrets redacted) on stderr
    /// and send none.
    #[arg(long, help_heading = "Verification")]
    pub verify_dry_run: bool,

    /// Never verify, even if the config says `verify = true`.
    #[arg(long, conflicts_with_all = ["verify", "verify_dry_run"], help_heading = "Verification")]
    pub no_verify: bool,

    /// Report only findings verified live (implies --verify).
    #[arg(long, help_heading = "Verification")]
    pub only_live: bool,

    /// Fail (exit 1) only on findings verified live, whatever their
    /// severity (implies --verify).
    #[arg(long, help_heading = "Verification")]
    pub fail_on_live: bool,
}

impl ScanArgs {
    /// The history options, when any history flag asks for a history scan.
    pub fn history_options(&self) -> Option<gitops_guard::source::history::HistoryOptions> {
        use gitops_guard::source::history::{HistoryOptions, RefSelection};
        let wanted = self.history
            || self.range.is_some()
            || self.since_commit.is_some()
            || self.branches_only
            || !self.git_ref.is_empty()
            || self.allow_missing;
        wanted.then(|| HistoryOptions {
            refs: if self.branches_only {
                RefSelection::BranchesOnly
            } else if !self.git_ref.is_empty() {
                RefSelection::Named(self.git_ref.clone())
            } else {
                RefSelection::All
            },
            range: self.range.clone(),
            since_commit: self.since_commit.clone(),
            allow_missing: self.allow_missing,
            progress: None,
            cache: self.cache.clone().map(Option::unwrap_or_default),
            no_cache_records: self.verify,
        })
    }
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Directory or file to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Where to write the baseline.
    #[arg(
        long,
        short = 'o',
        default_value = ".gitops-guard-baseline.json",
        value_name = "FILE"
    )]
    pub output: PathBuf,

    /// Config file [default: $GITOPS_GUARD_CONFIG, else the nearest
    /// .gitops-guard.toml from PATH up to the repository root].
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Skip paths matching GLOB (repeatable).
    #[arg(long, short = 'e', value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Skip files larger than this (bytes; K, M, G suffixes allowed).
    #[arg(long, value_parser = parse_size, default_value = "10M", value_name = "SIZE")]
    pub max_file_size: u64,
}

pub fn parse_report_target(s: &str) -> Result<(Format, PathBuf), String> {
    use clap::ValueEnum;
    let (format, file) = s
        .split_once(':')
        .filter(|(_, f)| !f.is_empty())
        .ok_or_else(|| format!("`{s}`: expected FORMAT:FILE, e.g. sarif:results.sarif"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<_> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("`{format}` is not a format ({})", names.join(", "))
    })?;
    Ok((format, PathBuf::from(file)))
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not a severity (info, low, medium, high, critical)"))
}

pub fn parse_category(s: &str) -> Result<Category, String> {
    Category::parse(s).ok_or_else(|| {
        let all: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!("`{s}` is not a category ({})", all.join(", "))
    })
}

/// `--threads`: a count up to [`MAX_THREADS`]. More would not run faster
/// on any machine and, unbounded, made the walker try to start 100,000
/// threads (the run hung); it is a usage error instead.
pub fn parse_threads(s: &str) -> Result<usize, String> {
    use gitops_guard::scan::MAX_THREADS;
    let n: usize = s.trim().parse().map_err(|_| {
        format!("`{s}` is not a thread count (0 for one per core, up to {MAX_THREADS})")
    })?;
    if n > MAX_THREADS {
        return Err(format!(
            "{n} threads is more than the {MAX_THREADS} allowed (0 means one per core)"
        ));
    }
    Ok(n)
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let (num, mult) = match lower.trim_end_matches("ib").trim_end_matches('b') {
        x if x.ends_with('k') => (&x[..x.len() - 1], 1u64 << 10),
        x if x.ends_with('m') => (&x[..x.len() - 1], 1 << 20),
        x if x.ends_with('g') => (&x[..x.len() - 1], 1 << 30),
        x => (x, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 10M, 512K, 1048576)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(parse_size("ten").is_err());
    }

    #[test]
    fn threads_are_capped() {
        assert_eq!(parse_threads("0").unwrap(), 0);
        assert_eq!(parse_threads("1024").unwrap(), 1024);
        assert!(parse_threads("1025").unwrap_err().contains("1024"));
        assert!(parse_threads("-1").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
