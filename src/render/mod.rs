//! Render before judging: what Argo CD and Flux deploy is the output of
//! `kustomize build` (and `helm template`), not the files one by one. A
//! renderer builds each root, judges the rendered objects with the policy
//! checks, and maps every finding back to the file and line that wrote the
//! offending value, naming the roots that rendered it.
//!
//! This module holds what every renderer shares: the rendered stream
//! ([`Rendered`]), the way back to the source ([`SourceMap`], [`Spot`]), the
//! judging of a rendered stream ([`judge`]), the bounded run of an external
//! tool ([`run_tool`]) and the last step over the report ([`finish`]:
//! code frames from the source files, one finding per source location with
//! the list of roots). `kustomize` and `helm` are the renderers; [`render_tree`]
//! runs both.
//!
//! Layering: a renderer reads files and runs tools, like a source; it sits
//! beside `source`, above `scan` (it hands rendered text to
//! [`Scanner::scan_rendered`]) and below the library's `scan` entry point.
//! Nothing below (detect, manifest, finding) names it.

pub mod helm;
pub mod kustomize;

use crate::detect::policy::PolicyFact;
use crate::detect::{Fact, FactRecord, Input};
use crate::finding::{Category, Finding, Location};
use crate::manifest::{KeyPath, Limits, Node, Value, parse_documents};
use crate::scan::{Collector, RenderStats, Scanner};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How rendering runs (`[render]` in the config, `--no-render`).
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Wall-time limit of one build; past it the tool is killed and the
    /// root is a note (judged file by file).
    pub timeout: Duration,
    /// Most bytes of output one build may write; past it, a note.
    pub max_output: usize,
    /// Extra `kustomize build` options for every root (`[render]
    /// kustomize-build-options`, `--kustomize-build-options`; the Argo CD CMP
    /// passes Argo CD's own), checked against [`kustomize::ALLOWED_OPTIONS`].
    pub kustomize_options: Vec<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            timeout: Duration::from_secs(60),
            max_output: 64 * 1024 * 1024,
            kustomize_options: Vec::new(),
        }
    }
}

/// One segment of the key path of a value inside a rendered object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// A list item: its position in the rendered list and its `name`, if
    /// it has one (Kustomize merges containers, env, volumes by name).
    Item(usize, Option<String>),
}

/// The key path as the finding messages write it (`spec.containers[app]`).
pub fn key_path(path: &[Seg]) -> KeyPath {
    let mut k = KeyPath::new();
    for s in path {
        k = match s {
            Seg::Key(key) => k.key(key),
            Seg::Item(i, name) => k.item(name.as_deref(), *i),
        };
    }
    k
}

/// Where a value was written: a file of the scanned tree (path relative to
/// the repository root, `/`-separated) and a position in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spot {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Spot {
    fn location(&self) -> Location {
        Location {
            path: self.path.clone(),
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
        }
    }
}

/// The way from a value in a rendered document back to its source.
pub trait SourceMap {
    /// Where the value at `path` of the rendered document `doc` (0-based
    /// index in the stream) was written: the patch that set it, else the
    /// resource at that key path, else its nearest written ancestor.
    /// `rendered` is the rendered document's root (the value at `path` is
    /// in it). `None` when the document's source is unknown.
    fn locate(&self, doc: usize, rendered: &Node, path: &[Seg]) -> Option<Spot>;

    /// A name for the source object of `doc`, independent of the root
    /// (`Deployment/web`, before any name prefix), for fingerprints: the
    /// same base violation rendered by two overlays is one finding.
    fn source_identity(&self, doc: usize) -> Option<String>;
}

/// One root's rendered output, ready to judge.
#[derive(Debug)]
pub struct Rendered {
    /// The root, as reports name it (`overlays/prod`).
    pub root: String,
    /// The rendered stream with the build metadata removed, document `i`
    /// being the `i`-th document the [`SourceMap`] knows.
    pub text: String,
    /// Repository-relative paths of the files the build read (resources,
    /// patches, kustomizations): their policy findings now come from the
    /// rendered objects.
    pub consumed: BTreeSet<String>,
}

