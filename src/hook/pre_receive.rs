//! `gitops-guard hook pre-receive`: judge a push on the server before any
//! ref moves.
//!
//! Settings come from flags, else from the repository's git config
//! (`git config gitops-guard.<key>`), else defaults:
//!
//! | flag | git config | default |
//! |---|---|---|
//! | `--timeout` | `gitops-guard.timeout` | 4s of the scan's own CPU time, counted from when it gets its slot |
//! | `--concurrency` | `gitops-guard.concurrency` | the number of CPUs: scans at once (0: no limit) |
//! | `--queue-timeout` | `gitops-guard.queueTimeout` | 60s: longest wait for a slot (0: no limit) |
//! | `--slot-dir` | `gitops-guard.slotDir` | `<git dir>/gitops-guard-slots` (one shared directory: a server-wide limit) |
//! | `--on-timeout` | `gitops-guard.onTimeout` | `reject`: a guard fails closed |
//! | `--max-commits` | `gitops-guard.maxCommits` | 2000 (more: treated like a timeout) |
//! | `--block` | `gitops-guard.block` | `secrets`: the secret-material categories |
//! | `--fail-on` | `gitops-guard.failOn` | `medium` |
//! | `--allow-skip` | `gitops-guard.allowSkip` | off: `-o gitops-guard.skip=…` is refused |
//! | `--audit-log` | `gitops-guard.auditLog` | `<git dir>/gitops-guard-audit.log` |
//! | `--config` | `gitops-guard.config` | none (built-in rules) |
//!
//! The deadline and the queue (issue 11, item 15). Many pushes arriving at
//! once used to share the CPU from their first instant, so every hook's wall
//! clock ran while it waited for the others and clean pushes were rejected on
//! the deadline. Now at most `concurrency` scans run at once (see
//! [`super::slots`]), each with `CPUs / concurrency` worker threads; the
//! others wait in line up to `queueTimeout`. The deadline counts the scan's own
//! CPU time from the moment it holds a slot, so neither the queue nor other
//! load on the server uses it up; a wall-clock cap of [`WALL_FACTOR`] × the
//! timeout still stops a scan that stalls (slow disk, stuck I/O) instead of
//! holding its slot forever. A push that waited out the queue, or whose scan
//! ran out of time, is treated as `onTimeout` says: rejected by default.
//! On a platform that limits all hooks' wall time (GitHub Enterprise: 5 s),
//! keep `queueTimeout` + `timeout` below that limit.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::error::Error;
use crate::finding::{Category, Finding, Severity};
use crate::report::{Report, shown_match};
use crate::scan::ScanOptions;
use crate::source::pushed::{self, Quarantine, RefUpdate};
use crate::{Mode, ScanRequest};

/// The push option that asks to skip the scan: `git push -o gitops-guard.skip=<reason>`.
pub const SKIP_OPTION: &str = "gitops-guard.skip";

/// What to do when the scan cannot finish (deadline, too many commits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTimeout {
    Reject,
    Allow,
}

impl OnTimeout {
    pub fn parse(s: &str) -> Option<OnTimeout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reject" => Some(OnTimeout::Reject),
            "allow" => Some(OnTimeout::Allow),
            _ => None,
        }
    }
}

/// Which findings block a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub block: Vec<Category>,
    pub fail_on: Severity,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            block: Category::ALL
                .into_iter()
                .filter(|c| c.is_secret_material())
                .collect(),
            fail_on: Severity::Medium,
        }
    }
}

impl Policy {
    pub fn blocks(&self, f: &Finding) -> bool {
        f.suppressed.is_none() && f.severity >= self.fail_on && self.block.contains(&f.category)
    }

