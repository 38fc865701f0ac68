//! Sources produce blobs with provenance and hand each to the [`Scanner`];
//! they do all I/O. Each source reports into a [`Collector`]:
//! `collector.add(path, size, scanner.scan_blob(path, bytes), provenance)`
//! for a scanned blob, `collector.skip(reason)` for a skipped one, and
//! `collector.error(path, message)` for anything that makes the scan
//! incomplete (the run then exits 3: a guard fails closed).
//!
//! [`Scanner`]: crate::scan::Scanner
//! [`Collector`]: crate::scan::Collector

pub mod history;
pub mod pushed;
pub mod remote;
pub mod staged;
pub mod worktree;
