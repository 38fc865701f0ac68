//! The pipeline between sources and reports: a [`Scanner`] runs every
//! detector over one blob and prepares its findings (inline suppressions,
//! redacted code frames); a [`Collector`] gathers what all threads found.

use crate::config::Config;
use crate::detect::suppress::{apply_annotation_suppressions, is_binary, prepare_findings_of};
use crate::detect::{self, Context, Detector, Fact, Input, Output};
use crate::detect::{FactRecord, RepoCheck};
use crate::error::Error;
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Provenance};
use crate::rules::{RuleSet, builtin_specs};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Options that shape every scan, whatever the source.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Files or blobs larger than this are not read (their size is read
    /// from the object header or `stat`): skipped, counted and listed, or,
    /// with `oversize_blocks`, a scan error.
    pub max_file_size: u64,
    /// Print secrets in full (local triage only).
    pub show_secrets: bool,
    /// Only these categories (empty: all).
    pub categories: Vec<Category>,
    /// Glob patterns of paths never scanned (CLI and config).
    pub exclude: Vec<String>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Rules not run or reported although their category is wanted (a full
    /// history's default leaves out advisories: see `HISTORY_SKIPPED_RULES`).
    pub skip_rules: Vec<String>,
    /// A blob over `max_file_size` makes the scan fail (a scan error, exit
    /// 3; the hook rejects) instead of being skipped, unless its path matches
    /// `[limits] large-files`. Set by [`crate::scan`] for the scans that judge
    /// what is about to enter a repository (pre-commit, pre-receive,
    /// pre-push, `--range`, `--since-commit`): there a blob that was not read
    /// must not pass.
    pub oversize_blocks: bool,
    /// `scan --verify`: look up, in each blob, the second values the
    /// verifiers of its findings need (`[rule.verify.context]`). Off for
    /// every other scan, which then pays nothing for them.
    pub verify_context: bool,
    /// Render Kustomize roots before the policy checks (working-tree scans
    /// only; `--no-render` and `[render] enabled = false` turn it off).
    pub render: bool,
    /// Extra `kustomize build` options for every root (`--kustomize-build-options`).
    pub kustomize_options: Vec<String>,
}

/// Most worker threads a scan may ask for (`--threads`): more gains nothing
/// on any machine, and an unbounded count made the walker try to start
/// 100,000 threads.
pub const MAX_THREADS: usize = 1024;

/// Skipped blobs named one by one in [`Stats::skipped_blobs`]; past it they
/// are only counted.
pub const MAX_LISTED_SKIPS: usize = 1000;

/// Rules a full-history scan leaves out unless `--all-categories` or a
/// `--category` asks: advisories about how a workload *reads* a Secret are
/// configuration hygiene at HEAD, not secret material in history (a third
/// of argo-cd's history report, and a parse of every version of every
/// workload that reads one).
pub const HISTORY_SKIPPED_RULES: &[&str] = &["secret-env-var-ref"];

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: 10 * 1024 * 1024,
            show_secrets: false,
            categories: Vec::new(),
            exclude: Vec::new(),
            threads: 0,
            skip_rules: Vec::new(),
            oversize_blocks: false,
            verify_context: false,
            render: true,
            kustomize_options: Vec::new(),
        }
    }
}

/// Why a blob was not scanned. Every skip is counted in [`Stats::skipped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Over `--max-file-size` (and not blocking: see `ScanOptions::oversize_blocks`).
    TooLarge,
    /// A symbolic link (never followed).
    Symlink,
    /// A Git LFS pointer: the content lives elsewhere.
    LfsPointer,
    /// A submodule (gitlink) entry.
    Submodule,
    /// Matched an exclude glob.
    Excluded,
    /// A document refused by the YAML parser's limits (bomb, deep nesting).
    YamlRefused,
    /// An object missing from the repository, tolerated by `--allow-missing`.
    MissingObject,
    /// A FIFO, socket or device found inside a tree: reading it could block
    /// or never end (given explicitly, a FIFO or character device is read).
    SpecialFile,
    /// A git directory (bare repository) nested in the tree: git's own
    /// compressed bookkeeping, not work-tree files; scan it with `--history`.
    GitDir,
    /// An archive (or part of one) over a `[limits] archive-*` limit: too
    /// deeply nested, too many members, inflating too far. Its raw bytes
    /// were still scanned by the byte-reading rules.
    ArchiveLimit,
    /// An archive (or a member) that could not be read: corrupt, truncated,
    /// encrypted, an unsupported compression method. Its raw bytes were
    /// still scanned by the byte-reading rules.
    ArchiveCorrupt,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "too_large",
            SkipReason::Symlink => "symlink",
            SkipReason::LfsPointer => "lfs_pointer",
            SkipReason::Submodule => "submodule",
            SkipReason::Excluded => "excluded",
            SkipReason::YamlRefused => "yaml_refused",
            SkipReason::MissingObject => "missing_object",
            SkipReason::SpecialFile => "special_file",
            SkipReason::GitDir => "git_dir",
            SkipReason::ArchiveLimit => "archive_limit",
            SkipReason::ArchiveCorrupt => "archive_corrupt",
        }
    }
}