    /// Parse `--block` values: category ids, `secrets` (the secret-material
    /// group), `all`; comma-separated lists are accepted too.
    pub fn parse_block(values: &[String]) -> Result<Vec<Category>, Error> {
        let mut out: Vec<Category> = Vec::new();
        for v in values.iter().flat_map(|v| v.split(',')) {
            let v = v.trim();
            match v {
                "" => {}
                "all" => out.extend(Category::ALL),
                "secrets" => {
                    out.extend(Category::ALL.into_iter().filter(|c| c.is_secret_material()))
                }
                _ => out.push(Category::parse(v).ok_or_else(|| {
                    Error::Usage(format!(
                        "--block `{v}`: not a category (secrets, all, or one of: {})",
                        Category::ALL.map(|c| c.as_str()).join(", ")
                    ))
                })?),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn describe(&self) -> String {
        let secrets: Vec<Category> = Policy::default().block;
        let what = if self.block == secrets {
            "secret material".to_string()
        } else if self.block.len() == Category::ALL.len() {
            "every category".to_string()
        } else {
            self.block
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("{what}, severity {} or higher", self.fail_on)
    }
}

/// Settings given on the command line; `None` or empty means "ask git config".
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub timeout: Option<Duration>,
    pub on_timeout: Option<OnTimeout>,
    pub max_commits: Option<usize>,
    pub block: Vec<String>,
    pub fail_on: Option<Severity>,
    pub allow_skip: bool,
    pub audit_log: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub max_file_size: Option<u64>,
    pub concurrency: Option<usize>,
    pub queue_timeout: Option<Duration>,
    pub slot_dir: Option<PathBuf>,
}

/// Resolved settings of one hook run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub git_dir: PathBuf,
    /// CPU time the scan may use once it holds a slot. `Duration::ZERO`: no deadline.
    pub timeout: Duration,
    /// Scans at once (0: no limit, no queue).
    pub concurrency: usize,
    /// Longest wait for a slot. `Duration::ZERO`: no limit.
    pub queue_timeout: Duration,
    /// Where the slot lock files live.
    pub slot_dir: PathBuf,
    pub on_timeout: OnTimeout,
    /// 0: no limit.
    pub max_commits: usize,
    pub policy: Policy,
    pub allow_skip: bool,
    pub audit_log: PathBuf,
    pub config: Option<PathBuf>,
    pub max_file_size: u64,
    /// Prefix every message line with `GL-HOOK-ERR: ` (GitLab shows those in its UI).
    pub gitlab: bool,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(60);
/// A scan may take at most this many times its CPU budget in wall time.
pub const WALL_FACTOR: u32 = 10;

/// The default number of scans at once: one per CPU.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
pub const DEFAULT_MAX_COMMITS: usize = 2000;

/// Parse `4s`, `500ms`, `1m`, or plain seconds (`4`, `2.5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t.as_str(), 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(Duration::from_secs_f64(v * scale)),
        _ => Err(format!(
            "`{s}` is not a duration (e.g. 4s, 500ms, 0 for none)"
        )),
    }
}

impl Settings {
    /// Flags first, then the repository's `gitops-guard.*` git config.
    pub fn resolve(git_dir: &Path, flags: &Flags) -> Result<Settings, Error> {
        let repo = crate::source::open_repo(git_dir).map_err(|e| {
            Error::Scan(format!(
                "{} is not a git repository: {e}",
                git_dir.display()
            ))
        })?;
        let cfg = repo.config_snapshot();
        let string = |key: &str| cfg.string(key).map(|v| v.to_string());
        let bad = |key: &str, v: &str, what: &str| {
            Error::Config(format!("git config {key} = `{v}`: {what}"))
        };
        let timeout = match (flags.timeout, string("gitops-guard.timeout")) {
            (Some(t), _) => t,
            (None, Some(v)) => {
                parse_duration(&v).map_err(|e| bad("gitops-guard.timeout", &v, &e))?
            }
            (None, None) => DEFAULT_TIMEOUT,
        };
        let on_timeout = match (flags.on_timeout, string("gitops-guard.onTimeout")) {
            (Some(o), _) => o,
            (None, Some(v)) => OnTimeout::parse(&v)
                .ok_or_else(|| bad("gitops-guard.onTimeout", &v, "expected reject or allow"))?,
            (None, None) => OnTimeout::Reject,
        };
        let max_commits = match (flags.max_commits, string("gitops-guard.maxCommits")) {
            (Some(n), _) => n,
            (None, Some(v)) => v
                .trim()
                .parse()
                .map_err(|_| bad("gitops-guard.maxCommits", &v, "expected a number"))?,
            (None, None) => DEFAULT_MAX_COMMITS,
        };
        let concurrency = match (flags.concurrency, string("gitops-guard.concurrency")) {
            (Some(n), _) => n,
            (None, Some(v)) => v
                .trim()
                .parse()
                .map_err(|_| bad("gitops-guard.concurrency", &v, "expected a number"))?,
            (None, None) => default_concurrency(),
        };
        let queue_timeout = match (flags.queue_timeout, string("gitops-guard.queueTimeout")) {
            (Some(t), _) => t,
            (None, Some(v)) => {
                parse_duration(&v).map_err(|e| bad("gitops-guard.queueTimeout", &v, &e))?
            }
            (None, None) => DEFAULT_QUEUE_TIMEOUT,
        };
        let slot_dir = flags
            .slot_dir
            .clone()
            .or_else(|| string("gitops-guard.slotDir").map(PathBuf::from))
            .unwrap_or_else(|| repo.git_dir().join("gitops-guard-slots"));
        let block_values: Vec<String> = if flags.block.is_empty() {
            cfg.plumbing()
                .strings("gitops-guard.block")
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.to_string())
                .collect()
        } else {
            flags.block.clone()
        };
        let block = if block_values.is_empty() {
            Policy::default().block
        } else {
            Policy::parse_block(&block_values)?
        };
        let fail_on = match (flags.fail_on, string("gitops-guard.failOn")) {
            (Some(s), _) => s,
            (None, Some(v)) => Severity::parse(v.trim())
                .ok_or_else(|| bad("gitops-guard.failOn", &v, "expected a severity"))?,
            (None, None) => Severity::Medium,
        };
        let allow_skip = flags.allow_skip || cfg.boolean("gitops-guard.allowSkip").unwrap_or(false);
        let audit_log = flags
            .audit_log
            .clone()
            .or_else(|| string("gitops-guard.auditLog").map(PathBuf::from))
            .unwrap_or_else(|| repo.git_dir().join("gitops-guard-audit.log"));
        let config = flags
            .config
            .clone()
            .or_else(|| string("gitops-guard.config").map(PathBuf::from));
        Ok(Settings {
            git_dir: git_dir.to_path_buf(),
            timeout,
            concurrency,
            queue_timeout,
            slot_dir,
            on_timeout,
            max_commits,
            policy: Policy { block, fail_on },
            allow_skip,
            audit_log,
            config,
            max_file_size: flags.max_file_size.unwrap_or(10 << 20),
            gitlab: std::env::var_os("GL_ID").is_some(),
        })
    }
}

