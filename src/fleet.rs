//! The Git sources a fleet repository declares: the repositories Flux and
//! Argo CD deploy from. `gitops-guard sources` lists them, flags the ones
//! fetched over plain HTTP or with credentials written into the URL, and can
//! scan each one's history.
//!
//! Read from the manifests with the manifest model:
//!
//! - Flux `GitRepository` (`source.toolkit.fluxcd.io`): `spec.url`, and the
//!   revision from `spec.ref` (`branch`, `tag`, `semver`, `commit`, `name`);
//! - Argo CD `Application` (`argoproj.io`): `spec.source.repoURL` and each
//!   `spec.sources[].repoURL`, with `targetRevision`; a source with `chart`
//!   is a Helm repository, listed but not a Git source;
//! - Argo CD `ApplicationSet`: the template's sources, and the `git`
//!   generators' `repoURL` (also inside `matrix` and `merge` generators).
//!   A URL with `{{ … }}` is a template filled per application: listed, not
//!   scannable.

use std::path::Path;

use serde::Serialize;

use crate::detect::Input;
use crate::error::Error;
use crate::manifest::yaml::Node;
use crate::manifest::{Object, objects};
use crate::scan::ScanError;
use crate::source::remote::redact_url;

/// Who declares the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    FluxGitRepository,
    ArgoApplication,
    ArgoApplicationSet,
    ArgoApplicationSetGenerator,
}

/// Something wrong with how a source is fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceIssue {
    /// `http://` or `git://`: content (and any credentials) travel unencrypted
    /// and can be altered on the way, so the cluster may deploy what an
    /// attacker sent.
    PlainHttp,
    /// A password or token written into the URL: everyone who can read the
    /// manifest (and Git's history) has it.
    EmbeddedCredentials,
}

impl SourceIssue {
    pub fn explain(self) -> &'static str {
        match self {
            SourceIssue::PlainHttp => {
                "fetched over plain HTTP: use https:// or ssh:// so what the cluster deploys cannot be altered on the way"
            }
            SourceIssue::EmbeddedCredentials => {
                "credentials in the URL: move them to a Secret (Flux spec.secretRef, Argo CD repository credentials) and rotate them"
            }
        }
    }
}

/// One declared source.
#[derive(Clone, Debug, Serialize)]
pub struct GitSource {
    /// The URL with any credentials redacted: the only form ever shown.
    pub url: String,
    /// The URL as written (credentials included), to clone it. Never printed.
    #[serde(skip)]
    pub raw_url: String,
    pub kind: SourceKind,
    /// `Kind/namespace/name` of the declaring object.
    pub object: String,
    pub path: String,
    pub line: usize,
    /// Branch, tag or revision, when the manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// A Helm chart repository (Argo CD source with `chart`), not Git.
    pub helm: bool,
    /// Contains `{{ … }}`: filled in per generated application.
    pub templated: bool,
    pub issues: Vec<SourceIssue>,
}

impl GitSource {
    /// Whether `sources --scan-sources` can clone and scan it.
    pub fn scannable(&self) -> bool {
        !self.helm && !self.templated
    }
}

/// Every Git source declared under `root` (files or a directory), in path
/// and line order, plus the files that could not be read.
pub fn git_sources(root: &Path) -> Result<(Vec<GitSource>, Vec<ScanError>), Error> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let meta = std::fs::metadata(root)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", root.display())))?;
    let files: Vec<(std::path::PathBuf, String)> = if meta.is_file() {
        vec![(root.to_path_buf(), root.display().to_string())]
    } else {
        ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(e.path())
                    .to_string_lossy()
                    .replace('\\', "/");
                (e.into_path(), rel)
            })
            .collect()
    };
    for (path, rel) in files {
        let lower = rel.to_ascii_lowercase();
        if !(lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")) {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                errors.push(ScanError {
                    path: rel.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        // Cheap prefilter: only files naming one of the kinds are parsed.
        if !["GitRepository", "Application"]
            .iter()
            .any(|k| memchr::memmem::find(&bytes, k.as_bytes()).is_some())
        {
            continue;
        }
        let input = Input::new(&rel, &bytes);
        let Some(docs) = input.documents() else {
            continue;
        };
        for obj in objects(docs) {
            from_object(&input, &obj, &rel, &mut sources);
        }
    }
    sources.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok((sources, errors))
}

fn object_id(obj: &Object<'_>) -> String {
    let mut s = obj.kind.unwrap_or("?").to_string();
    if let Some(ns) = obj.namespace {
        s.push('/');
        s.push_str(ns);
    }
    s.push('/');
    s.push_str(obj.name.unwrap_or("?"));
    s
}

fn path<'a>(node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
    keys.iter().try_fold(node, |n, k| n.get(k))
}

