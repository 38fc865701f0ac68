//! gitops-guard: find secrets and unsafe Kubernetes configuration in a
//! GitOps repository's working tree, history, or pushed commits.
//!
//! Data flow (docs/DESIGN.md): a source produces blobs, detectors turn each
//! blob into findings and facts, repo checks turn facts into more findings,
//! filters mark what is suppressed, and a report renders the rest. The
//! library never prints; only `report` writes, to a writer it is given.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod archive;
pub mod cache;
pub mod config;
pub mod detect;
pub mod error;
pub mod filter;
pub mod finding;
pub mod fleet;
pub mod hook;
pub mod manifest;
pub mod render;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod source;
pub mod time;
pub mod verify;

use config::Config;
use error::Error;
use finding::Severity;
use report::Report;
use scan::{Collector, ScanOptions, Scanner};
use std::path::PathBuf;
use std::time::Instant;

/// What to scan.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The files under a path (the default).
    Worktree,
    /// Every unique blob and commit message of the Git history (or of a range).
    History(source::history::HistoryOptions),
    /// What a push adds (a pre-receive hook), planned by [`source::pushed::plan`].
    Pushed(std::sync::Arc<source::pushed::PushPlan>),
    /// The staged changes of the index (a pre-commit hook).
    Staged,
    /// Standard input as one blob, reported under `name` (`scan -`).
    Stdin { name: String },
    /// HEAD's tree (the configuration checks of `scan --history`, see
    /// [`source::head`]). `allow_missing`: a blob missing from a partial
    /// clone is a counted skip, as `--allow-missing` makes it in history.
    Head { allow_missing: bool },
    /// These files and directories of a work tree, each walked like
    /// [`Mode::Worktree`] (pre-commit's files mode passes the files it
    /// wants checked). Part of a repository: absence checks do not apply.
    Files(Vec<PathBuf>),
}

/// Everything one scan needs, resolved by the caller.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub target: PathBuf,
    pub mode: Mode,
    pub config: Config,
    pub options: ScanOptions,
    /// A previous JSON report whose findings are suppressed.
    pub baseline: Option<PathBuf>,
    /// Overrides the config's `fail-on`.
    pub fail_on: Option<Severity>,
}

/// Default `--fail-on` for everything but secret material: a first scan of
/// a typical public GitOps repository (workloads without a hardened
/// securityContext, images without digests) shows its medium and low
/// policy findings but does not fail on them; privileged pods, host
/// namespaces and the like (high, critical) do. Secret material (see
/// [`finding::Category::is_secret_material`]) keeps failing from
/// [`DEFAULT_SECRET_FAIL_ON`] while no `--fail-on` or config `fail-on` is
/// given: a leaked credential is never advisory.
pub const DEFAULT_FAIL_ON: Severity = Severity::High;

/// Default threshold for secret material: medium, so every credential rule
/// fails the run while the low ones stay advisory by design (password
/// hashes: the value is not the password itself, see tests/context_rules.rs).
pub const DEFAULT_SECRET_FAIL_ON: Severity = Severity::Medium;

/// Run one scan to completion. `Err` means the scan could not run at all
/// (bad config, unreadable target); errors on single files are in
/// [`Report::errors`] and make the exit code 3.
/// Bytes of keyword hits a history scan may remember (see
/// [`detect::keyword_cache`]); past it, segments are searched, not kept.
const KEYWORD_CACHE_BUDGET: usize = 128 * 1024 * 1024;

/// Render the Kustomize roots and Helm charts under `target` (paths relative to `top`, else
/// to its repository) into the collector, with `stats.render` and a phase.
fn render_here(
    target: &std::path::Path,
    top: Option<&std::path::Path>,
    req: &ScanRequest,
    scanner: &Scanner,
    collector: &Collector,
) {
    let rendering = Instant::now();
    let stats = render::render_tree(
        target,
        top,
        scanner,
        collector,
        &render_options(&req.config, &scanner.options),
    );
    collector.with_stats(|s| {
        s.render = Some(stats);
        s.phases.push(scan::Phase {
            name: "render",
            seconds: rendering.elapsed().as_secs_f64(),
            parallel: true,
        });
    });
}