/// What a scan counted. Serialised as the `stats` object of the JSON report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    /// Of `blobs_scanned`, the binary ones (a NUL byte in the first 8 KiB,
    /// after UTF-16 decoding): the secret rules ran on their raw bytes, the
    /// structure-aware detectors (YAML, Kubernetes, SOPS) did not.
    pub binary_scanned: u64,
    /// Of `blobs_scanned`, the UTF-16 ones: decoded, then scanned as text
    /// (positions are in the decoded text).
    pub utf16_decoded: u64,
    /// Members of archives (chart `.tgz`, zip, tar) scanned as files, named
    /// `archive!member` (not counted in `blobs_scanned`).
    #[serde(skip_serializing_if = "is_zero")]
    pub archive_members_scanned: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    /// The skipped blobs that were not read or not judged whole, by path
    /// (at most [`MAX_LISTED_SKIPS`]; `skipped` has every count). Hooks
    /// print them: a skip is never only a number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_blobs: Vec<SkippedBlob>,
    pub findings: u64,
    pub suppressed: u64,
    pub errors: u64,
    /// Baseline entries that matched nothing in this scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_stale: Option<u64>,
    /// History scans: commits walked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits_scanned: Option<u64>,
    /// History scans: the repository is a shallow clone (older history absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shallow: Option<bool>,
    /// History scans: the work tree has changes that are not committed (and so not scanned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncommitted_changes: Option<bool>,
    /// Where the time went, phase by phase (`--verbose`; not in reports:
    /// timings differ from run to run).
    #[serde(skip)]
    pub phases: Vec<Phase>,
    /// History scans with `--cache`: objects skipped as known clean, added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::cache::CacheStats>,
    /// Kustomize roots and Helm charts rendered before the policy checks
    /// (see `render`); `None` when the scan did not render (a mode that
    /// does not, or `--no-render`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderStats>,
    pub elapsed_ms: u64,
}

/// What rendering did (`stats.render`): roots found, built, failed and not
/// built for want of a tool, and a note for every root that was not built
/// (so a missing tool or a broken chart is never a silent pass).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RenderStats {
    pub roots: u64,
    pub rendered: u64,
    pub failed: u64,
    pub not_rendered: u64,
    /// Files the successful Kustomize builds read, and the `templates/` and
    /// `charts/` directories of the rendered Helm charts (their policy
    /// findings come from the rendered objects, mapped back to them).
    pub files_consumed: u64,
    /// The tool that rendered (`helm`, `kubectl kustomize`, `kustomize`), if any.
    pub tool: Option<String>,
    pub notes: Vec<String>,
}

/// One phase of a scan and its wall time, for `--verbose`: `parallel` says
/// whether it runs on every worker thread or on one (the serial share of a
/// `--threads 1` scan bounds how far more cores can speed it up).
#[derive(Clone, Debug)]
pub struct Phase {
    pub name: &'static str,
    pub seconds: f64,
    pub parallel: bool,
}

/// Laps of a scan's phases (see [`Phase`]).
pub struct PhaseClock {
    last: std::time::Instant,
    pub phases: Vec<Phase>,
}

impl Default for PhaseClock {
    fn default() -> Self {
        PhaseClock {
            last: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }
}

impl PhaseClock {
    /// End the phase running since the last lap.
    pub fn lap(&mut self, name: &'static str, parallel: bool) {
        let now = std::time::Instant::now();
        self.phases.push(Phase {
            name,
            seconds: (now - self.last).as_secs_f64(),
            parallel,
        });
        self.last = now;
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Stats {
    pub fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason.as_str()).or_default() += 1;
    }

    /// Count a skip and name its path (up to [`MAX_LISTED_SKIPS`]).
    pub fn skip_listed(&mut self, reason: SkipReason, path: &str, detail: String) {
        self.skip(reason);
        if self.skipped_blobs.len() < MAX_LISTED_SKIPS {
            self.skipped_blobs.push(SkippedBlob {
                path: path.to_string(),
                reason: reason.as_str(),
                detail,
            });
        }
    }

    /// Skips counted but not named in `skipped_blobs` (over the cap, or
    /// counted where no path was known), by reason.
    pub fn unlisted_skips(&self) -> Vec<(&'static str, u64)> {
        self.skipped
            .iter()
            .filter(|(r, _)| **r != SkipReason::Excluded.as_str())
            .filter_map(|(r, n)| {
                let listed = self.skipped_blobs.iter().filter(|s| s.reason == *r).count() as u64;
                (*n > listed).then(|| (*r, n - listed))
            })
            .collect()
    }
}

/// What the hooks print about skipped blobs: one line per named skip (at
/// most `max`), then the counts of the rest by reason. Empty when nothing
/// was skipped but excluded paths (the user asked for those).
pub fn skip_lines(stats: &Stats, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let unlisted = stats.unlisted_skips();
    if stats.skipped_blobs.is_empty() && unlisted.is_empty() {
        return out;
    }
    let total: u64 = stats
        .skipped
        .iter()
        .filter(|(r, _)| **r != SkipReason::Excluded.as_str())
        .map(|(_, n)| n)
        .sum();
    out.push(format!(
        "gitops-guard: {total} blob(s) not scanned (their content was not judged):"
    ));
    for s in stats.skipped_blobs.iter().take(max) {
        let detail = if s.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", s.detail)
        };
        // Paths come from the scanned tree: a file name may carry control
        // characters (a newline, an ESC sequence); the hook prints these lines.
        out.push(format!(
            "  {} [{}]{}",
            crate::sanitize::escape_control(&s.path),
            s.reason,
            crate::sanitize::escape_control(&detail)
        ));
    }
    if stats.skipped_blobs.len() > max {
        out.push(format!(
            "  … and {} more listed in the JSON report (stats.skipped_blobs)",
            stats.skipped_blobs.len() - max
        ));
    }
    for (reason, n) in unlisted {
        out.push(format!("  {n} more [{reason}] not named"));
    }
    out
}

