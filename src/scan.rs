//! The pipeline between sources and reports: a [`Scanner`] runs every
//! detector over one blob and prepares its findings (inline suppressions,
//! redacted code frames); a [`Collector`] gathers what all threads found.

use crate::config::Config;
use crate::detect::{self, Context, Detector, Fact, Input, Output};
use crate::error::Error;
use crate::finding::{Category, Finding, Location, Provenance, Snippet, Suppression, redact};
use crate::report::RuleInfo;
use crate::rules::{RuleSet, builtin_specs};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Options that shape every scan, whatever the source.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Files or blobs larger than this are skipped and counted.
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
}

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
        }
    }
}

/// Why a blob was not scanned. Every skip is counted in [`Stats::skipped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Over `--max-file-size`.
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
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::Symlink => "symlink",
            SkipReason::LfsPointer => "lfs_pointer",
            SkipReason::Submodule => "submodule",
            SkipReason::Excluded => "excluded",
            SkipReason::YamlRefused => "yaml_refused",
            SkipReason::MissingObject => "missing_object",
            SkipReason::SpecialFile => "special_file",
            SkipReason::GitDir => "git_dir",
        }
    }
}

/// What a scan counted. Serialised as the `stats` object of the JSON report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped: BTreeMap<&'static str, u64>,
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
    pub elapsed_ms: u64,
}

impl Stats {
    pub fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason.as_str()).or_default() += 1;
    }
}

/// An error that did not stop the scan but makes its result incomplete
/// (so the run exits 3).
#[derive(Clone, Debug, Serialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// A fact with where it came from.
#[derive(Clone, Debug)]
pub struct FactRecord {
    pub path: String,
    pub commit: Option<String>,
    pub fact: Fact,
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
}

/// Repo-level checks work on the facts every blob emitted, never by re-reading.
pub trait RepoCheck: Send + Sync {
    fn name(&self) -> &'static str;
    /// The rules this check reports.
    fn rules(&self) -> Vec<RuleInfo> {
        Vec::new()
    }
    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>);
}

/// Inline comments that suppress a finding on their line. The peers'
/// tokens are honoured so teams can migrate.
pub const INLINE_ALLOW: &[&str] = &[
    "gitops-guard:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "trufflehog:ignore",
];
/// Comments that suppress findings on the next line.
pub const INLINE_ALLOW_NEXT: &[&str] = &[
    "gitops-guard:allow-next-line",
    "pragma: allowlist nextline secret",
];

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
}

