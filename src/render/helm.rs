//! Helm charts, rendered (issue 15 item 4).
//!
//! Every chart of the scanned tree (a directory with `Chart.yaml`, not a
//! subchart under another chart's `charts/`, not a `library` chart) is
//! rendered with `helm template` once with its default values, and once for
//! every values set a GitOps object in the tree gives it:
//!
//! - a Flux `HelmRelease` whose `spec.chart.spec.chart` is the chart's path
//!   with a `GitRepository` source: `spec.chart.spec.valuesFiles`, then
//!   `spec.valuesFrom` (a `ConfigMap` of the tree, its `valuesKey` or
//!   `values.yaml`; Secrets, `targetPath` and ConfigMaps not in the tree are
//!   notes), then the inline `spec.values`;
//! - an Argo CD `Application` (each of `spec.source`/`spec.sources`) whose
//!   `path` is the chart: `helm.valueFiles` (relative to the chart;
//!   `$ref/…` files are notes), then `values` (a string) or `valuesObject`,
//!   then `parameters` (`--set`, `--set-string` with `forceString`).
//!
//! The rendered stream is judged by the policy checks
//! (`Scanner::scan_rendered`), and every finding is moved to its source:
//! the document's `# Source: <chart>/templates/x.yaml` comment names the
//! template, and the finding's key path is looked for in the template's text
//! (templates are not YAML: a line search for each key under its parent's
//! block). When the value came from the values (`privileged: {{
//! .Values.x }}`, or a `toYaml .Values.securityContext` block the key is
//! not written in), the finding points at the values line that set it
//! (the highest-precedence one: `--set` parameter, inline values, values
//! files, the chart's `values.yaml`); else at the template line; else at
//! the template's first line. One finding per source location, listing the
//! renders (`roots`) that produced it.
//!
//! Bounded and read-only: one render at a time, each with a timeout and an
//! output cap ([`super::run_tool`]); inline values are written to a
//! temporary directory, never into the scanned tree; helm runs with its
//! config, cache and data homes in that directory and without plugins, and
//! never fetches: a dependency not vendored under `charts/` is a note.
//! Names taken from the repository (release, namespace) are checked before
//! they reach helm's command line, so none can pass as an option.

use super::{RenderOptions, Seg, Spot, ToolRun, find_on_path, path_at, run_tool};
use crate::detect::Fact;
use crate::detect::policy::PolicyFact;
use crate::finding::{Finding, Location};
use crate::manifest::{Limits, Node, ScalarStyle, Value, objects, parse_documents};
use crate::scan::{Collector, RenderStats, Scanner};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// At most this many charts are rendered per scan; the rest are a note.
pub const MAX_CHARTS: usize = 500;
/// At most this many renders (charts × values sets) per scan.
pub const MAX_RENDERS: usize = 1000;
/// GitOps objects are looked for in YAML files up to this size.
const MAX_MANIFEST_BYTES: u64 = 2 * 1024 * 1024;

/// A chart of the tree.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Directory relative to the repository root (`""` for the root).
    pub dir: String,
    /// `name` of `Chart.yaml`.
    pub name: String,
    /// Dependencies that are not vendored under `charts/`.
    pub missing: Vec<String>,
}

/// Where a values source is written, for mapping a value path back to a line.
#[derive(Clone, Debug)]
enum Origin {
    /// A whole YAML file of the tree.
    File(String),
    /// A node inside a YAML file: the file, the document's index and the
    /// keys from the document's root to the values node.
    Node {
        path: String,
        doc: usize,
        keys: Vec<String>,
    },
    /// YAML held as a string inside a YAML file (Argo CD `helm.values`, a
    /// ConfigMap's data key): the node holding the string.
    Embedded {
        path: String,
        doc: usize,
        keys: Vec<String>,
    },
}

/// One `--set`/`--set-string` argument and where it was written.
#[derive(Clone, Debug)]
struct SetArg {
    name: String,
    value: String,
    string: bool,
    path: String,
    line: usize,
    column: usize,
    end_column: usize,
}

/// One way a chart is rendered: a release name, a namespace and values.
#[derive(Clone, Debug)]
pub struct ValuesSet {
    /// `default values`, `HelmRelease prod/web (clusters/prod/web.yaml)`.
    pub label: String,
    pub release: String,
    pub namespace: String,
    /// Values sources, lowest precedence first (the chart's `values.yaml`
    /// is below them all and not listed).
    sources: Vec<Origin>,
    /// The namespace a GitOps object deploys the release to (`None` for the
    /// default-values render, which nothing deploys): namespace-less
    /// rendered objects land there, as helm and the controllers place them.
    deployed_to: Option<String>,
    sets: Vec<SetArg>,
}

impl ValuesSet {
    fn defaults(chart: &Chart) -> ValuesSet {
        ValuesSet {
            label: "default values".to_string(),
            release: release_name(&chart.name).unwrap_or_else(|| "release-name".to_string()),
            namespace: "default".to_string(),
            sources: Vec::new(),
            deployed_to: None,
            sets: Vec::new(),
        }
    }
}

/// `name` if Kubernetes would accept it as a release name or namespace (a
/// DNS-1123 label, at most 53 characters): nothing from the repository
/// reaches helm's command line that could read as an option.
fn release_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 53
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    ok.then(|| name.to_string())
}