/// One skipped blob, by path.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedBlob {
    pub path: String,
    pub reason: &'static str,
    /// Why, in words (size and limit for `too_large`).
    pub detail: String,
}

/// `12.5 MiB (13107200 bytes)`: sizes in messages, exact and readable.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {} ({bytes} bytes)", UNITS[unit])
}

/// An error that did not stop the scan but makes its result incomplete
/// (so the run exits 3).
#[derive(Clone, Debug, Serialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// What scanning one blob produced.
#[derive(Debug, Default)]
pub struct BlobOutcome {
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
    pub skipped: Option<SkipReason>,
    /// The YAML parser refused the blob (bomb, deep nesting): the line-based
    /// rules still ran, the manifest detectors could not. Counted as
    /// `yaml_refused` in the skips.
    pub yaml_refused: bool,
    /// Binary: only the detectors that read bytes ran.
    pub binary: bool,
    /// UTF-16, decoded before scanning.
    pub utf16: bool,
    /// Archive members scanned (their findings are in `findings`, named
    /// `outer!inner`).
    pub archive_members: u64,
    /// Archive members or layers not scanned: (reason, path, detail).
    pub archive_skips: Vec<(SkipReason, String, String)>,
    /// Archive members or layers not scanned where the scan judges what
    /// enters a repository ([`ScanOptions::oversize_blocks`]): scan errors.
    pub archive_errors: Vec<ScanError>,
}

/// The detectors and rules, compiled once, shared by every worker thread.
pub struct Scanner {
    pub rules: RuleSet,
    pub options: ScanOptions,
    pub config: Config,
    detectors: Vec<Box<dyn Detector>>,
    repo_checks: Vec<Box<dyn RepoCheck>>,
    /// Keyword hits of big blobs' segments, kept across blobs (history).
    keyword_cache: Option<detect::keyword_cache::KeywordCache>,
    /// Findings of document-local checks by document text (history).
    doc_memo: Option<detect::DocMemo>,
    /// `[limits] large-files`, compiled.
    large_files: globset::GlobSet,
    /// `[limits] archive-*`.
    archive_limits: crate::archive::ArchiveLimits,
}

