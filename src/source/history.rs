//! Git history: every unique blob reachable from the selected refs (or
//! introduced by a commit range) is read and scanned once, with the
//! provenance of its first introduction. Commit messages are scanned too,
//! under the pseudo-path [`COMMIT_MESSAGE_PATH`].
//!
//! Two passes (see docs/research-history-gix.md for the measurements):
//!
//! 1. **Walk** (one thread): commits in topological order, oldest first,
//!    then their trees, each unique tree decoded once. The first
//!    `(commit, path)` that carries a blob is its provenance; the number of
//!    `(commit, path)` places is computed exactly from the tree DAG without a
//!    second visit.
//! 2. **Read and scan**: a full history scan traverses the packs in pack
//!    order, resolving deltas along the delta tree (gix's own worker threads
//!    run the scanner); a range scan, which needs few blobs, reads them by oid
//!    in parallel. Whatever a pack traversal did not deliver (loose objects,
//!    alternates, a corrupt pack) is looked up by oid; what cannot be found is
//!    a missing object: a scan error (exit 3) unless `allow_missing`.

use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gix::ObjectId;
use gix::objs::Find;
use gix::odb::pack;
use rayon::prelude::*;

use crate::error::Error;
use crate::filter::glob_set;
use crate::finding::Provenance;
use crate::scan::{Collector, Scanner, SkipReason};

/// The pseudo-path under which commit messages are scanned and reported.
pub const COMMIT_MESSAGE_PATH: &str = "<commit-message>";

/// The pseudo-path under which commit identities (author and committer
/// name and email) are scanned and reported: they are text the committer
/// chose, printed with every finding, and a token pasted there is as
/// leaked as one in a message.
pub const COMMIT_IDENTITY_PATH: &str = "<commit-identity>";

/// The text scanned for a commit's identity: one `author:` and one
/// `committer:` line, `Name <email>` each.
pub fn identity_text(author: (&[u8], &[u8]), committer: (&[u8], &[u8])) -> Vec<u8> {
    let mut t = Vec::with_capacity(author.0.len() + committer.0.len() + 64);
    for (label, (name, email)) in [("author", author), ("committer", committer)] {
        t.extend_from_slice(label.as_bytes());
        t.extend_from_slice(b": ");
        t.extend_from_slice(name);
        t.extend_from_slice(b" <");
        t.extend_from_slice(email);
        t.extend_from_slice(b">\n");
    }
    t
}

/// Which refs a history scan starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RefSelection {
    /// Every ref (branches, tags, remote-tracking refs, `refs/stash`, …) and HEAD.
    #[default]
    All,
    /// Local branches only (`refs/heads/*`).
    BranchesOnly,
    /// These revisions (ref names, short names or anything `git rev-parse` accepts).
    Named(Vec<String>),
}

/// What a history scan covers.
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    pub refs: RefSelection,
    /// `A..B`: only what commits reachable from B but not from A introduce.
    pub range: Option<String>,
    /// Like `range` with `SHA..HEAD` (or `SHA..` each `--ref`).
    pub since_commit: Option<String>,
    /// Missing objects are skipped and counted instead of failing the scan.
    pub allow_missing: bool,
    /// Counters the caller may show while the scan runs.
    pub progress: Option<std::sync::Arc<HistoryProgress>>,
    /// `--cache DIR`: skip the blobs, messages and identities a previous
    /// scan with the same rules, config and options found clean (see
    /// [`crate::cache`]). An empty path means the default directory,
    /// [`crate::cache::DEFAULT_DIR`] under the git dir.
    pub cache: Option<PathBuf>,
    /// Do not use or keep the cache's findings records (`--verify` needs
    /// the secret values, which they do not hold).
    pub no_cache_records: bool,
}

/// Live counters of a history scan, for a progress display: the library
/// only counts, the caller draws (see [`HistoryProgress::render`]).
#[derive(Debug, Default)]
pub struct HistoryProgress {
    /// Commits walked so far.
    pub commits: AtomicU64,
    /// Blobs to read, known once the walk is done (0 before).
    pub blobs_total: AtomicU64,
    /// Blobs read (scanned or skipped) so far.
    pub blobs: AtomicU64,
    /// Bytes of the blobs read so far.
    pub bytes: AtomicU64,
}

impl HistoryProgress {
    /// One status line, e.g. `history: 71082 commits, 1200/161713 blobs, 310.2 MB/s`.
    pub fn render(&self, elapsed: std::time::Duration) -> String {
        let commits = self.commits.load(Ordering::Relaxed);
        let total = self.blobs_total.load(Ordering::Relaxed);
        let blobs = self.blobs.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        if total == 0 {
            return format!("history: walking commits: {commits}");
        }
        let secs = elapsed.as_secs_f64().max(1e-3);
        format!(
            "history: {commits} commits, {blobs}/{total} blobs, {:.1} MB/s",
            bytes as f64 / 1e6 / secs
        )
    }
}

/// Errors named one by one before they are summarised (a partial clone can
/// miss thousands of blobs).
const MAX_NAMED_ERRORS: usize = 20;

/// Below this share of a pack's objects, blobs are read by oid instead of
/// traversing the whole pack (an oid lookup costs ~10 sequential reads).
const LOOKUP_SHARE: usize = 10;

fn scan_err(msg: impl Into<String>) -> Error {
    Error::Scan(msg.into())
}

