//! Kustomize, rendered: every root is built with `kustomize build` (or
//! `kubectl kustomize`) through a wrapper kustomization in a temporary
//! directory that asks for build metadata, and the rendered objects are
//! judged by the policy checks, each finding mapped back to the line that
//! wrote the value.
//!
//! - **Roots**: the directories Argo CD Applications (`spec.source.path`,
//!   `spec.sources[].path`) and Flux Kustomizations (`spec.path`) of the
//!   scanned tree point at, when they hold a kustomization; and every
//!   directory with a `kustomization.yaml` (`.yml`, `Kustomization`) that no
//!   other kustomization uses as a resource, base or component.
//! - **Build options**: Flux builds with `--load-restrictor
//!   LoadRestrictionsNone`; Argo CD with the `kustomize.buildOptions` of an
//!   `argocd-cm` ConfigMap in the tree; an Application's `spec.source.kustomize`
//!   `namespace`, `namePrefix`, `nameSuffix` and `images` go into the wrapper.
//!   Only [`ALLOWED_OPTIONS`] are passed: no plugins, no exec functions.
//! - **Origins**: the wrapper's `buildMetadata: [originAnnotations,
//!   transformerAnnotations]` makes Kustomize 5 write, on every object,
//!   `config.kubernetes.io/origin` (`path:` of the resource file, or
//!   `configuredIn:` for a generator) and
//!   `alpha.config.kubernetes.io/transformations` (each transformer that ran
//!   over it: `configuredIn:` its kustomization and `configuredBy.kind`).
//!   Paths are relative to the wrapper's directory, which references the
//!   root by a relative path (Kustomize refuses an absolute one). The
//!   annotations name the kustomization of a patch, not the patch: the
//!   patches of that kustomization are read and matched here. Both
//!   annotations are removed before the objects are judged.
//! - **Mapping** ([`KustomizeMap`]): a value is placed at the last patch
//!   (strategic-merge or JSON 6902, in a file or inline) that wrote its key
//!   path, else at the resource's own key path, else at the deepest written
//!   ancestor; an image an `images:` entry rewrote, at that entry.

use super::{RenderOptions, Rendered, Seg, SourceMap, Spot, ToolRun};
use crate::manifest::{Document, Limits, Node, ScalarStyle, parse_documents};
use crate::scan::{Collector, RenderStats, Scanner};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// The names Kustomize reads a kustomization from, in its order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Build options passed on to Kustomize (from argocd-cm, the config or the
/// command line). Anything else is left out with a note: plugins and exec
/// functions run code from the scanned repository, and `--enable-helm`
/// lets Kustomize download charts into the scanned tree (`charts/` beside
/// the kustomization); Helm charts are rendered by the Helm renderer.
pub const ALLOWED_OPTIONS: &[&str] = &["--load-restrictor"];

/// One root to build.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Root {
    /// Repository-relative directory (`""` for the repository root).
    dir: String,
    options: Vec<String>,
    /// Wrapper fields from an Argo CD Application's `spec.source.kustomize`.
    extras: Vec<(String, String)>,
}

impl Root {
    fn name(&self) -> String {
        if self.dir.is_empty() {
            ".".to_string()
        } else {
            self.dir.clone()
        }
    }
}

/// A root a GitOps object points at: (directory, Flux?, wrapper extras).
type Pointed = (String, bool, Vec<(String, String)>);

/// What the walk of the tree found.
#[derive(Default)]
struct Discovery {
    /// Directories with a kustomization, and its file's path.
    kustomizations: BTreeMap<String, String>,
    /// Directories some kustomization uses as a resource, base or component.
    referenced: BTreeSet<String>,
    /// (directory, Flux?, wrapper extras) from Argo CD Applications and Flux Kustomizations.
    pointed: Vec<Pointed>,
    /// `kustomize.buildOptions` of an `argocd-cm` ConfigMap.
    argocd_options: Option<String>,
}

