//! `plain-http` and `plain-http-source`: `http://` endpoints in manifests and
//! values.
//!
//! ## What it does
//!
//! Finds `http://` URLs in the values of Kubernetes objects (ConfigMaps, env
//! values, args, annotations, CRD specs), Helm values files and
//! kustomizations, and points at the URL.
//!
//! | where | severity |
//! |---|---|
//! | a GitOps **source**: Argo CD `Application`/`ApplicationSet` `repoURL`, Flux `GitRepository`/`HelmRepository`/`OCIRepository`/`Bucket` `spec.url`, an Argo CD repository Secret's `url`, Kustomize remote `resources`/`helmCharts[].repo` | high, rule `plain-http-source` |
//! | any other non-local host | medium, rule `plain-http` |
//! | an internal host: single-label (`http://redis:6379`), `*.svc`, `*.cluster.local`, `*.svc.cluster.local`, a name under a TLD that is not public (`grafana.monitoring`, `*.local`, `*.internal`), or a private address (`http://10.0.7.1`, which `hardcoded-ip` reports too) | info (a mesh may add mTLS; a private network is not the Internet) |
//!
//! ## What it does not report
//!
//! - `localhost`, `*.localhost`, loopback, `0.0.0.0`, link-local and metadata
//!   hosts (`169.254.169.254` is `hardcoded-ip`'s), documentation hosts
//!   (`example.com`, `example.*`, `*.example`, `*.test`, `*.invalid`);
//! - XML and JSON-schema namespaces and licence URLs (`www.w3.org`,
//!   `json-schema.org`, `schemas.xmlsoap.org`, `maven.apache.org/POM`,
//!   `www.apache.org/licenses`, `opensource.org`, …), a URL after `xmlns`,
//!   `schemaLocation`, `DOCTYPE` or `$schema` on its line;
//! - comments, both YAML's (not in the tree) and those inside embedded files
//!   (a line of a ConfigMap value starting with `#`, `//`, `;`, `*`, `<!--`);
//! - proxies (`HTTP_PROXY=http://proxy:3128` is how HTTP proxies are
//!   addressed; TLS goes through them via CONNECT) and binds (`bindURLs:
//!   http://+:8080`, `*listen*`);
//! - probes (`livenessProbe`, `readinessProbe`, `startupProbe`: `httpGet`
//!   has no URL and a probe's scheme is the kubelet's business), links for
//!   humans (`description`, `summary`, `message`, `*runbook*`, `*dashboard*`,
//!   `*doc*`, `*link*`, `*homepage*`, `*license*`), the last-applied
//!   annotation, and template hosts (`http://${HOST}`, `http://{{ .host }}`);
//! - Secrets other than Argo CD credential Secrets (the secret detectors own them).
//!
//! ## Why it matters
//!
//! Plain HTTP can be read and changed on the way. For a GitOps source that
//! means whoever sits on the path decides what gets deployed.
//!
//! ## Example
//!
//! ```yaml
//! kind: GitRepository
//! spec:
//!   url: http://git.corp.com/infra.git     # plain-http-source, high
//! ```
//!
//! ## Use instead
//!
//! `https://` (or `ssh://` / `oci://` for sources); for in-cluster traffic, a
//! mesh with mTLS.

use super::hardcoded_ip::{IpClass, classify};
use super::helm_values_secret::is_values_file;
use super::kustomize_secret_literal::is_kustomization;
use super::plaintext_secret_manifest::{ARGOCD_CREDENTIAL_TYPES, ARGOCD_SECRET_TYPE};
use super::scalars::{Seg, Visit, Walk, walk};
use super::{describe, identity, rule_info};
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity};
use crate::manifest::{Document, KeyPath, Object, objects_of};
use std::net::IpAddr;
use std::ops::Range;

pub const RULE: &str = "plain-http";
pub const SOURCE_RULE: &str = "plain-http-source";

