//! HEAD's tree as a source: every blob of the commit HEAD points at, once,
//! under its repository path. A full `--history` scan runs the secret
//! detectors over every version in history; the configuration checks
//! (policy, hardcoded-ip, plain-http, …) only matter for what is deployed
//! now, so `scan --history` runs them here, on HEAD's tree, and merges the
//! two: one command gives the whole picture, and a bare repository (no
//! work tree) gets it too.

use crate::error::Error;
use crate::scan::{Collector, Scanner};
use gix::ObjectId;
use std::path::Path;

/// Scan HEAD's tree of the repository at or around `path`. An unborn HEAD
/// (no commit yet) has nothing to scan; an unreadable object is a scan error,
/// except a blob missing from a partial clone when `allow_missing`: a
/// counted skip, as in the history pass.
pub fn scan(
    path: &Path,
    allow_missing: bool,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<(), Error> {
    let repo = super::discover_repo(path)
        .map_err(|e| Error::Scan(format!("cannot open {}: {e}", path.display())))?;
    let excludes = crate::filter::glob_set(&scanner.options.exclude)?;
    let Ok(tree) = repo.head_tree_id() else {
        return Ok(());
    };
    let mut stack: Vec<(Vec<u8>, ObjectId)> = vec![(Vec::new(), tree.detach())];
    let mut blobs: Vec<(String, ObjectId)> = Vec::new();
    while let Some((prefix, id)) = stack.pop() {
        let tree = match repo.find_tree(id) {
            Ok(t) => t,
            Err(e) => {
                collector.error(String::from_utf8_lossy(&prefix).into_owned(), e.to_string());
                continue;
            }
        };
        for entry in tree.iter() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    collector.error(String::from_utf8_lossy(&prefix).into_owned(), e.to_string());
                    continue;
                }
            };
            let mut p = prefix.clone();
            p.extend_from_slice(entry.filename());
            if entry.mode().is_tree() {
                p.push(b'/');
                stack.push((p, entry.oid().to_owned()));
            } else if entry.mode().is_blob() {
                blobs.push((crate::sanitize::path_from_bytes(&p), entry.oid().to_owned()));
            }
            // Symbolic links and submodules carry no content of their own.
        }
    }
    for (path, id) in blobs {
        if excludes.is_match(&path) {
            collector.skip(crate::scan::SkipReason::Excluded);
            continue;
        }
        let size = match repo.try_find_header(id) {
            Ok(Some(h)) => h.size(),
            Ok(None) if allow_missing => {
                collector.skip(crate::scan::SkipReason::MissingObject);
                continue;
            }
            Ok(None) => {
                collector.error(
                    path,
                    format!("missing object {id}; --allow-missing skips it"),
                );
                continue;
            }
            Err(e) => {
                collector.error(path, format!("cannot read: {e}"));
                continue;
            }
        };
        if size > scanner.options.max_file_size {
            collector.too_large(scanner, &path, size);
            continue;
        }
        match repo.find_blob(id) {
            Ok(blob) => {
                let outcome = scanner.scan_blob(&path, &blob.data);
                collector.add(&path, size, outcome, None);
            }
            Err(e) => collector.error(path, format!("cannot read: {e}")),
        }
    }
    Ok(())
}