impl Scanner {
    /// Built-in rules plus the config's extra rules, minus disabled ones.
    pub fn new(config: Config, options: ScanOptions) -> Result<Scanner, Error> {
        if options.threads > MAX_THREADS {
            return Err(Error::Usage(format!(
                "{} threads is more than the {MAX_THREADS} allowed (0 means one per core)",
                options.threads
            )));
        }
        let large_files = crate::filter::glob_set(&config.limits.large_files)?;
        let archive_limits = crate::archive::ArchiveLimits::from_config(&config.limits)?;
        let mut specs = builtin_specs().map_err(|e| Error::Scan(format!("built-in rules: {e}")))?;
        let origin = config
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| crate::config::FILE_NAME.to_string());
        specs.extend(config.rule.iter().cloned().map(|r| (origin.clone(), r)));
        let rules = RuleSet::build(specs, &config.rules.disable)
            .map_err(|e| Error::Config(e.to_string()))?;
        // A detector none of whose rules is wanted is not run at all (not
        // just filtered afterwards): `--only secrets` and full-history scans
        // then skip the YAML parsing that only policy checks need.
        let wanted = |infos: Vec<RuleInfo>| {
            options.categories.is_empty()
                || infos.is_empty()
                || infos
                    .iter()
                    .any(|i| options.categories.contains(&i.category))
        };
        let mut detectors = detect::all(&config);
        detectors.retain(|d| {
            if d.name() == "secrets" {
                options.categories.is_empty() || options.categories.contains(&Category::Secret)
            } else {
                wanted(d.rules())
            }
        });
        let mut repo_checks = detect::all_repo_checks(&config);
        repo_checks.retain(|c| wanted(c.rules()));
        Ok(Scanner {
            rules,
            options,
            config,
            detectors,
            repo_checks,
            keyword_cache: None,
            doc_memo: None,
            large_files,
            archive_limits,
        })
    }

    /// Whether `[limits] large-files` lets the blob at `path` be over the size limit.
    pub fn large_file_allowed(&self, path: &str) -> bool {
        !self.large_files.is_empty() && self.large_files.is_match(path)
    }

    pub fn wants(&self, category: Category) -> bool {
        self.options.categories.is_empty() || self.options.categories.contains(&category)
    }

    /// Remember, across blobs, the keyword hits of big blobs' segments and
    /// the findings of document-local checks per YAML document, up to about
    /// `budget` bytes each: a history scan reads hundreds of versions of the
    /// same big files (see [`detect::keyword_cache`], [`detect::doc_memo`]).
    pub fn remember_across_blobs(&mut self, budget: usize) {
        self.keyword_cache = Some(detect::keyword_cache::KeywordCache::new(budget));
        self.doc_memo = Some(detect::DocMemo::new(budget / 2));
    }

    /// Documents whose findings were replayed from the memo, and documents
    /// parsed and checked for it (both 0 without it).
    pub fn doc_memo_counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.doc_memo.as_ref().map_or((0, 0), |m| {
            (m.replayed.load(Relaxed), m.checked.load(Relaxed))
        })
    }

    /// Run every detector over one blob. Pure: no I/O.
    ///
    /// UTF-16 text is decoded first and scanned as text (positions are in
    /// the decoded text). A binary blob (see [`is_binary`]) goes to the
    /// detectors that match raw bytes only (the secret rules, age
    /// identities): a token is found wherever its bytes are, but nothing is
    /// parsed. Real age files are binary and still reach every detector.
    ///
    /// An archive (gzip, zip, tar by magic bytes: a Helm chart `.tgz`) is
    /// opened instead, within `[limits] archive-*` (see [`crate::archive`]),
    /// and its members are scanned as files named `path!member`; what could
    /// not be opened is listed in [`BlobOutcome::archive_skips`] (or, where
    /// oversized blobs block, [`BlobOutcome::archive_errors`]) and its raw
    /// bytes are scanned like any binary blob.
    pub fn scan_blob(&self, path: &str, bytes: &[u8]) -> BlobOutcome {
        if self.archive_limits.depth > 0
            && !is_lfs_pointer(bytes)
            && let Some(kind) = crate::archive::kind(bytes)
        {
            let mut outcome = BlobOutcome {
                binary: true,
                ..BlobOutcome::default()
            };
            let mut budget = crate::archive::Budget {
                left: self.archive_limits.max_bytes,
            };
            let whole = self.scan_archive(path, path, kind, bytes, 1, &mut budget, &mut outcome);
            // The blob itself still meets the detectors that judge a file
            // whole (a `.age` file that is a gzip is not encrypted). Its
            // token matches are kept only when the archive could not be
            // opened whole: otherwise the members hold them (a stored zip
            // or a plain tar would report each token twice).
            let mut raw = self.scan_file(path, bytes);
            if whole {
                raw.findings.retain(|f| f.category != Category::Secret);
            }
            outcome.findings.extend(raw.findings);
            outcome.facts.extend(raw.facts);
            return outcome;
        }
        self.scan_file(path, bytes)
    }

    /// Open one archive layer (`depth` 1 is the outermost) at `path` and
    /// scan its members into `outcome`. `outer` is the blob's own path,
    /// which `[limits] large-files` is matched against. Returns whether the
    /// layer was opened whole (nothing refused but members over the size
    /// limit, which are refused on their own).
    #[allow(clippy::too_many_arguments)]
    fn scan_archive(
        &self,
        outer: &str,
        path: &str,
        kind: crate::archive::Kind,
        bytes: &[u8],
        depth: usize,
        budget: &mut crate::archive::Budget,
        outcome: &mut BlobOutcome,
    ) -> bool {
        use crate::archive::{Event, Refusal};
        let mut whole = true;
        let limits = self.archive_limits;
        let max_member = self.options.max_file_size;
        crate::archive::open(
            kind,
            path,
            bytes,
            &limits,
            max_member,
            budget,
            &mut |event, budget| match event {
                Event::Member(name, data) => {
                    let member = format!("{path}!{name}");
                    self.scan_member(outer, &member, &data, depth, budget, outcome);
                }
                Event::Link(name) => outcome.archive_skips.push((
                    SkipReason::Symlink,
                    format!("{path}!{name}"),
                    "link or device inside an archive, not followed".into(),
                )),
                Event::TooLarge(name, size) => self.refuse_archive(
                    outer,
                    format!("{path}!{name}"),
                    SkipReason::TooLarge,
                    format!(
                        "archive member of {} is over the size limit of {}",
                        human_size(size),
                        human_size(max_member)
                    ),
                    outcome,
                ),
                Event::Refused(name, refusal) => {
                    whole = false;
                    let at = name.map_or_else(|| path.to_string(), |n| format!("{path}!{n}"));
                    let (reason, detail) = match refusal {
                        Refusal::Limit(d) => (SkipReason::ArchiveLimit, d),
                        Refusal::Corrupt(d) => (SkipReason::ArchiveCorrupt, d),
                    };
                    self.refuse_archive(outer, at, reason, detail, outcome);
                }
            },
        );
        whole
    }

    /// Scan one archive member: a nested archive is opened while the
    /// depth allows, anything else is scanned as a file.
    fn scan_member(
        &self,
        outer: &str,
        member: &str,
        data: &[u8],
        depth: usize,
        budget: &mut crate::archive::Budget,
        outcome: &mut BlobOutcome,
    ) {
        if let Some(kind) = crate::archive::kind(data).filter(|_| !is_lfs_pointer(data)) {
            if depth < self.archive_limits.depth {
                if !self.scan_archive(outer, member, kind, data, depth + 1, budget, outcome) {
                    // What was not opened is still searched for tokens in
                    // its raw bytes, as any binary blob is.
                    self.merge_file(member, data, outcome, false);
                }
            } else {
                self.refuse_archive(
                    outer,
                    member.to_string(),
                    SkipReason::ArchiveLimit,
                    format!(
                        "an archive nested deeper than archive-depth = {}; not opened",
                        self.archive_limits.depth
                    ),
                    outcome,
                );
                self.merge_file(member, data, outcome, false);
            }
            return;
        }
        self.merge_file(member, data, outcome, true);
    }

    /// Scan `bytes` as one file at `path` and add what it found to `outcome`.
    fn merge_file(&self, path: &str, bytes: &[u8], outcome: &mut BlobOutcome, member: bool) {
        let o = self.scan_file(path, bytes);
        if let Some(reason) = o.skipped {
            outcome
                .archive_skips
                .push((reason, path.to_string(), String::new()));
        } else if member {
            outcome.archive_members += 1;
        }
        outcome.findings.extend(o.findings);
        outcome.facts.extend(o.facts);
        outcome.yaml_refused |= o.yaml_refused;
    }

    /// Part of an archive that was not scanned: a counted, named skip, or,
    /// where the scan judges what enters a repository and `[limits]
    /// large-files` does not allow the archive's path, a scan error.
    fn refuse_archive(
        &self,
        outer: &str,
        at: String,
        reason: SkipReason,
        detail: String,
        outcome: &mut BlobOutcome,
    ) {
        if self.options.oversize_blocks && !self.large_file_allowed(outer) {
            let fix = match reason {
                SkipReason::ArchiveCorrupt => "Repair or remove the archive",
                SkipReason::TooLarge => "Raise --max-file-size",
                _ => "Raise the [limits] archive-* limits",
            };
            outcome.archive_errors.push(ScanError {
                path: at,
                message: format!(
                    "{detail}: not scanned, so it cannot pass. {}, or allow the archive in \
                     the config ([limits] large-files = [\"<glob>\"])",
                    fix
                ),
            });
        } else {
            outcome.archive_skips.push((reason, at, detail));
        }
    }

    /// Judge rendered manifests (`render`): only the `policy` detector
    /// runs, and the object annotations (`gitops-guard.io/ignore`,
    /// kube-linter's and kubeaudit's overrides) are applied; code frames
    /// and inline comments belong to the source files the findings are
    /// mapped back to, so they are left to the caller. Secret rules and the
    /// other manifest checks stay on the files as written.
    pub fn scan_rendered(&self, path: &str, text: &str) -> BlobOutcome {
        let mut outcome = BlobOutcome::default();
        let input = Input::new(path, text.as_bytes());
        let cx = Context {
            rules: &self.rules,
            keyword_cache: None,
            doc_memo: None,
            skip_rules: &self.options.skip_rules,
        };
        let mut out = Output::default();
        for d in self.detectors.iter().filter(|d| d.name() == "policy") {
            d.detect(&input, &cx, &mut out);
        }
        out.findings
            .retain(|f| self.wants(f.category) && cx.wants_rule(&f.rule));
        apply_annotation_suppressions(&input, &mut out.findings);
        outcome.yaml_refused = input.yaml_refused();
        outcome.findings = out.findings;
        outcome.facts = out.facts;
        outcome
    }

    /// [`Scanner::scan_blob`] without opening archives: one file.
    fn scan_file(&self, path: &str, bytes: &[u8]) -> BlobOutcome {
        let mut outcome = BlobOutcome::default();
        if is_lfs_pointer(bytes) {
            outcome.skipped = Some(SkipReason::LfsPointer);
            return outcome;
        }
        let decoded = decode_utf16(bytes);
        outcome.utf16 = decoded.is_some();
        let bytes = decoded.as_deref().map_or(bytes, str::as_bytes);
        let binary = is_binary(bytes) && !detect::encryption::wants_binary(path, bytes);
        outcome.binary = binary;
        let input = Input::new(path, bytes);
        let cx = Context {
            rules: &self.rules,
            keyword_cache: self.keyword_cache.as_ref(),
            doc_memo: self.doc_memo.as_ref(),
            skip_rules: &self.options.skip_rules,
        };
        let mut out = Output::default();
        for d in &self.detectors {
            if binary && !d.reads_bytes() {
                continue;
            }
            d.detect(&input, &cx, &mut out);
        }
        out.findings
            .retain(|f| self.wants(f.category) && cx.wants_rule(&f.rule));
        self.drop_shadowed_fallbacks(&mut out.findings);
        if !binary {
            apply_annotation_suppressions(&input, &mut out.findings);
        }
        prepare_findings_of(&input, &mut out.findings, self.options.show_secrets, binary);
        if self.options.verify_context {
            self.attach_verify_context(&input, &mut out.findings);
        }
        if !self.options.show_secrets {
            crate::sanitize::scrub_findings(&mut out.findings);
        }
        outcome.yaml_refused = input.yaml_refused();
        outcome.findings = out.findings;
        outcome.facts = out.facts;
        outcome
    }

    /// The second values a finding's verifier needs from this blob
    /// (`[rule.verify.context]`), looked up while the blob is at hand. Only
    /// for the few rules that have them, and only when a finding fired.
    fn attach_verify_context(&self, input: &Input<'_>, findings: &mut [Finding]) {
        use crate::verify::spec::{context_matches, nearest};
        // Per rule, when no context regex names the secret: one search of
        // the blob for all of that rule's findings.
        let mut by_rule: BTreeMap<String, crate::verify::spec::ContextMatches> = BTreeMap::new();
        for f in findings.iter_mut() {
            if f.category != Category::Secret {
                continue;
            }
            let Some(spec) = self
                .rules
                .get(&f.rule)
                .and_then(|r| r.spec.verify.as_ref())
                .filter(|v| !v.context.is_empty())
            else {
                continue;
            };
            let Some(s) = &f.secret else { continue };
            let at = if f.location.line > 0 {
                input.offset_of(f.location.line, f.location.column.saturating_sub(1))
            } else {
                0
            };
            f.context = crate::finding::VerifyContext(
                if spec.context.values().any(|t| t.contains("{secret}")) {
                    nearest(
                        &context_matches(spec, s.expose(), input.bytes),
                        at,
                        s.expose(),
                    )
                } else {
                    let m = by_rule
                        .entry(f.rule.clone())
                        .or_insert_with(|| context_matches(spec, s.expose(), input.bytes));
                    nearest(m, at, s.expose())
                },
            );
        }
    }

    /// A fallback rule's finding (the generic secret-named-key rule) yields
    /// to any other finding on an overlapping span, whichever detector made
    /// it: a plaintext Secret value or a secret env var is reported once,
    /// under the name that says what it is.
    ///
    /// A finding made in decoded text (`detect::decode`) yields to a plain
    /// one on an overlapping span (a `kind: Secret` `data:` value stays the
    /// plaintext-Secret check's). A plain fallback yields to a decoded
    /// finding only when the encoded span covers it whole (a secret-named
    /// key holding a base64 token is the token); a JWT whose payload
    /// decodes to a key stays reported whole, so its frame stays masked
    /// whole. A decoded fallback yields to every other secret finding.
    fn drop_shadowed_fallbacks(&self, findings: &mut Vec<Finding>) {
        let is_fallback = |f: &Finding| {
            f.category == Category::Secret
                && self.rules.get(&f.rule).is_some_and(|r| r.is_fallback())
        };
        let plain = |f: &Finding| !f.decoded && !is_fallback(f);
        let decoded = |f: &Finding| f.decoded && !is_fallback(f);
        if findings.iter().any(|f| f.decoded) {
            drop_overlapping(findings, decoded, plain, false);
            drop_overlapping(findings, |f| !f.decoded && is_fallback(f), decoded, true);
            drop_overlapping(
                findings,
                |f| f.decoded && is_fallback(f),
                |f| !(f.decoded && is_fallback(f)),
                false,
            );
        }
        if findings.iter().any(is_fallback) {
            drop_overlapping(findings, |f| !f.decoded && is_fallback(f), plain, false);
        }
    }

    /// The compiled secret rules (renderers scrub tool errors with them).
    pub fn rule_set(&self) -> &RuleSet {
        &self.rules
    }

    pub fn repo_checks(&self) -> &[Box<dyn RepoCheck>] {
        &self.repo_checks
    }

    /// Every rule and check id the config could name: built-in and custom
    /// rules, disabled ones included, and every detector's and repository
    /// check's, whatever `--only` picked. For "unknown rule id" warnings;
    /// compiles no regex.
    pub fn known_rule_ids(config: &Config) -> Vec<String> {
        let mut ids: Vec<String> = builtin_specs()
            .map(|specs| specs.into_iter().map(|(_, s)| s.id).collect())
            .unwrap_or_default();
        ids.extend(config.rule.iter().map(|r| r.id.clone()));
        // Detectors leave out what the config disables or does not turn
        // on: ask a config that disables nothing and turns everything on.
        let mut every = Config::default();
        every.policy.trusted_registries = vec!["registry.invalid/".into()];
        for d in detect::all(&every) {
            ids.extend(d.rules().into_iter().map(|i| i.id));
        }
        for c in detect::all_repo_checks(&every) {
            ids.extend(c.rules().into_iter().map(|i| i.id));
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// Metadata of every rule and check this scanner can report.
    pub fn rule_infos(&self) -> Vec<RuleInfo> {
        let mut out: Vec<RuleInfo> = self
            .rules
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.spec.id.clone(),
                name: r.spec.name.clone(),
                category: Category::Secret,
                severity: self
                    .config
                    .rules
                    .severity
                    .get(&r.spec.id)
                    .copied()
                    .unwrap_or(r.spec.severity),
                description: r.spec.description.clone(),
                remediation: r.spec.remediation.clone(),
            })
            .collect();
        for d in &self.detectors {
            out.extend(d.rules());
        }
        for c in &self.repo_checks {
            out.extend(c.rules());
        }
        for info in out.iter_mut() {
            if let Some(s) = self.config.rules.severity.get(&info.id) {
                info.severity = *s;
            }
        }
        out
    }
}