/// Push options the client sent (`git push -o …`), from `GIT_PUSH_OPTION_*`.
pub fn push_options_from_env() -> Vec<String> {
    let n: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (0..n.min(1000))
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}

/// The break-glass request among the push options: `Some(reason)` (maybe
/// empty) when `gitops-guard.skip` or `gitops-guard.skip=<reason>` was sent.
pub fn skip_request(options: &[String]) -> Option<String> {
    options.iter().find_map(|o| {
        if o == SKIP_OPTION {
            Some(String::new())
        } else {
            o.strip_prefix(SKIP_OPTION)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().to_string())
        }
    })
}

/// The break-glass reason as it may be shown and logged: the pusher typed
/// it, nobody scanned it, and it lands in the audit log and on screen. The
/// secret rules run over it and what they find is redacted, as is any word
/// shaped like a token (a pasted credential no rule knows); the rest stays
/// readable. If the rules cannot be built, the whole reason is redacted.
pub fn loggable_reason(reason: &str) -> String {
    let text = match crate::rules::RuleSet::builtin() {
        Ok(rules) => crate::sanitize::scrub_free_text(reason, &rules),
        Err(_) => crate::finding::redact(reason),
    };
    crate::sanitize::escape_control(&text).into_owned()
}

/// Who is pushing, as the hosting platform tells the hook.
pub fn pusher() -> String {
    for k in [
        "GL_USERNAME",
        "GITHUB_USER_LOGIN",
        "GITEA_PUSHER_NAME",
        "REMOTE_USER",
        "USER",
    ] {
        if let Ok(v) = std::env::var(k)
            && !v.is_empty()
        {
            return v;
        }
    }
    "unknown".to_string()
}

