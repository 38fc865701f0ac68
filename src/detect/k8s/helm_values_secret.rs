//! `helm-values-secret`: a literal secret in values that flow into
//! manifests — Helm values files, Flux `HelmRelease` values and
//! `postBuild.substitute`, Argo CD `Application` Helm values, parameters and
//! plugin env.
//!
//! ## What it does
//!
//! Walks, with YAML awareness (the key path is in the message):
//!
//! - Helm values files (`values.yaml`, `values-prod.yaml`, `prod-values.yaml`, …);
//! - Flux `HelmRelease` (`helm.toolkit.fluxcd.io`) `spec.values`;
//! - Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`) `spec.postBuild.substitute`;
//! - Argo CD `Application` `spec.source` / `spec.sources[]` (and an
//!   `ApplicationSet`'s `spec.template.spec.source(s)`): `helm.values` (a
//!   YAML *string*: it is parsed and each value's position mapped back into
//!   the file), `helm.valuesObject`, `helm.parameters` and `plugin.env`
//!   (`name`/`value` pairs, the name taken as the key), `plugin.parameters`
//!   (`name`/`string`).
//!
//! A value is reported when its key is secret-like (`password`,
//! `clientSecret`, `auth.token`, `apiKey`, …; not `existingSecret`,
//! `secretName`, `passwordKey`, `tsigSecretAlg`, `credentialIssuerConfig`)
//! and the value is a literal that is not a reference, name, placeholder or
//! well-known non-secret (the generic secret rule's filter), not a word
//! naming its slot (`mysecretpassword`, `test-token-1`), not a lower-case
//! identifier (`etcd-cluster-k8s`, `grafana.local-tls`), is at least 8
//! characters long and has at least 3 bits of Shannon entropy per character.
//! A multi-line value counts only when it is a private key with a body (an
//! empty `-----BEGIN RSA PRIVATE KEY-----` shape is documentation); a JSON
//! value only when a secret-named field in it holds something (a
//! service-account key file with `"private_key": ""` does not). Category
//! `secret`, severity high.
//!
//! ## One leak, one finding
//!
//! The line-based secret rules run over the same bytes, and the generic
//! secret-named-key rule may match the same `password: …` line. The rule
//! here: a value is **not** reported when any secret rule of the rule set
//! matches inside the value's own bytes on the lines it spans — that finding
//! already points at the same value and names what leaked. What remains is
//! what the line rules cannot see: values whose key is on another line
//! (`name`/`value` parameter pairs) and secrets that no other rule knows.
//!
//! ## Example
//!
//! ```yaml
//! kind: Application
//! spec:
//!   source:
//!     helm:
//!       parameters:
//!       - name: postgresql.auth.password
//!         value: s3cr3t-V4lue-91x   # spec.source.helm.parameters[postgresql.auth.password].value
//! ```
//!
//! ## Use instead
//!
//! Flux: `spec.valuesFrom` a (SOPS-encrypted) Secret, or
//! `postBuild.substituteFrom`. Argo CD: reference an existing Secret from the
//! chart (`existingSecret`), or a secret-management plugin. Rotate the value.

use super::scalars::{Visit, Walk, walk};
use super::secret_names::is_secret_name;
use super::{describe, rule_info};
use crate::detect::placeholder::{is_generic_non_secret, is_placeholder};
use crate::detect::secrets::find_secrets;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity};
use crate::manifest::{KeyPath, Limits, Node, Object, Span, objects_of, parse_documents};
use crate::rules::shannon_entropy;

pub const RULE: &str = "helm-values-secret";

/// Shortest value reported.
const MIN_LEN: usize = 8;
/// Least Shannon entropy (bits per character) of a reported value.
const MIN_ENTROPY: f64 = 3.0;

pub struct HelmValuesSecret;

/// Whether a file name is a Helm values file.
pub fn is_values_file(file_name: &str) -> bool {
    let n = file_name.to_ascii_lowercase();
    let Some(stem) = n
        .strip_suffix(".yaml")
        .or_else(|| n.strip_suffix(".yml"))
        .or_else(|| n.strip_suffix(".json"))
    else {
        return false;
    };
    stem.starts_with("values")
        || stem.ends_with("-values")
        || stem.ends_with("_values")
        || stem.ends_with(".values")
}