/// Judge one rendered stream: the policy checks run on it
/// ([`Scanner::scan_rendered`]), and every finding, and every finding the
/// repo checks will report from its facts, is moved to its source
/// ([`SourceMap::locate`]) and tagged with the root. Facts are filed under
/// `<root>/<rendered>`, so objects of one build share their root's
/// directory when they name no namespace.
pub fn judge(rendered: &Rendered, map: &dyn SourceMap, scanner: &Scanner, collector: &Collector) {
    let virtual_path = format!("{}/<rendered>.yaml", rendered.root.trim_end_matches('/'));
    let outcome = scanner.scan_rendered(&virtual_path, &rendered.text);
    let docs = parse_documents(&rendered.text, &Limits::default()).unwrap_or_default();
    let fallback = Spot {
        path: format!("{}/kustomization.yaml", rendered.root),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
    };
    let relocate = |f: &mut Finding| {
        let line = f.location.line;
        let column = f.location.column;
        let found = docs
            .iter()
            .enumerate()
            .rfind(|(_, d)| d.span.line <= line && line <= d.span.end_line);
        let (spot, identity) = match found {
            Some((i, d)) => {
                let path = path_at(&d.root, line, column);
                let spot = map
                    .locate(i, &d.root, &path)
                    .or_else(|| map.locate(i, &d.root, &[]))
                    .unwrap_or_else(|| fallback.clone());
                let identity = map
                    .source_identity(i)
                    .map(|o| format!("{o}/{}", key_path(&path)));
                (spot, identity)
            }
            None => (fallback.clone(), None),
        };
        f.location = spot.location();
        if let Some(id) = identity {
            f.identity = Some(id);
        }
        f.snippet = None;
        f.roots = vec![rendered.root.clone()];
    };
    let mut findings = outcome.findings;
    findings.iter_mut().for_each(&relocate);
    let mut facts = outcome.facts;
    for fact in &mut facts {
        if let Fact::Policy(PolicyFact::Pod(p)) = fact {
            p.anchors_mut().for_each(&relocate);
        }
    }
    collector.add_findings(findings);
    collector.add_facts(&virtual_path, facts, None);
}

/// The key path of the deepest node of `root` that holds the position
/// (`line`, `column`): the value a finding points at.
pub fn path_at(root: &Node, line: usize, column: usize) -> Vec<Seg> {
    let pos = (line, column);
    let inside = |n: &Node| {
        let s = &n.span;
        (s.line, s.column) <= pos && pos < (s.end_line, s.end_column.max(s.column + 1))
            || (s.line, s.column) == pos
    };
    let mut out = Vec::new();
    let mut node = root;
    'walk: loop {
        match &node.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    let Some(key) = k.as_str() else { continue };
                    if inside(k) {
                        out.push(Seg::Key(key.to_string()));
                        break 'walk;
                    }
                    if inside(v) {
                        out.push(Seg::Key(key.to_string()));
                        node = v;
                        continue 'walk;
                    }
                }
                break;
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if inside(item) {
                        let name = item.get("name").and_then(Node::as_str).map(str::to_string);
                        out.push(Seg::Item(i, name));
                        node = item;
                        continue 'walk;
                    }
                }
                break;
            }
            Value::Scalar(_) => break,
        }
    }
    out
}