/// One JSON line for the audit log.
pub fn audit_line(event: &str, reason: &str, updates: &[RefUpdate], now_secs: i64) -> String {
    let refs: Vec<serde_json::Value> = updates
        .iter()
        .map(|u| serde_json::json!({"ref": u.name, "old": u.old.to_string(), "new": u.new.to_string()}))
        .collect();
    serde_json::json!({
        "time": crate::time::rfc3339(now_secs),
        "event": event,
        "reason": reason,
        "user": pusher(),
        "refs": refs,
    })
    .to_string()
}

/// Append `line` to the audit log (created if absent).
pub fn append_audit(path: &Path, line: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{line}")
}

/// How a hook run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Only deletions, or nothing new: accepted without scanning.
    NothingNew { deleted: usize },
    /// Scanned.
    Scanned {
        report: Box<Report>,
        commits: usize,
        blobs: usize,
        /// How the new commits were found.
        method: pushed::FindMethod,
        /// Time spent finding the new commits and blobs.
        plan_ms: u64,
        /// The planning steps and their milliseconds.
        timings: Vec<(&'static str, u64)>,
    },
    /// More commits than `max_commits`.
    OverLimit { limit: usize },
}

/// Plan and scan the push. Runs under the caller's deadline.
pub fn run(settings: &Settings, updates: &[RefUpdate]) -> Result<Outcome, Error> {
    let started = std::time::Instant::now();
    let quarantine = Quarantine::from_env();
    let plan = pushed::plan(
        &settings.git_dir,
        &quarantine,
        updates,
        settings.max_commits,
    )?;
    if plan.over_limit {
        return Ok(Outcome::OverLimit {
            limit: settings.max_commits,
        });
    }
    if plan.commits.is_empty()
        && plan.tags.is_empty()
        && plan.blobs.is_empty()
        && plan.problems.is_empty()
    {
        return Ok(Outcome::NothingNew {
            deleted: plan.deleted.len(),
        });
    }
    let (commits, blobs, method) = (plan.commits.len(), plan.blobs.len(), plan.method);
    let plan_ms = started.elapsed().as_millis() as u64;
    let timings = plan.timings.clone();
    let config = match &settings.config {
        Some(p) => Config::discover(Some(p), &settings.git_dir)?,
        None => Config::default(),
    };
    let report = crate::scan(ScanRequest {
        target: settings.git_dir.clone(),
        mode: Mode::Pushed(Arc::new(plan)),
        config,
        options: ScanOptions {
            max_file_size: settings.max_file_size,
            ..ScanOptions::default()
        },
        baseline: None,
        fail_on: Some(settings.policy.fail_on),
    })?;
    Ok(Outcome::Scanned {
        report: Box::new(report),
        commits,
        blobs,
        method,
        plan_ms,
        timings,
    })
}

/// Scanned text (paths, messages, lines, authors) as the pusher's terminal
/// may show it: control characters escaped (git relays them raw).
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    crate::sanitize::escape_control(s)
}

/// Lines written for the client, with GitLab's prefix when needed.
pub struct Messages<'w> {
    w: &'w mut dyn Write,
    prefix: &'static str,
}