/// The error with all its causes, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !t.is_empty() && !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// Scan the history of the repository at (or above) `target`.
pub fn scan(
    target: &Path,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<(), Error> {
    let mut clock = crate::scan::PhaseClock::default();
    let repo = super::discover_repo(target).map_err(|e| {
        scan_err(format!(
            "{} is not a git repository: {}",
            target.display(),
            chain(&e)
        ))
    })?;
    let shallow = repo.is_shallow().unwrap_or(false);
    let uncommitted = uncommitted_changes(&repo);
    let cache = opts.cache.as_ref().map(|dir| {
        let dir = if dir.as_os_str().is_empty() {
            repo.git_dir().join(crate::cache::DEFAULT_DIR)
        } else {
            dir.clone()
        };
        crate::cache::BlobCache::open(&dir, scanner, !opts.no_cache_records)
    });
    let cache = cache.as_ref();
    let excludes = glob_set(&scanner.options.exclude)?;

    let Selection {
        commits,
        boundary,
        objects: ref_objects,
        tags,
        problems,
    } = select_commits(&repo, opts)?;
    for (name, msg) in problems {
        if opts.allow_missing {
            collector.skip(SkipReason::MissingObject);
        } else {
            collector.error(name, format!("{msg}; --allow-missing skips it"));
        }
    }
    clock.lap("open repository, select refs", false);
    let progress = opts.progress.clone().unwrap_or_default();
    // A whole history reads every commit and tree: decode them all first,
    // in parallel, one pass over the packs (the walk itself cannot be
    // shared between threads, and inflating them one by one was most of it).
    let objects_dir = repo.objects.store_ref().path().to_path_buf();
    let pre = match predecode_budget(&objects_dir) {
        Some(budget)
            if boundary.is_empty() && pack_object_count(&objects_dir) >= PREDECODE_MIN_OBJECTS =>
        {
            Some(Predecoded::read(
                &objects_dir,
                threads_of(scanner),
                scanner.options.max_file_size,
                budget,
            ))
        }
        _ => None,
    };
    clock.lap("decode commits and trees", true);
    let history = walk(
        &repo,
        pre.as_ref(),
        &commits,
        &boundary,
        &ref_objects,
        collector,
        &progress,
    )?;
    drop(pre);
    clock.lap("walk commits and trees", false);
    collector.with_stats(|s| {
        // Pseudo-commits standing for trees and blobs refs point at are not commits.
        s.commits_scanned = Some((history.commits.len() - history.pseudo) as u64);
        s.shallow = Some(shallow);
        s.uncommitted_changes = uncommitted;
    });
    for _ in 0..history.gitlinks {
        collector.skip(SkipReason::Submodule);
    }

    // Annotated tag messages: content a ref reaches, as in a push.
    for t in &tags {
        if t.message.is_empty() {
            continue;
        }
        let path = super::pushed::TAG_MESSAGE_PATH;
        let mut outcome = scanner.scan_blob(path, &t.message);
        if let Some(c) = cache {
            c.annotate(&mut outcome.findings);
        }
        let p = Provenance {
            commit: t.id.to_string(),
            author: t.tagger.clone(),
            date: crate::time::rfc3339(t.time),
            occurrences: 0,
            at_head: false,
            git_ref: Some(t.git_ref.clone()),
        };
        collector.add(path, t.message.len() as u64, outcome, Some(&p));
    }

    // Commit messages, in parallel.
    history.messages.par_iter().for_each(|(ci, msg)| {
        let id = history.commits[*ci as usize].id;
        let parts: [&[u8]; 1] = [id.as_bytes()];
        if let Some(c) = cache
            && let Some(clean) = c.lookup(crate::cache::Kind::Message, &parts)
        {
            let mut p = history.commit_provenance(*ci);
            p.at_head = false;
            collector.add_facts(COMMIT_MESSAGE_PATH, clean.facts(), Some(&p));
            return;
        }
        let mut outcome = scanner.scan_blob(COMMIT_MESSAGE_PATH, msg);
        if let Some(c) = cache {
            c.annotate(&mut outcome.findings);
            c.offer(
                crate::cache::Kind::Message,
                &parts,
                &outcome,
                COMMIT_MESSAGE_PATH,
            );
        }
        if outcome.findings.is_empty() && outcome.facts.is_empty() {
            collector.add(COMMIT_MESSAGE_PATH, msg.len() as u64, outcome, None);
        } else {
            let mut p = history.commit_provenance(*ci);
            p.at_head = false;
            collector.add(COMMIT_MESSAGE_PATH, msg.len() as u64, outcome, Some(&p));
        }
    });
    // Each distinct identity once, attributed to the first commit using it.
    history.identities.par_iter().for_each(|(ci, text)| {
        let parts: [&[u8]; 1] = [text];
        if let Some(c) = cache
            && let Some(clean) = c.lookup(crate::cache::Kind::Identity, &parts)
        {
            let p = history.commit_provenance(*ci);
            collector.add_facts(COMMIT_IDENTITY_PATH, clean.facts(), Some(&p));
            return;
        }
        let mut outcome = scanner.scan_blob(COMMIT_IDENTITY_PATH, text);
        if let Some(c) = cache {
            c.annotate(&mut outcome.findings);
            c.offer(
                crate::cache::Kind::Identity,
                &parts,
                &outcome,
                COMMIT_IDENTITY_PATH,
            );
        }
        if outcome.findings.is_empty() && outcome.facts.is_empty() {
            collector.add(COMMIT_IDENTITY_PATH, text.len() as u64, outcome, None);
        } else {
            let p = history.commit_provenance(*ci);
            collector.add(COMMIT_IDENTITY_PATH, text.len() as u64, outcome, Some(&p));
        }
    });

    clock.lap("scan commit messages and identities", true);
    // Which blobs to read: introduced by the selected commits, not excluded.
    let wanted: Vec<AtomicBool> = (0..history.blobs.len())
        .map(|_| AtomicBool::new(false))
        .collect();
    let mut n_wanted = 0usize;
    let merger = Merger::default();
    for (i, b) in history.blobs.iter().enumerate() {
        if b.commit == SEED {
            continue;
        }
        if !excludes.is_empty() && excludes.is_match(history.path_str(b.path).as_ref()) {
            collector.skip(SkipReason::Excluded);
            continue;
        }
        if let Some(c) = cache {
            let path = history.path_str(b.path);
            let parts: [&[u8]; 2] = [history.blob_ids[i].as_bytes(), path.as_bytes()];
            if let Some(clean) = c.lookup(crate::cache::Kind::Blob, &parts) {
                // Its facts as a fresh scan gives them to the repo checks.
                let facts = clean.facts();
                if !facts.is_empty() {
                    let p = history.blob_provenance(i as u32);
                    collector.add_facts(&path, facts, Some(&p));
                }
                continue;
            }
            // Findings without a secret value, as a previous scan gave them:
            // merged with this run's provenance like a fresh blob's.
            if let Some((findings, facts)) = c.lookup_findings(&parts, &path) {
                let p = history.blob_provenance(i as u32);
                collector.add_facts(&path, facts, Some(&p));
                merger.offer(findings, &p, b.commit);
                continue;
            }
        }
        wanted[i].store(true, Ordering::Relaxed);
        n_wanted += 1;
    }
    let reader = BlobReader {
        history: &history,
        wanted: &wanted,
        scanner,
        collector,
        cache,
        delivered: AtomicU64::new(0),
        progress: &progress,
        merger,
    };
    progress
        .blobs_total
        .store(n_wanted as u64, Ordering::Relaxed);
    clock.lap("select blobs", false);

    let objects_dir = repo.objects.store_ref().path().to_path_buf();
    let in_packs = pack_object_count(&objects_dir);
    if n_wanted > 0 && n_wanted * LOOKUP_SHARE >= in_packs {
        // Full history: one pass over the packs. The repository's own store
        // is dropped first: two mappings of the same pack both count in RSS.
        let threads = threads_of(scanner);
        let git_dir = repo.git_dir().to_path_buf();
        drop(repo);
        reader.traverse_packs(&objects_dir, threads);
        reader.loose(&objects_dir);
        if reader.delivered.load(Ordering::Relaxed) < n_wanted as u64 {
            let repo = super::open_repo(&git_dir).map_err(|e| scan_err(chain(&e)))?;
            reader.by_oid(&repo);
        }
    } else if n_wanted > 0 {
        reader.by_oid(&repo);
    }

    let merged = reader.merger.into_findings();
    let replayed: Vec<crate::finding::Finding> = match cache {
        Some(_) => merged
            .iter()
            .filter(|f| f.secret.as_ref().is_some_and(|s| s.kept().is_some()))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    collector.add_findings(merged);
    clock.lap("read and scan blobs", true);
    if let Some(c) = cache {
        // Holds only what was read and found clean in this run or an
        // earlier one: whatever failed above stays out and is read again.
        c.save();
        collector.with_stats(|s| s.cache = Some(c.stats()));
        clock.lap("write cache", false);
    }
    collector.with_stats(|s| s.phases.append(&mut clock.phases));

    // Whatever is still wanted could not be read.
    let mut missing = 0usize;
    for (i, w) in wanted.iter().enumerate() {
        if !w.load(Ordering::Relaxed) {
            continue;
        }
        let b = &history.blobs[i];
        let path = history.path_str(b.path).into_owned();
        if opts.allow_missing {
            collector.skip(SkipReason::MissingObject);
        } else {
            if missing < MAX_NAMED_ERRORS {
                let c = &history.commits[b.commit as usize];
                collector.error(
                    path,
                    format!(
                        "missing object {} (blob first seen in commit {}); --allow-missing skips it",
                        history.blob_ids[i], c.id
                    ),
                );
            }
            missing += 1;
        }
    }
    for id in &history.missing {
        if opts.allow_missing {
            collector.skip(SkipReason::MissingObject);
        } else {
            if missing < MAX_NAMED_ERRORS {
                collector.error(
                    "<repository>",
                    format!("missing object {id} (a commit or tree); --allow-missing skips it"),
                );
            }
            missing += 1;
        }
    }
    if missing > MAX_NAMED_ERRORS {
        collector.error(
            "<repository>",
            format!(
                "{} more missing objects not listed",
                missing - MAX_NAMED_ERRORS
            ),
        );
    }
    if let Some(c) = cache {
        // Replayed secrets have no value for the whole-report masking of
        // authors, ref names and errors: found again by keyed digest.
        c.mask_replayed(&replayed, |mask| collector.map_report_texts(mask));
    }
    Ok(())
}

/// Reads wanted blobs and hands each to the scanner exactly once.
struct BlobReader<'a> {
    history: &'a History,
    /// Set while a blob still has to be read; cleared by whoever reads it.
    wanted: &'a [AtomicBool],
    scanner: &'a Scanner,
    collector: &'a Collector,
    /// Where clean outcomes are entered (`--cache`).
    cache: Option<&'a crate::cache::BlobCache>,
    delivered: AtomicU64,
    progress: &'a HistoryProgress,
    merger: Merger,
}

impl BlobReader<'_> {
    /// Claim blob `id` if it is wanted and not read yet.
    fn claim(&self, id: &gix::oid) -> Option<u32> {
        let i = self.history.blob_index(id)?;
        self.wanted[i as usize]
            .swap(false, Ordering::AcqRel)
            .then_some(i)
    }

    fn handle(&self, i: u32, bytes: &[u8]) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.progress.blobs.fetch_add(1, Ordering::Relaxed);
        self.progress
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let b = &self.history.blobs[i as usize];
        let path = self.history.path_str(b.path);
        if bytes.len() as u64 > self.scanner.options.max_file_size {
            self.collector
                .too_large(self.scanner, &path, bytes.len() as u64);
            return;
        }
        let mut outcome = self.scanner.scan_blob(&path, bytes);
        if let Some(c) = self.cache {
            // Keyed by the path too: detectors judge by file name, the
            // same bytes elsewhere may not be clean.
            let parts: [&[u8]; 2] = [
                self.history.blob_ids[i as usize].as_bytes(),
                path.as_bytes(),
            ];
            c.offer(crate::cache::Kind::Blob, &parts, &outcome, &path);
            c.annotate(&mut outcome.findings);
        }
        if outcome.findings.is_empty() && outcome.facts.is_empty() {
            self.collector.add(&path, bytes.len() as u64, outcome, None);
        } else {
            let p = self.history.blob_provenance(i);
            let findings = std::mem::take(&mut outcome.findings);
            self.collector
                .add(&path, bytes.len() as u64, outcome, Some(&p));
            self.merger.offer(findings, &p, b.commit);
        }
    }

    /// Blob `i`, known from its header to be over the size limit: counted
    /// as read, never inflated.
    fn too_large(&self, i: u32, size: u64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.progress.blobs.fetch_add(1, Ordering::Relaxed);
        let b = &self.history.blobs[i as usize];
        self.collector
            .too_large(self.scanner, &self.history.path_str(b.path), size);
    }

    fn traverse_packs(&self, objects_dir: &Path, threads: Option<usize>) {
        for idx in pack_indices(objects_dir) {
            let bundle = match pack::Bundle::at(&idx, gix::hash::Kind::Sha1) {
                Ok(b) => b,
                Err(e) => {
                    // Its objects are looked up one by one afterwards.
                    self.collector.error(
                        idx.display().to_string(),
                        format!("cannot open pack: {}", chain(&e)),
                    );
                    continue;
                }
            };
            let interrupt = AtomicBool::new(false);
            let processor = |kind: gix::objs::Kind,
                             bytes: &[u8],
                             entry: &pack::index::Entry,
                             _: &dyn gix::Progress|
             -> gix::Result<()> {
                if kind == gix::objs::Kind::Blob
                    && let Some(i) = self.claim(&entry.oid)
                {
                    self.handle(i, bytes);
                }
                Ok(())
            };
            let limit = self.scanner.options.max_file_size;
            let result = traverse_pack(&bundle, threads, limit, &interrupt, processor);
            if let Err(e) = result {
                // Not fatal yet: the objects not delivered are looked up one
                // by one, which names the damaged ones.
                let name = idx
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.collector.error(
                    format!("<pack {name}>"),
                    format!("pack traversal failed: {}", chain(&e)),
                );
            }
        }
    }

    fn loose(&self, objects_dir: &Path) {
        let store = gix::odb::loose::Store::at(objects_dir, gix::hash::Kind::Sha1);
        let mut buf = Vec::new();
        for id in store.iter().flatten() {
            if self
                .history
                .blob_index(&id)
                .is_none_or(|i| !self.wanted[i as usize].load(Ordering::Relaxed))
            {
                continue;
            }
            // Judged by the size in its header: never inflated when over the limit.
            if let Ok(Some((size, gix::objs::Kind::Blob))) = store.try_header(&id)
                && size > self.scanner.options.max_file_size
                && let Some(i) = self.claim(&id)
            {
                self.too_large(i, size);
                continue;
            }
            // Leave errors to the lookup pass, which reports them.
            if let Ok(Some(data)) = store.try_find(&id, &mut buf)
                && data.kind == gix::objs::Kind::Blob
                && let Some(i) = self.claim(&id)
            {
                self.handle(i, data.data);
            }
        }
    }

    /// Read every still-wanted blob by oid, in parallel.
    fn by_oid(&self, repo: &gix::Repository) {
        let todo: Vec<u32> = self
            .wanted
            .iter()
            .enumerate()
            .filter(|(_, w)| w.load(Ordering::Relaxed))
            .map(|(i, _)| i as u32)
            .collect();
        let shared = repo.clone().into_sync();
        todo.par_iter().for_each_init(
            || {
                // A missing object is reported, not waited for: by default
                // each miss re-reads the object directories (about 0.3 s
                // each on argo-cd, whose snapshot misses 105 blobs: most of
                // a cached rescan).
                let mut repo = shared.to_thread_local();
                repo.objects.refresh_never();
                (repo, Vec::new())
            },
            |(repo, buf), &i| {
                let id = self.history.blob_ids[i as usize];
                if let Ok(Some(h)) = repo.try_find_header(id)
                    && h.kind() == gix::objs::Kind::Blob
                    && h.size() > self.scanner.options.max_file_size
                {
                    if self.wanted[i as usize].swap(false, Ordering::AcqRel) {
                        self.too_large(i, h.size());
                    }
                    return;
                }
                match repo.objects.try_find(&id, buf) {
                    Ok(Some(data)) if data.kind == gix::objs::Kind::Blob => {
                        if self.wanted[i as usize].swap(false, Ordering::AcqRel) {
                            self.handle(i, data.data);
                        }
                    }
                    Ok(Some(data)) => {
                        self.wanted[i as usize].store(false, Ordering::Relaxed);
                        let b = &self.history.blobs[i as usize];
                        self.collector.error(
                            self.history.path_str(b.path).into_owned(),
                            format!("object {id} is a {}, not a blob", data.kind),
                        );
                    }
                    // Stays wanted: reported as missing.
                    Ok(None) => {}
                    Err(e) => {
                        self.wanted[i as usize].store(false, Ordering::Relaxed);
                        let b = &self.history.blobs[i as usize];
                        self.collector.error(
                            self.history.path_str(b.path).into_owned(),
                            format!("cannot read object {id}: {}", chain(&e)),
                        );
                    }
                }
            },
        );
    }
}