/// Render every Kustomize root found under `target` (repository root
/// `top`), judge the rendered objects, and return the files the successful
/// builds read.
pub fn render(
    top: &Path,
    target: &Path,
    scanner: &Scanner,
    collector: &Collector,
    opts: &RenderOptions,
    stats: &mut RenderStats,
) -> BTreeSet<String> {
    let found = discover(top, target, scanner);
    let mut notes = Vec::new();
    let base_options = filter_options(&opts.kustomize_options, &mut notes);
    let argo_options = found
        .argocd_options
        .as_deref()
        .map(|o| {
            let words: Vec<String> = o.split_whitespace().map(str::to_string).collect();
            filter_options(&words, &mut notes)
        })
        .unwrap_or_default();
    let mut roots: BTreeSet<Root> = BTreeSet::new();
    for (dir, flux, extras) in &found.pointed {
        if !found.kustomizations.contains_key(dir) {
            continue;
        }
        let own = if *flux {
            vec!["--load-restrictor".into(), "LoadRestrictionsNone".into()]
        } else {
            argo_options.clone()
        };
        roots.insert(Root {
            dir: dir.clone(),
            options: merge_options(&base_options, &own),
            extras: extras.clone(),
        });
    }
    for dir in found.kustomizations.keys() {
        if !found.referenced.contains(dir) && !roots.iter().any(|r| &r.dir == dir) {
            roots.insert(Root {
                dir: dir.clone(),
                options: base_options.clone(),
                extras: Vec::new(),
            });
        }
    }
    stats.roots += roots.len() as u64;
    if roots.is_empty() {
        stats.notes.extend(notes);
        return BTreeSet::new();
    }
    let tool = super::find_on_path(&["kustomize"])
        .map(|p| (p, vec!["build".to_string()], "kustomize build"))
        .or_else(|| {
            super::find_on_path(&["kubectl"])
                .map(|p| (p, vec!["kustomize".to_string()], "kubectl kustomize"))
        });
    let Some((program, sub, tool_name)) = tool else {
        stats.not_rendered += roots.len() as u64;
        notes.push(format!(
            "{} kustomization(s) not rendered: no kustomize on PATH (install kustomize or \
             kubectl); their files were judged one by one",
            roots.len()
        ));
        stats.notes.extend(notes);
        return BTreeSet::new();
    };
    stats.tool = Some(tool_name.to_string());
    let consumed = Mutex::new(BTreeSet::new());
    let outcomes: Vec<Result<(), String>> = roots
        .par_iter()
        .map(|root| {
            let rendered = build(top, root, &program, &sub, scanner, opts)?;
            let map = KustomizeMap::new(top, &rendered.0, rendered.1.clone());
            let text = strip_build_metadata(&rendered.0);
            let mut files = map.consumed();
            files.extend(rendered.2);
            let r = Rendered {
                root: root.name(),
                text,
                consumed: files,
            };
            super::judge(&r, &map, scanner, collector);
            consumed.lock().expect("lock").extend(r.consumed);
            Ok(())
        })
        .collect();
    for o in outcomes {
        match o {
            Ok(()) => stats.rendered += 1,
            Err(note) => {
                stats.failed += 1;
                notes.push(note);
            }
        }
    }
    stats.notes.extend(notes);
    consumed.into_inner().expect("lock")
}

/// The options Kustomize is given: `base`, with `own`'s flags replacing
/// the same flags of `base`.
fn merge_options(base: &[String], own: &[String]) -> Vec<String> {
    let flags: Vec<&str> = own
        .iter()
        .filter(|o| o.starts_with("--"))
        .map(|o| o.split('=').next().unwrap_or(o))
        .collect();
    let mut out = Vec::new();
    let mut skip_value = false;
    for o in base {
        if skip_value {
            skip_value = false;
            continue;
        }
        let flag = o.split('=').next().unwrap_or(o);
        if o.starts_with("--") && flags.contains(&flag) {
            skip_value = !o.contains('=') && flag == "--load-restrictor";
            continue;
        }
        out.push(o.clone());
    }
    out.extend(own.iter().cloned());
    out
}

/// Keep the [`ALLOWED_OPTIONS`] of `words` (with their values); a note
/// names what was left out.
fn filter_options(words: &[String], notes: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let flag = w.split('=').next().unwrap_or(w);
        if flag == "--load-restrictor" {
            let value = match w.split_once('=') {
                Some((_, v)) => Some(v.to_string()),
                None => {
                    i += 1;
                    words.get(i).cloned()
                }
            };
            match value.as_deref() {
                Some(v @ ("LoadRestrictionsNone" | "LoadRestrictionsRootOnly")) => {
                    out.push("--load-restrictor".into());
                    out.push(v.to_string());
                }
                _ => notes.push(
                    "kustomize build option --load-restrictor without a known value left out"
                        .into(),
                ),
            }
        } else {
            notes.push(format!(
                "kustomize build option {} left out: gitops-guard passes only {}",
                crate::sanitize::escape_control(flag),
                ALLOWED_OPTIONS.join(", ")
            ));
        }
        i += 1;
    }
    out
}