/// `a/./b/../c` → `a/c`; `None` when it leaves the root or is absolute.
fn normalize(path: &str) -> Option<String> {
    if path.starts_with('/') || path.contains("://") {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
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

fn join(dir: &str, rel: &str) -> Option<String> {
    if dir.is_empty() {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

fn rel_path(top: &Path, p: &Path) -> Option<String> {
    let rel = p.strip_prefix(top).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn parse(text: &str) -> Vec<crate::manifest::Document> {
    parse_documents(text, &Limits::default()).unwrap_or_default()
}

fn read_text(top: &Path, rel: &str) -> Option<String> {
    let p = top.join(rel);
    // Never read outside the repository (a symbolic link out of it).
    let real = std::fs::canonicalize(&p).ok()?;
    if !real.starts_with(top) {
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    std::fs::read_to_string(real).ok()
}

/// Every chart under `under` (paths relative to `top`), subcharts left out.
pub fn discover_charts(top: &Path, under: &Path) -> Vec<Chart> {
    let mut dirs = BTreeSet::new();
    for entry in ignore::WalkBuilder::new(under)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
    {
        if entry.file_name() == "Chart.yaml"
            && entry.file_type().is_some_and(|t| t.is_file())
            && let Some(dir) = entry.path().parent().and_then(|d| rel_path(top, d))
        {
            dirs.insert(dir);
        }
    }
    let mut charts = Vec::new();
    for dir in &dirs {
        // A subchart: `<chart>/charts/<sub>` of a chart found above.
        let is_sub = dir
            .match_indices("/charts/")
            .any(|(i, _)| dirs.contains(&dir[..i]))
            || (dir.starts_with("charts/") && dirs.contains(""));
        if is_sub {
            continue;
        }
        let chart_file = join(dir, "Chart.yaml").unwrap_or_default();
        let Some(text) = read_text(top, &chart_file) else {
            continue;
        };
        let docs = parse(&text);
        let Some(root) = docs.first().map(|d| &d.root) else {
            continue;
        };
        if root.get("type").and_then(Node::as_str) == Some("library") {
            continue;
        }
        let name = root
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or_else(|| dir.rsplit('/').next().unwrap_or("chart"))
            .to_string();
        let mut deps: Vec<String> = dep_names(root);
        if let Some(req) = read_text(top, &join(dir, "requirements.yaml").unwrap_or_default())
            && let Some(d) = parse(&req).first()
        {
            deps.extend(dep_names(&d.root));
        }
        let missing = deps
            .into_iter()
            .filter(|d| !vendored(&top.join(dir).join("charts"), d))
            .collect();
        charts.push(Chart {
            dir: dir.clone(),
            name,
            missing,
        });
    }
    charts
}

fn dep_names(root: &Node) -> Vec<String> {
    root.get("dependencies")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|d| d.get("name").and_then(Node::as_str).map(str::to_string))
        .collect()
}

/// A dependency is vendored as `charts/<name>/` or `charts/<name>-<version>.tgz`.
fn vendored(charts: &Path, name: &str) -> bool {
    if charts.join(name).join("Chart.yaml").is_file() {
        return true;
    }
    std::fs::read_dir(charts).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(&format!("{name}-")) && n.ends_with(".tgz")
        })
    })
}

/// One data key of a ConfigMap of the tree: (file, document, keys to the
/// value, ConfigMap name, namespace).
type ConfigMapKey = (String, usize, Vec<String>, String, Option<String>);

/// The values sets the GitOps objects of the tree give each chart (by
/// chart directory), and notes on what could not be followed.
pub fn discover_values_sets(
    top: &Path,
    under: &Path,
    charts: &[Chart],
) -> (BTreeMap<String, Vec<ValuesSet>>, Vec<String>) {
    let chart_dirs: BTreeSet<&str> = charts.iter().map(|c| c.dir.as_str()).collect();
    let mut sets: BTreeMap<String, Vec<ValuesSet>> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut configmaps: Vec<ConfigMapKey> = Vec::new();
    let mut releases = Vec::new();
    for entry in ignore::WalkBuilder::new(under)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
    {
        let p = entry.path();
        let is_yaml = p.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml || !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = rel_path(top, p) else {
            continue;
        };
        // Templates are not YAML, and hold no GitOps objects of the repo.
        if chart_dirs
            .iter()
            .any(|d| rel.starts_with(&join(d, "templates/").unwrap_or_default()))
        {
            continue;
        }
        let Some(text) = read_text(top, &rel) else {
            continue;
        };
        let wanted = ["HelmRelease", "Application", "ConfigMap"]
            .iter()
            .any(|k| text.contains(k));
        if !wanted {
            continue;
        }
        let docs = parse(&text);
        for (di, doc) in docs.iter().enumerate() {
            for obj in objects(std::slice::from_ref(doc)) {
                let group = obj.api_group().unwrap_or("");
                match (group, obj.kind) {
                    ("", Some("ConfigMap")) => {
                        if let Some(data) = obj.get("data") {
                            for (k, _) in data.entries() {
                                configmaps.push((
                                    rel.clone(),
                                    di,
                                    vec!["data".into(), k.to_string()],
                                    obj.name.unwrap_or("").to_string(),
                                    obj.namespace.map(str::to_string),
                                ));
                            }
                        }
                    }
                    ("helm.toolkit.fluxcd.io", Some("HelmRelease")) => {
                        releases.push((rel.clone(), di, true));
                    }
                    ("argoproj.io", Some("Application")) => {
                        releases.push((rel.clone(), di, false));
                    }
                    _ => {}
                }
            }
        }
    }
    for (rel, di, flux) in releases {
        let Some(text) = read_text(top, &rel) else {
            continue;
        };
        let docs = parse(&text);
        let Some(doc) = docs.get(di) else { continue };
        let Some(obj) = objects(std::slice::from_ref(doc)).into_iter().next() else {
            continue;
        };
        let found = if flux {
            flux_values_set(&rel, di, &obj, &chart_dirs, &configmaps, &mut notes)
                .into_iter()
                .collect::<Vec<_>>()
        } else {
            argo_values_sets(&rel, di, &obj, &chart_dirs, &mut notes)
        };
        for (dir, set) in found {
            sets.entry(dir).or_default().push(set);
        }
    }
    (sets, notes)
}

fn str_at<'n>(node: &'n Node, keys: &[&str]) -> Option<&'n str> {
    node.get_path(keys).and_then(Node::as_str)
}