/// The last step over a report's findings once the repo checks ran: every
/// finding judged on rendered objects gets its code frame (and inline
/// `gitops-guard:allow` comments) from the source file it points at, and
/// the copies of one finding that several roots rendered become one,
/// listing the roots.
pub fn finish(findings: &mut Vec<Finding>, top: &Path) {
    if !findings.iter().any(|f| !f.roots.is_empty()) {
        return;
    }
    // One finding per (rule, source location); roots merged, sorted.
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut at: HashMap<(String, String, usize, usize, usize, usize), usize> = HashMap::new();
    for f in findings.drain(..) {
        if f.roots.is_empty() {
            merged.push(f);
            continue;
        }
        let l = &f.location;
        let key = (
            f.rule.clone(),
            l.path.clone(),
            l.line,
            l.column,
            l.end_line,
            l.end_column,
        );
        match at.get(&key) {
            Some(&i) => {
                let kept = &mut merged[i];
                for r in f.roots {
                    if !kept.roots.contains(&r) {
                        kept.roots.push(r);
                    }
                }
                // Not suppressed if any root's copy is not.
                if f.suppressed.is_none() {
                    kept.suppressed = None;
                }
            }
            None => {
                at.insert(key, merged.len());
                merged.push(f);
            }
        }
    }
    for f in merged.iter_mut() {
        f.roots.sort();
    }
    // Code frames and inline comments from the source files.
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in merged.iter().enumerate() {
        if !f.roots.is_empty() {
            by_path.entry(f.location.path.clone()).or_default().push(i);
        }
    }
    for (path, idx) in by_path {
        let Ok(bytes) = std::fs::read(top.join(&path)) else {
            continue;
        };
        let input = Input::new(&path, &bytes);
        let mut group: Vec<Finding> = idx.iter().map(|&i| merged[i].clone()).collect();
        // The file's own secret findings ride along, so the frames read
        // back from it are masked with its secrets, as `scan_file` masks
        // every frame of a blob; only the rendered findings are written back.
        group.extend(
            merged
                .iter()
                .filter(|f| f.roots.is_empty() && f.secret.is_some() && f.location.path == path)
                .cloned(),
        );
        crate::detect::suppress::prepare_findings(&input, &mut group, false);
        for (i, f) in idx.into_iter().zip(group) {
            merged[i] = f;
        }
    }
    *findings = merged;
}

/// Whether a finding or fact of a file consumed by a successful render is
/// replaced by the rendered judgement: the `policy` category, and the
/// per-object policy facts (Kustomization facts stay: they join directories).
pub fn replaced_finding(f: &Finding, consumed: &BTreeSet<String>) -> bool {
    f.category == Category::Policy && f.roots.is_empty() && is_consumed(&f.location.path, consumed)
}

pub fn replaced_fact(r: &FactRecord, consumed: &BTreeSet<String>) -> bool {
    matches!(&r.fact, Fact::Policy(p) if !matches!(p, PolicyFact::Kustomization(_)))
        && is_consumed(&r.path, consumed)
}

/// Whether a render consumed `path`: the file itself (a Kustomize resource
/// or patch), or a directory it lies under, written with a trailing `/` (a
/// rendered chart's `templates/` and `charts/`).
fn is_consumed(path: &str, consumed: &BTreeSet<String>) -> bool {
    consumed.contains(path)
        || path
            .match_indices('/')
            .any(|(i, _)| consumed.contains(&path[..=i]))
}

/// What one run of an external tool gave.
#[derive(Debug)]
pub enum ToolRun {
    Ok(Vec<u8>),
    /// Exit status not 0: its standard error (capped).
    Failed(String),
    TimedOut,
    TooLarge,
    /// Could not start it.
    NotStarted(String),
}

/// Run `program args` in `dir` with standard input closed, reading at most
/// `max_output` bytes of output and waiting at most `timeout` (then the
/// process is killed): a render never hangs a scan and never fills memory.
pub fn run_tool(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(&str, PathBuf)],
    timeout: Duration,
    max_output: usize,
) -> ToolRun {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // No prompt for credentials of a remote base: fail instead.
        .env("GIT_TERMINAL_PROMPT", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ToolRun::NotStarted(e.to_string()),
    };
    let read_capped = |mut r: Box<dyn Read + Send>, cap: usize| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            let mut over = false;
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if buf.len() + n > cap {
                            over = true;
                            // Keep draining so the child does not block on
                            // a full pipe before it is killed.
                            continue;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                }
            }
            (buf, over)
        })
    };
    let out = read_capped(Box::new(child.stdout.take().expect("piped")), max_output);
    let err = read_capped(Box::new(child.stderr.take().expect("piped")), 64 * 1024);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let Some(status) = status else {
        return ToolRun::TimedOut;
    };
    let (stdout, over) = out.join().unwrap_or_default();
    let (stderr, _) = err.join().unwrap_or_default();
    if over {
        return ToolRun::TooLarge;
    }
    if !status.success() {
        return ToolRun::Failed(String::from_utf8_lossy(&stderr).into_owned());
    }
    ToolRun::Ok(stdout)
}