/// Where an `http://` URL goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostClass {
    /// Not worth a finding: local, documentation, namespace or licence host.
    Ignored,
    /// Inside the cluster, a private naming domain or a private address.
    Internal,
    /// Anywhere else.
    External,
}

/// Hosts of XML/JSON-schema namespaces, identifiers that are never fetched.
const NAMESPACE_HOSTS: &[&str] = &[
    "www.w3.org",
    "w3.org",
    "json-schema.org",
    "schemas.xmlsoap.org",
    "schemas.microsoft.com",
    "schemas.openxmlformats.org",
    "schemas.android.com",
    "purl.org",
    "xmlns.com",
    "xmlns.jcp.org",
    "java.sun.com",
    "ns.adobe.com",
    "www.xml.org",
    "relaxng.org",
    "docbook.org",
    "maven.apache.org",
    "www.springframework.org",
    "opensource.org",
    "creativecommons.org",
    "www.opensource.org",
];

/// (host, path prefix) of licence texts.
const LICENCE_URLS: &[(&str, &str)] = &[
    ("www.apache.org", "/licenses"),
    ("apache.org", "/licenses"),
    ("www.gnu.org", "/licenses"),
    ("www.mozilla.org", "/mpl"),
];

/// Top-level domains taken as public (plus every two-letter country code).
const PUBLIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "io",
    "dev",
    "app",
    "co",
    "ai",
    "cloud",
    "info",
    "biz",
    "tech",
    "xyz",
    "site",
    "online",
    "gov",
    "edu",
    "mil",
    "int",
    "aero",
    "pro",
    "name",
    "mobi",
    "asia",
    "tel",
    "travel",
    "jobs",
    "museum",
    "coop",
    "systems",
    "services",
    "solutions",
    "digital",
    "network",
    "software",
    "agency",
    "company",
    "host",
    "website",
    "space",
    "store",
    "blog",
    "page",
    "run",
    "sh",
    "tools",
    "works",
    "zone",
    "codes",
    "build",
    "technology",
    "engineering",
    "global",
];

/// Classify the host of an `http://` URL (lower-case, no port, IPv6 without brackets).
pub fn classify_host(host: &str, path: &str) -> HostClass {
    let host = host.trim_end_matches('.');
    // Templates (`${HOST}`, `{{ .host }}`) and wildcard binds (`http://+:80`,
    // `http://*:80`) are not hosts.
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
    {
        return HostClass::Ignored;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match classify(ip) {
            IpClass::Ignored | IpClass::Metadata => HostClass::Ignored,
            IpClass::Private => HostClass::Internal,
            IpClass::Public => HostClass::External,
        };
    }
    if host == "localhost"
        || host.ends_with(".localhost")
        || host == "metadata"
        || host == "metadata.google.internal"
        || host == "example.com"
        || host == "example.org"
        || host == "example.net"
        || host.ends_with(".example.com")
        || host.ends_with(".example.org")
        || host.ends_with(".example.net")
        || host.ends_with(".example")
        || host.starts_with("example.")
        || host.ends_with(".test")
        || host.ends_with(".invalid")
        || NAMESPACE_HOSTS.contains(&host)
    {
        return HostClass::Ignored;
    }
    let lower_path = path.to_ascii_lowercase();
    if LICENCE_URLS
        .iter()
        .any(|(h, p)| host == *h && lower_path.starts_with(p))
    {
        return HostClass::Ignored;
    }
    let Some((_, tld)) = host.rsplit_once('.') else {
        return HostClass::Internal; // a single label: a Service name
    };
    if host.ends_with(".svc") || host.ends_with(".cluster.local") {
        return HostClass::Internal;
    }
    let public = PUBLIC_TLDS.contains(&tld)
        || (tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_lowercase()));
    if public {
        HostClass::External
    } else {
        HostClass::Internal
    }
}

/// An `http://` URL found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// Byte range of the whole URL.
    pub range: Range<usize>,
    /// Lower-case host (IPv6 without brackets), no port or userinfo.
    pub host: String,
    pub class: HostClass,
}

