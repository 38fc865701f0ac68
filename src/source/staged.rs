//! The staged index: what the next commit will add, as a `pre-commit` hook
//! sees it. Blobs are read from the object database (where `git add` put
//! them), never from the working tree, so a file edited after `git add` is
//! judged on what will actually be committed.
//!
//! Only entries that differ from HEAD are scanned (added or modified; a
//! deletion adds nothing). Git runs `pre-commit` for `git commit -a` and
//! `git commit <paths>` with `GIT_INDEX_FILE` naming a temporary index; that
//! index is the one read. Submodules and intent-to-add entries (`git add -N`,
//! no content yet) are skipped; symbolic links are skipped and counted.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::Find;
use rayon::prelude::*;

use crate::error::Error;
use crate::filter::glob_set;
use crate::scan::{Collector, Scanner, SkipReason};

fn scan_err(msg: impl Into<String>) -> Error {
    Error::Scan(msg.into())
}

/// The index file to read: `GIT_INDEX_FILE` when git set it for this hook
/// run (relative to the current directory, as git means it), else the
/// repository's own.
fn index_path(repo: &gix::Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
            }
        }
        None => repo.index_path(),
    }
}

/// HEAD's tree as `(path, blob oid)` pairs, sorted by path; empty on an
/// unborn branch (the first commit).
fn head_entries(repo: &gix::Repository) -> Result<Vec<(Vec<u8>, ObjectId)>, Error> {
    let mut out = Vec::new();
    let tree = match repo.head_tree_id() {
        Ok(t) => t.detach(),
        Err(_) => return Ok(out),
    };
    let mut stack = vec![(Vec::<u8>::new(), tree)];
    let mut buf = Vec::new();
    while let Some((prefix, id)) = stack.pop() {
        let data = repo
            .objects
            .try_find(&id, &mut buf)
            .map_err(|e| scan_err(format!("cannot read tree {id}: {e}")))?
            .ok_or_else(|| scan_err(format!("missing tree {id} in HEAD")))?;
        for e in gix::objs::TreeRefIter::from_bytes(data.data, repo.object_hash()) {
            let e = e.map_err(|e| scan_err(format!("cannot parse tree {id}: {e}")))?;
            let mut p = prefix.clone();
            p.extend_from_slice(e.filename);
            if e.mode.is_tree() {
                p.push(b'/');
                stack.push((p, e.oid.to_owned()));
            } else {
                out.push((p, e.oid.to_owned()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Scan the staged additions and modifications of the repository at or above `target`.
pub fn scan(target: &Path, scanner: &Scanner, collector: &Collector) -> Result<(), Error> {
    let repo = super::discover_repo(target).map_err(|e| {
        Error::Usage(format!(
            "{} is not in a git repository: {e}",
            target.display()
        ))
    })?;
    let path = index_path(&repo);
    let index = if path.exists() {
        gix::index::File::at(&path, repo.object_hash(), false, Default::default())
            .map_err(|e| scan_err(format!("cannot read the index {}: {e}", path.display())))?
    } else {
        // A fresh repository without any `git add` yet.
        return Ok(());
    };
    let head = head_entries(&repo)?;
    let excludes = glob_set(&scanner.options.exclude)?;
    let mut todo: Vec<(String, ObjectId)> = Vec::new();
    for e in index.entries() {
        if e.stage() != gix::index::entry::Stage::Unconflicted
            || e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD)
        {
            continue;
        }
        let rel = e.path(&index);
        let unchanged = head
            .binary_search_by(|(p, _)| p.as_slice().cmp(rel.as_ref()))
            .is_ok_and(|i| head[i].1 == e.id);
        if unchanged {
            continue;
        }
        let rel = rel.to_string();
        if e.mode == gix::index::entry::Mode::COMMIT {
            collector.skip_path(SkipReason::Submodule, &rel, "submodule, not scanned here");
            continue;
        }
        if e.mode == gix::index::entry::Mode::SYMLINK {
            collector.skip_path(SkipReason::Symlink, &rel, "symbolic link, not followed");
            continue;
        }
        if !excludes.is_empty() && excludes.is_match(&rel) {
            collector.skip(SkipReason::Excluded);
            continue;
        }
        todo.push((rel, e.id));
    }
    collector.with_stats(|s| s.uncommitted_changes = None);
    let shared = repo.into_sync();
    todo.par_iter().for_each_init(
        || (shared.to_thread_local(), Vec::new()),
        |(repo, buf), (rel, id)| {
            // The size from the object header: a blob over the limit is
            // never inflated.
            if let Ok(Some(h)) = repo.try_find_header(*id)
                && h.kind() == gix::objs::Kind::Blob
                && h.size() > scanner.options.max_file_size
            {
                collector.too_large(scanner, rel, h.size());
                return;
            }
            read_staged(repo, buf, rel, id, scanner, collector)
        },
    );
    Ok(())
}

/// Read and scan one staged blob (its size already checked).
fn read_staged(
    repo: &gix::Repository,
    buf: &mut Vec<u8>,
    rel: &str,
    id: &ObjectId,
    scanner: &Scanner,
    collector: &Collector,
) {
    match repo.objects.try_find(id, buf) {
        Ok(Some(d)) if d.kind == gix::objs::Kind::Blob => {
            if d.data.len() as u64 > scanner.options.max_file_size {
                collector.too_large(scanner, rel, d.data.len() as u64);
                return;
            }
            let outcome = scanner.scan_blob(rel, d.data);
            collector.add(rel, d.data.len() as u64, outcome, None);
        }
        Ok(Some(d)) => collector.error(rel, format!("object {id} is a {}", d.kind)),
        Ok(None) => collector.error(rel, format!("staged blob {id} is missing")),
        Err(e) => collector.error(rel, format!("cannot read staged blob {id}: {e}")),
    }
}