/// UTF-16 text decoded to UTF-8, or `None` when `bytes` is not UTF-16.
///
/// With a byte-order mark (`FF FE` little-endian, `FE FF` big-endian) the
/// mark decides. Without one, the first 8 KiB decide: at least 90 % of its
/// code units must be ASCII text (a printable byte or tab/CR/LF beside a
/// zero byte, all on the same side), which is how Windows tools write
/// `.env` and `.ps1` files, and what an image or audio sample hardly ever
/// looks like. Unpaired surrogates and an odd last byte become U+FFFD;
/// the mark is not kept,
/// so the first character is column 1.
pub fn decode_utf16(bytes: &[u8]) -> Option<String> {
    let (big_endian, body) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        // FF FE 00 00 is UTF-32 LE: not decoded here.
        if rest.starts_with(b"\0\0") {
            return None;
        }
        (false, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (true, rest)
    } else {
        (utf16_without_bom(bytes)?, bytes)
    };
    let units = body.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if body.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    Some(text)
}

/// `Some(big_endian)` when the start of `bytes` reads as ASCII text in
/// UTF-16 without a byte-order mark (see [`decode_utf16`]).
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let sample = &bytes[..bytes.len().min(8192) & !1];
    let units = sample.len() / 2;
    if units < 4 {
        return None;
    }
    let text = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7E);
    let (mut le, mut be) = (0usize, 0usize);
    for c in sample.chunks_exact(2) {
        if c[1] == 0 && text(c[0]) {
            le += 1;
        } else if c[0] == 0 && text(c[1]) {
            be += 1;
        }
    }
    if le * 10 >= units * 9 {
        Some(false)
    } else if be * 10 >= units * 9 {
        Some(true)
    } else {
        None
    }
}