/// The first of `names` found as an executable file on `PATH`.
pub fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// A tool's error for a note: control characters escaped, absolute paths
/// of the scanned tree and of the temporary directory removed, anything
/// token-shaped masked, and cut to one short paragraph.
pub fn sanitize_error(
    text: &str,
    replace: &[(&str, &str)],
    rules: &crate::rules::RuleSet,
) -> String {
    let mut t = text.trim().to_string();
    for (from, to) in replace {
        if !from.is_empty() {
            t = t.replace(from, to);
        }
    }
    // kubectl prefixes klog noise (`E1205 05:35:08.376789 27838 run.go:72]
    // "command failed" err=<` … `>`, or `err="…"`).
    if let Some(i) = t.find("\"command failed\" err=") {
        t = t[i + "\"command failed\" err=".len()..]
            .trim()
            .trim_start_matches(['<', '"'])
            .trim_end_matches(['>', '"'])
            .to_string();
    }
    let t = t.strip_prefix("Error: ").unwrap_or(&t);
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = crate::sanitize::scrub_free_text(&t, rules);
    let t = crate::sanitize::escape_control(&t).into_owned();
    // Kustomize nests its errors, the cause last: keep the start and the end.
    let chars: Vec<char> = t.chars().collect();
    if chars.len() <= 400 {
        return t;
    }
    let head: String = chars[..120].iter().collect();
    let tail: String = chars[chars.len() - 270..].iter().collect();
    format!("{head} … {tail}")
}

/// Render every root under `target` and judge what was rendered; fills
/// `stats.render`. Called by the library's working-tree scan and the HEAD
/// pass of `--history`, after the files were scanned one by one and before
/// the repo checks.
pub fn render_tree(
    target: &Path,
    top: Option<&Path>,
    scanner: &Scanner,
    collector: &Collector,
    opts: &RenderOptions,
) -> RenderStats {
    let mut stats = RenderStats::default();
    if !target.is_dir() {
        return stats;
    }
    let Ok(abs) = std::fs::canonicalize(target) else {
        return stats;
    };
    let top = match top {
        Some(t) => t.to_path_buf(),
        None => crate::config::repo_root(&abs).unwrap_or_else(|| abs.clone()),
    };
    let mut consumed = kustomize::render(&top, &abs, scanner, collector, opts, &mut stats);
    consumed.extend(helm::render(
        &top, &abs, scanner, collector, opts, &mut stats,
    ));
    stats.files_consumed = consumed.len() as u64;
    // The files a render read outside the scanned directory (the bases of
    // an overlay scanned alone, as the Argo CD plugin does) are scanned too.
    let prefix = kustomize::rel_path(&top, &abs).unwrap_or_default();
    for f in &consumed {
        let inside = !f.starts_with("../")
            && (prefix.is_empty()
                || f.strip_prefix(prefix.as_str())
                    .is_some_and(|r| r.starts_with('/')));
        if inside {
            continue;
        }
        let p = top.join(f);
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if meta.len() > scanner.options.max_file_size {
            collector.too_large(scanner, f, meta.len());
            continue;
        }
        match std::fs::read(&p) {
            Ok(bytes) => {
                let outcome = scanner.scan_blob(f, &bytes);
                collector.add(f, bytes.len() as u64, outcome, None);
            }
            Err(e) => collector.error(f.clone(), format!("cannot read {f}: {e}")),
        }
    }
    if !consumed.is_empty() {
        collector.retain_findings(|f| !replaced_finding(f, &consumed));
        collector.retain_facts(|r| !replaced_fact(r, &consumed));
    }
    stats
}