/// Walk `target` for kustomizations, Argo CD Applications, Flux
/// Kustomizations and `argocd-cm`.
fn discover(top: &Path, target: &Path, scanner: &Scanner) -> Discovery {
    let mut d = Discovery::default();
    let excludes = crate::filter::glob_set(&scanner.options.exclude).unwrap_or_default();
    let walker = ignore::WalkBuilder::new(target)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(true)
        .ignore(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    let mut kustomization_texts: Vec<(String, String)> = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = rel_path(top, entry.path()) else {
            continue;
        };
        if excludes.is_match(&rel) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let is_kustomization = KUSTOMIZATION_FILES.contains(&name.as_ref());
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if !is_kustomization && !yaml {
            continue;
        }
        if entry
            .metadata()
            .map_or(true, |m| m.len() > scanner.options.max_file_size)
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        if is_kustomization {
            let dir = parent(&rel).to_string();
            // Kustomize reads the first of its names; keep that one.
            d.kustomizations.entry(dir).or_insert(rel.clone());
            kustomization_texts.push((rel, text));
            continue;
        }
        if !(text.contains("argoproj.io")
            || text.contains("kustomize.toolkit.fluxcd.io")
            || text.contains("argocd-cm"))
        {
            continue;
        }
        let Ok(docs) = parse_documents(&text, &Limits::default()) else {
            continue;
        };
        for doc in &docs {
            gitops_object(&doc.root, &mut d);
        }
    }
    for (rel, text) in kustomization_texts {
        let dir = parent(&rel);
        let Ok(docs) = parse_documents(&text, &Limits::default()) else {
            continue;
        };
        for doc in &docs {
            // A Component is built only by the kustomizations that use it
            // (alone, Kustomize refuses it): never a root of its own.
            if doc.root.get("kind").and_then(Node::as_str) == Some("Component") {
                d.referenced.insert(dir.to_string());
            }
            for key in ["resources", "bases", "components"] {
                for entry in doc.root.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                    if let Some(other) = entry.as_str().and_then(|e| join(dir, e))
                        && d.kustomizations.contains_key(&other)
                    {
                        d.referenced.insert(other);
                    }
                }
            }
        }
    }
    d
}

/// Note what an Argo CD Application, a Flux Kustomization or `argocd-cm` says.
fn gitops_object(root: &Node, d: &mut Discovery) {
    let kind = root.get("kind").and_then(Node::as_str);
    let api = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let spec = root.get("spec");
    match kind {
        Some("Application") if api.starts_with("argoproj.io/") => {
            let Some(spec) = spec else { return };
            let mut sources: Vec<&Node> = spec.get("source").into_iter().collect();
            sources.extend(spec.get("sources").and_then(Node::as_seq).unwrap_or(&[]));
            for s in sources {
                if let Some(p) = s.get("path").and_then(Node::as_str)
                    && let Some(dir) = join("", p)
                {
                    d.pointed
                        .push((dir, false, argo_extras(s.get("kustomize"))));
                }
            }
        }
        Some("Kustomization") if api.starts_with("kustomize.toolkit.fluxcd.io/") => {
            if let Some(p) = spec.and_then(|s| s.get("path")).and_then(Node::as_str)
                && let Some(dir) = join("", p)
            {
                d.pointed.push((dir, true, Vec::new()));
            }
        }
        Some("ConfigMap")
            if root.get_path(&["metadata", "name"]).and_then(Node::as_str) == Some("argocd-cm") =>
        {
            if let Some(o) = root
                .get_path(&["data", "kustomize.buildOptions"])
                .and_then(Node::as_str)
            {
                d.argocd_options = Some(o.to_string());
            }
        }
        _ => {}
    }
}

/// The wrapper fields an Application's `spec.source.kustomize` asks for.
fn argo_extras(k: Option<&Node>) -> Vec<(String, String)> {
    let Some(k) = k else { return Vec::new() };
    let mut out = Vec::new();
    for key in ["namespace", "namePrefix", "nameSuffix"] {
        if let Some(v) = k.get(key).and_then(Node::as_str).filter(|v| !v.is_empty()) {
            out.push((key.to_string(), v.to_string()));
        }
    }
    for image in k.get("images").and_then(Node::as_seq).unwrap_or(&[]) {
        if let Some(v) = image.as_str() {
            out.push(("image".to_string(), v.to_string()));
        }
    }
    out
}

/// The wrapper kustomization for `root`, `rel` being the root's directory
/// relative to the wrapper's.
fn wrapper_text(rel: &str, root: &Root) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut t = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        q(rel)
    );
    let mut images = Vec::new();
    for (k, v) in &root.extras {
        if k == "image" {
            images.push(argo_image(v));
        } else {
            t.push_str(&format!("{k}: {}\n", q(v)));
        }
    }
    if !images.is_empty() {
        t.push_str("images:\n");
        for (name, new_name, tag, digest) in images {
            t.push_str(&format!("  - name: {}\n", q(&name)));
            if let Some(n) = new_name {
                t.push_str(&format!("    newName: {}\n", q(&n)));
            }
            if let Some(x) = tag {
                t.push_str(&format!("    newTag: {}\n", q(&x)));
            }
            if let Some(x) = digest {
                t.push_str(&format!("    digest: {}\n", q(&x)));
            }
        }
    }
    t
}

/// Argo CD's image override (`name=new:tag`, `name:tag`, `name@digest`) as
/// (name, newName, newTag, digest).
fn argo_image(s: &str) -> (String, Option<String>, Option<String>, Option<String>) {
    let (name, rest) = match s.split_once('=') {
        Some((n, r)) => (n.to_string(), Some(r)),
        None => (String::new(), None),
    };
    let spec = rest.unwrap_or(s);
    let (spec, digest) = match spec.split_once('@') {
        Some((a, d)) => (a, Some(d.to_string())),
        None => (spec, None),
    };
    let (repo, tag) = split_tag(spec);
    let tag = tag.map(str::to_string);
    if rest.is_some() {
        (name, Some(repo.to_string()), tag, digest)
    } else {
        (repo.to_string(), None, tag, digest)
    }
}