/// Text that may hold a HelmRelease, a Flux `postBuild.substitute` or an
/// Argo CD Application (a cheap byte check before anything is parsed).
fn carries_helm_values(bytes: &[u8]) -> bool {
    let find = |n: &[u8]| memchr::memmem::find(bytes, n).is_some();
    find(b"HelmRelease") || find(b"postBuild") || find(b"argoproj.io")
}

/// A document that may be one of the objects this check reads (their CRDs,
/// which name the same kinds in `spec.names`, are not).
fn holds_helm_values_object(doc: &[u8]) -> bool {
    use crate::detect::{is_crd_text, mentions_kind};
    (mentions_kind(doc, "HelmRelease")
        || mentions_kind(doc, "Application")
        || mentions_kind(doc, "ApplicationSet")
        || (mentions_kind(doc, "Kustomization")
            && memchr::memmem::find(doc, b"postBuild").is_some()))
        && !is_crd_text(doc)
}

impl Detector for HelmValuesSecret {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![rule_info(
            RULE,
            "Literal secret in Helm/GitOps values",
            Category::Secret,
            Severity::High,
            "A secret-named key (password, token, clientSecret, apiKey, …) has a literal, \
             high-entropy value in values that flow into manifests: a Helm values file, a Flux \
             HelmRelease's spec.values or postBuild.substitute, an Argo CD Application's \
             helm.values/valuesObject/parameters or plugin env.",
            "Reference a Secret instead (Flux spec.valuesFrom / postBuild.substituteFrom with a \
             SOPS-encrypted Secret; a chart's existingSecret; External Secrets); rotate the value.",
        )]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        let values_file = is_values_file(input.file_name());
        if !values_file {
            if !input.is_yaml_or_json() {
                return;
            }
            if !carries_helm_values(input.bytes) {
                return;
            }
        }
        // Nothing is reported without a secret-named key or name/value pair:
        // look for one in the bytes before parsing anything.
        let json = input.is_json();
        let may_report = |doc: &[u8]| {
            super::secret_names::text_keys_a_secret(doc, json)
                || super::secret_names::text_names_a_secret(doc)
        };
        let docs = if values_file {
            if !may_report(input.bytes) {
                return;
            }
            input.documents().map(|d| d.iter().collect())
        } else {
            input.documents_where(|doc| holds_helm_values_object(doc) && may_report(doc))
        };
        let Some(docs) = docs else {
            return;
        };
        let mut r = Reporter { input, cx, out };
        for obj in objects_of(docs) {
            let is_object = obj.kind.is_some() && obj.api_version.is_some();
            if !is_object {
                if values_file {
                    r.walk_node(obj.node, &obj.path, input.file_name());
                }
                continue;
            }
            let group = obj.api_group().unwrap_or("");
            let desc = describe(&obj);
            match (obj.kind.unwrap_or(""), group) {
                ("HelmRelease", "helm.toolkit.fluxcd.io") => {
                    if let Some(v) = obj.node.get_path(&["spec", "values"]) {
                        r.walk_node(v, &obj.path.keys(&["spec", "values"]), &desc);
                    }
                }
                ("Kustomization", "kustomize.toolkit.fluxcd.io") => {
                    let at = ["spec", "postBuild", "substitute"];
                    if let Some(v) = obj.node.get_path(&at) {
                        r.walk_node(v, &obj.path.keys(&at), &desc);
                    }
                }
                ("Application", "argoproj.io") => {
                    r.argo_spec(&obj, obj.node.get("spec"), obj.path.key("spec"), &desc)
                }
                ("ApplicationSet", "argoproj.io") => {
                    let at = ["spec", "template", "spec"];
                    r.argo_spec(&obj, obj.node.get_path(&at), obj.path.keys(&at), &desc);
                }
                _ => {}
            }
        }
    }
}

struct Reporter<'i, 'a, 'c, 'o> {
    input: &'i Input<'a>,
    cx: &'i Context<'c>,
    out: &'o mut Output,
}

fn prune_nothing(_: &str) -> bool {
    false
}