/// Every `http://` URL in `text` that is not a namespace, licence, local host,
/// or on a comment line of an embedded file.
pub fn find_http_urls(text: &str) -> Vec<HttpUrl> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = find_ci(&bytes[from..], b"http://") {
        let start = from + i;
        from = start + 7;
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &text[start + 7..];
        let url_len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\'))
            .unwrap_or(rest.len());
        let mut end = start + 7 + url_len;
        while end > start + 7 && matches!(bytes[end - 1], b'.' | b',' | b')' | b';' | b']') {
            end -= 1;
        }
        let url = &text[start + 7..end];
        let auth_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let authority = &url[..auth_end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            host_port.split(':').next().unwrap_or("")
        }
        .to_ascii_lowercase();
        let class = classify_host(&host, &url[auth_end..]);
        if class == HostClass::Ignored || on_ignored_line(text, start) {
            continue;
        }
        out.push(HttpUrl {
            range: start..end,
            host,
            class,
        });
    }
    out
}

/// The offset of the first `http://` (any case) in `hay`: a SIMD search for
/// `://`, then a look at the four bytes before it.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    debug_assert_eq!(needle.len(), 7);
    memchr::memmem::find_iter(hay, b"://")
        .filter(|&i| i >= 4)
        .map(|i| i - 4)
        .find(|&s| hay[s..s + 7].eq_ignore_ascii_case(needle))
}

/// A comment line of an embedded file, or an XML/JSON-schema identifier.
fn on_ignored_line(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    let t = before.trim_start();
    if ["#", "//", ";", "*", "<!--"]
        .iter()
        .any(|c| t.starts_with(c))
    {
        return true;
    }
    let lower = before.to_ascii_lowercase();
    ["xmlns", "schemalocation", "doctype", "$schema", "\"$id\""]
        .iter()
        .any(|m| lower.contains(m))
}

/// Keys (lower-cased, substring) whose subtrees hold no endpoints.
const PRUNE_CONTAINS: &[&str] = &[
    "probe",
    "proxy",
    "bind",
    "listen",
    "description",
    "summary",
    "runbook",
    "dashboard",
    "doc",
    "link",
    "homepage",
    "license",
    "licence",
    "last-applied",
    "xmlns",
    "$schema",
];
const PRUNE_EXACT: &[&str] = &["message", "$id", "labels"];

fn prune_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    PRUNE_EXACT.contains(&k.as_str()) || PRUNE_CONTAINS.iter().any(|p| k.contains(p))
}