fn pack_indices(objects_dir: &Path) -> Vec<PathBuf> {
    let mut idx: Vec<PathBuf> = std::fs::read_dir(objects_dir.join("pack"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    idx.retain(|p| p.extension().is_some_and(|e| e == "idx"));
    idx.sort();
    idx
}

/// Objects in the packs of `objects_dir`, from the index headers.
fn pack_object_count(objects_dir: &Path) -> usize {
    pack_indices(objects_dir)
        .iter()
        .filter_map(|p| pack::index::File::at(p, gix::hash::Kind::Sha1).ok())
        .map(|i| i.num_objects() as usize)
        .sum()
}

// ---------------------------------------------------------------------------
// Commit selection

/// What a ref points at, its tags peeled.
struct Tip {
    id: ObjectId,
    kind: gix::objs::Kind,
    /// The ref (or revision) it was reached from.
    name: String,
    /// The annotated tag objects on the way (their messages are content).
    tags: Vec<TagRec>,
}

/// An annotated tag object a ref reaches: its message is scanned under
/// [`crate::source::pushed::TAG_MESSAGE_PATH`], as a push's are.
struct TagRec {
    id: ObjectId,
    git_ref: String,
    tagger: String,
    time: i64,
    message: Vec<u8>,
}

/// A tree or blob a ref points at: its id, the ref's name, its kind.
type RefObject = (ObjectId, String, gix::objs::Kind);

/// A ref that could not be followed: its name and why.
type RefProblem = (String, String);

/// Follow `id` (what ref `name` points at) through annotated tags to the
/// object they end at, whatever its type: a ref to a blob or a tree is
/// content like any other.
fn resolve(repo: &gix::Repository, mut id: ObjectId, name: &str) -> Result<Tip, String> {
    let mut buf = Vec::new();
    let mut tags = Vec::new();
    for _ in 0..32 {
        match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Tag => {
                let tag = gix::objs::TagRef::from_bytes(d.data, gix::hash::Kind::Sha1)
                    .map_err(|e| format!("ref {name}: cannot parse tag {id}: {}", chain(&e)))?;
                let (tagger, time) = match tag.tagger() {
                    Ok(Some(sig)) => (format!("{} <{}>", sig.name, sig.email), sig.seconds()),
                    _ => (String::new(), 0),
                };
                tags.push(TagRec {
                    id,
                    git_ref: name.to_string(),
                    tagger,
                    time,
                    message: tag.message.to_vec(),
                });
                id = tag.target();
            }
            Ok(Some(d)) => {
                return Ok(Tip {
                    id,
                    kind: d.kind,
                    name: name.to_string(),
                    tags,
                });
            }
            Ok(None) => return Err(format!("ref {name} points to a missing object {id}")),
            Err(e) => {
                return Err(format!(
                    "ref {name}: cannot read object {id}: {}",
                    chain(&e)
                ));
            }
        }
    }
    Err(format!("ref {name}: tag chain too long at {id}"))
}

/// The objects the selected refs point at. A ref that cannot be read or
/// points at a missing object is a problem, never silently skipped (the
/// caller makes it a scan error, or a counted skip with `--allow-missing`);
/// a symbolic ref to an unborn branch points at nothing and is no problem.
fn tips(
    repo: &gix::Repository,
    sel: &RefSelection,
    head_default: bool,
) -> Result<(Vec<Tip>, Vec<RefProblem>), Error> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let refs_err = |e: gix::Error| scan_err(format!("cannot read refs: {}", chain(&e)));
    let mut add =
        |id: ObjectId, name: String, problems: &mut Vec<RefProblem>| match resolve(repo, id, &name)
        {
            Ok(t) => out.push(t),
            Err(msg) => problems.push((name, msg)),
        };
    let head = |add: &mut dyn FnMut(ObjectId, String, &mut Vec<RefProblem>),
                problems: &mut Vec<RefProblem>| {
        match repo.head() {
            Ok(h) => {
                if let Some(id) = h.id() {
                    add(id.detach(), "HEAD".to_string(), problems);
                }
            }
            Err(e) => problems.push(("HEAD".into(), format!("cannot read HEAD: {}", chain(&e)))),
        }
    };
    match sel {
        RefSelection::Named(names) => {
            for n in names {
                let id = repo
                    .rev_parse_single(n.as_str())
                    .map_err(|e| Error::Usage(format!("unknown ref `{n}`: {}", chain(&e))))?;
                add(id.detach(), n.clone(), &mut problems);
            }
            // Named on the command line: a broken one is fatal.
            if let Some((_, msg)) = problems.pop() {
                return Err(scan_err(msg));
            }
        }
        RefSelection::All | RefSelection::BranchesOnly if head_default => {
            head(&mut add, &mut problems);
        }
        RefSelection::All | RefSelection::BranchesOnly => {
            let platform = repo.references().map_err(refs_err)?;
            let mut iters = Vec::new();
            if *sel == RefSelection::BranchesOnly {
                iters.push(platform.local_branches().map_err(refs_err)?);
                // What `git log` shows for these branches includes the
                // replacement objects: judge them too.
                iters.push(platform.prefixed("refs/replace/").map_err(refs_err)?);
            } else {
                iters.push(platform.all().map_err(refs_err)?);
            }
            for r in iters.into_iter().flatten() {
                let r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        // gix quotes the file's content; a ref file can hold anything.
                        let msg = chain(&e);
                        let msg = msg.split(", input=").next().unwrap_or_default();
                        problems.push(("<refs>".into(), format!("cannot read a ref: {msg}")));
                        continue;
                    }
                };
                let name = r.name().as_bstr().to_string();
                // A symbolic ref: its target is a ref of its own (or unborn).
                if let Some(id) = r.target().try_id() {
                    add(id.to_owned(), name, &mut problems);
                }
            }
            if *sel == RefSelection::All {
                head(&mut add, &mut problems);
            }
        }
    }
    out.sort_by(|a, b| (a.id, &a.name).cmp(&(b.id, &b.name)));
    // Tags are kept from every ref, even where two refs reach the same object.
    let mut tags: Vec<TagRec> = out.iter_mut().flat_map(|t| t.tags.drain(..)).collect();
    tags.sort_by(|a, b| (a.id, &a.git_ref).cmp(&(b.id, &b.git_ref)));
    tags.dedup_by_key(|t| t.id);
    out.dedup_by_key(|t| t.id);
    if let Some(first) = out.first_mut() {
        first.tags = tags;
    }
    Ok((out, problems))
}