fn is_candidate(key: Option<&str>, text: &str) -> bool {
    let t = text.trim();
    if !key.is_some_and(is_secret_name) {
        return false;
    }
    // A JSON document (a service-account key file): only if some secret
    // field in it holds something.
    if let Some(json) = super::plaintext_secret_manifest::json_object(t) {
        return super::plaintext_secret_manifest::json_secret(&json).is_some();
    }
    // Any other multi-line value is a config block, unless it is a private
    // key with a body.
    if t.contains('\n') {
        return pem_private_key_with_body(t);
    }
    t.len() >= MIN_LEN
        && !is_generic_non_secret(t)
        && !super::is_secret_reference(t)
        && !is_addresses(t)
        && !super::is_word_placeholder(t)
        && !super::is_identifier_like(t)
        && !super::is_dummy_word(t)
        && shannon_entropy(t.as_bytes()) >= MIN_ENTROPY
}

/// IP addresses or CIDRs, alone or in a list (`192.168.10.0/24,10.0.0.1`).
fn is_addresses(t: &str) -> bool {
    t.split([',', ' ', ';']).filter(|p| !p.is_empty()).all(|p| {
        let addr = p.split_once('/').map_or(p, |(a, _)| a);
        addr.parse::<std::net::IpAddr>().is_ok()
    })
}

/// A PEM private key with something between its BEGIN and END lines (a
/// values file often carries the empty shape as documentation).
fn pem_private_key_with_body(t: &str) -> bool {
    let mut inside = false;
    let mut body = 0;
    for line in t.lines().map(str::trim) {
        if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
            inside = true;
        } else if line.starts_with("-----END") {
            inside = false;
        } else if inside && !line.is_empty() && !is_placeholder(line) {
            body += line.len();
        }
    }
    body >= 32
}

impl Reporter<'_, '_, '_, '_> {
    fn argo_spec(&mut self, _obj: &Object<'_>, spec: Option<&Node>, path: KeyPath, desc: &str) {
        let Some(spec) = spec else { return };
        if let Some(src) = spec.get("source") {
            self.argo_source(src, path.key("source"), desc);
        }
        for (i, src) in spec
            .get("sources")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            self.argo_source(src, path.key("sources").index(i), desc);
        }
    }

    fn argo_source(&mut self, src: &Node, path: KeyPath, desc: &str) {
        if let Some(helm) = src.get("helm") {
            let hp = path.key("helm");
            if let Some(values) = helm.get("values") {
                if values.as_scalar().is_some() {
                    self.embedded_values(values, hp.key("values"), desc);
                } else {
                    self.walk_node(values, &hp.key("values"), desc);
                }
            }
            for key in ["valuesObject", "parameters"] {
                if let Some(v) = helm.get(key) {
                    self.walk_node(v, &hp.key(key), desc);
                }
            }
        }
        if let Some(plugin) = src.get("plugin") {
            let pp = path.key("plugin");
            if let Some(env) = plugin.get("env") {
                self.walk_node(env, &pp.key("env"), desc);
            }
            // plugin.parameters: [{name, string}]
            for (i, p) in plugin
                .get("parameters")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let (Some(name), Some(value)) =
                    (p.get("name").and_then(Node::as_str), p.get("string"))
                else {
                    continue;
                };
                let Some(text) = value.as_str() else { continue };
                if is_candidate(Some(name), text) {
                    let at = pp.key("parameters").item(Some(name), i).key("string");
                    let loc = super::value_location(self.input, value);
                    self.report(value.span, loc, text, &at, desc);
                }
            }
        }
    }

    /// Walk a values tree written in this file.
    fn walk_node(&mut self, node: &Node, base: &KeyPath, desc: &str) {
        let how = Walk {
            prune: &prune_nothing,
            name_value_pairs: true,
        };
        let mut found: Vec<(Span, Location, String, KeyPath)> = Vec::new();
        let input = self.input;
        walk(node, &how, &mut |v: &Visit<'_, '_>| {
            if is_candidate(v.key, v.text) {
                let loc = super::value_location(input, v.node);
                found.push((v.node.span, loc, v.text.to_string(), v.path(base)));
            }
        });
        for (span, loc, text, path) in found {
            self.report(span, loc, &text, &path, desc);
        }
    }

    /// Argo CD `helm.values`: a YAML document inside a string. Parse it and
    /// map each value's position back into the file.
    fn embedded_values(&mut self, outer: &Node, base: KeyPath, desc: &str) {
        let Some(text) = outer.as_str() else { return };
        let Ok(docs) = parse_documents(text, &Limits::default()) else {
            return;
        };
        let how = Walk {
            prune: &prune_nothing,
            name_value_pairs: true,
        };
        let mut found: Vec<(Span, String, KeyPath)> = Vec::new();
        let source = self.input.text().unwrap_or("");
        for doc in &docs {
            walk(&doc.root, &how, &mut |v: &Visit<'_, '_>| {
                if is_candidate(v.key, v.text) {
                    let span = outer
                        .locate(source, v.node.span.start..v.node.span.end)
                        .unwrap_or(outer.span);
                    found.push((span, v.text.to_string(), v.path(&base)));
                }
            });
        }
        for (span, text, path) in found {
            let loc = self.input.span_location(&span);
            self.report(span, loc, &text, &path, desc);
        }
    }

    /// Report the value at `span` (for the line-rule check) shown at `location`.
    fn report(&mut self, span: Span, location: Location, text: &str, path: &KeyPath, desc: &str) {
        if line_rule_covers(self.input, self.cx, span.start, span.end) {
            return;
        }
        self.out.findings.push(
            Finding::new(
                RULE,
                Category::Secret,
                Severity::High,
                format!(
                    "{desc}: {path} holds a literal secret that flows into the rendered manifests"
                ),
                location,
            )
            .with_secret(text.trim().to_string()),
        );
    }
}

