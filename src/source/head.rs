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
    scan_into(path, allow_missing, scanner, collector, None).map(|_| ())
}

/// [`scan`], and, when `tree` is given and HEAD's tree holds a Kustomize
/// kustomization or a Helm chart, write every blob that was read (not excluded, within the
/// size limit) under `tree` at its repository path, so that the roots can be
/// rendered (`render`): returns whether it did. Paths with `.`, `..` or
/// `.git` components are not written; symbolic links and submodules carry
/// no content and are not either.
pub fn scan_into(
    path: &Path,
    allow_missing: bool,
    scanner: &Scanner,
    collector: &Collector,
    tree: Option<&Path>,
) -> Result<bool, Error> {
    let repo = super::discover_repo(path)
        .map_err(|e| Error::Scan(format!("cannot open {}: {e}", path.display())))?;
    let excludes = crate::filter::glob_set(&scanner.options.exclude)?;
    let Ok(head) = repo.head_tree_id() else {
        return Ok(false);
    };
    let mut stack: Vec<(Vec<u8>, ObjectId)> = vec![(Vec::new(), head.detach())];
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
    let write_to = tree.filter(|_| {
        blobs.iter().any(|(p, _)| {
            let name = p.rsplit('/').next().unwrap_or(p);
            crate::render::kustomize::KUSTOMIZATION_FILES.contains(&name) || name == "Chart.yaml"
        })
    });
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
                if let Some(dir) = write_to
                    && let Some(dest) = safe_join(dir, &path)
                {
                    let written = dest
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|_| std::fs::write(&dest, &blob.data));
                    if let Err(e) = written {
                        collector.error(
                            path.clone(),
                            format!("cannot write HEAD's copy for rendering: {e}"),
                        );
                    }
                }
                let outcome = scanner.scan_blob(&path, &blob.data);
                collector.add(&path, size, outcome, None);
            }
            Err(e) => collector.error(path, format!("cannot read: {e}")),
        }
    }
    Ok(write_to.is_some())
}

/// `dir/path` for a repository path made of plain names only.
fn safe_join(dir: &Path, path: &str) -> Option<std::path::PathBuf> {
    let mut out = dir.to_path_buf();
    for part in path.split('/') {
        if part.is_empty()
            || part == "."
            || part == ".."
            || part.eq_ignore_ascii_case(".git")
            || part.contains('\\')
        {
            return None;
        }
        out.push(part);
    }
    Some(out)
}