/// What a history scan starts from.
struct Selection {
    /// Commits to walk (unordered).
    commits: Vec<ObjectId>,
    /// Boundary commits whose content counts as already known (ranges).
    boundary: Vec<ObjectId>,
    /// Trees and blobs refs point at directly, with the ref's name.
    objects: Vec<RefObject>,
    /// Annotated tag objects the refs reach.
    tags: Vec<TagRec>,
    /// Refs that could not be followed.
    problems: Vec<RefProblem>,
}

/// The commits to walk (unordered) and the boundary commits whose content
/// counts as already known (range scans).
fn select_commits(repo: &gix::Repository, opts: &HistoryOptions) -> Result<Selection, Error> {
    let (tips, hidden, problems) = if let Some(range) = &opts.range {
        if range.contains("...") {
            return Err(Error::Usage(format!(
                "--range `{range}`: use A..B (commits in B not in A); A...B is not supported"
            )));
        }
        let Some((a, b)) = range.split_once("..") else {
            return Err(Error::Usage(format!("--range `{range}`: expected A..B")));
        };
        let b = if b.is_empty() { "HEAD" } else { b };
        let tip = rev_commit(repo, b)?;
        let hidden = rev_commit(repo, a)?;
        (vec![tip], vec![hidden], Vec::new())
    } else if let Some(since) = &opts.since_commit {
        let hidden = rev_commit(repo, since)?;
        let (tips, problems) = tips(repo, &opts.refs, opts.refs == RefSelection::All)?;
        // What commits after SHA introduce: refs to trees and blobs carry no commits.
        let tips: Vec<ObjectId> = tips
            .into_iter()
            .filter(|t| t.kind == gix::objs::Kind::Commit)
            .map(|t| t.id)
            .collect();
        (tips, vec![hidden], problems)
    } else {
        let (mut tips, problems) = tips(repo, &opts.refs, false)?;
        let tags = tips.iter_mut().flat_map(|t| t.tags.drain(..)).collect();
        let (commits, objects): (Vec<Tip>, Vec<Tip>) = tips
            .into_iter()
            .partition(|t| t.kind == gix::objs::Kind::Commit);
        return Ok(Selection {
            commits: commits.into_iter().map(|t| t.id).collect(),
            boundary: Vec::new(),
            objects: objects
                .into_iter()
                .map(|t| (t.id, t.name, t.kind))
                .collect(),
            tags,
            problems,
        });
    };
    // Ranges: gix's walk with hidden tips; the boundary is every parent of a
    // range commit that is not itself in the range.
    let walk = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .all()
        .map_err(|e| scan_err(format!("cannot walk the range: {}", chain(&e))))?;
    let mut commits = Vec::new();
    let mut parents = Vec::new();
    for info in walk {
        let info = info.map_err(|e| scan_err(format!("cannot walk the range: {}", chain(&e))))?;
        commits.push(info.id);
        parents.extend(info.parent_ids.iter().copied());
    }
    let set: gix::hashtable::HashSet<ObjectId> = commits.iter().copied().collect();
    let mut boundary: Vec<ObjectId> = parents.into_iter().filter(|p| !set.contains(p)).collect();
    boundary.sort();
    boundary.dedup();
    Ok(Selection {
        commits,
        boundary,
        objects: Vec::new(),
        tags: Vec::new(),
        problems,
    })
}

fn rev_commit(repo: &gix::Repository, spec: &str) -> Result<ObjectId, Error> {
    let id = repo
        .rev_parse_single(format!("{spec}^{{commit}}").as_str())
        .map_err(|e| Error::Usage(format!("`{spec}` is not a commit: {}", chain(&e))))?;
    Ok(id.detach())
}

// ---------------------------------------------------------------------------
// The walk: commits, trees, provenance

/// Marks blobs and trees of boundary commits: known, not scanned.
const SEED: u32 = u32::MAX;
const NONE: u32 = u32::MAX;
const IN_PROGRESS: u32 = u32::MAX - 1;

#[derive(Default)]
struct Interner {
    map: HashMap<Box<[u8]>, u32>,
    items: Vec<Box<[u8]>>,
}

impl Interner {
    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.items.len() as u32;
        let b: Box<[u8]> = s.into();
        self.items.push(b.clone());
        self.map.insert(b, i);
        i
    }

    fn get(&self, i: u32) -> &[u8] {
        &self.items[i as usize]
    }
}

struct CommitRec {
    id: ObjectId,
    /// Author time, seconds since the epoch.
    time: i64,
    author: u32,
}

struct BlobRec {
    /// Index into `History::commits`, or [`SEED`] for a blob the boundary
    /// already had.
    commit: u32,
    path: u32,
    /// `(commit, path)` places that carry the blob.
    places: u64,
    at_head: bool,
}

/// What the walk learned: commits in topological order, every blob's first
/// introduction, occurrence counts.
struct History {
    commits: Vec<CommitRec>,
    /// Pseudo-commits standing for a tree or blob a ref points at: the ref.
    ref_names: HashMap<u32, String>,
    /// How many of `commits` are such pseudo-commits.
    pseudo: usize,
    blob_ix: gix::hashtable::HashMap<ObjectId, u32>,
    blob_ids: Vec<ObjectId>,
    blobs: Vec<BlobRec>,
    paths: Interner,
    authors: Interner,
    messages: Vec<(u32, Vec<u8>)>,
    /// Distinct commit identities ([`identity_text`]), each with the first
    /// commit (topological index) that carries it.
    identities: Vec<(u32, Vec<u8>)>,
    gitlinks: u64,
    missing: Vec<ObjectId>,
}

impl History {
    fn blob_index(&self, id: &gix::oid) -> Option<u32> {
        self.blob_ix.get(id).copied()
    }

    fn path_str(&self, p: u32) -> std::borrow::Cow<'_, str> {
        // Lossless for names that are not UTF-8 (see `sanitize::path_from_bytes`).
        let b = self.paths.get(p);
        match std::str::from_utf8(b) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => std::borrow::Cow::Owned(crate::sanitize::path_from_bytes(b)),
        }
    }

    fn commit_provenance(&self, ci: u32) -> Provenance {
        let c = &self.commits[ci as usize];
        let git_ref = self.ref_names.get(&ci).cloned();
        Provenance {
            commit: c.id.to_string(),
            author: String::from_utf8_lossy(self.authors.get(c.author)).into_owned(),
            // An object a ref points at has no date.
            date: if git_ref.is_some() {
                String::new()
            } else {
                crate::time::rfc3339(c.time)
            },
            occurrences: 0,
            at_head: false,
            git_ref,
        }
    }

    fn blob_provenance(&self, i: u32) -> Provenance {
        let b = &self.blobs[i as usize];
        let mut p = self.commit_provenance(b.commit);
        p.occurrences = b.places.saturating_sub(1);
        // What a ref points at right now is current, not past history.
        p.at_head = b.at_head || p.git_ref.is_some();
        p
    }
}

/// Packs with fewer objects are walked by lookups alone.
const PREDECODE_MIN_OBJECTS: usize = 20_000;
/// Whether to decode commits and trees ahead of the walk, and how many bytes
/// of them at most. The pass decodes every object of the packs, blobs too,
/// so it pays where packs are small and trees are a large share of them (the
/// generated fleet repository: 240 MB of trees, 200 MB of blobs, the walk was
/// half the scan); on argo-cd (340 MB of packs, 17 GB of blobs) it would cost
/// more than the walk it saves, and memory. The budget keeps the packs'
/// mapped pages and the decoded objects within 384 MiB together.
fn predecode_budget(objects_dir: &Path) -> Option<usize> {
    let packs: u64 = pack_indices(objects_dir)
        .iter()
        .filter_map(|idx| std::fs::metadata(idx.with_extension("pack")).ok())
        .map(|m| m.len())
        .sum();
    let packs = usize::try_from(packs).unwrap_or(usize::MAX);
    (packs <= PREDECODE_MAX_PACKS).then(|| (PREDECODE_WITH_PACKS - packs).min(256 << 20))
}
const PREDECODE_MAX_PACKS: usize = 256 << 20;
const PREDECODE_WITH_PACKS: usize = 384 << 20;