impl<'w> Messages<'w> {
    pub fn new(w: &'w mut dyn Write, gitlab: bool) -> Messages<'w> {
        Messages {
            w,
            prefix: if gitlab { "GL-HOOK-ERR: " } else { "" },
        }
    }

    pub fn line(&mut self, text: &str) -> io::Result<()> {
        for l in text.split('\n') {
            writeln!(self.w, "{}{l}", self.prefix)?;
        }
        Ok(())
    }
}

/// Write the verdict on `outcome` for the pusher; returns whether to accept.
pub fn render(settings: &Settings, outcome: &Outcome, w: &mut dyn Write) -> io::Result<bool> {
    let mut m = Messages::new(w, settings.gitlab);
    match outcome {
        Outcome::NothingNew { .. } => Ok(true),
        Outcome::OverLimit { limit } => {
            let allow = settings.on_timeout == OnTimeout::Allow;
            m.line(&format!(
                "gitops-guard: this push adds more than {limit} new commits; they were not scanned.",
            ))?;
            if allow {
                m.line("gitops-guard: accepted unscanned (on-timeout = allow). Scan it with `gitops-guard scan --history`.")?;
            } else {
                m.line("gitops-guard: push rejected (a guard fails closed). Push in smaller parts, or ask an administrator to raise gitops-guard.maxCommits.")?;
            }
            Ok(allow)
        }
        Outcome::Scanned { report, .. } => render_report(settings, report, &mut m),
    }
}

fn render_report(settings: &Settings, report: &Report, m: &mut Messages<'_>) -> io::Result<bool> {
    let blocking: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| settings.policy.blocks(f))
        .collect();
    let advisory: Vec<&Finding> = report
        .active()
        .filter(|f| !settings.policy.blocks(f))
        .collect();
    if !report.errors.is_empty() {
        m.line("gitops-guard: push rejected: the scan could not read everything it must check (a guard fails closed):")?;
        for e in report.errors.iter().take(10) {
            m.line(&format!("  {}: {}", esc(&e.path), esc(&e.message)))?;
        }
        if report.errors.len() > 10 {
            m.line(&format!("  … and {} more", report.errors.len() - 10))?;
        }
    }
    if !blocking.is_empty() {
        m.line(&format!(
            "gitops-guard: push rejected: {} finding(s) block it (policy: {}).",
            blocking.len(),
            settings.policy.describe()
        ))?;
        m.line("")?;
        for f in blocking.iter().take(50) {
            finding(report, f, m)?;
        }
        if blocking.len() > 50 {
            m.line(&format!("  … and {} more\n", blocking.len() - 50))?;
        }
        m.line("How to fix:")?;
        m.line("  1. Remove the secret from the commit that added it, not in a new commit on top (the old commit")?;
        m.line("     would still carry it): `git commit --amend` for the last commit, `git rebase -i` for older ones.")?;
        m.line(
            "  2. If the secret ever left your machine, treat it as leaked: revoke and rotate it.",
        )?;
        m.line("  3. Keep secrets out of Git: encrypt them (SOPS, Sealed Secrets) or reference a secret store.")?;
        m.line("Not a secret? Add a `gitops-guard:allow` comment on the line, or annotate the Kubernetes object with")?;
        m.line("`gitops-guard.io/ignore: <rule>=<reason>`, amend the commit and push again.")?;
        if settings.allow_skip {
            m.line("Emergency: `git push -o gitops-guard.skip=\"<reason>\"` skips the scan; it is logged.")?;
        }
    }
    if !advisory.is_empty() {
        m.line(&format!(
            "gitops-guard: {} advisory finding(s), not blocking:",
            advisory.len()
        ))?;
        for f in advisory.iter().take(10) {
            let l = &f.location;
            m.line(&format!(
                "  {}:{} {} [{}] {}",
                esc(&l.path),
                l.line,
                f.rule,
                f.severity,
                esc(&f.message)
            ))?;
        }
        if advisory.len() > 10 {
            m.line(&format!("  … and {} more", advisory.len() - 10))?;
        }
    }
    for line in crate::scan::skip_lines(&report.stats, 50) {
        m.line(&line)?;
    }
    Ok(blocking.is_empty() && report.errors.is_empty())
}