fn flux_values_set(
    rel: &str,
    di: usize,
    obj: &crate::manifest::Object<'_>,
    chart_dirs: &BTreeSet<&str>,
    configmaps: &[ConfigMapKey],
    notes: &mut Vec<String>,
) -> Option<(String, ValuesSet)> {
    let name = obj.name.unwrap_or("<unnamed>");
    let ns = obj.namespace.unwrap_or("default");
    let who = format!("HelmRelease {ns}/{name} ({rel})");
    let spec = obj.get("spec")?;
    let chart = str_at(spec, &["chart", "spec", "chart"])?;
    let source = str_at(spec, &["chart", "spec", "sourceRef", "kind"]).unwrap_or("");
    if source != "GitRepository" {
        // A chart from a Helm or OCI repository is not in this tree.
        return None;
    }
    let dir = normalize(chart).filter(|d| chart_dirs.contains(d.as_str()));
    let Some(dir) = dir else {
        notes.push(format!(
            "{who}: chart path {chart:?} is not a chart of this tree; not rendered"
        ));
        return None;
    };
    let target_ns = str_at(spec, &["targetNamespace"]);
    let release = str_at(spec, &["releaseName"])
        .map(str::to_string)
        .unwrap_or_else(|| match target_ns {
            Some(t) => format!("{t}-{name}"),
            None => name.to_string(),
        });
    let namespace = target_ns.unwrap_or(ns);
    let (Some(release), Some(namespace)) = (release_name(&release), release_name(namespace)) else {
        notes.push(format!(
            "{who}: release name or namespace is not a valid Kubernetes name; not rendered"
        ));
        return None;
    };
    let mut sources = Vec::new();
    for f in spec
        .get_path(&["chart", "spec", "valuesFiles"])
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        match f.as_str().and_then(normalize) {
            Some(p) => sources.push(Origin::File(p)),
            None => notes.push(format!(
                "{who}: valuesFiles entry outside the tree not read"
            )),
        }
    }
    if spec.get("valuesFile").is_some() {
        notes.push(format!("{who}: deprecated valuesFile not read"));
    }
    for v in spec.get("valuesFrom").and_then(Node::as_seq).unwrap_or(&[]) {
        let kind = v.get("kind").and_then(Node::as_str).unwrap_or("");
        let vname = v.get("name").and_then(Node::as_str).unwrap_or("");
        let key = v
            .get("valuesKey")
            .and_then(Node::as_str)
            .unwrap_or("values.yaml");
        if v.get("targetPath").is_some() {
            notes.push(format!(
                "{who}: valuesFrom {kind}/{vname} with targetPath not applied"
            ));
            continue;
        }
        if kind != "ConfigMap" {
            notes.push(format!(
                "{who}: valuesFrom {kind}/{vname} not read (values kept in the cluster)"
            ));
            continue;
        }
        let hit = configmaps.iter().find(|(_, _, keys, n, cns)| {
            n == vname && keys[1] == key && cns.as_deref().unwrap_or(ns) == ns
        });
        match hit {
            Some((path, doc, keys, _, _)) => sources.push(Origin::Embedded {
                path: path.clone(),
                doc: *doc,
                keys: keys.clone(),
            }),
            None => notes.push(format!(
                "{who}: valuesFrom ConfigMap/{vname} (key {key:?}) is not in this tree; not applied"
            )),
        }
    }
    if spec.get("values").is_some_and(|v| v.as_map().is_some()) {
        sources.push(Origin::Node {
            path: rel.to_string(),
            doc: di,
            keys: vec!["spec".into(), "values".into()],
        });
    }
    Some((
        dir,
        ValuesSet {
            label: who,
            release,
            namespace: namespace.to_string(),
            sources,
            deployed_to: Some(namespace.to_string()),
            sets: Vec::new(),
        },
    ))
}

fn argo_values_sets(
    rel: &str,
    di: usize,
    obj: &crate::manifest::Object<'_>,
    chart_dirs: &BTreeSet<&str>,
    notes: &mut Vec<String>,
) -> Vec<(String, ValuesSet)> {
    let mut out = Vec::new();
    let name = obj.name.unwrap_or("<unnamed>");
    let ns = obj.namespace.unwrap_or("argocd");
    let Some(spec) = obj.get("spec") else {
        return out;
    };
    let mut list: Vec<(Vec<String>, &Node)> = Vec::new();
    if let Some(s) = spec.get("source") {
        list.push((vec!["spec".into(), "source".into()], s));
    }
    for (i, s) in spec
        .get("sources")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        list.push((vec!["spec".into(), "sources".into(), i.to_string()], s));
    }
    let dest_ns = str_at(spec, &["destination", "namespace"]).unwrap_or("default");
    for (keys, src) in list {
        if src.get("chart").is_some() {
            continue; // a chart of a Helm repository: not in this tree
        }
        let Some(path) = src.get("path").and_then(Node::as_str) else {
            continue;
        };
        let Some(dir) = normalize(path).filter(|d| chart_dirs.contains(d.as_str())) else {
            continue; // a plain or Kustomize directory
        };
        let who = format!("Application {ns}/{name} ({rel})");
        let helm = src.get("helm");
        let release = helm
            .and_then(|h| h.get("releaseName"))
            .and_then(Node::as_str)
            .unwrap_or(name);
        let (Some(release), Some(namespace)) = (release_name(release), release_name(dest_ns))
        else {
            notes.push(format!(
                "{who}: release name or namespace is not a valid Kubernetes name; not rendered"
            ));
            continue;
        };
        let mut sources = Vec::new();
        let mut sets = Vec::new();
        if let Some(h) = helm {
            for f in h.get("valueFiles").and_then(Node::as_seq).unwrap_or(&[]) {
                let Some(f) = f.as_str() else { continue };
                if f.starts_with('$') {
                    notes.push(format!(
                        "{who}: value file {f:?} of another source not read"
                    ));
                    continue;
                }
                match join(&dir, f) {
                    Some(p) => sources.push(Origin::File(p)),
                    None => {
                        notes.push(format!("{who}: value file {f:?} outside the tree not read"))
                    }
                }
            }
            let at = |k: &str| {
                let mut v = keys.clone();
                v.push("helm".into());
                v.push(k.into());
                v
            };
            let object = h.get("valuesObject").filter(|v| v.as_map().is_some());
            if object.is_some() {
                sources.push(Origin::Node {
                    path: rel.to_string(),
                    doc: di,
                    keys: at("valuesObject"),
                });
            } else if h.get("values").and_then(Node::as_str).is_some() {
                sources.push(Origin::Embedded {
                    path: rel.to_string(),
                    doc: di,
                    keys: at("values"),
                });
            }
            for p in h.get("parameters").and_then(Node::as_seq).unwrap_or(&[]) {
                let (Some(n), Some(v)) = (p.get("name"), p.get("value")) else {
                    continue;
                };
                let Some(pname) = n.as_str() else { continue };
                sets.push(SetArg {
                    name: pname.to_string(),
                    value: v.as_scalar().map(|s| s.text.clone()).unwrap_or_default(),
                    string: p.get("forceString").and_then(Node::as_bool_yaml11) == Some(true),
                    path: rel.to_string(),
                    line: v.span.line,
                    column: v.span.column,
                    end_column: if v.span.end_line == v.span.line {
                        v.span.end_column
                    } else {
                        v.span.column + 1
                    },
                });
            }
        }
        out.push((
            dir,
            ValuesSet {
                label: who,
                release,
                namespace: namespace.to_string(),
                sources,
                deployed_to: Some(namespace.to_string()),
                sets,
            },
        ));
    }
    out
}

/// The node at `keys` (map keys, or list indexes as numbers) under `root`.
fn node_at<'n>(root: &'n Node, keys: &[String]) -> Option<&'n Node> {
    let mut n = root;
    for k in keys {
        n = match &n.value {
            Value::Seq(items) => items.get(k.parse::<usize>().ok()?)?,
            _ => n.get(k)?,
        };
    }
    Some(n)
}