/// The repository root the paths of a scan of `target` are relative to.
pub fn tree_top(target: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(target).ok()?;
    let dir = if abs.is_file() {
        abs.parent()?.to_path_buf()
    } else {
        abs
    };
    Some(crate::config::repo_root(&dir).unwrap_or(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumed_files_and_directories_are_matched_by_path() {
        let consumed: BTreeSet<String> = ["base/deploy.yaml", "charts/web/templates/"]
            .into_iter()
            .map(String::from)
            .collect();
        assert!(is_consumed("base/deploy.yaml", &consumed));
        assert!(is_consumed(
            "charts/web/templates/deployment.yaml",
            &consumed
        ));
        assert!(is_consumed("charts/web/templates/sub/x.yaml", &consumed));
        assert!(!is_consumed("base/deploy.yaml.bak", &consumed));
        assert!(!is_consumed("charts/web/values.yaml", &consumed));
        assert!(!is_consumed("charts/web/templates-old/x.yaml", &consumed));
    }

    #[test]
    fn path_at_finds_the_deepest_node_and_names_list_items() {
        let text = "spec:\n  containers:\n    - name: app\n      securityContext:\n        privileged: true\n";
        let docs = parse_documents(text, &Limits::default()).unwrap();
        let p = path_at(&docs[0].root, 5, 21);
        assert_eq!(
            key_path(&p).to_string(),
            "spec.containers[app].securityContext.privileged"
        );
        // On a key: that key.
        let p = path_at(&docs[0].root, 4, 7);
        assert_eq!(
            key_path(&p).to_string(),
            "spec.containers[app].securityContext"
        );
        // Outside everything: the root.
        assert!(path_at(&docs[0].root, 99, 1).is_empty());
    }

    #[test]
    fn tool_errors_lose_klog_noise_keep_their_cause_and_mask_tokens() {
        let rules =
            crate::rules::RuleSet::build(crate::rules::builtin_specs().unwrap(), &[]).unwrap();
        let long = "x".repeat(500);
        let raw = format!(
            "E1205 06:03:58.351557    3863 run.go:72] \"command failed\" err=<\n\taccumulating resources from '/abs/repo/o': {long}: evalsymlink failure on 'missing'\n >\n"
        );
        let t = sanitize_error(&raw, &[("/abs/repo/", "")], &rules);
        assert!(t.starts_with("accumulating resources from 'o'"), "{t}");
        assert!(t.ends_with("evalsymlink failure on 'missing'"), "{t}");
        assert!(t.contains(" … ") && t.chars().count() < 420, "{t}");
        assert!(!t.contains('\n') && !t.contains("run.go"), "{t}");
        let token = crate::rules::examples::expand("<<github:ghp_>>", "render-note").unwrap();
        let t = sanitize_error(&format!("Error: bad value {token}"), &[], &rules);
        assert!(!t.contains(&token), "{t}");
    }

    #[test]
    fn tool_runs_are_bounded_in_time_and_output() {
        let sh = Path::new("/bin/sh");
        if !sh.exists() {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"SKIPPED: no /bin/sh; the bounded tool run is not tested\n",
            );
            return;
        }
        let dir = std::env::temp_dir();
        let run = |script: &str, max: usize| {
            run_tool(
                sh,
                &["-c".to_string(), script.to_string()],
                &dir,
                &[],
                Duration::from_millis(300),
                max,
            )
        };
        assert!(matches!(run("sleep 5", 1024), ToolRun::TimedOut));
        assert!(matches!(
            run("yes | head -c 100000", 1024),
            ToolRun::TooLarge
        ));
        assert!(
            matches!(run("echo boom >&2; exit 3", 1024), ToolRun::Failed(e) if e.contains("boom"))
        );
        assert!(matches!(run("printf ok", 1024), ToolRun::Ok(o) if o == b"ok"));
    }
}
