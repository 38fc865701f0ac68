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

pub mod history;
pub mod pushed;
pub mod remote;
pub mod staged;
pub mod worktree;