pub fn is_lfs_pointer(bytes: &[u8]) -> bool {
    bytes.len() < 1024 && bytes.starts_with(b"version https://git-lfs.github.com/spec/")
}

/// Drop the findings `yields` picks that overlap one `beats` picks (that
/// one covers whole, if `covered`).
///
/// Spans as ((line, column), (end line, end column)), an empty span taken
/// as one character wide. A finding is shadowed when some other finding
/// starts before it ends and ends after it starts (covered: starts at or
/// before its start and ends at or after its end): with the others sorted
/// by start and the running maximum of their ends, one binary search per
/// finding (a file with 30,000 findings compared every pair).
fn drop_overlapping(
    findings: &mut Vec<Finding>,
    yields: impl Fn(&Finding) -> bool,
    beats: impl Fn(&Finding) -> bool,
    covered: bool,
) {
    type Pos = (usize, usize);
    let span = |l: &Location| -> (Pos, Pos) {
        (
            (l.line, l.column),
            (l.end_line, l.end_column.max(l.column + 1)),
        )
    };
    let mut others: Vec<(Pos, Pos)> = findings
        .iter()
        .filter(|f| beats(f))
        .map(|f| span(&f.location))
        .collect();
    others.sort_unstable();
    let mut max_end: Vec<Pos> = Vec::with_capacity(others.len());
    for &(_, e) in &others {
        let m = max_end.last().map_or(e, |&m: &Pos| m.max(e));
        max_end.push(m);
    }
    findings.retain(|f| {
        if !yields(f) {
            return true;
        }
        let (start, end) = span(&f.location);
        if covered {
            let before = others.partition_point(|o| o.0 <= start);
            !(before > 0 && max_end[before - 1] >= end)
        } else {
            let before = others.partition_point(|o| o.0 < end);
            !(before > 0 && max_end[before - 1] > start)
        }
    });
}

