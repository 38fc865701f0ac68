//! The working tree: files under a path, walked in parallel with the
//! `ignore` crate. It honours `.gitignore` but, unlike `ignore`'s defaults,
//! scans dot-files and dot-directories (`.env`, `.github/`, `.sops.yaml`:
//! peers that skip them miss real leaks). Symlinks are never followed (so a
//! link can never lead the scan out of the root); they are counted.
//!
//! Git's own directories are never walked as work-tree files: `.git` is
//! left out, and a bare repository nested in the tree is a counted skip
//! (the caller turns a git directory given as the root into a history
//! scan). FIFOs, sockets and devices inside a tree are counted skips, since
//! reading one can block forever; a FIFO or character device given
//! explicitly as the root is read like a file (`scan <(…)`, `/dev/stdin`).

use crate::error::Error;
use crate::filter::glob_set;
use crate::scan::{Collector, Scanner, SkipReason};
use ignore::{WalkBuilder, WalkState};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Scan standard input as one blob named `name` (`scan -`).
pub fn scan_stdin(name: &str, scanner: &Scanner, collector: &Collector) {
    let mut bytes = Vec::new();
    let limit = scanner.options.max_file_size;
    match std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut bytes)
    {
        Ok(_) if bytes.len() as u64 > limit => collector.skip(SkipReason::TooLarge),
        Ok(_) => {
            let outcome = scanner.scan_blob(name, &bytes);
            collector.add(name, bytes.len() as u64, outcome, None);
        }
        Err(e) => collector.error(name, format!("cannot read standard input: {e}")),
    }
}

/// Whether the directory `path` looks like a git directory: checked with
/// two cheap stats before gix's full layout check, since every directory of
/// the tree is asked.
fn is_git_dir(path: &Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir() && crate::source::is_git_dir(path)
}

/// Whether `ft` is a FIFO or a character device (readable as a stream).
#[cfg(unix)]
fn is_stream(ft: std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ft.is_fifo() || ft.is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_: std::fs::FileType) -> bool {
    false
}

/// Scan every file under `root` (or `root` itself when it is a file).
pub fn scan(root: &Path, scanner: &Scanner, collector: &Collector) -> Result<(), Error> {
    // The root was named explicitly: a symbolic link is followed
    // (`/dev/stdin`, `/dev/fd/63` from `<(…)` are links to the stream).
    let meta = std::fs::metadata(root)
        .map_err(|e| Error::Scan(format!("cannot read {}: {e}", root.display())))?;
    let excludes = glob_set(&scanner.options.exclude)?;
    if is_stream(meta.file_type()) {
        let name = root.file_name().map_or_else(
            || root.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        scan_file(root, &name, 0, scanner, collector);
        return Ok(());
    }
    if !meta.is_file() && !meta.is_dir() {
        return Err(Error::Scan(format!(
            "{} is not a file, directory, FIFO or character device",
            root.display()
        )));
    }
    // Paths are reported relative to the repository root, whatever part of
    // it was named: SARIF, annotations and baselines of a scan of `apps/api`
    // then point at `apps/api/…`, files that exist from the repository's
    // point of view. Outside a repository: relative to the path named.
    let prefix = repo_prefix(root, meta.is_file());
    if meta.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.display().to_string());
        let name = format!("{prefix}{name}");
        scan_file(root, &name, meta.len(), scanner, collector);
        return Ok(());
    }
    let threads = match scanner.options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(true)
        .ignore(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel();
    // A path named on the command line is scanned even when an exclude
    // glob covers it (as ruff does without `force-exclude`): scanning
    // `fixtures/demo` in a repository whose config excludes `fixtures/**`
    // means that directory. Below it, globs match from the scanned path.
    let root_excluded = !prefix.is_empty() && excludes.is_match(prefix.trim_end_matches('/'));
    walker.run(|| {
        let excludes = &excludes;
        let prefix = &prefix;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    // A loop or an unreadable directory makes the scan incomplete.
                    collector.error(err_path(&err).unwrap_or_default(), err.to_string());
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            let below = relative(root, entry.path());
            let rel = format!("{prefix}{below}");
            // A glob may be written from the scanned path or from the
            // repository root (a config found at the root): either matches.
            let excluded =
                |rel: &str| excludes.is_match(&below) || (!root_excluded && excludes.is_match(rel));
            if ft.is_dir() {
                if entry.depth() > 0 && excluded(&rel) {
                    collector.skip(SkipReason::Excluded);
                    return WalkState::Skip;
                }
                if entry.depth() > 0 && is_git_dir(entry.path()) {
                    collector.skip(SkipReason::GitDir);
                    return WalkState::Skip;
                }
                return WalkState::Continue;
            }
            if ft.is_symlink() {
                collector.skip_path(SkipReason::Symlink, &rel, "symbolic link, not followed");
                return WalkState::Continue;
            }
            if !ft.is_file() {
                collector.skip(SkipReason::SpecialFile);
                return WalkState::Continue;
            }
            if excluded(&rel) {
                collector.skip(SkipReason::Excluded);
                return WalkState::Continue;
            }
            let len = match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    collector.error(rel, e.to_string());
                    return WalkState::Continue;
                }
            };
            scan_file(entry.path(), &rel, len, scanner, collector);
            WalkState::Continue
        })
    });
    Ok(())
}

fn scan_file(path: &Path, rel: &str, len: u64, scanner: &Scanner, collector: &Collector) {
    if len > scanner.options.max_file_size {
        collector.too_large(scanner, rel, len);
        return;
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` bounds the read even if the file grew after `stat`.
    match File::open(path).and_then(|f| {
        f.take(scanner.options.max_file_size + 1)
            .read_to_end(&mut bytes)
    }) {
        Ok(_) if bytes.len() as u64 > scanner.options.max_file_size => {
            // It grew after `stat`: at least this large.
            collector.too_large(scanner, rel, bytes.len() as u64)
        }
        Ok(_) => {
            let outcome = scanner.scan_blob(rel, &bytes);
            collector.add(rel, bytes.len() as u64, outcome, None);
        }
        Err(e) => collector.error(rel, format!("cannot read: {e}")),
    }
}

/// Where `root` (a directory, or a file's directory) lies in its
/// repository, as a `dir/sub/` prefix; empty at the repository root or
/// outside any repository.
fn repo_prefix(root: &Path, is_file: bool) -> String {
    let dir = if is_file {
        match root.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    } else {
        root
    };
    let (Some(top), Ok(abs)) = (crate::config::repo_root(dir), std::fs::canonicalize(dir)) else {
        return String::new();
    };
    match abs.strip_prefix(&top) {
        Ok(p) if !p.as_os_str().is_empty() => format!("{}/", relative(Path::new(""), p)),
        _ => String::new(),
    }
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    // Lossless: a name that is not UTF-8 stays findable from the report.
    #[cfg(unix)]
    let s: std::borrow::Cow<'_, str> = {
        use std::os::unix::ffi::OsStrExt;
        crate::sanitize::path_from_bytes(rel.as_os_str().as_bytes()).into()
    };
    #[cfg(not(unix))]
    let s = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn err_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        _ => None,
    }
}