/// The text of a block or flow node cut out of its file, re-indented so it
/// stands as a YAML document of its own.
fn node_text(text: &str, node: &Node) -> String {
    let slice = &text[node.span.range()];
    let first_indent = node.span.column.saturating_sub(1);
    let mut lines: Vec<String> = Vec::new();
    for (i, l) in slice.lines().enumerate() {
        if i == 0 {
            lines.push(format!("{}{l}", " ".repeat(first_indent)));
        } else {
            lines.push(l.to_string());
        }
    }
    let cut = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        out.push_str(l.get(cut..).unwrap_or(l.trim_start()));
        out.push('\n');
    }
    out
}

/// The values text a source hands helm, read from the tree.
fn source_text(top: &Path, origin: &Origin) -> Option<String> {
    match origin {
        Origin::File(p) => read_text(top, p),
        Origin::Node { path, doc, keys } => {
            let text = read_text(top, path)?;
            let docs = parse(&text);
            let node = node_at(&docs.get(*doc)?.root, keys)?;
            Some(node_text(&text, node))
        }
        Origin::Embedded { path, doc, keys } => {
            let text = read_text(top, path)?;
            let docs = parse(&text);
            let node = node_at(&docs.get(*doc)?.root, keys)?;
            node.as_scalar().map(|s| s.text.clone())
        }
    }
}

/// Where the value at `path` (keys; list indexes as numbers) is set by the
/// source `origin`, if it sets it: the line of its key.
fn spot_in_source(top: &Path, origin: &Origin, path: &[String]) -> Option<Spot> {
    let locate = |root: &Node| -> Option<(usize, usize, usize)> {
        let (last, parents) = path.split_last()?;
        let parent = node_at(root, parents)?;
        match &parent.value {
            Value::Seq(items) => {
                let n = items.get(last.parse::<usize>().ok()?)?;
                let end = if n.span.end_line == n.span.line {
                    n.span.end_column
                } else {
                    n.span.column + 1
                };
                Some((n.span.line, n.span.column, end))
            }
            _ => {
                let (k, _) = parent.get_entry(last)?;
                Some((k.span.line, k.span.column, k.span.end_column))
            }
        }
    };
    match origin {
        Origin::File(p) | Origin::Node { path: p, .. } => {
            let text = read_text(top, p)?;
            let docs = parse(&text);
            let node = match origin {
                Origin::Node { doc, keys, .. } => node_at(&docs.get(*doc)?.root, keys)?,
                _ => &docs.first()?.root,
            };
            let (line, column, end_column) = locate(node)?;
            Some(Spot {
                path: p.clone(),
                line,
                end_line: line,
                column,
                end_column,
            })
        }
        Origin::Embedded { path: p, doc, keys } => {
            let text = read_text(top, p)?;
            let docs = parse(&text);
            let node = node_at(&docs.get(*doc)?.root, keys)?;
            let s = node.as_scalar()?;
            let inner = parse(&s.text);
            let (line, column, end_column) = locate(&inner.first()?.root)?;
            // A block scalar's text starts on the line after its indicator.
            let first = match s.style {
                ScalarStyle::Literal | ScalarStyle::Folded => node.span.line + 1,
                _ => node.span.line,
            };
            // Columns inside the string are shifted by its indentation.
            let shift = match s.style {
                ScalarStyle::Literal | ScalarStyle::Folded => text
                    .lines()
                    .nth(first - 1)
                    .map_or(0, |l| l.len() - l.trim_start().len()),
                _ => node.span.column,
            };
            Some(Spot {
                path: p.clone(),
                line: first + line - 1,
                end_line: first + line - 1,
                column: column + shift,
                end_column: end_column + shift,
            })
        }
    }
}

/// What a line search of a template found for a key path.
#[derive(Debug, Default, PartialEq, Eq)]
struct TemplateHit {
    /// 0-based line of the deepest segment found.
    line: Option<usize>,
    /// How many segments were found.
    matched: usize,
    /// The `.Values.<path>` the deepest found key takes its content from,
    /// if its line or its block says so (`{{ .Values.x }}`, `{{ toYaml
    /// .Values.x | nindent 8 }}`, `{{- with .Values.x }}…{{ toYaml . }}`).
    values: Option<Vec<String>>,
}

/// The indentation of a YAML line and its text after any `- ` markers; the
/// first number is the column of the first `-` (or of the text).
fn shape(line: &str) -> (usize, usize, &str) {
    let t = line.trim_start();
    let lead = line.len() - t.len();
    let mut body = t;
    let mut indent = lead;
    while let Some(rest) = body
        .strip_prefix("- ")
        .or_else(|| (body == "-").then_some(""))
    {
        let trimmed = rest.trim_start();
        indent += body.len() - trimmed.len();
        body = trimmed;
    }
    (lead, indent, body)
}

fn is_directive(body: &str) -> bool {
    body.is_empty() || body.starts_with('#') || body.starts_with("{{")
}

/// `key:` at the start of `body` (plain or quoted key).
fn starts_with_key(body: &str, key: &str) -> bool {
    for k in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = body.strip_prefix(k.as_str())
            && let Some(after) = rest.strip_prefix(':')
        {
            return after.is_empty() || after.starts_with([' ', '\t']);
        }
    }
    false
}