/// How every pack is traversed: the delta tree (each base decoded once),
/// without SHA-1 checks (zlib's checksum still catches damaged streams; the
/// SHA-1 of every object would quadruple the cost).
fn traversal_options(
    threads: Option<usize>,
) -> pack::index::traverse::Options<fn() -> pack::cache::Never> {
    pack::index::traverse::Options {
        traversal: pack::index::traverse::Algorithm::DeltaTreeLookup,
        thread_limit: threads,
        check: pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
        alloc_limit_bytes: None,
        make_pack_lookup_cache: || pack::cache::Never,
    }
}

/// Traverse one pack (see [`traversal_options`]), handing every decoded
/// object to `processor`, without inflating any object over `limit` bytes.
///
/// The entry headers say each undeltified object's size before anything is
/// inflated. When none is over the limit (the usual case) this is gix's own
/// traversal. Otherwise the delta tree is built from the other entries only:
/// the big objects and the deltas based on them (directly or through other
/// deltas) are left out, stay wanted, and are judged afterwards by oid,
/// size from the header first (a 1 GB blob in history is then never
/// inflated: the traversal used to, 1 GB of memory to count it as too large).
fn traverse_pack<P>(
    bundle: &pack::Bundle,
    threads: Option<usize>,
    limit: u64,
    interrupt: &AtomicBool,
    mut processor: P,
) -> gix::Result<()>
where
    P: FnMut(gix::objs::Kind, &[u8], &pack::index::Entry, &dyn gix::Progress) -> gix::Result<()>
        + Send
        + Clone,
{
    use pack::data::entry::Header;
    let (index, data) = (&bundle.index, &bundle.pack);
    let mut entries: Vec<pack::index::Entry> = index.iter().collect();
    let over: std::collections::HashSet<u64> = entries
        .iter()
        .filter(|e| {
            data.entry(e.pack_offset)
                .is_ok_and(|h| h.header.as_kind().is_some() && h.decompressed_size > limit)
        })
        .map(|e| e.pack_offset)
        .collect();
    if over.is_empty() {
        return index
            .traverse(
                data,
                &mut gix::utils::progress::Discard,
                interrupt,
                processor,
                traversal_options(threads),
            )
            .map(|_| ());
    }
    entries.sort_unstable_by_key(|e| e.pack_offset);
    let base_of = |offset: u64| -> Option<u64> {
        let entry = data.entry(offset).ok()?;
        match entry.header {
            Header::OfsDelta { base_distance } => entry.checked_base_pack_offset(base_distance),
            Header::RefDelta { base_id } => {
                index.lookup(base_id).map(|i| index.pack_offset_at_index(i))
            }
            _ => None,
        }
    };
    // Offset deltas follow their bases: one pass finds them all; a ref delta
    // may come before its base, so repeat until nothing changes.
    let mut left_out = over;
    loop {
        let before = left_out.len();
        for e in &entries {
            if !left_out.contains(&e.pack_offset)
                && base_of(e.pack_offset).is_some_and(|b| left_out.contains(&b))
            {
                left_out.insert(e.pack_offset);
            }
        }
        if left_out.len() == before {
            break;
        }
    }
    entries.retain(|e| !left_out.contains(&e.pack_offset));
    let tree = pack::cache::delta::Tree::from_offsets_in_pack(
        data.path(),
        entries.into_iter(),
        &|e: &pack::index::Entry| e.pack_offset,
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut gix::utils::progress::Discard,
        interrupt,
        index.object_hash(),
    )?;
    let mut size_progress = gix::utils::progress::Discard;
    tree.traverse(
        |slice, pack: &pack::data::File| pack.entry_slice(slice),
        data,
        data.pack_end() as u64,
        move |e: &mut pack::index::Entry, progress, cx| {
            let kind = cx
                .entry
                .header
                .as_kind()
                .ok_or_else(|| gix::error::message("a delta was not resolved"))?;
            processor(kind, cx.decompressed, e, progress)
        },
        pack::cache::delta::traverse::Options {
            object_progress: Box::new(gix::utils::progress::Discard),
            size_progress: &mut size_progress,
            thread_limit: threads,
            should_interrupt: interrupt,
            object_hash: index.object_hash(),
            alloc_limit_bytes: None,
        },
    )?;
    Ok(())
}

fn threads_of(scanner: &Scanner) -> Option<usize> {
    match scanner.options.threads {
        0 => None,
        n => Some(n),
    }
}

/// Every commit and tree of the packs, decoded ahead of the walk by a
/// parallel traversal (each delta base inflated once), and handed to the
/// walk one by one: each is taken out when read, so the memory goes as the
/// walk proceeds. Loose objects and anything missing are looked up as before.
struct Predecoded {
    shards: Vec<std::sync::Mutex<DecodedShard>>,
}

type DecodedShard = gix::hashtable::HashMap<ObjectId, Decoded>;

/// A predecoded object: a tree already parsed (in the parallel pass, so the
/// walk's single thread only follows it), anything else as bytes.
enum Decoded {
    Tree(ParsedTree),
    Raw(gix::objs::Kind, Box<[u8]>),
}

/// A tree's entries, names in one buffer (no allocation per entry).
#[derive(Default)]
struct ParsedTree {
    /// Mode, id, and the name's end in `names` (it starts where the
    /// previous one ended).
    entries: Vec<(gix::objs::tree::EntryMode, ObjectId, u32)>,
    names: Vec<u8>,
}

impl ParsedTree {
    /// Parse a tree's bytes; `Err` with how far it got, as the walk reports.
    fn parse(data: &[u8]) -> Result<ParsedTree, (ParsedTree, String)> {
        let mut t = ParsedTree {
            // An entry is at least 28 bytes (mode, space, name, NUL, id).
            entries: Vec::with_capacity(data.len() / 28 + 1),
            names: Vec::with_capacity(data.len().saturating_sub(data.len() / 28 * 27)),
        };
        for e in gix::objs::TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1) {
            match e {
                Ok(e) => {
                    t.names.extend_from_slice(e.filename.as_ref());
                    t.entries
                        .push((e.mode, e.oid.to_owned(), t.names.len() as u32));
                }
                Err(err) => return Err((t, chain(&err))),
            }
        }
        // Held until the walk reaches it: no slack from growing.
        t.entries.shrink_to_fit();
        t.names.shrink_to_fit();
        Ok(t)
    }

    fn name(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.entries[i - 1].2 as usize
        };
        &self.names[start..self.entries[i].2 as usize]
    }
}

impl Predecoded {
    const SHARDS: usize = 64;

    fn read(objects_dir: &Path, threads: Option<usize>, limit: u64, budget: usize) -> Predecoded {
        let pre = Predecoded {
            shards: (0..Self::SHARDS).map(|_| Default::default()).collect(),
        };
        let held = std::sync::atomic::AtomicUsize::new(0);
        for idx in pack_indices(objects_dir) {
            // A pack that cannot be read here is reported by the blob pass.
            let Ok(bundle) = pack::Bundle::at(&idx, gix::hash::Kind::Sha1) else {
                continue;
            };
            let processor = |kind: gix::objs::Kind,
                             bytes: &[u8],
                             entry: &pack::index::Entry,
                             _: &dyn gix::Progress|
             -> gix::Result<()> {
                if matches!(kind, gix::objs::Kind::Tree | gix::objs::Kind::Commit)
                    && held.fetch_add(bytes.len() + 64, Ordering::Relaxed) < budget
                {
                    let decoded = match kind {
                        gix::objs::Kind::Tree => match ParsedTree::parse(bytes) {
                            Ok(t) => Decoded::Tree(t),
                            // Left to the walk, which reports it.
                            Err(_) => Decoded::Raw(kind, Box::from(bytes)),
                        },
                        _ => Decoded::Raw(kind, Box::from(bytes)),
                    };
                    pre.shard(&entry.oid)
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(entry.oid, decoded);
                }
                Ok(())
            };
            let _ = traverse_pack(&bundle, threads, limit, &AtomicBool::new(false), processor);
        }
        pre
    }

    fn shard(&self, id: &ObjectId) -> &std::sync::Mutex<DecodedShard> {
        &self.shards[id.as_bytes()[0] as usize % Self::SHARDS]
    }

    fn take(&self, id: &ObjectId) -> Option<Decoded> {
        self.shard(id)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }
}

/// An object, from the predecoded set if it is there, else from the store.
fn find<'b>(
    repo: &gix::Repository,
    pre: Option<&Predecoded>,
    id: &ObjectId,
    buf: &'b mut Vec<u8>,
) -> gix::Result<Option<gix::objs::Data<'b>>> {
    if let Some(decoded) = pre.and_then(|p| p.take(id)) {
        let (kind, bytes) = match decoded {
            Decoded::Raw(kind, bytes) => (kind, bytes),
            // Not expected here (the tree walk takes trees itself); served
            // as bytes again all the same.
            Decoded::Tree(_) => {
                return gix::objs::Find::try_find(&repo.objects, id, buf);
            }
        };
        *buf = bytes.into_vec();
        return Ok(Some(gix::objs::Data {
            kind,
            object_hash: gix::hash::Kind::Sha1,
            data: buf,
        }));
    }
    gix::objs::Find::try_find(&repo.objects, id, buf)
}