/// Whether the value at `keys` of `obj` is where a GitOps tool fetches from.
fn is_source(kind: &str, group: &str, kustomization: bool, keys: &[Seg<'_>]) -> bool {
    let key_at = |i: usize| match keys.get(i) {
        Some(Seg::Key(k)) => Some(*k),
        _ => None,
    };
    let last_key = keys.iter().rev().find_map(|s| match s {
        Seg::Key(k) => Some(*k),
        _ => None,
    });
    match (kind, group) {
        (
            "GitRepository" | "HelmRepository" | "OCIRepository" | "Bucket",
            "source.toolkit.fluxcd.io",
        ) => {
            keys.len() == 2
                && key_at(0) == Some("spec")
                && matches!(key_at(1), Some("url" | "endpoint"))
        }
        ("Application" | "ApplicationSet", "argoproj.io") => last_key == Some("repoURL"),
        ("Secret", _) => last_key == Some("url"),
        _ if kustomization => {
            matches!(key_at(0), Some("resources" | "bases" | "components"))
                || (key_at(0) == Some("helmCharts") && last_key == Some("repo"))
        }
        _ => false,
    }
}

pub struct PlainHttp;

impl Detector for PlainHttp {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![
            rule_info(
                RULE,
                "Plain HTTP endpoint",
                Category::PlainHttp,
                Severity::Medium,
                "An http:// URL to a non-local host in a manifest or values: traffic (and any \
                 credentials in it) can be read and changed in transit. Cluster-internal hosts \
                 (*.svc, *.cluster.local, single-label Service names) are info, since a mesh may \
                 add mTLS.",
                "Use https://; for in-cluster traffic, a service mesh with mTLS.",
            ),
            rule_info(
                SOURCE_RULE,
                "GitOps source over plain HTTP",
                Category::PlainHttp,
                Severity::High,
                "An Argo CD repoURL, a Flux GitRepository/HelmRepository/OCIRepository/Bucket \
                 URL, an Argo CD repository Secret's url or a Kustomize remote resource over \
                 http://: whoever sits on the path can change what gets deployed.",
                "Use https:// (or ssh:// / oci://) and verify what is fetched (Flux \
                 spec.verify, signed commits).",
            ),
        ]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        let name = input.file_name();
        let values_file = is_values_file(name);
        let kustomization = is_kustomization(name);
        if !values_file && !kustomization && !input.is_yaml_or_json() {
            return;
        }
        if find_ci(input.bytes, b"http://").is_none() {
            return;
        }
        if values_file || kustomization {
            // Non-object documents are reported under the file's name:
            // not the same findings for the same text elsewhere, so no memo.
            let Some(docs) = input.documents() else {
                return;
            };
            let docs: Vec<&Document> = docs.iter().collect();
            check_objects(input, &docs, values_file, kustomization, out);
            return;
        }
        // Each distinct document once per history scan (see
        // `Input::check_documents`): a release bundle repeats most of its
        // documents from one version to the next.
        input.check_documents(
            cx.doc_memo,
            "plain-http",
            |doc| find_ci(doc, b"http://").is_some(),
            |docs, out| check_objects(input, docs, false, false, out),
            out,
        );
    }
}

/// The checks over some of a file's documents: `values_file` and
/// `kustomization` say what the file is by its name.
fn check_objects(
    input: &Input<'_>,
    docs: &[&Document],
    values_file: bool,
    kustomization: bool,
    out: &mut Output,
) {
    let name = input.file_name();
    let how = Walk {
        prune: &prune_key,
        name_value_pairs: true,
    };
    for obj in objects_of(docs.iter().copied()) {
        let is_object = obj.kind.is_some() && obj.api_version.is_some();
        if !is_object && !values_file && !kustomization {
            continue;
        }
        let kind = obj.kind.unwrap_or("");
        let group = obj.api_group().unwrap_or("");
        if kind == "Secret" {
            check_argo_secret(input, &obj, out);
            continue;
        }
        if kind == "CustomResourceDefinition" {
            continue;
        }
        let (desc, id) = if is_object {
            (describe(&obj), identity(&obj))
        } else {
            (name.to_string(), name.to_string())
        };
        let mut hits: Vec<(Location, String, HostClass, bool, KeyPath)> = Vec::new();
        walk(obj.node, &how, &mut |v: &Visit<'_, '_>| {
            let source = is_source(kind, group, kustomization, v.keys);
            let mut seen: Vec<String> = Vec::new();
            for u in find_http_urls(v.text) {
                if seen.contains(&u.host) {
                    continue;
                }
                seen.push(u.host.clone());
                let loc = super::sub_location(input, v.node, u.range.clone());
                hits.push((loc, u.host, u.class, source, v.path(&obj.path)));
            }
        });
        for (loc, host, class, source, path) in hits {
            out.findings
                .push(finding(&desc, &id, &path, &host, class, source, loc));
        }
    }
}

/// An Argo CD credential Secret's `stringData.url` is a GitOps source.
fn check_argo_secret(input: &Input<'_>, obj: &Object<'_>, out: &mut Output) {
    if !obj
        .label(ARGOCD_SECRET_TYPE)
        .is_some_and(|t| ARGOCD_CREDENTIAL_TYPES.contains(&t))
    {
        return;
    }
    let Some(node) = obj.node.get_path(&["stringData", "url"]) else {
        return;
    };
    let Some(text) = node.as_str() else { return };
    if let Some(u) = find_http_urls(text).into_iter().next() {
        let path = obj.path.keys(&["stringData", "url"]);
        let loc = super::sub_location(input, node, u.range.clone());
        out.findings.push(finding(
            &describe(obj),
            &identity(obj),
            &path,
            &u.host,
            u.class,
            true,
            loc,
        ));
    }
}