/// Gathers what every worker found. Locks are per blob, not per byte.
#[derive(Default)]
pub struct Collector {
    findings: Mutex<Vec<Finding>>,
    facts: Mutex<Vec<FactRecord>>,
    stats: Mutex<Stats>,
    errors: Mutex<Vec<ScanError>>,
}

impl Collector {
    pub fn new() -> Collector {
        Collector::default()
    }

    /// Record one scanned (or skipped) blob.
    pub fn add(
        &self,
        path: &str,
        bytes: u64,
        outcome: BlobOutcome,
        provenance: Option<&Provenance>,
    ) {
        {
            let mut stats = self.stats.lock().expect("stats lock");
            match outcome.skipped {
                Some(reason) => stats.skip_listed(reason, path, String::new()),
                None => {
                    stats.blobs_scanned += 1;
                    stats.bytes_scanned += bytes;
                    stats.binary_scanned += u64::from(outcome.binary);
                    stats.utf16_decoded += u64::from(outcome.utf16);
                }
            }
            if outcome.yaml_refused {
                stats.skip(SkipReason::YamlRefused);
            }
            stats.archive_members_scanned += outcome.archive_members;
            for (reason, at, detail) in outcome.archive_skips {
                stats.skip_listed(reason, &at, detail);
            }
        }
        if !outcome.archive_errors.is_empty() {
            self.errors
                .lock()
                .expect("errors lock")
                .extend(outcome.archive_errors);
        }
        if !outcome.facts.is_empty() {
            let commit = provenance.map(|p| p.commit.clone());
            let mut facts = self.facts.lock().expect("facts lock");
            facts.extend(outcome.facts.into_iter().map(|fact| FactRecord {
                path: path.to_string(),
                commit: commit.clone(),
                fact,
            }));
        }
        if !outcome.findings.is_empty() {
            let mut findings = self.findings.lock().expect("findings lock");
            findings.extend(outcome.findings.into_iter().map(|mut f| {
                if f.provenance.is_none() {
                    f.provenance = provenance.cloned();
                }
                f
            }));
        }
    }

    /// Record facts of a blob not read again (`--cache`: replayed as a
    /// fresh scan gave them).
    pub fn add_facts(
        &self,
        path: &str,
        facts: Vec<crate::detect::Fact>,
        provenance: Option<&Provenance>,
    ) {
        if facts.is_empty() {
            return;
        }
        let commit = provenance.map(|p| p.commit.clone());
        let mut all = self.facts.lock().expect("facts lock");
        all.extend(facts.into_iter().map(|fact| FactRecord {
            path: path.to_string(),
            commit: commit.clone(),
            fact,
        }));
    }

    /// Keep only the findings `keep` accepts (rendering replaces the
    /// file-by-file policy findings of the files it consumed).
    pub fn retain_findings(&self, keep: impl FnMut(&Finding) -> bool) {
        self.findings.lock().expect("findings lock").retain(keep);
    }

    /// Keep only the facts `keep` accepts (see [`Collector::retain_findings`]).
    pub fn retain_facts(&self, keep: impl FnMut(&FactRecord) -> bool) {
        self.facts.lock().expect("facts lock").retain(keep);
    }

    pub fn skip(&self, reason: SkipReason) {
        self.stats.lock().expect("stats lock").skip(reason);
    }

    /// Count a skip and name its path (see [`Stats::skipped_blobs`]).
    pub fn skip_path(&self, reason: SkipReason, path: &str, detail: impl Into<String>) {
        self.stats
            .lock()
            .expect("stats lock")
            .skip_listed(reason, path, detail.into());
    }