/// Walk `tips` (and, for ranges, only them: `boundary` is the known side).
fn walk(
    repo: &gix::Repository,
    pre: Option<&Predecoded>,
    tips: &[ObjectId],
    boundary: &[ObjectId],
    ref_objects: &[RefObject],
    collector: &Collector,
    progress: &HistoryProgress,
) -> Result<History, Error> {
    let shallow: gix::hashtable::HashSet<ObjectId> = match repo.shallow_commits() {
        Ok(Some(c)) => c.iter().copied().collect(),
        _ => Default::default(),
    };
    let range_mode = !boundary.is_empty();
    let in_range: gix::hashtable::HashSet<ObjectId> = if range_mode {
        tips.iter().copied().collect()
    } else {
        Default::default()
    };
    let mut missing = Vec::new();
    let mut authors = Interner::default();
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut author_ix = Vec::new();
    let mut identity_names = Interner::default();
    let mut identity_ix = Vec::new();
    let mut trees: Vec<ObjectId> = Vec::new();
    let mut messages = Vec::new();
    let mut seen: gix::hashtable::HashMap<ObjectId, u32> = Default::default();
    let mut edges: Vec<(u32, ObjectId)> = Vec::new();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    let mut tree_tips: Vec<(ObjectId, Option<&str>)> = ref_objects
        .iter()
        .filter(|o| o.2 == gix::objs::Kind::Tree)
        .map(|o| (o.0, Some(o.1.as_str())))
        .collect();
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if seen.contains_key(&id) {
            continue;
        }
        let data = match find(repo, pre, &id, &mut buf) {
            Ok(Some(d)) => d,
            Ok(None) => {
                missing.push(id);
                seen.insert(id, NONE);
                continue;
            }
            Err(e) => {
                collector.error(
                    "<repository>",
                    format!("cannot read commit {id}: {}", chain(&e)),
                );
                seen.insert(id, NONE);
                continue;
            }
        };
        match data.kind {
            gix::objs::Kind::Commit => {}
            gix::objs::Kind::Tree => {
                // A ref pointing straight at a tree.
                seen.insert(id, NONE);
                tree_tips.push((id, None));
                continue;
            }
            _ => {
                // Blobs come in `ref_objects`; a tag here was peeled by `tips`.
                seen.insert(id, NONE);
                continue;
            }
        }
        let c = match gix::objs::CommitRef::from_bytes(data.data, gix::hash::Kind::Sha1) {
            Ok(c) => c,
            Err(e) => {
                collector.error(
                    "<repository>",
                    format!("cannot parse commit {id}: {}", chain(&e)),
                );
                seen.insert(id, NONE);
                continue;
            }
        };
        let idx = ids.len() as u32;
        progress.commits.fetch_add(1, Ordering::Relaxed);
        seen.insert(id, idx);
        ids.push(id);
        let (name, email, secs) = match c.author() {
            Ok(sig) => (sig.name.to_vec(), sig.email.to_vec(), sig.seconds()),
            Err(_) => (b"<unparsable author>".to_vec(), Vec::new(), 0),
        };
        let committer = c.committer().ok();
        identity_ix.push(identity_names.intern(&identity_text(
            (&name, &email),
            (
                committer.as_ref().map_or(&b""[..], |s| s.name.as_ref()),
                committer.as_ref().map_or(&b""[..], |s| s.email.as_ref()),
            ),
        )));
        let mut a = name;
        if !email.is_empty() {
            a.extend_from_slice(b" <");
            a.extend_from_slice(&email);
            a.push(b'>');
        }
        author_ix.push(authors.intern(&a));
        times.push(secs);
        trees.push(c.tree());
        if !c.message.is_empty() {
            messages.push((idx, c.message.to_vec()));
        }
        if !shallow.contains(&id) {
            for p in c.parents() {
                edges.push((idx, p));
                // In range mode the selected set is closed: no walking beyond.
                if !range_mode || in_range.contains(&p) {
                    stack.push(p);
                }
            }
        }
    }
    let n = ids.len();
    // Kahn's algorithm, oldest ready commit first: parents before children.
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut indeg = vec![0u32; n];
    for (child, p) in edges {
        if let Some(&pi) = seen.get(&p)
            && pi != NONE
        {
            indeg[child as usize] += 1;
            children[pi as usize].push(child);
        }
    }
    let mut heap: BinaryHeap<std::cmp::Reverse<(i64, ObjectId, u32)>> = BinaryHeap::new();
    for c in 0..n {
        if indeg[c] == 0 {
            heap.push(std::cmp::Reverse((times[c], ids[c], c as u32)));
        }
    }
    let mut order = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse((_, _, c))) = heap.pop() {
        order.push(c);
        for &ch in &children[c as usize] {
            indeg[ch as usize] -= 1;
            if indeg[ch as usize] == 0 {
                heap.push(std::cmp::Reverse((
                    times[ch as usize],
                    ids[ch as usize],
                    ch,
                )));
            }
        }
    }
    drop(children);

    let mut tw = TreeWalk {
        pre,
        ..TreeWalk::default()
    };
    // Boundary content is known: seed it, it is never scanned.
    for b in boundary {
        let mut buf = Vec::new();
        match repo.objects.try_find(b, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => {
                if let Ok(c) = gix::objs::CommitRef::from_bytes(d.data, gix::hash::Kind::Sha1) {
                    tw.visit(repo, c.tree(), SEED, &mut missing, collector);
                }
            }
            _ => missing.push(*b),
        }
    }
    let mut commits = Vec::with_capacity(n);
    let mut roots = Vec::with_capacity(n);
    let mut new_index = vec![0u32; n];
    for &c in &order {
        let ci = commits.len() as u32;
        new_index[c as usize] = ci;
        let root = tw.visit(repo, trees[c as usize], ci, &mut missing, collector);
        roots.push(root);
        commits.push(CommitRec {
            id: ids[c as usize],
            time: times[c as usize],
            author: author_ix[c as usize],
        });
    }
    // Trees that refs point at directly: attributed to a pseudo-commit named
    // after the tree.
    let mut ref_names: HashMap<u32, String> = HashMap::new();
    let real_commits = commits.len();
    for (t, name) in tree_tips {
        let ci = commits.len() as u32;
        let root = tw.visit(repo, t, ci, &mut missing, collector);
        roots.push(root);
        commits.push(CommitRec {
            id: t,
            time: 0,
            author: authors.intern(b"<tree pointed to by a ref>"),
        });
        if let Some(n) = name {
            ref_names.insert(ci, n.to_string());
        }
    }
    // Blobs that refs point at directly (`git push origin $BLOB:refs/tags/x`):
    // judged like any other, under the ref's name, attributed to a
    // pseudo-commit named after the blob. One already seen in a tree is
    // scanned there.
    for (id, name, _) in ref_objects.iter().filter(|o| o.2 == gix::objs::Kind::Blob) {
        if tw.blob_ix.contains_key(id) {
            continue;
        }
        let ci = commits.len() as u32;
        commits.push(CommitRec {
            id: *id,
            time: 0,
            author: authors.intern(b"<blob pointed to by a ref>"),
        });
        ref_names.insert(ci, name.clone());
        let b = tw.blobs.len() as u32;
        tw.blobs.push(BlobRec {
            commit: ci,
            path: tw.paths.intern(name.as_bytes()),
            places: 1,
            at_head: false,
        });
        tw.blob_ids.push(*id);
        tw.blob_ix.insert(*id, b);
    }
    for m in &mut messages {
        m.0 = new_index[m.0 as usize];
    }
    messages.sort_by_key(|m| m.0);
    let mut first_use: Vec<Option<u32>> = vec![None; identity_names.items.len()];
    for &c in &order {
        first_use[identity_ix[c as usize] as usize].get_or_insert(new_index[c as usize]);
    }
    let mut identities: Vec<(u32, Vec<u8>)> = first_use
        .iter()
        .enumerate()
        .filter_map(|(k, ci)| ci.map(|ci| (ci, identity_names.get(k as u32).to_vec())))
        .collect();
    identities.sort();

    // Places: every commit counts once for its root tree; trees are numbered
    // in post-order (children first), so reverse order visits parents first.
    let nt = tw.sub_start.len();
    let mut mult = vec![0u64; nt];
    for &r in &roots {
        if r != NONE {
            mult[r as usize] += 1;
        }
    }
    for t in (0..nt).rev() {
        let m = mult[t];
        if m == 0 {
            continue;
        }
        let (s0, s1) = tw.range_sub(t);
        for k in s0..s1 {
            let s = tw.subs[k] as usize;
            mult[s] = mult[s].saturating_add(m);
        }
        let (b0, b1) = tw.range_blob(t);
        for k in b0..b1 {
            let b = tw.blob_edges[k] as usize;
            tw.blobs[b].places = tw.blobs[b].places.saturating_add(m);
        }
    }
    // At HEAD: the trees under HEAD's root tree.
    if let Ok(Some(tree)) = repo
        .head_commit()
        .ok()
        .map(|c| c.tree_id().map(|t| t.detach()))
        .transpose()
    {
        let root = match tw.tree_ix.get(&tree) {
            Some(&r) if r < IN_PROGRESS => r,
            _ => tw.visit(repo, tree, SEED, &mut Vec::new(), collector),
        };
        if root != NONE {
            let mut mark = vec![false; tw.sub_start.len()];
            let mut st = vec![root];
            while let Some(t) = st.pop() {
                if std::mem::replace(&mut mark[t as usize], true) {
                    continue;
                }
                let (s0, s1) = tw.range_sub(t as usize);
                st.extend_from_slice(&tw.subs[s0..s1]);
                let (b0, b1) = tw.range_blob(t as usize);
                for k in b0..b1 {
                    let b = tw.blob_edges[k] as usize;
                    tw.blobs[b].at_head = true;
                }
            }
        }
    }
    Ok(History {
        pseudo: commits.len() - real_commits,
        ref_names,
        commits,
        blob_ix: tw.blob_ix,
        blob_ids: tw.blob_ids,
        blobs: tw.blobs,
        paths: tw.paths,
        authors,
        messages,
        identities,
        gitlinks: tw.gitlinks,
        missing,
    })
}