/// The first `.Values.a.b` reference in `text`, as keys.
fn values_ref(text: &str) -> Option<Vec<String>> {
    let at = text.find(".Values.")?;
    let rest = &text[at + ".Values.".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let path: Vec<String> = rest[..end]
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    (!path.is_empty()).then_some(path)
}

/// Find `keys` in the template text: each key under its parent's block,
/// list items by their `name:` when the rendered item has one.
fn search_template(text: &str, path: &[Seg]) -> TemplateHit {
    let lines: Vec<&str> = text.lines().collect();
    let mut hit = TemplateHit::default();
    // (content indent of the parent key, its line), -1 for the document.
    let mut parent: isize = -1;
    // The parent is a list item (its block ends at the next item), on this line.
    let mut item_line: Option<usize> = None;
    let mut start = 0usize;
    let keys_total = path.iter().filter(|s| matches!(s, Seg::Key(_))).count();
    let mut keys_found = 0usize;
    for seg in path {
        let mut found = None;
        // A templated item name (`- name: {{ .Chart.Name }}`) fits any
        // rendered name, but a literal match wins.
        let mut templated = None;
        for (i, l) in lines.iter().enumerate().skip(start) {
            let (lead, indent, body) = shape(l);
            if is_directive(body) {
                continue;
            }
            // Left the parent's block (a list may sit at its key's indent).
            let dash = l.trim_start().starts_with('-');
            let level = if dash {
                lead as isize + 1
            } else {
                lead as isize
            };
            let sibling = dash && lead as isize == parent;
            let left = match item_line {
                Some(own) => i != own && lead as isize <= parent,
                None => level <= parent && !sibling,
            };
            if hit.line.is_some() && left {
                break;
            }
            match seg {
                Seg::Key(k) => {
                    if (indent as isize) > parent && starts_with_key(body, k) {
                        found = Some((i, indent as isize));
                        break;
                    }
                }
                Seg::Item(_, name) => {
                    if !dash {
                        continue;
                    }
                    let item_name = body
                        .strip_prefix("name:")
                        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
                    match (name, &item_name) {
                        (Some(n), Some(v)) if v == n => {
                            found = Some((i, lead as isize));
                            break;
                        }
                        (Some(_), Some(v)) if v.contains("{{") => {
                            templated = templated.or(Some((i, lead as isize)));
                        }
                        (None, _) => {
                            found = Some((i, lead as isize));
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        let Some((i, indent)) = found.or(templated) else {
            break;
        };
        hit.matched += 1;
        hit.line = Some(i);
        parent = indent;
        start = match seg {
            Seg::Key(_) => {
                keys_found += 1;
                item_line = None;
                i + 1
            }
            // The item's own line may hold its first key.
            Seg::Item(..) => {
                item_line = Some(i);
                i
            }
        };
    }
    let Some(line) = hit.line else { return hit };
    let own = lines[line];
    let all = keys_found == keys_total && hit.matched == path.len();
    if let Some(v) = values_ref(own).filter(|_| !own.contains("toYaml .}}")) {
        hit.values = Some(v);
    } else if !all {
        // The key's block: `toYaml .Values.x`, or `toYaml .` inside `with .Values.x`.
        let (_, indent, _) = shape(own);
        for l in lines.iter().skip(line + 1) {
            let (_, ind, body) = shape(l);
            if !is_directive(body) && ind <= indent {
                break;
            }
            if body.contains("toYaml") || body.contains(".Values.") {
                if let Some(v) = values_ref(body) {
                    hit.values = Some(v);
                } else if body.contains("toYaml .") {
                    hit.values =
                        lines[..line].iter().rev().take(6).find_map(|l| {
                            l.contains("with .Values.").then(|| values_ref(l)).flatten()
                        });
                }
                break;
            }
        }
        if hit.values.is_none() && own.contains("toYaml .") {
            hit.values = lines[..line]
                .iter()
                .rev()
                .take(6)
                .find_map(|l| l.contains("with .Values.").then(|| values_ref(l)).flatten());
        }
    }
    hit
}

/// The text-only steps of mapping a render back, for the fuzz target
/// (`fuzz/fuzz_targets/helm_output.rs`): split `rendered` at its `# Source:`
/// lines, take the key path at the start of every line of every document,
/// and look for it in `template`. Returns (document start line, the
/// template line found) per line.
#[doc(hidden)]
pub fn map_text_for_fuzzing(template: &str, rendered: &str) -> Vec<(usize, Option<usize>)> {
    let mut out = Vec::new();
    let sources = split_sources(rendered);
    let docs = parse(rendered);
    for d in &docs {
        for line in d.span.line..=d.span.end_line.min(d.span.line + 200) {
            let path = path_at(&d.root, line, 1);
            let hit = search_template(template, &path);
            let start = sources
                .iter()
                .find(|(a, b, _)| *a <= line && line <= *b)
                .map_or(0, |(a, _, _)| *a);
            out.push((start, hit.line));
        }
    }
    out
}

/// One render's source map: the chart, its values set and the stream.
struct Render<'a> {
    top: &'a Path,
    chart: &'a Chart,
    set: &'a ValuesSet,
    /// `render label` for `roots`.
    root: String,
}

impl Render<'_> {
    /// Where the value at `path` of a rendered document from `source`
    /// (`# Source:`) was written.
    fn locate(&self, source: &str, path: &[Seg]) -> Spot {
        let chart_yaml = join(&self.chart.dir, "Chart.yaml").unwrap_or_default();
        let first_line = |p: String| Spot {
            path: p,
            line: 1,
            end_line: 1,
            column: 1,
            end_column: 1,
        };
        // `<chart>/templates/x.yaml`, `<chart>/charts/<sub>/templates/x.yaml`.
        let Some((_, inner)) = source.split_once('/') else {
            return first_line(chart_yaml);
        };
        let Some(template) = join(&self.chart.dir, inner) else {
            return first_line(chart_yaml);
        };
        // The subchart prefix of values (`sub.` in the parent's values).
        let mut prefix: Vec<String> = Vec::new();
        let mut sub_dir = self.chart.dir.clone();
        let mut rest = inner;
        while let Some(after) = rest.strip_prefix("charts/") {
            let Some((sub, r)) = after.split_once('/') else {
                break;
            };
            prefix.push(sub.to_string());
            sub_dir = join(&sub_dir, &format!("charts/{sub}")).unwrap_or_default();
            rest = r;
        }
        let Some(text) = read_text(self.top, &template) else {
            return first_line(chart_yaml);
        };
        let hit = search_template(&text, path);
        if let Some(values) = &hit.values {
            // The rest of the key path below the found key, in the values.
            let mut tail: Vec<String> = values.clone();
            for seg in path.iter().skip(hit.matched) {
                match seg {
                    Seg::Key(k) => tail.push(k.clone()),
                    Seg::Item(i, _) => tail.push(i.to_string()),
                }
            }
            if let Some(spot) = self.values_spot(&prefix, &sub_dir, &tail) {
                return spot;
            }
        }
        match hit.line {
            Some(l) => {
                let line_text = text.lines().nth(l).unwrap_or("");
                let body = shape(line_text).2;
                let col = line_text.len() - body.len() + 1;
                let key_len = body.find(':').unwrap_or(body.len()).max(1);
                Spot {
                    path: template,
                    line: l + 1,
                    end_line: l + 1,
                    column: col,
                    end_column: col + key_len,
                }
            }
            None => first_line(template),
        }
    }

    /// The highest-precedence values source that sets `path`: `--set`
    /// parameters, the set's sources (last first), the chart's (or the
    /// subchart's) `values.yaml`.
    fn values_spot(&self, prefix: &[String], sub_dir: &str, path: &[String]) -> Option<Spot> {
        let mut full: Vec<String> = prefix.to_vec();
        full.extend(path.iter().cloned());
        let dotted = full.join(".");
        for s in self.set.sets.iter().rev() {
            if s.name == dotted || dotted.starts_with(&format!("{}.", s.name)) {
                return Some(Spot {
                    path: s.path.clone(),
                    line: s.line,
                    end_line: s.line,
                    column: s.column,
                    end_column: s.end_column,
                });
            }
        }
        for origin in self.set.sources.iter().rev() {
            if let Some(spot) = spot_in_source(self.top, origin, &full) {
                return Some(spot);
            }
        }
        let chart_values = Origin::File(join(&self.chart.dir, "values.yaml").unwrap_or_default());
        if let Some(spot) = spot_in_source(self.top, &chart_values, &full) {
            return Some(spot);
        }
        if !prefix.is_empty() {
            let sub_values = Origin::File(join(sub_dir, "values.yaml").unwrap_or_default());
            return spot_in_source(self.top, &sub_values, path);
        }
        None
    }
}

/// The documents of `helm template` output: each `---` starts one, its
/// `# Source: <path>` line names the template. (first line, last line,
/// source), 1-based.
fn split_sources(text: &str) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let total = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_end() == "---" {
            if let Some((start, src)) = current.take() {
                out.push((start, n - 1, src));
            }
            current = Some((n, String::new()));
        } else if let Some(src) = line.strip_prefix("# Source: ") {
            match &mut current {
                Some((_, s)) if s.is_empty() => *s = src.trim().to_string(),
                Some(_) => {}
                None => current = Some((n, src.trim().to_string())),
            }
        }
    }
    if let Some((start, src)) = current {
        out.push((start, total.max(start), src));
    }
    out
}

/// Render every chart under `abs` (inside the repository `top`) and judge
/// what was rendered; counts and notes go to `stats`. Returns the
/// directories (with a trailing `/`) whose file-by-file policy findings the
/// renders replace: the rendered charts' `templates/` and `charts/`
/// (`render::render_tree` drops them).
pub fn render(
    top: &Path,
    abs: &Path,
    scanner: &Scanner,
    collector: &Collector,
    opts: &RenderOptions,
    stats: &mut RenderStats,
) -> BTreeSet<String> {
    let mut consumed = BTreeSet::new();
    let mut charts = discover_charts(top, abs);
    if charts.is_empty() {
        return consumed;
    }
    if charts.len() > MAX_CHARTS {
        stats.notes.push(format!(
            "{} chart(s) over the limit of {MAX_CHARTS} not rendered",
            charts.len() - MAX_CHARTS
        ));
        stats.not_rendered += (charts.len() - MAX_CHARTS) as u64;
        charts.truncate(MAX_CHARTS);
    }
    stats.roots += charts.len() as u64;
    let Some(helm) = find_on_path(&["helm"]) else {
        stats.not_rendered += charts.len() as u64;
        stats.notes.push(format!(
            "{} chart{} not rendered: no helm on PATH (templates judged file by file)",
            charts.len(),
            if charts.len() == 1 { "" } else { "s" }
        ));
        return consumed;
    };
    let (sets, notes) = discover_values_sets(top, abs, &charts);
    stats.notes.extend(notes);
    let Ok(tmp) = tempfile::Builder::new()
        .prefix("gitops-guard-helm")
        .tempdir()
    else {
        stats.not_rendered += charts.len() as u64;
        stats
            .notes
            .push("charts not rendered: no temporary directory".to_string());
        return consumed;
    };
    let homes: Vec<(&str, PathBuf)> = vec![
        ("HELM_CACHE_HOME", tmp.path().join("cache")),
        ("HELM_CONFIG_HOME", tmp.path().join("config")),
        ("HELM_DATA_HOME", tmp.path().join("data")),
        ("HELM_NO_PLUGINS", PathBuf::from("1")),
    ];
    let mut renders = 0usize;
    let mut any_ok = false;
    for chart in &charts {
        let shown = if chart.dir.is_empty() {
            "."
        } else {
            chart.dir.as_str()
        };
        if !chart.missing.is_empty() {
            stats.not_rendered += 1;
            stats.notes.push(format!(
                "chart {shown} not rendered: dependenc{} {} not vendored under charts/ (run `helm dependency build`; nothing is fetched)",
                if chart.missing.len() == 1 { "y" } else { "ies" },
                chart.missing.join(", ")
            ));
            continue;
        }
        let mut all = vec![ValuesSet::defaults(chart)];
        all.extend(sets.get(&chart.dir).cloned().unwrap_or_default());
        let mut chart_ok = false;
        let mut chart_failed = false;
        for set in &all {
            if renders >= MAX_RENDERS {
                stats.notes.push(format!(
                    "chart {shown} ({}) not rendered: over the limit of {MAX_RENDERS} renders",
                    set.label
                ));
                chart_failed = true;
                continue;
            }
            renders += 1;
            let root = format!("helm {shown} ({})", set.label);
            let mut args = vec![
                "template".to_string(),
                set.release.clone(),
                top.join(&chart.dir).to_string_lossy().into_owned(),
                "--namespace".to_string(),
                set.namespace.clone(),
            ];
            for (i, origin) in set.sources.iter().enumerate() {
                let file = match origin {
                    Origin::File(p) => match std::fs::canonicalize(top.join(p)) {
                        Ok(real) if real.starts_with(top) && real.is_file() => real,
                        _ => {
                            stats.notes.push(format!(
                                "{root}: values file {p} not found in the tree; rendered without it"
                            ));
                            continue;
                        }
                    },
                    _ => {
                        let f = tmp.path().join(format!("values-{renders}-{i}.yaml"));
                        let written = source_text(top, origin)
                            .is_some_and(|text| std::fs::write(&f, text).is_ok());
                        if !written {
                            stats.notes.push(format!(
                                "{root}: inline values could not be read; rendered without them"
                            ));
                            continue;
                        }
                        f
                    }
                };
                args.push("--values".to_string());
                args.push(file.to_string_lossy().into_owned());
            }
            for s in &set.sets {
                let flag = if s.string { "--set-string" } else { "--set" };
                args.push(format!("{flag}={}={}", s.name, s.value));
            }
            let run = run_tool(
                &helm,
                &args,
                tmp.path(),
                &homes,
                opts.timeout,
                opts.max_output,
            );
            let (tmp_dir, top_dir) = (tmp.path().to_string_lossy(), top.to_string_lossy());
            let top_slash = format!("{top_dir}/");
            let replace = [
                (tmp_dir.as_ref(), "<tmp>"),
                (top_slash.as_str(), ""),
                (top_dir.as_ref(), "."),
            ];
            let failure = match run {
                ToolRun::Ok(out) => match String::from_utf8(out) {
                    // Output the YAML parser refuses (its limits) would be
                    // judged as nothing: a note, and the chart's files stay
                    // judged file by file, as for Kustomize.
                    Ok(text) => match parse_documents(&text, &Limits::default()) {
                        Err(e) => Some(format!("its output was refused by the YAML parser: {e}")),
                        Ok(_) => {
                            judge(
                                &text,
                                &Render {
                                    top,
                                    chart,
                                    set,
                                    root: root.clone(),
                                },
                                renders,
                                scanner,
                                collector,
                            );
                            chart_ok = true;
                            None
                        }
                    },
                    Err(_) => Some("output is not UTF-8".to_string()),
                },
                ToolRun::Failed(err) => Some(format!(
                    "helm template failed: {}",
                    super::sanitize_error(&err, &replace, scanner.rule_set())
                )),
                ToolRun::TimedOut => Some(format!(
                    "helm template did not finish within {}s",
                    opts.timeout.as_secs()
                )),
                ToolRun::TooLarge => Some(format!(
                    "helm template wrote more than {} bytes",
                    opts.max_output
                )),
                ToolRun::NotStarted(e) => Some(format!("helm could not be started: {e}")),
            };
            if let Some(why) = failure {
                chart_failed = true;
                stats.notes.push(format!("{root} not rendered: {why}"));
            }
        }
        if chart_ok {
            stats.rendered += 1;
            any_ok = true;
            for dir in ["templates", "charts"] {
                if let Some(d) = join(&chart.dir, dir) {
                    consumed.insert(format!("{d}/"));
                }
            }
        }
        if chart_failed {
            stats.failed += 1;
        }
    }
    if any_ok {
        stats.tool = Some(match stats.tool.take() {
            Some(t) => format!("{t} and helm"),
            None => "helm".to_string(),
        });
    }
    consumed
}

/// Judge one render's output and file its findings and facts at their
/// sources.
fn judge(text: &str, render: &Render<'_>, n: usize, scanner: &Scanner, collector: &Collector) {
    let chart_dir = if render.chart.dir.is_empty() {
        String::new()
    } else {
        format!("{}/", render.chart.dir)
    };
    // Each render in a directory of its own: namespace-less objects of one
    // release share its namespace, not another release's.
    let virtual_path = format!("{chart_dir}<helm render {n}>/manifest.yaml");
    let outcome = scanner.scan_rendered(&virtual_path, text);
    let docs = parse(text);
    let sources = split_sources(text);
    let relocate = |f: &mut Finding| {
        let (line, column) = (f.location.line, f.location.column);
        let source = sources
            .iter()
            .find(|(a, b, _)| *a <= line && line <= *b)
            .map(|(_, _, s)| s.as_str())
            .unwrap_or("");
        let doc = docs
            .iter()
            .rfind(|d| d.span.line <= line && line <= d.span.end_line);
        let path = doc
            .map(|d| path_at(&d.root, line, column))
            .unwrap_or_default();
        let spot = render.locate(source, &path);
        let kind = doc
            .and_then(|d| d.root.get("kind"))
            .and_then(Node::as_str)
            .unwrap_or("?");
        let keys: Vec<String> = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Item(_, Some(n)) => format!("[{n}]"),
                Seg::Item(i, None) => format!("[{i}]"),
            })
            .collect();
        // Independent of the release name, so every render of one template
        // line is one finding with one fingerprint.
        f.identity = Some(format!("helm:{source}/{kind}/{}", keys.join(".")));
        f.location = Location {
            path: spot.path,
            line: spot.line,
            column: spot.column,
            end_line: spot.end_line,
            end_column: spot.end_column.max(spot.column + 1),
        };
        f.snippet = None;
        f.roots = vec![render.root.clone()];
    };
    let mut findings = outcome.findings;
    findings.iter_mut().for_each(&relocate);
    let mut facts = outcome.facts;
    for fact in &mut facts {
        if let Some(ns) = &render.set.deployed_to {
            place_in(fact, ns);
        }
        if let Fact::Policy(PolicyFact::Pod(p)) = fact {
            p.anchors_mut().for_each(&relocate);
        }
    }
    collector.add_findings(findings);
    collector.add_facts(&virtual_path, facts, None);
}