/// `registry:5000/app:1.2` → (`registry:5000/app`, `1.2`).
fn split_tag(image: &str) -> (&str, Option<&str>) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], Some(&image[slash + i + 1..])),
        None => (image, None),
    }
}

/// The repository of an image reference (no tag, no digest).
fn image_repo(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    split_tag(image).0
}

/// Build one root through a wrapper. Ok: (rendered text, wrapper directory
/// as the annotations' paths see it, extra consumed files); Err: a note.
#[allow(clippy::type_complexity)]
fn build(
    top: &Path,
    root: &Root,
    program: &Path,
    sub: &[String],
    scanner: &Scanner,
    opts: &RenderOptions,
) -> Result<(String, PathBuf, BTreeSet<String>), String> {
    let name = root.name();
    let fail =
        |why: String| format!("{name}: not rendered, its files were judged one by one: {why}");
    let tmp = tempfile::Builder::new()
        .prefix("gitops-guard-render")
        .tempdir()
        .map_err(|e| fail(format!("cannot make a temporary directory: {e}")))?;
    let wdir = std::fs::canonicalize(tmp.path()).map_err(|e| fail(e.to_string()))?;
    let root_abs = top.join(&root.dir);
    let rel = relative_path(&wdir, &root_abs);
    std::fs::write(wdir.join("kustomization.yaml"), wrapper_text(&rel, root))
        .map_err(|e| fail(format!("cannot write the wrapper: {e}")))?;
    let mut args: Vec<String> = sub.to_vec();
    args.push(wdir.display().to_string());
    args.extend(root.options.iter().cloned());
    let top_s = top.display().to_string();
    let wdir_s = wdir.display().to_string();
    let clean = |e: &str| {
        super::sanitize_error(
            e,
            &[
                // The wrapper's path to the root first: it holds the tree's path.
                (&rel, &name),
                (&wdir_s, "<wrapper>"),
                (&format!("{top_s}/"), ""),
                (&top_s, "."),
            ],
            &scanner.rules,
        )
    };
    let out = match super::run_tool(program, &args, &wdir, &[], opts.timeout, opts.max_output) {
        ToolRun::Ok(o) => o,
        ToolRun::Failed(e) => return Err(fail(format!("kustomize failed: {}", clean(&e)))),
        ToolRun::TimedOut => {
            return Err(fail(format!(
                "kustomize did not finish within {} s",
                opts.timeout.as_secs()
            )));
        }
        ToolRun::TooLarge => {
            return Err(fail(format!(
                "its output is larger than {}",
                crate::scan::human_size(opts.max_output as u64)
            )));
        }
        ToolRun::NotStarted(e) => return Err(fail(format!("cannot run kustomize: {}", clean(&e)))),
    };
    let text = String::from_utf8(out).map_err(|_| fail("its output is not UTF-8".into()))?;
    if let Err(e) = parse_documents(&text, &Limits::default()) {
        return Err(fail(format!(
            "its output was refused by the YAML parser: {e}"
        )));
    }
    let mut consumed = BTreeSet::new();
    for k in walk_kustomizations(top, &root.dir) {
        consumed.insert(k);
    }
    Ok((text, wdir, consumed))
}

/// The kustomization files of `dir` and of the local directories it builds
/// from, transitively (they are read by the build).
fn walk_kustomizations(top: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(d) = todo.pop() {
        if !seen.insert(d.clone()) || seen.len() > 10_000 {
            continue;
        }
        let Some((file, text)) = KUSTOMIZATION_FILES.iter().find_map(|n| {
            let rel = if d.is_empty() {
                n.to_string()
            } else {
                format!("{d}/{n}")
            };
            std::fs::read_to_string(top.join(&rel))
                .ok()
                .map(|t| (rel, t))
        }) else {
            continue;
        };
        out.push(file);
        let Ok(docs) = parse_documents(&text, &Limits::default()) else {
            continue;
        };
        for doc in &docs {
            for key in ["resources", "bases", "components"] {
                for e in doc.root.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                    if let Some(other) = e.as_str().and_then(|e| join(&d, e)) {
                        todo.push(other);
                    }
                }
            }
        }
    }
    out
}