/// Whether a line-based secret rule matches inside `start..end` on the lines
/// that range spans (see "One leak, one finding" in the module doc).
pub(crate) fn line_rule_covers(
    input: &Input<'_>,
    cx: &Context<'_>,
    start: usize,
    end: usize,
) -> bool {
    let end = end.max(start + 1).min(input.bytes.len());
    let (line_start, _) = input.line_bounds(start);
    let (_, line_end) = input.line_bounds(end.saturating_sub(1).max(start));
    if line_start >= line_end {
        return false;
    }
    find_secrets(cx.rules, &input.bytes[line_start..line_end])
        .iter()
        .any(|m| line_start + m.secret.start < end && line_start + m.secret.end > start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert!(is_candidate(Some("password"), "fixture-Qm7Lz2Vx9"));
        assert!(is_candidate(Some("clientSecret"), "  fixture-Cs6Jv2Pw9\n"));
        for (k, v) in [
            ("replicaCount", "fixture-Qm7Lz2Vx9"),
            ("password", "short"),
            ("password", "changeme"),
            ("password", "mysecretpassword1"),
            ("initialClusterToken", "etcd-cluster-k8s"),
            ("existingSecret", "fixture-Qm7Lz2Vx9"),
            ("PLEX_NO_AUTH_NETWORKS", "192.168.10.0/24"),
            ("authToken", "192.168.10.0/24,10.0.0.1"),
            ("token", "op://kubernetes/1password/token"),
            (
                "privateKey",
                "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
            ),
            (
                "serviceAccountKey",
                "{\"private_key\": \"\", \"client_email\": \"a@b.c\"}",
            ),
        ] {
            assert!(!is_candidate(Some(k), v), "{k}: {v:?}");
        }
        assert!(is_candidate(
            Some("serviceAccountKey"),
            "{\"private_key\": \"fixture-key-body-Qm7Lz2Vx9\"}"
        ));
        let body = "Zml4dHVyZS1rZXktYm9keS1mb3ItYS10ZXN0LW9ubHktbm90LWEta2V5";
        assert!(is_candidate(
            Some("privateKey"),
            &format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
        ));
        assert!(is_values_file("values.yaml"));
        assert!(is_values_file("values-prod.yml"));
        assert!(is_values_file("prod-values.yaml"));
        assert!(!is_values_file("deployment.yaml"));
        assert!(!is_values_file("values.txt"));
    }
}