fn finding(
    desc: &str,
    id: &str,
    path: &KeyPath,
    host: &str,
    class: HostClass,
    source: bool,
    location: Location,
) -> Finding {
    let shown = if host.contains(':') {
        format!("http://[{host}]")
    } else {
        format!("http://{host}")
    };
    let (rule, severity, message) = match (class, source) {
        (HostClass::Internal, _) => (
            if source { SOURCE_RULE } else { RULE },
            Severity::Info,
            format!(
                "{desc}: {path} uses plain HTTP to the internal host {shown}; fine only if a \
                 service mesh or the private network protects it"
            ),
        ),
        (_, true) => (
            SOURCE_RULE,
            Severity::High,
            format!(
                "{desc}: {path} fetches a GitOps source over plain HTTP ({shown}): whoever sits \
                 on the path can change what gets deployed; use https://"
            ),
        ),
        _ => (
            RULE,
            Severity::Medium,
            format!(
                "{desc}: {path} uses plain HTTP ({shown}): traffic can be read and changed in \
                 transit; use https://"
            ),
        ),
    };
    Finding::new(rule, Category::PlainHttp, severity, message, location)
        .with_identity(format!("{id}/{path}={shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<(String, HostClass)> {
        find_http_urls(text)
            .into_iter()
            .map(|u| (u.host, u.class))
            .collect()
    }

    #[test]
    fn classifies_hosts() {
        use HostClass::*;
        assert_eq!(
            hosts("http://charts.corp.com/x"),
            [("charts.corp.com".into(), External)]
        );
        assert_eq!(
            hosts("HTTP://user:pw@Git.Corp.COM:8080/x"),
            [("git.corp.com".into(), External)]
        );
        assert_eq!(hosts("http://10.1.2.3:80"), [("10.1.2.3".into(), Internal)]);
        assert_eq!(
            hosts("http://52.95.110.1:80"),
            [("52.95.110.1".into(), External)]
        );
        assert_eq!(
            hosts("http://[2606:4700::1]/"),
            [("2606:4700::1".into(), External)]
        );
        assert_eq!(hosts("http://redis:6379"), [("redis".into(), Internal)]);
        assert_eq!(
            hosts("http://web.prod.svc.cluster.local/"),
            [("web.prod.svc.cluster.local".into(), Internal)]
        );
        assert_eq!(
            hosts("http://grafana.monitoring:3000"),
            [("grafana.monitoring".into(), Internal)]
        );
        for t in [
            "http://localhost:8080",
            "http://127.0.0.1/",
            "http://[::1]:80",
            "http://0.0.0.0:80",
            "http://app.localhost",
            "http://169.254.169.254/latest",
            "http://www.w3.org/2000/svg",
            "http://json-schema.org/draft-07/schema#",
            "http://www.apache.org/licenses/LICENSE-2.0",
            "http://example.com",
            "http://${HOST}/x",
            "http://{{ .Values.host }}/x",
            "https://secure.corp.com",
            "xhttp://a.com",
            "  # see http://nginx.org/docs",
            "<beans xmlns=\"http://www.springframework.org/schema/beans\"",
            "<root xmlns:x=\"http://corp.com/ns\">",
        ] {
            assert!(hosts(t).is_empty(), "{t}: {:?}", hosts(t));
        }
    }

    #[test]
    fn url_range_excludes_trailing_punctuation() {
        let t = "see (http://a.corp.com/x).";
        let u = &find_http_urls(t)[0];
        assert_eq!(&t[u.range.clone()], "http://a.corp.com/x");
    }
}