/// `to` relative to `from` (both absolute, canonical), `/`-separated.
fn relative_path(from: &Path, to: &Path) -> String {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// `path` relative to `top`, `/`-separated (`../base/x.yaml` outside it,
/// when the scanned tree is not a whole repository: the Argo CD plugin's
/// application directory); `None` for a path that is not absolute.
pub fn rel_path(top: &Path, path: &Path) -> Option<String> {
    let Ok(rel) = path.strip_prefix(top) else {
        return path.is_absolute().then(|| relative_path(top, path));
    };
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The directory part of a repository-relative path (`""` at the top).
fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `dir/entry` normalised inside the repository; `None` for remote entries,
/// absolute paths and paths that leave it.
fn join(dir: &str, entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry.is_empty()
        || entry.contains("://")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
        || entry.starts_with('/')
    {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in entry.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Lexically normalised `base/rel` (no file system access).
fn normalize(base: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Kustomize's output without the build metadata annotations (and without
/// an `annotations:` map they leave empty), whole lines removed so every
/// document stays in place.
pub fn strip_build_metadata(text: &str) -> String {
    let Ok(docs) = parse_documents(text, &Limits::default()) else {
        return text.to_string();
    };
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for doc in &docs {
        let Some(meta) = doc.root.get("metadata") else {
            continue;
        };
        let Some((akey, ann)) = meta.get_entry("annotations") else {
            continue;
        };
        let Some(entries) = ann.as_map() else {
            continue;
        };
        let ours = |k: &Node| matches!(k.as_str(), Some(ORIGIN | TRANSFORMATIONS));
        let mine: Vec<&(Node, Node)> = entries.iter().filter(|(k, _)| ours(k)).collect();
        if mine.is_empty() {
            continue;
        }
        if mine.len() == entries.len() {
            let end = entries
                .iter()
                .map(|(_, v)| v.span.end)
                .max()
                .unwrap_or(ann.span.end);
            cuts.push((line_start(akey.span.start), line_end(end.max(1) - 1)));
        } else {
            for (k, v) in mine {
                cuts.push((line_start(k.span.start), line_end(v.span.end.max(1) - 1)));
            }
        }
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in cuts {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// What the build metadata says about one rendered document.
#[derive(Clone, Debug, Default)]
struct DocInfo {
    kind: String,
    name: String,
    /// The resource file it came from (repository-relative).
    origin: Option<String>,
    /// The kustomization whose generator made it.
    generated_in: Option<String>,
    /// (kustomization, transformer kind) in the order they ran.
    transformations: Vec<(String, String)>,
}

/// A parsed source file.
struct SourceFile {
    text: String,
    docs: Vec<Document>,
}

/// A patch as written: where, what it targets, its documents.
struct Patch {
    /// The file holding it (a patch file, or the kustomization for an inline one).
    file: String,
    /// Inline: (file line of the patch text's first line, columns to add).
    inline: Option<(usize, usize)>,
    /// Inline written as a quoted or plain scalar: every node maps here.
    flat: Option<Spot>,
    target_kind: Option<String>,
    target_name: Option<String>,
    docs: Vec<Document>,
}

/// The [`SourceMap`] of one Kustomize build.
pub struct KustomizeMap {
    top: PathBuf,
    docs: Vec<DocInfo>,
    files: Mutex<HashMap<String, Option<std::sync::Arc<SourceFile>>>>,
}

impl KustomizeMap {
    /// Read the build metadata of Kustomize's `output`, built through a
    /// wrapper in `wrapper_dir`.
    fn new(top: &Path, output: &str, wrapper_dir: PathBuf) -> KustomizeMap {
        // The wrapper's own transformers (an Application's namespace or
        // images) are not in the repository.
        let repo = |p: &str| {
            let abs = normalize(&wrapper_dir, p);
            if abs.starts_with(&wrapper_dir) {
                return None;
            }
            rel_path(top, &abs)
        };
        let docs = parse_documents(output, &Limits::default()).unwrap_or_default();
        let infos = docs
            .iter()
            .map(|d| {
                let mut info = DocInfo {
                    kind: d
                        .root
                        .get("kind")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_string(),
                    name: d
                        .root
                        .get_path(&["metadata", "name"])
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_string(),
                    ..DocInfo::default()
                };
                let ann = |k: &str| {
                    d.root
                        .get_path(&["metadata", "annotations"])
                        .and_then(|a| a.get(k))
                        .and_then(Node::as_str)
                        .and_then(|t| parse_documents(t, &Limits::default()).ok())
                        .and_then(|mut v| (!v.is_empty()).then(|| v.swap_remove(0)))
                };
                if let Some(o) = ann(ORIGIN) {
                    // A remote resource has `repo:`; its path is not ours.
                    if o.root.get("repo").is_none() {
                        info.origin = o.root.get("path").and_then(Node::as_str).and_then(repo);
                    }
                    info.generated_in = o
                        .root
                        .get("configuredIn")
                        .and_then(Node::as_str)
                        .and_then(repo);
                }
                if let Some(t) = ann(TRANSFORMATIONS) {
                    for item in t.root.as_seq().unwrap_or(&[]) {
                        let k = item
                            .get("configuredIn")
                            .and_then(Node::as_str)
                            .and_then(repo);
                        let kind = item
                            .get_path(&["configuredBy", "kind"])
                            .and_then(Node::as_str)
                            .unwrap_or("");
                        if let Some(k) = k {
                            info.transformations.push((k, kind.to_string()));
                        }
                    }
                }
                info
            })
            .collect();
        KustomizeMap {
            top: top.to_path_buf(),
            docs: infos,
            files: Mutex::new(HashMap::new()),
        }
    }

    /// Every file the build metadata names, with the patch files of the
    /// kustomizations whose transformers ran.
    fn consumed(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut ks = BTreeSet::new();
        for d in &self.docs {
            out.extend(d.origin.clone());
            out.extend(d.generated_in.clone());
            for (k, _) in &d.transformations {
                ks.insert(k.clone());
            }
        }
        for k in ks {
            for p in self.patches(&k) {
                out.insert(p.file.clone());
            }
            out.insert(k);
        }
        out
    }

    fn file(&self, path: &str) -> Option<std::sync::Arc<SourceFile>> {
        let mut files = self.files.lock().expect("lock");
        files
            .entry(path.to_string())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(self.top.join(path)).ok()?;
                let docs = parse_documents(&text, &Limits::default()).ok()?;
                Some(std::sync::Arc::new(SourceFile { text, docs }))
            })
            .clone()
    }

    /// The patches a kustomization declares, in order.
    fn patches(&self, kustomization: &str) -> Vec<Patch> {
        let Some(k) = self.file(kustomization) else {
            return Vec::new();
        };
        let dir = parent(kustomization);
        let mut out = Vec::new();
        let Some(root) = k.docs.first().map(|d| &d.root) else {
            return out;
        };
        let target = |n: &Node| {
            let t = n.get("target");
            (
                t.and_then(|t| t.get("kind"))
                    .and_then(Node::as_str)
                    .map(str::to_string),
                t.and_then(|t| t.get("name"))
                    .and_then(Node::as_str)
                    .map(str::to_string),
            )
        };
        let mut add = |node: &Node, content: Option<&Node>, path: Option<&str>| {
            let (target_kind, target_name) = target(node);
            if let Some(p) = path.and_then(|p| join(dir, p)) {
                if let Some(f) = self.file(&p) {
                    out.push(Patch {
                        file: p,
                        inline: None,
                        flat: None,
                        target_kind,
                        target_name,
                        docs: f.docs.clone(),
                    });
                }
            } else if let Some(c) = content
                && let Some(text) = c.as_str()
                && let Ok(docs) = parse_documents(text, &Limits::default())
            {
                let (inline, flat) = inline_place(&k.text, c, kustomization);
                out.push(Patch {
                    file: kustomization.to_string(),
                    inline,
                    flat,
                    target_kind,
                    target_name,
                    docs,
                });
            }
        };
        for key in ["patchesStrategicMerge", "patchesJson6902", "patches"] {
            for item in root.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                if let Some(s) = item.as_str() {
                    // patchesStrategicMerge: a path, or the patch itself.
                    if s.contains('\n') || s.contains(": ") {
                        add(item, Some(item), None);
                    } else {
                        add(item, None, Some(s));
                    }
                } else {
                    let path = item.get("path").and_then(Node::as_str);
                    add(item, item.get("patch"), path);
                }
            }
        }
        out
    }

    /// The images entry of `kustomization` that rewrote `image`, if any.
    fn images_entry(&self, kustomization: &str, image: &str) -> Option<Spot> {
        let k = self.file(kustomization)?;
        let root = &k.docs.first()?.root;
        let repo = image_repo(image);
        for e in root.get("images").and_then(Node::as_seq).unwrap_or(&[]) {
            let name = e.get("name").and_then(Node::as_str).unwrap_or("");
            let new = e.get("newName").and_then(Node::as_str).unwrap_or(name);
            if new == repo || name == repo {
                let node = ["newTag", "digest", "newName"]
                    .iter()
                    .find_map(|k| e.get(k))
                    .unwrap_or(e);
                return Some(spot(kustomization, node));
            }
        }
        None
    }

    /// The resource document of `info` in its origin file.
    fn base(&self, info: &DocInfo) -> Option<(String, std::sync::Arc<SourceFile>, usize)> {
        let path = info.origin.clone()?;
        let f = self.file(&path)?;
        let kind_of = |d: &Document| {
            d.root
                .get("kind")
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        let name_of = |d: &Document| {
            d.root
                .get_path(&["metadata", "name"])
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        // The same kind whose name the rendered one contains (prefixes and
        // suffixes only add), the longest such name.
        let best = f
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| kind_of(d).as_deref() == Some(info.kind.as_str()))
            .filter_map(|(i, d)| {
                name_of(d)
                    .filter(|n| info.name.contains(n.as_str()))
                    .map(|n| (n.len(), i))
            })
            .max()
            .map(|(_, i)| i)
            .or_else(|| (f.docs.len() == 1).then_some(0))?;
        Some((path, f, best))
    }
}

/// Where an inline patch's text sits in its kustomization: for a block
/// scalar, the file line of its first line and the indentation to add;
/// otherwise one spot for every node.
fn inline_place(
    file_text: &str,
    node: &Node,
    file: &str,
) -> (Option<(usize, usize)>, Option<Spot>) {
    let block = node
        .as_scalar()
        .is_some_and(|s| matches!(s.style, ScalarStyle::Literal));
    if !block {
        return (None, Some(spot(file, node)));
    }
    let first = node.span.line + 1;
    let indent = file_text
        .lines()
        .nth(first - 1)
        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
    (Some((first, indent)), None)
}

fn spot(file: &str, node: &Node) -> Spot {
    Spot {
        path: file.to_string(),
        line: node.span.line,
        column: node.span.column,
        end_line: node.span.end_line,
        end_column: node.span.end_column,
    }
}

impl Patch {
    fn spot(&self, node: &Node) -> Spot {
        if let Some(s) = &self.flat {
            return s.clone();
        }
        match self.inline {
            Some((first, indent)) => Spot {
                path: self.file.clone(),
                line: first + node.span.line - 1,
                column: node.span.column + indent,
                end_line: first + node.span.end_line - 1,
                end_column: node.span.end_column + indent,
            },
            None => spot(&self.file, node),
        }
    }

    /// Whether the patch applies to an object of `kind` named `orig` (in
    /// its resource file) or `rendered`.
    fn targets(&self, kind: &str, orig: &str, rendered: &str, doc: &Node) -> bool {
        let name_ok = |want: &str| {
            want == orig
                || want == rendered
                || regex::Regex::new(&format!("^(?:{want})$"))
                    .is_ok_and(|r| r.is_match(orig) || r.is_match(rendered))
        };
        if self.target_kind.is_some() || self.target_name.is_some() {
            return self.target_kind.as_deref().is_none_or(|k| k == kind)
                && self.target_name.as_deref().is_none_or(name_ok);
        }
        doc.get("kind").and_then(Node::as_str) == Some(kind)
            && doc
                .get_path(&["metadata", "name"])
                .and_then(Node::as_str)
                .is_some_and(name_ok)
    }
}

/// Follow `path` into `node` as far as it is written: list items by their
/// `name` when the rendered item has one (Kustomize merges them by name),
/// else by position when `by_index`. Returns the depth reached and the node.
fn walk<'n>(node: &'n Node, path: &[Seg], by_index: bool) -> (usize, &'n Node) {
    let mut cur = node;
    for (depth, seg) in path.iter().enumerate() {
        let next = match seg {
            Seg::Key(k) => cur.get(k),
            Seg::Item(_, Some(name)) => cur.as_seq().and_then(|s| {
                s.iter()
                    .find(|n| n.get("name").and_then(Node::as_str) == Some(name))
            }),
            Seg::Item(i, None) => by_index
                .then(|| cur.as_seq().and_then(|s| s.get(*i)))
                .flatten(),
        };
        match next {
            Some(n) => cur = n,
            None => return (depth, cur),
        }
    }
    (path.len(), cur)
}

/// A key path that names an object or a list item rather than setting a
/// value (`metadata.name`, `kind`, a container's `name`): a patch repeats
/// it to say what it patches, so it is placed at the resource first.
fn identifies(path: &[Seg]) -> bool {
    match path {
        [Seg::Key(k)] => k == "kind" || k == "apiVersion",
        [Seg::Key(m), Seg::Key(n)] => m == "metadata" && n == "name",
        [.., Seg::Item(..), Seg::Key(n)] => n == "name",
        [] => true,
        _ => false,
    }
}

/// A JSON 6902 operation's path as segments (`~1` is `/`, `~0` is `~`).
fn pointer(p: &str) -> Vec<String> {
    p.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// How far a JSON 6902 `add`/`replace` operation writes `path`: the depth
/// reached and the node (inside the operation's `value`).
fn op_reach<'n>(op: &'n Node, path: &[Seg]) -> Option<(usize, &'n Node)> {
    let kind = op.get("op").and_then(Node::as_str)?;
    if !matches!(kind, "add" | "replace") {
        return None;
    }
    let ptr = pointer(op.get("path").and_then(Node::as_str)?);
    if ptr.len() > path.len() {
        return None;
    }
    for (tok, seg) in ptr.iter().zip(path) {
        let ok = match seg {
            Seg::Key(k) => tok == k,
            Seg::Item(i, _) => tok == "-" || tok.parse::<usize>() == Ok(*i),
        };
        if !ok {
            return None;
        }
    }
    let value = op.get("value")?;
    let (d, node) = walk(value, &path[ptr.len()..], true);
    Some((ptr.len() + d, node))
}

impl SourceMap for KustomizeMap {
    fn locate(&self, doc: usize, rendered: &Node, path: &[Seg]) -> Option<Spot> {
        let info = self.docs.get(doc)?;
        // An image an `images:` entry rewrote: that entry (the last one to run).
        if let Some(Seg::Key(k)) = path.last()
            && k == "image"
            && let Some(image) = walk(rendered, path, true).1.as_str()
        {
            for (k, kind) in info.transformations.iter().rev() {
                if kind == "ImageTagTransformer"
                    && let Some(s) = self.images_entry(k, image)
                {
                    return Some(s);
                }
            }
        }
        let base = self.base(info);
        let orig = base
            .as_ref()
            .and_then(|(_, f, i)| f.docs[*i].root.get_path(&["metadata", "name"]))
            .and_then(Node::as_str)
            .unwrap_or(&info.name)
            .to_string();
        let (base_depth, base_spot) = match &base {
            Some((p, f, i)) => {
                let (d, n) = walk(&f.docs[*i].root, path, true);
                (d, Some(spot(p, n)))
            }
            None => (0, None),
        };
        if base_depth == path.len() && identifies(path) {
            return base_spot;
        }
        // Patches, the last to run first.
        let mut seen = BTreeSet::new();
        let mut partial: Option<(usize, Spot)> = None;
        for (k, kind) in info.transformations.iter().rev() {
            if !kind.contains("Patch") || !seen.insert(k.clone()) {
                continue;
            }
            for patch in self.patches(k).iter().rev() {
                for pdoc in patch.docs.iter().rev() {
                    let reach = if let Some(ops) = pdoc.root.as_seq() {
                        if patch.target_kind.is_none() && patch.target_name.is_none() {
                            continue;
                        }
                        if !patch.targets(&info.kind, &orig, &info.name, &pdoc.root) {
                            continue;
                        }
                        ops.iter()
                            .rev()
                            .filter_map(|op| op_reach(op, path))
                            .max_by_key(|r| r.0)
                    } else {
                        if !patch.targets(&info.kind, &orig, &info.name, &pdoc.root) {
                            continue;
                        }
                        Some(walk(&pdoc.root, path, false))
                    };
                    let Some((d, node)) = reach else { continue };
                    if d == path.len() {
                        return Some(patch.spot(node));
                    }
                    if d > base_depth && partial.as_ref().is_none_or(|(pd, _)| d > *pd) {
                        partial = Some((d, patch.spot(node)));
                    }
                }
            }
        }
        if base_depth == path.len() {
            return base_spot;
        }
        if let Some((_, s)) = partial {
            return Some(s);
        }
        base_spot.or_else(|| {
            info.generated_in.as_ref().map(|k| Spot {
                path: k.clone(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            })
        })
    }

    fn source_identity(&self, doc: usize) -> Option<String> {
        let info = self.docs.get(doc)?;
        let (path, f, i) = self.base(info)?;
        let name = f.docs[i]
            .root
            .get_path(&["metadata", "name"])
            .and_then(Node::as_str)?;
        Some(format!("{path}#{}/{name}", info.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_removes_only_the_build_metadata() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: k.yaml\n    config.kubernetes.io/origin: |\n      path: p.yaml\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: p.yaml\n    keep: \"yes\"\n  name: b\n";
        let out = strip_build_metadata(text);
        assert_eq!(
            out,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    keep: \"yes\"\n  name: b\n"
        );
    }

    #[test]
    fn options_are_filtered_and_merged() {
        let mut notes = Vec::new();
        let words: Vec<String> = [
            "--enable-helm",
            "--enable-alpha-plugins",
            "--load-restrictor",
            "LoadRestrictionsNone",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let kept = filter_options(&words, &mut notes);
        assert_eq!(kept, ["--load-restrictor", "LoadRestrictionsNone"]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("--enable-helm"));
        assert!(notes[1].contains("--enable-alpha-plugins"));
        let merged = merge_options(
            &[
                "--load-restrictor".into(),
                "LoadRestrictionsRootOnly".into(),
            ],
            &["--load-restrictor".into(), "LoadRestrictionsNone".into()],
        );
        assert_eq!(merged, ["--load-restrictor", "LoadRestrictionsNone"]);
    }

    #[test]
    fn paths_join_inside_the_repository_and_relative_paths_climb() {
        assert_eq!(join("overlays/prod", "../../base").as_deref(), Some("base"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a", "github.com/x/y?ref=v1"), None);
        assert_eq!(
            relative_path(Path::new("/tmp/w"), Path::new("/home/r/o")),
            "../../home/r/o"
        );
        assert_eq!(
            argo_image("nginx:1.2"),
            ("nginx".into(), None, Some("1.2".into()), None)
        );
        assert_eq!(
            argo_image("nginx=reg:5000/ng:2@sha256:ab"),
            (
                "nginx".into(),
                Some("reg:5000/ng".into()),
                Some("2".into()),
                Some("sha256:ab".into())
            )
        );
        assert_eq!(image_repo("reg:5000/app:1@sha256:x"), "reg:5000/app");
    }

    #[test]
    fn json_patch_operations_reach_the_paths_they_write() {
        let docs = parse_documents(
            "- op: add\n  path: /spec/template/spec/containers/0/securityContext\n  value:\n    privileged: true\n",
            &Limits::default(),
        )
        .unwrap();
        let op = &docs[0].root.as_seq().unwrap()[0];
        let k = |s: &str| Seg::Key(s.to_string());
        let path = [
            k("spec"),
            k("template"),
            k("spec"),
            k("containers"),
            Seg::Item(0, Some("app".into())),
            k("securityContext"),
            k("privileged"),
        ];
        let (d, n) = op_reach(op, &path).unwrap();
        assert_eq!(d, path.len());
        assert_eq!(n.span.line, 4);
        // Another container: not this operation's.
        let mut other = path.clone();
        other[4] = Seg::Item(1, Some("side".into()));
        assert!(op_reach(op, &other).is_none());
    }
}
