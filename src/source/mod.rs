//! Sources produce blobs with provenance and hand each to the [`Scanner`];
//! they do all I/O. Each source reports into a [`Collector`]:
//! `collector.add(path, size, scanner.scan_blob(path, bytes), provenance)`
//! for a scanned blob, `collector.skip(reason)` for a skipped one, and
//! `collector.error(path, message)` for anything that makes the scan
//! incomplete (the run then exits 3: a guard fails closed).
//!
//! [`Scanner`]: crate::scan::Scanner
//! [`Collector`]: crate::scan::Collector

/// Repository-level checks that report an *absence* (no NetworkPolicy
/// selects the workload; no ServiceAccount or binding says the token is
/// needed). A scan of part of a repository — the staged changes, the commits
/// of a push, a `--range` — cannot see the objects that would satisfy them, so their
/// findings there would be false alarms; those scans drop them. The full
/// working-tree and history scans keep them.
pub const WHOLE_REPOSITORY_RULES: &[&str] =
    &["network-policy-coverage", "no-service-account-token"];

pub mod head;
pub mod history;
pub mod pushed;
pub mod remote;
pub mod staged;
pub mod worktree;

/// The configuration every repository is opened with: `refs/replace` is not
/// applied (as `GIT_NO_REPLACE_OBJECTS` would). A replacement shows other
/// content in place of an object; the real objects are what a clone holds
/// and what a push transfers, so they are what the guard judges. The
/// replacement objects themselves are reachable from their `refs/replace/*`
/// refs and are scanned as tips of their own.
const REAL_OBJECTS: &str = "core.useReplaceRefs=false";

fn real_objects(opts: gix::open::Options) -> gix::open::Options {
    opts.config_overrides([REAL_OBJECTS])
}

/// `gix::open`, reading the real objects (see [`REAL_OBJECTS`]).
pub fn open_repo(path: &std::path::Path) -> gix::Result<gix::Repository> {
    gix::open_opts(path, real_objects(gix::open::Options::default()))
}

/// `gix::discover`, reading the real objects (see [`REAL_OBJECTS`]).
pub fn discover_repo(path: &std::path::Path) -> gix::Result<gix::Repository> {
    let mut map = gix::sec::trust::Mapping::<gix::open::Options>::default();
    map.full = real_objects(map.full);
    map.reduced = real_objects(map.reduced);
    gix::ThreadSafeRepository::discover_opts(path, Default::default(), map).map(Into::into)
}

/// Whether `path` is itself a git directory (a bare repository, or the
/// `.git` directory of a work tree): the layout git's own `is_git_directory`
/// checks (HEAD, objects/, refs/), without reading any object.
pub fn is_git_dir(path: &std::path::Path) -> bool {
    path.is_dir() && gix::discover::is_git(path).is_ok()
}

/// The git directory `path` lies inside (`path` itself excluded), if any:
/// a path like `repo/.git/refs` is git's own bookkeeping, never a work tree.
pub fn enclosing_git_dir(path: &std::path::Path) -> Option<std::path::PathBuf> {
    let abs = std::fs::canonicalize(path).ok()?;
    abs.ancestors()
        .skip(1)
        .find(|a| is_git_dir(a))
        .map(|a| a.to_path_buf())
}