/// A rendered object without `metadata.namespace` is installed into the
/// release's namespace: say so in its fact, so the repo checks join it with
/// the NetworkPolicies, LimitRanges and ServiceAccounts of that namespace
/// elsewhere in the repository.
fn place_in(fact: &mut Fact, ns: &str) {
    let slot = match fact {
        Fact::Policy(PolicyFact::Pod(p)) => &mut p.namespace,
        Fact::Policy(PolicyFact::NetworkPolicy(p)) if !p.cluster_wide => &mut p.namespace,
        Fact::Policy(PolicyFact::LimitRange(l)) => &mut l.namespace,
        Fact::Policy(PolicyFact::ServiceAccount(a)) => &mut a.namespace,
        Fact::Policy(PolicyFact::ServiceAccountBinding(b)) => &mut b.namespace,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(ns.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &[&str]) -> Vec<Seg> {
        path.iter().map(|k| Seg::Key(k.to_string())).collect()
    }

    const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  template:
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          ports:
            - containerPort: 8080
        - name: sidecar
          image: busybox:1.36
          securityContext:
            privileged: {{ .Values.sidecar.privileged }}
"#;

    #[test]
    fn template_search_follows_parents_and_values() {
        // A key written in the template.
        let mut p = keys(&["spec", "template", "spec", "containers"]);
        p.push(Seg::Item(0, Some("web".into())));
        p.extend(keys(&["image"]));
        let hit = search_template(DEPLOYMENT, &p);
        assert_eq!(hit.line, Some(15));
        assert_eq!(
            hit.values.as_deref(),
            Some(&["image".to_string(), "repository".to_string()][..])
        );
        // A key the template does not write: from `toYaml .Values.securityContext`.
        let mut p = keys(&["spec", "template", "spec", "containers"]);
        p.push(Seg::Item(0, Some("web".into())));
        p.extend(keys(&["securityContext", "privileged"]));
        let hit = search_template(DEPLOYMENT, &p);
        assert_eq!(hit.line, Some(16));
        assert_eq!(hit.matched, 6);
        assert_eq!(hit.values, Some(vec!["securityContext".to_string()]));
        // The second container by its name: a literal key with a values reference.
        let mut p = keys(&["spec", "template", "spec", "containers"]);
        p.push(Seg::Item(1, Some("sidecar".into())));
        p.extend(keys(&["securityContext", "privileged"]));
        let hit = search_template(DEPLOYMENT, &p);
        assert_eq!(hit.line, Some(23));
        assert_eq!(
            hit.values,
            Some(vec!["sidecar".to_string(), "privileged".to_string()])
        );
        // `with .Values.podSecurityContext` … `toYaml .`.
        let p = keys(&["spec", "template", "spec", "securityContext", "runAsUser"]);
        let hit = search_template(DEPLOYMENT, &p);
        assert_eq!(hit.line, Some(10));
        assert_eq!(hit.values, Some(vec!["podSecurityContext".to_string()]));
        // Not there at all.
        let hit = search_template(DEPLOYMENT, &keys(&["status"]));
        assert_eq!(hit.line, None);
    }

    #[test]
    fn template_search_stays_inside_the_list_item() {
        // The first container has no securityContext: the second one's is
        // not the first's.
        let t = "containers:\n  - name: a\n    image: x\n  - name: b\n    securityContext:\n      privileged: true\n";
        let mut p = keys(&["containers"]);
        p.push(Seg::Item(0, Some("a".into())));
        p.extend(keys(&["securityContext", "privileged"]));
        let hit = search_template(t, &p);
        assert_eq!(hit.line, Some(1));
        assert_eq!(hit.matched, 2);
        let mut p = keys(&["containers"]);
        p.push(Seg::Item(1, Some("b".into())));
        p.extend(keys(&["securityContext", "privileged"]));
        assert_eq!(search_template(t, &p).line, Some(5));
    }

    #[test]
    fn template_search_stays_inside_the_parent_block() {
        let t =
            "spec:\n  template:\n    metadata:\n      name: x\n  other:\n    hostNetwork: true\n";
        let hit = search_template(t, &keys(&["spec", "template", "hostNetwork"]));
        assert_eq!(
            hit.line,
            Some(1),
            "hostNetwork is under `other`, not `template`"
        );
        assert_eq!(hit.matched, 2);
    }

    #[test]
    fn subchart_values_come_from_the_parent_under_its_name_else_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(dir.path()).unwrap();
        let put = |p: &str, t: &str| {
            let p = top.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        put(
            "web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        );
        put(
            "web/values.yaml",
            "db:\n  securityContext:\n    privileged: true\n",
        );
        put(
            "web/charts/db/Chart.yaml",
            "apiVersion: v2\nname: db\nversion: 1.0.0\n",
        );
        put(
            "web/charts/db/values.yaml",
            "securityContext:\n  privileged: false\nhostNetwork: true\n",
        );
        put(
            "web/charts/db/templates/sts.yaml",
            "kind: StatefulSet\nspec:\n  template:\n    spec:\n      hostNetwork: {{ .Values.hostNetwork }}\n      containers:\n        - name: db\n          securityContext:\n            {{- toYaml .Values.securityContext | nindent 12 }}\n",
        );
        let chart = Chart {
            dir: "web".into(),
            name: "web".into(),
            missing: Vec::new(),
        };
        let set = ValuesSet::defaults(&chart);
        let render = Render {
            top: &top,
            chart: &chart,
            set: &set,
            root: String::new(),
        };
        let mut p = keys(&["spec", "template", "spec", "containers"]);
        p.push(Seg::Item(0, Some("db".into())));
        p.extend(keys(&["securityContext", "privileged"]));
        let spot = render.locate("web/charts/db/templates/sts.yaml", &p);
        assert_eq!((spot.path.as_str(), spot.line), ("web/values.yaml", 3));
        let p = keys(&["spec", "template", "spec", "hostNetwork"]);
        let spot = render.locate("web/charts/db/templates/sts.yaml", &p);
        assert_eq!(
            (spot.path.as_str(), spot.line),
            ("web/charts/db/values.yaml", 3)
        );
        // A template that is not on disk: the chart's Chart.yaml.
        let spot = render.locate("web/charts/gone/templates/x.yaml", &p);
        assert_eq!((spot.path.as_str(), spot.line), ("web/Chart.yaml", 1));
    }

    #[test]
    fn odd_templates_and_output_never_panic() {
        let odd = [
            "",
            "---",
            "# Source:",
            "- - - -\n-\n- name:\n  - name: {{",
            "a: [1, {b: c}]\n---\n# Source: x\n\u{feff}k: v\n",
            "é: ü\n  ä:\n\t- x\n",
        ];
        for t in odd {
            for r in odd {
                for (_, line) in map_text_for_fuzzing(t, r) {
                    assert!(line.is_none_or(|l| l < t.lines().count()));
                }
            }
        }
    }

    #[test]
    fn output_is_split_at_source_comments() {
        let out = "---\n# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\n---\n# Source: web/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\n";
        assert_eq!(
            split_sources(out),
            vec![
                (1, 4, "web/templates/sa.yaml".to_string()),
                (5, 8, "web/templates/deploy.yaml".to_string())
            ]
        );
    }

    #[test]
    fn names_from_the_repository_never_read_as_options() {
        assert_eq!(release_name("web-prod").as_deref(), Some("web-prod"));
        assert_eq!(release_name("--post-renderer=/bin/sh"), None);
        assert_eq!(release_name("-x"), None);
        assert_eq!(release_name("Web"), None);
        assert_eq!(release_name(&"a".repeat(54)), None);
    }

    #[test]
    fn paths_stay_inside_the_tree() {
        assert_eq!(normalize("./charts/web").as_deref(), Some("charts/web"));
        assert_eq!(
            join("charts/web", "../../x.yaml").as_deref(),
            Some("x.yaml")
        );
        assert_eq!(join("charts/web", "../../../x.yaml"), None);
        assert_eq!(normalize("/etc/passwd"), None);
    }

    #[test]
    fn inline_values_are_cut_out_and_reindented() {
        let text =
            "spec:\n  values:\n    securityContext:\n      privileged: true\n    replicas: 2\n";
        let docs = parse(text);
        let node = node_at(&docs[0].root, &["spec".into(), "values".into()]).unwrap();
        assert_eq!(
            node_text(text, node),
            "securityContext:\n  privileged: true\nreplicas: 2\n"
        );
    }
}