    /// A blob of `size` bytes over the size limit, which is not read. Where
    /// the scan judges what is about to enter a repository
    /// ([`ScanOptions::oversize_blocks`]) it is a scan error (the run fails,
    /// the hook rejects) unless `[limits] large-files` allows its path;
    /// elsewhere, or when allowed, a skip that is counted and listed.
    pub fn too_large(&self, scanner: &Scanner, path: &str, size: u64) {
        let limit = scanner.options.max_file_size;
        let what = format!(
            "{} is over the size limit of {}",
            human_size(size),
            human_size(limit)
        );
        if scanner.large_file_allowed(path) {
            self.skip_path(
                SkipReason::TooLarge,
                path,
                format!("{what}; not scanned, allowed by [limits] large-files"),
            );
        } else if scanner.options.oversize_blocks {
            self.error(
                path,
                format!(
                    "{what}: not scanned, so it cannot pass. Keep large files out of Git, \
                     allow the path in the config ([limits] large-files = [\"<glob>\"]), \
                     or raise --max-file-size"
                ),
            );
        } else {
            self.skip_path(SkipReason::TooLarge, path, format!("{what}; not scanned"));
        }
    }

    /// Findings a source gathered itself (e.g. merged across blob versions);
    /// they count no blob.
    pub fn add_findings(&self, findings: Vec<Finding>) {
        if !findings.is_empty() {
            self.findings
                .lock()
                .expect("findings lock")
                .extend(findings);
        }
    }

    pub fn error(&self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.lock().expect("errors lock").push(ScanError {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Apply `f` to the text of the collected findings and errors that is
    /// not from a blob: provenance authors and ref names, error messages
    /// (what [`crate::sanitize::scrub_report`] masks).
    pub fn map_report_texts(&self, f: &mut dyn FnMut(&mut String)) {
        for finding in self.findings.lock().expect("findings lock").iter_mut() {
            if let Some(p) = finding.provenance.as_mut() {
                f(&mut p.author);
                if let Some(r) = p.git_ref.as_mut() {
                    f(r);
                }
            }
        }
        for e in self.errors.lock().expect("errors lock").iter_mut() {
            f(&mut e.message);
        }
    }

    /// Adjust source-specific stats (commits walked, shallow, …).
    pub fn with_stats(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().expect("stats lock"));
    }

    /// Run the repo-level checks over the facts, then hand everything over.
    pub fn finish(self, scanner: &Scanner) -> (Vec<Finding>, Stats, Vec<ScanError>) {
        let mut findings = self.findings.into_inner().expect("findings lock");
        let facts = self.facts.into_inner().expect("facts lock");
        let mut extra = Vec::new();
        for check in scanner.repo_checks() {
            check.check(&facts, &mut extra);
        }
        extra.retain(|f| scanner.wants(f.category));
        findings.extend(extra);
        let stats = self.stats.into_inner().expect("stats lock");
        let errors = self.errors.into_inner().expect("errors lock");
        (findings, stats, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_lines_escape_control_characters_of_file_names() {
        let mut stats = Stats::default();
        stats.skip(SkipReason::TooLarge);
        stats.skipped_blobs.push(SkippedBlob {
            path: "evil\n\u{1b}]0;pwned\u{7}.bin".into(),
            reason: "too_large",
            detail: "11 MiB".into(),
        });
        let lines = skip_lines(&stats, 50);
        let listed = lines.iter().find(|l| l.contains("evil")).expect("listed");
        assert!(
            !listed.contains('\u{1b}') && !listed.contains('\u{7}'),
            "{listed:?}"
        );
        assert!(listed.contains("evil\\n\\x1b]0;pwned"), "{listed:?}");
    }

    #[test]
    fn utf16_is_decoded_with_or_without_a_byte_order_mark() {
        let text = "A=1\nkey: välue\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(
            decode_utf16(&[b"\xFF\xFE".as_slice(), &le].concat()).as_deref(),
            Some(text)
        );
        assert_eq!(
            decode_utf16(&[b"\xFE\xFF".as_slice(), &be].concat()).as_deref(),
            Some(text)
        );
        assert_eq!(decode_utf16(&le).as_deref(), Some(text));
        assert_eq!(decode_utf16(&be).as_deref(), Some(text));
        // An odd trailing byte and an unpaired surrogate become U+FFFD.
        let odd = decode_utf16(b"\xFF\xFEa\0\x00\xD8b\0c").unwrap();
        assert_eq!(odd, "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn text_images_and_utf32_are_not_taken_for_utf16() {
        assert_eq!(decode_utf16(b"TOKEN=abc\n"), None);
        assert_eq!(
            decode_utf16(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10"),
            None
        );
        assert_eq!(decode_utf16(b"\xFF\xFE\0\0a\0\0\0"), None);
        assert_eq!(decode_utf16(b"a\0"), None);
        // 16-bit samples: zero high bytes, but not printable low ones.
        let pcm: Vec<u8> = (0..400u16)
            .flat_map(|i| ((i * 7) % 32).to_le_bytes())
            .collect();
        assert_eq!(decode_utf16(&pcm), None);
        // A NUL in front of text is binary, not UTF-16.
        assert_eq!(decode_utf16(b"\0TOKEN=abcdefgh\n"), None);
    }

    #[test]
    fn binary_and_lfs() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"abc"));
        assert!(is_lfs_pointer(
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"
        ));
    }
}