/// Whether this scan renders: not with `--no-render` or `[render] enabled =
/// false`, and only when the `policy` category is asked for (rendering
/// judges nothing else, so `--only secrets` never pays for it).
fn wants_render(req: &ScanRequest, scanner: &Scanner) -> bool {
    scanner.options.render && req.config.render.enabled && scanner.wants(finding::Category::Policy)
}

/// How rendering runs, from the config and the options.
fn render_options(config: &Config, options: &ScanOptions) -> render::RenderOptions {
    let mut kustomize_options: Vec<String> = config
        .render
        .kustomize_build_options
        .as_deref()
        .map(|o| o.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    kustomize_options.extend(options.kustomize_options.iter().cloned());
    render::RenderOptions {
        timeout: std::time::Duration::from_secs(config.render.timeout_seconds.max(1)),
        kustomize_options,
        ..render::RenderOptions::default()
    }
}

pub fn scan(req: ScanRequest) -> Result<Report, Error> {
    let started = Instant::now();
    let mut options = req.options.clone();
    options.exclude.extend(req.config.exclude.iter().cloned());
    // A scan of part of a repository: what a commit or a push is about to
    // add, or a range (a pull request). Repository-wide absence checks do
    // not apply, and a blob too large to read blocks.
    let partial = match &req.mode {
        Mode::Pushed(_) | Mode::Staged | Mode::Files(_) => true,
        Mode::History(h) => h.range.is_some() || h.since_commit.is_some(),
        Mode::Worktree | Mode::Stdin { .. } | Mode::Head { .. } => false,
    };
    options.oversize_blocks |= partial;
    let chosen_fail_on = req.fail_on.or(req.config.fail_on);
    let fail_on = chosen_fail_on.unwrap_or(DEFAULT_FAIL_ON);
    let baseline = req
        .baseline
        .as_deref()
        .map(filter::Baseline::load)
        .transpose()?;
    let compiling = Instant::now();
    let mut scanner = Scanner::new(req.config.clone(), options)?;
    let compiled = compiling.elapsed().as_secs_f64();
    // A bare repository or a `.git` directory given as the path: its files
    // are git's compressed bookkeeping, walking them finds nothing and
    // passes. Its history is the content it holds, as for a URL (and as
    // `gitleaks git` / `trufflehog git file://` read a bare repository).
    let git_dir_target = matches!(req.mode, Mode::Worktree) && source::is_git_dir(&req.target);
    if matches!(req.mode, Mode::Worktree)
        && !git_dir_target
        && let Some(git_dir) = source::enclosing_git_dir(&req.target)
    {
        return Err(Error::Usage(format!(
            "{} is inside the git directory {}: git's own files are not a work tree; \
             scan the repository's history with `gitops-guard scan --history {}`",
            req.target.display(),
            git_dir.display(),
            git_dir.display()
        )));
    }
    if matches!(req.mode, Mode::History(_))
        || git_dir_target
        || source::remote::is_remote(&req.target)
    {
        // Versions of the same big files: their unchanged segments' keyword
        // hits are looked up, not searched for again.
        scanner.remember_across_blobs(KEYWORD_CACHE_BUDGET);
    }
    let collector = Collector::new();
    // Where rendered findings' source files are (the work tree, or HEAD's
    // copy, kept until the report is built).
    let mut render_top: Option<PathBuf> = None;
    let mut head_tree: Option<tempfile::TempDir> = None;
    match &req.mode {
        Mode::History(h) if source::remote::is_remote(&req.target) => {
            let url = req.target.to_string_lossy();
            let clone = source::remote::clone_bare(&url)?;
            source::history::scan(clone.path(), h, &scanner, &collector)?;
        }
        // A URL has no working tree: its history is what there is to scan.
        Mode::Worktree if source::remote::is_remote(&req.target) => {
            let url = req.target.to_string_lossy();
            let clone = source::remote::clone_bare(&url)?;
            let h = source::history::HistoryOptions::default();
            source::history::scan(clone.path(), &h, &scanner, &collector)?;
        }
        Mode::Worktree if git_dir_target => {
            let h = source::history::HistoryOptions::default();
            source::history::scan(&req.target, &h, &scanner, &collector)?;
        }
        Mode::Worktree => {
            source::worktree::scan(&req.target, &scanner, &collector)?;
            if wants_render(&req, &scanner) {
                render_here(&req.target, None, &req, &scanner, &collector);
                render_top = render::tree_top(&req.target);
            }
        }
        Mode::Stdin { name } => source::worktree::scan_stdin(name, &scanner, &collector),
        Mode::History(h) => source::history::scan(&req.target, h, &scanner, &collector)?,
        Mode::Pushed(plan) => source::pushed::scan(plan, &scanner, &collector)?,
        Mode::Staged => source::staged::scan(&req.target, &scanner, &collector)?,
        Mode::Head { allow_missing } if wants_render(&req, &scanner) => {
            // HEAD's tree is written to a temporary directory when it holds
            // a kustomization or a Chart.yaml, and rendered there.
            let tree = tempfile::Builder::new()
                .prefix("gitops-guard-head")
                .tempdir()
                .map_err(|e| Error::Scan(format!("cannot make a temporary directory: {e}")))?;
            let top = std::fs::canonicalize(tree.path())
                .map_err(|e| Error::Scan(format!("cannot use a temporary directory: {e}")))?;
            if source::head::scan_into(
                &req.target,
                *allow_missing,
                &scanner,
                &collector,
                Some(&top),
            )? {
                render_here(&top, Some(&top), &req, &scanner, &collector);
                render_top = Some(top);
                head_tree = Some(tree);
            }
        }
        Mode::Head { allow_missing } => {
            source::head::scan(&req.target, *allow_missing, &scanner, &collector)?
        }
        Mode::Files(paths) => {
            for p in paths {
                source::worktree::scan(p, &scanner, &collector)?;
            }
        }
    }
    let finishing = Instant::now();
    let (mut findings, mut stats, mut errors) = collector.finish(&scanner);
    stats.phases.insert(
        0,
        scan::Phase {
            name: "compile rules",
            seconds: compiled,
            parallel: false,
        },
    );
    // Rendered findings get their code frames from the source files here,
    // before the report is scrubbed with every secret of the scan: a frame
    // read back from a file must not show a secret found elsewhere in it.
    if let Some(top) = render_top.as_deref().filter(|_| stats.render.is_some()) {
        render::finish(&mut findings, top);
    }
    if !scanner.options.show_secrets {
        sanitize::scrub_report(&mut findings, &mut errors);
    }
    drop(head_tree);
    if let Some(r) = stats.render.as_mut()
        && !scanner.options.show_secrets
    {
        let masker = sanitize::Masker::for_findings(&findings);
        for n in r.notes.iter_mut() {
            masker.mask_in_place(n);
        }
    }
    if partial {
        findings.retain(|f| !source::WHOLE_REPOSITORY_RULES.contains(&f.rule.as_str()));
    }
    filter::apply_config(&scanner.config, &mut findings)?;
    if let Some(b) = &baseline {
        stats.baseline_stale = Some(b.apply(&mut findings));
    }
    if matches!(req.mode, Mode::History(_)) || git_dir_target {
        source::history::merge_duplicates(&mut findings);
    }
    stats.phases.push(scan::Phase {
        name: "repo checks, filters, merge",
        seconds: finishing.elapsed().as_secs_f64(),
        parallel: false,
    });
    stats.findings = findings.iter().filter(|f| f.suppressed.is_none()).count() as u64;
    stats.suppressed = findings.len() as u64 - stats.findings;
    stats.errors = errors.len() as u64;
    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    let mut report = Report {
        findings,
        stats,
        errors,
        rules: scanner.rule_infos(),
        fail_on,
        secrets_always_fail: chosen_fail_on.is_none(),
    };
    report.sort();
    Ok(report)
}