fn finding(report: &Report, f: &Finding, m: &mut Messages<'_>) -> io::Result<()> {
    let l = &f.location;
    if let Some(p) = &f.provenance {
        let short = &p.commit[..p.commit.len().min(12)];
        m.line(&format!(
            "  {}  commit {short}  {}",
            esc(p.git_ref.as_deref().unwrap_or("?")),
            esc(&p.author)
        ))?;
    }
    let value = shown_match(f, false)
        .map(|v| format!(": {v}"))
        .unwrap_or_default();
    m.line(&format!(
        "    {}:{}:{}  {} [{}, {}] {}{}",
        esc(&l.path),
        l.line,
        l.column,
        f.rule,
        f.category,
        f.severity,
        esc(&f.message),
        esc(&value)
    ))?;
    if let Some(s) = &f.snippet {
        let (text, _, _) = crate::sanitize::escape_frame(&s.text, 0, 0);
        m.line(&format!("      {} | {text}", l.line))?;
    }
    if let Some(info) = report.rule_info(&f.rule)
        && !info.remediation.is_empty()
    {
        m.line(&format!("      fix: {}", info.remediation))?;
    }
    m.line("")
}

/// Why a push was not judged on a finished scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
    /// The scan used up its CPU budget (`timeout`).
    Cpu,
    /// The scan ran [`WALL_FACTOR`] × `timeout` of wall time (stalled).
    Wall,
    /// No slot came free within `queueTimeout`.
    Queue { waited: Duration, slots: usize },
}

/// How a guarded hook run ([`run_guarded`]) ended.
#[derive(Debug)]
pub enum Guarded {
    /// The scan finished within its budget (or could not run at all).
    Done(Result<Outcome, Error>),
    /// It did not finish, for this reason.
    Unfinished(Unfinished),
}

/// [`run`] behind the concurrency limit and under the deadline: wait for a
/// slot (at most `queue_timeout`; `on_wait` is called once if the wait
/// begins), then scan on `CPUs / concurrency` threads while the scan's own
/// CPU time (from the moment the slot is held) stays within `timeout`.
pub fn run_guarded(settings: &Settings, updates: &[RefUpdate], on_wait: impl FnMut()) -> Guarded {
    let _slot = if settings.concurrency == 0 {
        None
    } else {
        match super::slots::acquire(
            &settings.slot_dir,
            settings.concurrency,
            settings.queue_timeout,
            on_wait,
        ) {
            Ok(slot) => Some(slot),
            Err(super::slots::SlotError::QueueTimeout { waited, slots }) => {
                return Guarded::Unfinished(Unfinished::Queue { waited, slots });
            }
            Err(super::slots::SlotError::Io { dir, error }) => {
                return Guarded::Done(Err(Error::Scan(format!(
                    "cannot take a scan slot in {}: {error} (set gitops-guard.slotDir to a \
                     writable directory, or gitops-guard.concurrency = 0 for no limit)",
                    dir.display()
                ))));
            }
        }
    };
    // 0 (no limit): rayon's default, one thread per CPU.
    let threads = default_concurrency()
        .checked_div(settings.concurrency)
        .map_or(0, |t| t.max(1));
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            return Guarded::Done(Err(Error::Scan(format!(
                "cannot start the scan threads: {e}"
            ))));
        }
    };
    let cpu_start = super::slots::process_cpu_time();
    let wall_start = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker_settings = settings.clone();
    let worker_updates = updates.to_vec();
    std::thread::spawn(move || {
        let _ = tx.send(pool.install(|| run(&worker_settings, &worker_updates)));
    });
    if settings.timeout.is_zero() {
        return match rx.recv() {
            Ok(r) => Guarded::Done(r),
            Err(_) => Guarded::Done(Err(Error::Scan("the scan ended without a verdict".into()))),
        };
    }
    // Without a CPU clock the wall clock is the budget itself.
    let wall_cap = match cpu_start {
        Some(_) => settings.timeout.saturating_mul(WALL_FACTOR),
        None => settings.timeout,
    };
    let over = || -> Option<Unfinished> {
        if let (Some(start), Some(now)) = (cpu_start, super::slots::process_cpu_time())
            && now.saturating_sub(start) > settings.timeout
        {
            return Some(Unfinished::Cpu);
        }
        (wall_start.elapsed() > wall_cap).then_some(Unfinished::Wall)
    };
    let tick = Duration::from_millis(20);
    loop {
        match rx.recv_timeout(tick) {
            // A result that came in over budget is still over budget: the
            // verdict does not depend on when the clock was last read.
            Ok(r) => return over().map_or(Guarded::Done(r), Guarded::Unfinished),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Some(u) = over() {
                    return Guarded::Unfinished(u);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Guarded::Done(Err(Error::Scan("the scan ended without a verdict".into())));
            }
        }
    }
}