impl Scanner {
    /// Built-in rules plus the config's extra rules, minus disabled ones.
    pub fn new(config: Config, options: ScanOptions) -> Result<Scanner, Error> {
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
        })
    }

    fn wants(&self, category: Category) -> bool {
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
    pub fn scan_blob(&self, path: &str, bytes: &[u8]) -> BlobOutcome {
        let mut outcome = BlobOutcome::default();
        // Real age files are binary; the encryption checks still need them.
        if is_binary(bytes) && !detect::encryption::wants_binary(path, bytes) {
            outcome.skipped = Some(SkipReason::Binary);
            return outcome;
        }
        if is_lfs_pointer(bytes) {
            outcome.skipped = Some(SkipReason::LfsPointer);
            return outcome;
        }
        let input = Input::new(path, bytes);
        let cx = Context {
            rules: &self.rules,
            keyword_cache: self.keyword_cache.as_ref(),
            doc_memo: self.doc_memo.as_ref(),
            skip_rules: &self.options.skip_rules,
        };
        let mut out = Output::default();
        for d in &self.detectors {
            d.detect(&input, &cx, &mut out);
        }
        out.findings
            .retain(|f| self.wants(f.category) && cx.wants_rule(&f.rule));
        self.drop_shadowed_fallbacks(&mut out.findings);
        apply_annotation_suppressions(&input, &mut out.findings);
        prepare_findings(&input, &mut out.findings, self.options.show_secrets);
        if !self.options.show_secrets {
            crate::sanitize::scrub_findings(&mut out.findings);
        }
        outcome.yaml_refused = input.yaml_refused();
        outcome.findings = out.findings;
        outcome.facts = out.facts;
        outcome
    }

    /// A fallback rule's finding (the generic secret-named-key rule) yields
    /// to any other finding on an overlapping span, whichever detector made
    /// it: a plaintext Secret value or a secret env var is reported once,
    /// under the name that says what it is.
    fn drop_shadowed_fallbacks(&self, findings: &mut Vec<Finding>) {
        let is_fallback = |f: &Finding| {
            f.category == Category::Secret
                && self.rules.get(&f.rule).is_some_and(|r| r.is_fallback())
        };
        if !findings.iter().any(is_fallback) {
            return;
        }
        let overlaps = |a: &Location, b: &Location| {
            (a.line, a.column) < (b.end_line, b.end_column.max(b.column + 1))
                && (b.line, b.column) < (a.end_line, a.end_column.max(a.column + 1))
        };
        let keep: Vec<bool> = findings
            .iter()
            .map(|f| {
                !is_fallback(f)
                    || !findings
                        .iter()
                        .any(|o| !is_fallback(o) && overlaps(&f.location, &o.location))
            })
            .collect();
        let mut i = 0;
        findings.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    pub fn repo_checks(&self) -> &[Box<dyn RepoCheck>] {
        &self.repo_checks
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

/// Annotation on a Kubernetes object that suppresses findings inside it:
/// `gitops-guard.io/ignore: "rule-id[=reason][,rule-id[=reason]…]"` (a
/// category id, or `all`, works too).
pub const IGNORE_ANNOTATION: &str = "gitops-guard.io/ignore";
/// kube-linter's per-check annotation prefix, honoured where the meaning is
/// the same (see `detect::policy::KUBE_LINTER_EQUIVALENTS`).
pub const KUBE_LINTER_IGNORE_PREFIX: &str = "ignore-check.kube-linter.io/";

/// Mark findings that fall inside an object whose annotations ignore their
/// rule. Done here, once, for every manifest detector; only when the blob
/// was parsed anyway (a detector asked for its documents), and then only
/// the documents that hold a finding.
pub fn apply_annotation_suppressions(input: &Input<'_>, findings: &mut [Finding]) {
    if findings.is_empty() || !input.documents_parsed() {
        return;
    }
    let lines: Vec<usize> = findings.iter().map(|f| f.location.line).collect();
    // Only documents that carry one of the annotations can suppress.
    let annotated = |doc: &[u8]| {
        memchr::memmem::find(doc, IGNORE_ANNOTATION.as_bytes()).is_some()
            || memchr::memmem::find(doc, KUBE_LINTER_IGNORE_PREFIX.as_bytes()).is_some()
    };
    let Some(docs) = input.documents_at_lines(&lines, annotated) else {
        return;
    };
    for obj in crate::manifest::objects_of(docs) {
        let mut ignored: Vec<(String, Option<String>)> = Vec::new();
        for a in obj.annotations() {
            let Some(value) = a.value_str() else { continue };
            if a.key == IGNORE_ANNOTATION {
                for item in value.split(',') {
                    let (id, reason) = match item.split_once('=') {
                        Some((id, r)) => (id.trim(), Some(r.trim().to_string())),
                        None => (item.trim(), None),
                    };
                    if !id.is_empty() {
                        ignored.push((id.to_string(), reason));
                    }
                }
            } else if let Some(check) = a.key.strip_prefix(KUBE_LINTER_IGNORE_PREFIX) {
                for (kl, ours) in detect::policy::KUBE_LINTER_EQUIVALENTS {
                    if *kl == check {
                        ignored.push((ours.to_string(), Some(format!("kube-linter: {value}"))));
                    }
                }
            }
        }
        if ignored.is_empty() {
            continue;
        }
        let span = obj.node.span;
        let (first, last) = (
            input.line_of(span.start),
            input.line_of(span.end.saturating_sub(1).max(span.start)),
        );
        for f in findings.iter_mut() {
            if f.suppressed.is_some() || f.location.line < first || f.location.line > last {
                continue;
            }
            if let Some((_, reason)) = ignored
                .iter()
                .find(|(id, _)| id == &f.rule || id == f.category.as_str() || id == "all")
            {
                f.suppressed = Some(Suppression::Annotation {
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// A NUL byte in the first 8 KiB, as git and ripgrep decide.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

pub fn is_lfs_pointer(bytes: &[u8]) -> bool {
    bytes.len() < 1024 && bytes.starts_with(b"version https://git-lfs.github.com/spec/")
}

/// Inline suppressions and redacted code frames, for all findings of one blob
/// at once: a line may hold several secrets, and the frame of each must hide
/// all of them.
pub fn prepare_findings(input: &Input<'_>, findings: &mut [Finding], show_secrets: bool) {
    if findings.is_empty() {
        return;
    }
    let secrets: Vec<String> = findings
        .iter()
        .filter_map(|f| f.secret.as_ref().map(|s| s.expose().to_string()))
        .filter(|s| s.len() >= 4)
        .collect();
    // (line, start column, end column) of every secret-bearing finding,
    // 0-based columns, sorted by line.
    let mut masked: Vec<(usize, usize, usize)> = findings
        .iter()
        // the finding's span is its secret (a base64 Secret value decodes to
        // the secret, so a text search for it would miss the encoded form)
        .filter(|f| f.secret.is_some())
        .filter(|f| f.location.line > 0)
        .map(|f| {
            let l = &f.location;
            let end = if l.end_line == l.line {
                l.end_column.saturating_sub(1)
            } else {
                usize::MAX
            };
            (l.line, l.column.saturating_sub(1), end)
        })
        .collect();
    masked.sort_unstable();
    let contains = |hay: &[u8], tok: &str| memchr::memmem::find(hay, tok.as_bytes()).is_some();
    for f in findings.iter_mut() {
        if f.location.line == 0 {
            continue;
        }
        let (line_start, line_end) = line_range(input, f.location.line);
        let line = &input.bytes[line_start..line_end];
        if f.suppressed.is_none() {
            if let Some(tok) = INLINE_ALLOW.iter().find(|t| contains(line, t)) {
                f.suppressed = Some(Suppression::Inline {
                    token: tok.to_string(),
                });
            } else if f.location.line > 1 {
                let (ps, pe) = line_range(input, f.location.line - 1);
                let prev = &input.bytes[ps..pe];
                if let Some(tok) = INLINE_ALLOW_NEXT.iter().find(|t| contains(prev, t)) {
                    f.suppressed = Some(Suppression::Inline {
                        token: tok.to_string(),
                    });
                }
            }
        }
        // A long (minified) line is framed from a window around the finding:
        // the frame shows 160 characters of it, and masking or copying the
        // whole line for each of its findings would be quadratic.
        let col = f.location.column.saturating_sub(1);
        let end_col = (f.location.end_line == f.location.line)
            .then(|| f.location.end_column.saturating_sub(1));
        let (from, to) = if line.len() > LONG_LINE {
            let at = byte_of_column(line, col);
            let end = end_col.map_or(line.len(), |c| byte_of_column(line, c));
            (
                char_start(line, at.saturating_sub(LONG_LINE / 4)),
                char_start(line, (end + LONG_LINE / 2).min(line.len())),
            )
        } else {
            (0, line.len())
        };
        // Characters before the window: columns inside it are shifted by them.
        let skipped = crate::detect::char_count(&line[..from]);
        let raw = String::from_utf8_lossy(&line[from..to]).into_owned();
        let caret = (
            col.saturating_sub(skipped),
            match end_col {
                Some(c) => c.saturating_sub(skipped),
                None => raw.chars().count(),
            },
        );
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        if !show_secrets {
            let first = masked.partition_point(|m| m.0 < f.location.line);
            for &(_, s, e) in masked[first..]
                .iter()
                .take_while(|m| m.0 == f.location.line)
            {
                ranges.push((s.saturating_sub(skipped), e.saturating_sub(skipped)));
            }
            for s in &secrets {
                for (byte_pos, _) in raw.match_indices(s.as_str()) {
                    let start = raw[..byte_pos].chars().count();
                    ranges.push((start, start + s.chars().count()));
                }
            }
        }
        f.snippet = Some(build_snippet(&raw, caret, &mut ranges));
    }
}

/// Lines longer than this (bytes) are framed from a window around the finding.
const LONG_LINE: usize = 2048;

/// The byte offset of 0-based character column `col` of `line` (columns
/// count the bytes that are not UTF-8 continuation bytes, as
/// [`Input::line_col`] does).
fn byte_of_column(line: &[u8], col: usize) -> usize {
    line.iter()
        .enumerate()
        .filter(|(_, b)| (**b & 0xC0) != 0x80)
        .nth(col)
        .map_or(line.len(), |(i, _)| i)
}

/// `at`, moved back to the start of its character.
fn char_start(line: &[u8], mut at: usize) -> usize {
    while at > 0 && at < line.len() && (line[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    at
}

fn line_range(input: &Input<'_>, line: usize) -> (usize, usize) {
    // find any offset on `line`: binary search through line starts via line_bounds
    let mut lo = 0usize;
    let mut hi = input.bytes.len();
    while lo < hi {
        let mid = (lo + hi) / 2;
        if input.line_of(mid) < line {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    input.line_bounds(lo)
}

/// Mask `ranges` (character ranges; end clamped to the line) of `raw`, then
/// place the caret where the original `caret` range ended up.
fn build_snippet(raw: &str, caret: (usize, usize), ranges: &mut Vec<(usize, usize)>) -> Snippet {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    ranges.iter_mut().for_each(|r| {
        r.0 = r.0.min(n);
        r.1 = r.1.min(n).max(r.0);
    });
    ranges.retain(|r| r.1 > r.0);
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for &r in ranges.iter() {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    // map an original char index to its index in the masked text
    let mut text = String::with_capacity(raw.len());
    let mut map = vec![0usize; n + 1];
    let mut i = 0;
    let mut out_len = 0;
    for &(s, e) in &merged {
        while i < s {
            map[i] = out_len;
            text.push(chars[i]);
            out_len += 1;
            i += 1;
        }
        let masked = redact(&chars[s..e].iter().collect::<String>());
        let mlen = masked.chars().count();
        for (k, slot) in map[s..e].iter_mut().enumerate() {
            *slot = out_len + (k * mlen / (e - s)).min(mlen.saturating_sub(1));
        }
        text.push_str(&masked);
        out_len += mlen;
        i = e;
    }
    while i < n {
        map[i] = out_len;
        text.push(chars[i]);
        out_len += 1;
        i += 1;
    }
    map[n] = out_len;
    let cs = map[caret.0.min(n)];
    // the caret ends after the last masked/plain char of the original range
    let ce = if caret.1 > caret.0 {
        let last = caret.1.min(n).max(1) - 1;
        let inside = merged.iter().find(|&&(s, e)| last >= s && last < e);
        match inside {
            Some(&(s, e)) => {
                map[s]
                    + redact(&chars[s..e].iter().collect::<String>())
                        .chars()
                        .count()
            }
            None => map[last] + 1,
        }
    } else {
        cs + 1
    };
    // keep frames readable on minified lines
    const MAX: usize = 160;
    let tchars: Vec<char> = text.chars().collect();
    if tchars.len() > MAX {
        let from = cs.saturating_sub(60);
        let to = (from + MAX).min(tchars.len());
        let mut t: String = tchars[from..to].iter().collect();
        let mut shift = 0;
        if from > 0 {
            t.insert(0, '…');
            shift = 1;
        }
        if to < tchars.len() {
            t.push('…');
        }
        let start = cs - from + shift;
        return Snippet {
            text: t,
            caret_start: start,
            caret_len: (ce.max(cs + 1) - cs).min(MAX - (cs - from)).max(1),
        };
    }
    Snippet {
        text,
        caret_start: cs,
        caret_len: ce.saturating_sub(cs).max(1),
    }
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
                Some(reason) => stats.skip(reason),
                None => {
                    stats.blobs_scanned += 1;
                    stats.bytes_scanned += bytes;
                }
            }
            if outcome.yaml_refused {
                stats.skip(SkipReason::YamlRefused);
            }
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

    pub fn skip(&self, reason: SkipReason) {
        self.stats.lock().expect("stats lock").skip(reason);
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
    fn snippet_masks_every_range_and_moves_the_caret() {
        let raw = "key: abcdefghijklmnopqrstuvwxyz and AKIA1234567890ABCDEF";
        let mut ranges = vec![(5, 31), (36, 56)];
        let s = build_snippet(raw, (36, 56), &mut ranges);
        assert!(!s.text.contains("ghijklmnop"));
        assert!(!s.text.contains("1234567890"));
        let shown: String = s
            .text
            .chars()
            .skip(s.caret_start)
            .take(s.caret_len)
            .collect();
        assert_eq!(shown, redact("AKIA1234567890ABCDEF"));
    }

    #[test]
    fn snippet_without_masks_keeps_text() {
        let s = build_snippet("privileged: true", (12, 16), &mut Vec::new());
        assert_eq!(s.text, "privileged: true");
        assert_eq!((s.caret_start, s.caret_len), (12, 4));
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