fn from_object(input: &Input<'_>, obj: &Object<'_>, rel: &str, out: &mut Vec<GitSource>) {
    let group = obj.api_group().unwrap_or("");
    let id = object_id(obj);
    let mut push = |url_node: &Node, kind: SourceKind, revision: Option<String>, helm: bool| {
        let Some(url) = url_node.as_str() else {
            return;
        };
        let url = url.trim();
        if url.is_empty() {
            return;
        }
        out.push(GitSource {
            url: redact_url(url),
            raw_url: url.to_string(),
            kind,
            object: id.clone(),
            path: rel.to_string(),
            line: input.span_location(&url_node.span).line,
            revision,
            helm,
            templated: url.contains("{{"),
            issues: issues(url),
        });
    };
    let text = |n: Option<&Node>| n.and_then(Node::as_str).map(str::to_string);
    match (obj.kind, group) {
        (Some("GitRepository"), g) if g.starts_with("source.toolkit.fluxcd.io") => {
            if let Some(url) = path(obj.node, &["spec", "url"]) {
                let r = path(obj.node, &["spec", "ref"]);
                let revision = ["branch", "tag", "semver", "commit", "name"]
                    .iter()
                    .find_map(|k| text(r.and_then(|r| r.get(k))).map(|v| format!("{k} {v}")));
                push(url, SourceKind::FluxGitRepository, revision, false);
            }
        }
        (Some("Application"), "argoproj.io") => {
            if let Some(spec) = obj.node.get("spec") {
                for src in app_sources(spec) {
                    if let Some(url) = src.get("repoURL") {
                        push(
                            url,
                            SourceKind::ArgoApplication,
                            text(src.get("targetRevision")),
                            src.get("chart").is_some(),
                        );
                    }
                }
            }
        }
        (Some("ApplicationSet"), "argoproj.io") => {
            if let Some(spec) = path(obj.node, &["spec", "template", "spec"]) {
                for src in app_sources(spec) {
                    if let Some(url) = src.get("repoURL") {
                        push(
                            url,
                            SourceKind::ArgoApplicationSet,
                            text(src.get("targetRevision")),
                            src.get("chart").is_some(),
                        );
                    }
                }
            }
            let mut stack: Vec<&Node> = path(obj.node, &["spec", "generators"])
                .and_then(Node::as_seq)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            // Generators nest (matrix, merge); bounded by the parser's depth limit.
            while let Some(g) = stack.pop() {
                if let Some(git) = g.get("git")
                    && let Some(url) = git.get("repoURL")
                {
                    push(
                        url,
                        SourceKind::ArgoApplicationSetGenerator,
                        text(git.get("revision")),
                        false,
                    );
                }
                for nested in ["matrix", "merge"] {
                    if let Some(gs) = g
                        .get(nested)
                        .and_then(|m| m.get("generators"))
                        .and_then(Node::as_seq)
                    {
                        stack.extend(gs.iter());
                    }
                }
            }
        }
        _ => {}
    }
}

/// `spec.source` and every `spec.sources[]` of an Application spec.
fn app_sources(spec: &Node) -> Vec<&Node> {
    let mut out: Vec<&Node> = spec.get("source").into_iter().collect();
    if let Some(list) = spec.get("sources").and_then(Node::as_seq) {
        out.extend(list.iter());
    }
    out
}

/// What is wrong with fetching from `url`.
pub fn issues(url: &str) -> Vec<SourceIssue> {
    let mut out = Vec::new();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("git://") {
        out.push(SourceIssue::PlainHttp);
    }
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if authority.contains('@') {
            out.push(SourceIssue::EmbeddedCredentials);
        }
    } else if let Some(rest) = lower.strip_prefix("ssh://") {
        // ssh://user@host is normal; a password after the user is not.
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            out.push(SourceIssue::EmbeddedCredentials);
        }
    }
    // A token in the query string or the path is a credential in the URL too.
    if !out.contains(&SourceIssue::EmbeddedCredentials)
        && !crate::source::remote::url_secrets(url).is_empty()
    {
        out.push(SourceIssue::EmbeddedCredentials);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_issues() {
        assert_eq!(issues("https://github.com/o/r"), vec![]);
        assert_eq!(issues("ssh://git@github.com/o/r"), vec![]);
        assert_eq!(
            issues("https://h.example/o/r.git?access_token=x"),
            vec![SourceIssue::EmbeddedCredentials]
        );
        assert_eq!(issues("git@github.com:o/r.git"), vec![]);
        assert_eq!(
            issues("http://git.internal/o/r"),
            vec![SourceIssue::PlainHttp]
        );
        assert_eq!(
            issues("git://git.internal/o/r"),
            vec![SourceIssue::PlainHttp]
        );
        assert_eq!(
            issues("https://user:pw@github.com/o/r"),
            vec![SourceIssue::EmbeddedCredentials]
        );
        assert_eq!(
            issues("http://tok@github.com/o/r"),
            vec![SourceIssue::PlainHttp, SourceIssue::EmbeddedCredentials]
        );
        assert_eq!(
            issues("ssh://git:pw@host/r"),
            vec![SourceIssue::EmbeddedCredentials]
        );
    }
}