/// The message when the push could not be judged on a finished scan; returns
/// whether to accept (only with on-timeout = allow).
pub fn render_unfinished(
    settings: &Settings,
    why: &Unfinished,
    w: &mut dyn Write,
) -> io::Result<bool> {
    let mut m = Messages::new(w, settings.gitlab);
    let allow = settings.on_timeout == OnTimeout::Allow;
    let advice = match why {
        Unfinished::Cpu => {
            m.line(&format!(
                "gitops-guard: the scan did not finish within {:.1}s of its own CPU time (gitops-guard.timeout).",
                settings.timeout.as_secs_f64()
            ))?;
            "Push fewer commits at once, or ask an administrator to raise gitops-guard.timeout."
        }
        Unfinished::Wall => {
            m.line(&format!(
                "gitops-guard: the scan did not finish within {:.1}s of wall time ({WALL_FACTOR} x gitops-guard.timeout); it stalled.",
                (settings.timeout.saturating_mul(WALL_FACTOR)).as_secs_f64()
            ))?;
            "Push again; if it keeps happening, ask an administrator to look at the server's load and disks."
        }
        Unfinished::Queue { waited, slots } => {
            m.line(&format!(
                "gitops-guard: not scanned: all {slots} scan slot(s) stayed busy with other pushes for {:.1}s (gitops-guard.queueTimeout).",
                waited.as_secs_f64()
            ))?;
            "Push again in a moment, or ask an administrator to raise gitops-guard.concurrency or gitops-guard.queueTimeout."
        }
    };
    if allow {
        m.line("gitops-guard: accepted unscanned (on-timeout = allow).")?;
    } else {
        m.line(&format!(
            "gitops-guard: push rejected (on-timeout = reject: a guard fails closed). {advice}"
        ))?;
    }
    Ok(allow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4s").unwrap(), Duration::from_secs(4));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn skip_option_is_recognised() {
        let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            skip_request(&o(&["ci.skip", "gitops-guard.skip=incident 42"])),
            Some("incident 42".into())
        );
        assert_eq!(
            skip_request(&o(&["gitops-guard.skip"])),
            Some(String::new())
        );
        assert_eq!(skip_request(&o(&["gitops-guard.skipper=x"])), None);
        assert_eq!(skip_request(&o(&[])), None);
    }

    #[test]
    fn default_policy_blocks_secret_material_only() {
        let p = Policy::default();
        let f = |c| Finding::new("r", c, Severity::High, "m", Location::default());
        assert!(p.blocks(&f(Category::Secret)));
        assert!(p.blocks(&f(Category::UnencryptedSops)));
        assert!(!p.blocks(&f(Category::Policy)));
        assert!(!p.blocks(&f(Category::PlainHttp)));
        let mut low = f(Category::Secret);
        low.severity = Severity::Low;
        assert!(!p.blocks(&low));
    }

    #[test]
    fn block_values() {
        assert_eq!(
            Policy::parse_block(&["all".into()]).unwrap().len(),
            Category::ALL.len()
        );
        assert_eq!(
            Policy::parse_block(&["policy,secret".into()]).unwrap(),
            vec![Category::Secret, Category::Policy]
        );
        assert!(Policy::parse_block(&["nope".into()]).is_err());
    }

    #[test]
    fn gitlab_prefix_on_every_line() {
        let mut out = Vec::new();
        Messages::new(&mut out, true).line("a\nb").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GL-HOOK-ERR: a\nGL-HOOK-ERR: b\n"
        );
    }
}