#[derive(Default)]
struct TreeWalk<'p> {
    pre: Option<&'p Predecoded>,
    tree_ix: gix::hashtable::HashMap<ObjectId, u32>,
    /// Per tree (post-order index): start of its child trees in `subs`.
    sub_start: Vec<u32>,
    subs: Vec<u32>,
    /// Per tree: start of its blobs in `blob_edges`.
    blob_start: Vec<u32>,
    blob_edges: Vec<u32>,
    blob_ix: gix::hashtable::HashMap<ObjectId, u32>,
    blob_ids: Vec<ObjectId>,
    blobs: Vec<BlobRec>,
    paths: Interner,
    gitlinks: u64,
    buf: Vec<u8>,
    path: Vec<u8>,
}

struct Frame {
    id: ObjectId,
    entries: ParsedTree,
    pos: usize,
    path_len: usize,
    subs: Vec<u32>,
    blobs: Vec<u32>,
}

impl TreeWalk<'_> {
    fn range_sub(&self, t: usize) -> (usize, usize) {
        let s = self.sub_start[t] as usize;
        let e = self
            .sub_start
            .get(t + 1)
            .map_or(self.subs.len(), |&x| x as usize);
        (s, e)
    }

    fn range_blob(&self, t: usize) -> (usize, usize) {
        let s = self.blob_start[t] as usize;
        let e = self
            .blob_start
            .get(t + 1)
            .map_or(self.blob_edges.len(), |&x| x as usize);
        (s, e)
    }

    fn load(
        &mut self,
        repo: &gix::Repository,
        id: ObjectId,
        path_len: usize,
        missing: &mut Vec<ObjectId>,
        collector: &Collector,
    ) -> Frame {
        let at = |w: &Self| String::from_utf8_lossy(&w.path[..path_len]).into_owned();
        let mut entries = ParsedTree::default();
        // Parsed in the parallel pass, or bytes to parse here.
        let mut raw: Option<(gix::objs::Kind, Vec<u8>)> = None;
        match self.pre.and_then(|p| p.take(&id)) {
            Some(Decoded::Tree(t)) => entries = t,
            Some(Decoded::Raw(kind, bytes)) => raw = Some((kind, bytes.into_vec())),
            None => match gix::objs::Find::try_find(&repo.objects, &id, &mut self.buf) {
                Ok(Some(d)) => raw = Some((d.kind, std::mem::take(&mut self.buf))),
                Ok(None) => missing.push(id),
                Err(e) => {
                    collector.error(at(self), format!("cannot read tree {id}: {}", chain(&e)))
                }
            },
        }
        if let Some((kind, bytes)) = raw {
            if kind == gix::objs::Kind::Tree {
                entries = match ParsedTree::parse(&bytes) {
                    Ok(t) => t,
                    Err((t, err)) => {
                        collector.error(at(self), format!("cannot parse tree {id}: {err}"));
                        t
                    }
                };
            } else {
                collector.error(at(self), format!("object {id} is a {kind}, not a tree"));
            }
            self.buf = bytes;
        }
        self.tree_ix.insert(id, IN_PROGRESS);
        Frame {
            id,
            entries,
            pos: 0,
            path_len,
            subs: Vec::new(),
            blobs: Vec::new(),
        }
    }

    /// Visit `root` and every tree under it not seen before (explicit stack:
    /// hostile nesting cannot overflow the call stack). Returns the root's
    /// post-order index.
    fn visit(
        &mut self,
        repo: &gix::Repository,
        root: ObjectId,
        commit: u32,
        missing: &mut Vec<ObjectId>,
        collector: &Collector,
    ) -> u32 {
        if let Some(&i) = self.tree_ix.get(&root) {
            return i;
        }
        self.path.clear();
        let first = self.load(repo, root, 0, missing, collector);
        let mut stack = vec![first];
        loop {
            let Some(top) = stack.last_mut() else {
                return NONE;
            };
            if top.pos == top.entries.entries.len() {
                let Some(f) = stack.pop() else { return NONE };
                let idx = self.sub_start.len() as u32;
                self.sub_start.push(self.subs.len() as u32);
                self.subs.extend_from_slice(&f.subs);
                self.blob_start.push(self.blob_edges.len() as u32);
                self.blob_edges.extend_from_slice(&f.blobs);
                self.tree_ix.insert(f.id, idx);
                match stack.last_mut() {
                    Some(parent) => {
                        parent.subs.push(idx);
                        continue;
                    }
                    None => return idx,
                }
            }
            let (mode, oid) = (
                top.entries.entries[top.pos].0,
                top.entries.entries[top.pos].1,
            );
            let pos = top.pos;
            top.pos += 1;
            let base = top.path_len;
            if mode.is_tree() {
                match self.tree_ix.get(&oid) {
                    Some(&i) if i < IN_PROGRESS => top.subs.push(i),
                    // A tree containing itself: impossible with real hashes.
                    Some(_) => {}
                    None => {
                        self.path.truncate(base);
                        self.path.extend_from_slice(top.entries.name(pos));
                        self.path.push(b'/');
                        let plen = self.path.len();
                        let f = self.load(repo, oid, plen, missing, collector);
                        stack.push(f);
                    }
                }
            } else if mode.is_commit() {
                // A submodule: its commit lives in another repository.
                if commit != SEED {
                    self.gitlinks += 1;
                }
            } else {
                let bi = match self.blob_ix.get(&oid) {
                    Some(&b) => b,
                    None => {
                        self.path.truncate(base);
                        self.path.extend_from_slice(top.entries.name(pos));
                        let p = self.paths.intern(&self.path);
                        let b = self.blobs.len() as u32;
                        self.blobs.push(BlobRec {
                            commit,
                            path: p,
                            places: 0,
                            at_head: false,
                        });
                        self.blob_ids.push(oid);
                        self.blob_ix.insert(oid, b);
                        b
                    }
                };
                top.blobs.push(bi);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// One finding per leaked value

/// Merges, while blobs are scanned, the findings of different versions of
/// the same path that carry the same value (same fingerprint, same
/// suppression): only the earliest version's findings are kept, so memory
/// stays bounded by distinct values, not by versions. Same-path merging is
/// safe before the config filters run (they see the same path); merging
/// across paths waits for [`merge_duplicates`], after the filters.
#[derive(Default)]
struct Merger {
    groups: std::sync::Mutex<HashMap<(String, String, String), MergeGroup>>,
}

struct MergeGroup {
    /// Topological index of the kept findings' commit.
    first: u32,
    findings: Vec<crate::finding::Finding>,
    /// `(commit, path)` places of every version seen.
    places: u64,
    at_head: bool,
}

impl Merger {
    /// `findings` of one blob whose provenance is `p`; `commit` is the
    /// topological index of its first commit (earlier is smaller).
    fn offer(&self, findings: Vec<crate::finding::Finding>, p: &Provenance, commit: u32) {
        let mut by_key: HashMap<(String, String, String), Vec<crate::finding::Finding>> =
            HashMap::new();
        for mut f in findings {
            f.provenance = Some(p.clone());
            let key = (
                f.match_key(),
                f.location.path.clone(),
                format!("{:?}", f.suppressed),
            );
            by_key.entry(key).or_default().push(f);
        }
        let mut groups = self.groups.lock().expect("merger lock");
        for (key, fs) in by_key {
            match groups.get_mut(&key) {
                None => {
                    groups.insert(
                        key,
                        MergeGroup {
                            first: commit,
                            findings: fs,
                            places: p.occurrences + 1,
                            at_head: p.at_head,
                        },
                    );
                }
                Some(g) => {
                    g.places += p.occurrences + 1;
                    g.at_head |= p.at_head;
                    if commit < g.first {
                        g.first = commit;
                        g.findings = fs;
                    }
                }
            }
        }
    }

    fn into_findings(self) -> Vec<crate::finding::Finding> {
        let groups = self.groups.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for g in groups.into_values() {
            for mut f in g.findings {
                if let Some(p) = f.provenance.as_mut() {
                    p.occurrences = g.places - 1;
                    p.at_head = g.at_head;
                }
                out.push(f);
            }
        }
        out
    }
}

/// History holds many versions of a file: the same secret in 40 blob
/// versions is one finding with 40+ places, not 40 findings. Findings with
/// the same match key (rule and secret value; for other findings rule,
/// path and identity) and the same suppression state are merged into the
/// earliest introduction (author date, then commit): its findings are kept
/// (one per line), every other blob adds its `(commit, path)` places to
/// `occurrences`, and `at_head` is true if any blob is at HEAD.
///
/// Run after suppressions, so an allow-listed path never hides the same
/// secret elsewhere. Findings without provenance are left alone.
pub fn merge_duplicates(findings: &mut Vec<crate::finding::Finding>) {
    use crate::finding::Finding;
    let (mut hist, rest): (Vec<Finding>, Vec<Finding>) =
        findings.drain(..).partition(|f| f.provenance.is_some());
    let when = |f: &Finding| {
        let p = f
            .provenance
            .as_ref()
            .map(|p| (p.date.clone(), p.commit.clone()));
        (
            p,
            f.location.path.clone(),
            f.location.line,
            f.location.column,
        )
    };
    hist.sort_by_cached_key(when);
    // group -> (first blob's (commit, path), indices kept, other blobs seen)
    type Blob = (String, String);
    type Group = (Blob, Vec<usize>, Vec<Blob>);
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    let mut extra: Vec<(u64, bool)> = vec![(0, false); hist.len()];
    let mut keep = vec![false; hist.len()];
    for (i, f) in hist.iter().enumerate() {
        let p = f.provenance.as_ref().expect("partitioned on provenance");
        let blob: Blob = (p.commit.clone(), f.location.path.clone());
        let key = (f.match_key(), format!("{:?}", f.suppressed));
        match groups.get_mut(&key) {
            None => {
                keep[i] = true;
                groups.insert(key, (blob, vec![i], Vec::new()));
            }
            Some((first, kept, others)) => {
                if *first == blob {
                    keep[i] = true;
                    kept.push(i);
                } else if !others.contains(&blob) {
                    others.push(blob);
                    for &k in kept.iter() {
                        extra[k].0 += p.occurrences + 1;
                        extra[k].1 |= p.at_head;
                    }
                }
            }
        }
    }
    // A blob's later findings reach only the findings kept so far; carry the
    // group's totals to every kept finding.
    for (_, kept, _) in groups.values() {
        let total = kept.iter().map(|&k| extra[k].0).max().unwrap_or(0);
        let head = kept.iter().any(|&k| extra[k].1);
        for &k in kept {
            extra[k] = (total, head);
        }
    }
    findings.extend(rest);
    for (i, mut f) in hist.into_iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if let Some(p) = f.provenance.as_mut() {
            p.occurrences += extra[i].0;
            p.at_head |= extra[i].1;
        }
        findings.push(f);
    }
}

// ---------------------------------------------------------------------------
// Small helpers

/// Whether a non-bare repository has changes the history scan cannot see:
/// staged changes (index differs from HEAD) or tracked files modified in the
/// work tree. `None` for bare repositories or when it cannot be told.
/// Untracked files are not counted (they were never part of history).
fn uncommitted_changes(repo: &gix::Repository) -> Option<bool> {
    let workdir = repo.workdir()?.to_path_buf();
    let index = repo.open_index().ok()?;
    // HEAD's tree, flattened to (path, oid, mode).
    let mut head: Vec<(Vec<u8>, ObjectId)> = Vec::new();
    if let Ok(tree) = repo.head_tree_id() {
        let mut stack = vec![(Vec::<u8>::new(), tree.detach())];
        let mut buf = Vec::new();
        while let Some((prefix, id)) = stack.pop() {
            let data = repo.objects.try_find(&id, &mut buf).ok()??;
            for e in gix::objs::TreeRefIter::from_bytes(data.data, gix::hash::Kind::Sha1) {
                let e = e.ok()?;
                let mut p = prefix.clone();
                p.extend_from_slice(e.filename);
                if e.mode.is_tree() {
                    p.push(b'/');
                    stack.push((p, e.oid.to_owned()));
                } else {
                    head.push((p, e.oid.to_owned()));
                }
            }
        }
    }
    head.sort();
    let mut entries: Vec<(Vec<u8>, ObjectId)> = index
        .entries()
        .iter()
        .map(|e| (e.path(&index).to_vec(), e.id))
        .collect();
    entries.sort();
    if head != entries {
        return Some(true);
    }
    for e in index.entries() {
        if e.mode.is_submodule() {
            continue;
        }
        let rel = e.path(&index);
        let path = workdir.join(gix::path::from_bstr(rel).ok()?);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Some(true); // deleted
        };
        let same_stat = meta.len() as u32 == e.stat.size
            && meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .is_some_and(|d| {
                    d.as_secs() as u32 == e.stat.mtime.secs
                        && d.subsec_nanos() == e.stat.mtime.nsecs
                });
        if same_stat {
            continue;
        }
        let bytes = if meta.file_type().is_symlink() {
            std::fs::read_link(&path)
                .ok()
                .and_then(|t| gix::path::into_bstr(t).ok().map(|b| b.to_vec()))
        } else {
            std::fs::read(&path).ok()
        };
        let Some(bytes) = bytes else {
            return Some(true);
        };
        let id =
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes).ok()?;
        if id != e.id {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line() {
        let p = HistoryProgress::default();
        p.commits.store(5, Ordering::Relaxed);
        let t = std::time::Duration::from_secs(2);
        assert_eq!(p.render(t), "history: walking commits: 5");
        p.blobs_total.store(10, Ordering::Relaxed);
        p.blobs.store(3, Ordering::Relaxed);
        p.bytes.store(2_000_000, Ordering::Relaxed);
        assert_eq!(p.render(t), "history: 5 commits, 3/10 blobs, 1.0 MB/s");
    }

    #[test]
    fn interner_dedups() {
        let mut i = Interner::default();
        let a = i.intern(b"a/b");
        let b = i.intern(b"c");
        assert_eq!(i.intern(b"a/b"), a);
        assert_ne!(a, b);
        assert_eq!(i.get(b), b"c");
    }

    /// A walk over commits and trees predecoded by the pack traversal learns
    /// exactly what a walk that looks every object up learns.
    #[test]
    fn predecoded_walk_learns_what_the_lookup_walk_learns() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
                .output()
                .expect("git runs");
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.email", "t@example.com"]);
        git(&["config", "user.name", "t"]);
        for i in 0..30 {
            if i == 10 {
                git(&["checkout", "-q", "-b", "side"]);
            }
            if i == 20 {
                git(&["checkout", "-q", "main"]);
                git(&["merge", "-q", "--no-ff", "--no-edit", "side"]);
            }
            let sub = dir.path().join(format!("apps/app{}", i % 4));
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join("values.yaml"), format!("replicas: {i}\n")).unwrap();
            std::fs::write(dir.path().join("README.md"), format!("v{}\n", i / 3)).unwrap();
            git(&["add", "-A"]);
            git(&["commit", "-q", "--allow-empty", "-m", &format!("c{i}")]);
        }
        git(&["mv", "README.md", "docs.md"]);
        git(&["commit", "-q", "-m", "rename"]);
        git(&["gc", "-q"]);
        let repo = gix::open(dir.path()).unwrap();
        let opts = HistoryOptions::default();
        let Selection {
            commits, boundary, ..
        } = select_commits(&repo, &opts).unwrap();
        let objects_dir = repo.objects.store_ref().path().to_path_buf();
        let pre = Predecoded::read(&objects_dir, Some(2), u64::MAX, usize::MAX);
        let held = |p: &Predecoded| {
            p.shards
                .iter()
                .map(|s| s.lock().unwrap().len())
                .sum::<usize>()
        };
        let before = held(&pre);
        assert!(before > 60, "commits and trees predecoded: {before}");
        let progress = HistoryProgress::default();
        let (c1, c2) = (Collector::new(), Collector::new());
        let looked_up = walk(&repo, None, &commits, &boundary, &[], &c1, &progress).unwrap();
        let predecoded = walk(&repo, Some(&pre), &commits, &boundary, &[], &c2, &progress).unwrap();
        assert_eq!(held(&pre), 0, "the walk took every object it read");
        let summary = |h: &History| {
            let commits: Vec<ObjectId> = h.commits.iter().map(|c| c.id).collect();
            let blobs: Vec<_> = h
                .blobs
                .iter()
                .zip(&h.blob_ids)
                .map(|(b, id)| {
                    (
                        *id,
                        b.commit,
                        h.path_str(b.path).into_owned(),
                        b.places,
                        b.at_head,
                    )
                })
                .collect();
            (commits, blobs, h.messages.clone(), h.missing.clone())
        };
        assert_eq!(summary(&predecoded), summary(&looked_up));
        assert_eq!(looked_up.commits.len(), 32);
        // Over a budget, the rest is looked up: the same again.
        let part = Predecoded::read(&objects_dir, Some(2), u64::MAX, 4096);
        assert!(held(&part) > 0 && held(&part) < before);
        let c3 = Collector::new();
        let partly = walk(&repo, Some(&part), &commits, &boundary, &[], &c3, &progress).unwrap();
        assert_eq!(summary(&partly), summary(&looked_up));
    }
}
