//! The facts the encryption repo checks join: `.sops.yaml` creation rules,
//! files and Kubernetes Secrets that hold secret material in clear, and Flux
//! Kustomizations that decrypt with SOPS. Facts are small (paths, names,
//! lines, regex sources) — never file contents or secret values.
//!
//! Cost: file-name tests and byte searches decide what runs; YAML is only
//! read through the blob's shared parse.

use super::secret_material::{self, is_k8s_secret, secret_plaintext_value};
use super::sops_tree::Reading;
use super::{EncryptionFact, sops_config};
use crate::detect::suppress::IGNORE_ANNOTATION;
use crate::detect::{Context, Detector, Fact, Input, Output};
use crate::finding::RuleInfo;
use crate::manifest::{Node, Object, objects_of};

/// The detector's name (the family keeps it while a check it feeds is enabled).
pub const NAME: &str = "encryption-facts";

/// A file that holds secret material and is not SOPS-encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaintextSecretFile {
    /// 1-based line of the evidence.
    pub line: usize,
    /// What makes it secret, for messages (no values).
    pub what: String,
    /// Rule ids, categories or `all` that an object's
    /// `gitops-guard.io/ignore` annotation lists for this file's evidence.
    pub ignored: Vec<String>,
}

/// A Kubernetes Secret with a plaintext value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaintextSecretObject {
    pub name: String,
    pub namespace: Option<String>,
    /// 1-based line of its `metadata.name` (or `kind`).
    pub line: usize,
    /// `kustomize.toolkit.fluxcd.io/decrypt: Disabled`.
    pub decrypt_disabled: bool,
    /// What `gitops-guard.io/ignore` lists on it.
    pub ignored: Vec<String>,
}

/// A Flux Kustomization with `spec.decryption.provider: sops`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FluxDecryption {
    pub name: String,
    /// `spec.path`, normalised (`./apps/` → `apps`, `./` → ``).
    pub path: String,
    /// 1-based line of its `metadata.name` (or `kind`).
    pub line: usize,
}

/// See the module documentation.
pub struct EncryptionFacts;

impl Detector for EncryptionFacts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![sops_config::RULE.info()]
    }

    fn detect(&self, input: &Input<'_>, _cx: &Context<'_>, out: &mut Output) {
        let mut facts: Vec<EncryptionFact> = Vec::new();
        if sops_config::is_config_name(input.path) {
            if let Some(c) = sops_config::read(input, out) {
                facts.push(EncryptionFact::SopsConfig(Box::new(c)));
            }
            out.facts.extend(facts.into_iter().map(Fact::Encryption));
            return;
        }
        let relevant = |text: &[u8]| {
            input.mentions_kind(text, "Secret")
                || memchr::memmem::find(text, b"kustomize.toolkit.fluxcd.io").is_some()
        };
        if input.is_yaml_or_json()
            && relevant(input.bytes)
            && let Some(docs) = input.documents_where(relevant)
        {
            // Secrets in a SOPS file are the SOPS rules' business.
            let sops = !matches!(super::sops_tree::read(input), Reading::NotSops);
            for obj in objects_of(docs) {
                if !sops && is_k8s_secret(&obj) && secret_plaintext_value(&obj).is_some() {
                    facts.push(EncryptionFact::PlaintextSecretObject(Box::new(
                        PlaintextSecretObject {
                            name: obj.name.unwrap_or("?").to_string(),
                            namespace: obj.namespace.map(str::to_string),
                            line: input.line_of(obj.anchor_span().start),
                            decrypt_disabled: obj
                                .annotation("kustomize.toolkit.fluxcd.io/decrypt")
                                .is_some_and(|v| v.eq_ignore_ascii_case("disabled")),
                            ignored: ignored(&obj),
                        },
                    )));
                }
                if let Some(f) = flux_decryption(input, &obj) {
                    facts.push(EncryptionFact::FluxDecryption(Box::new(f)));
                }
            }
        }
        if let Some(e) = secret_material::evidence(input, &out.findings) {
            let ignored = objects_of(input.parsed_documents())
                .iter()
                .filter(|o| {
                    let s = input.line_of(o.node.span.start);
                    let end = input.line_of(o.node.span.end.max(o.node.span.start));
                    (s..=end).contains(&e.line)
                })
                .flat_map(ignored)
                .collect();
            facts.push(EncryptionFact::PlaintextSecretFile(Box::new(
                PlaintextSecretFile {
                    line: e.line,
                    what: e.what,
                    ignored,
                },
            )));
        }
        out.facts.extend(facts.into_iter().map(Fact::Encryption));
    }
}

/// What an object's `gitops-guard.io/ignore` annotation lists (ids only).
fn ignored(obj: &Object<'_>) -> Vec<String> {
    obj.annotation(IGNORE_ANNOTATION)
        .map(|v| {
            v.split(',')
                .map(|item| item.split('=').next().unwrap_or("").trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn flux_decryption(input: &Input<'_>, obj: &Object<'_>) -> Option<FluxDecryption> {
    if obj.kind != Some("Kustomization") || obj.api_group() != Some("kustomize.toolkit.fluxcd.io") {
        return None;
    }
    let spec = obj.get("spec")?;
    let provider = spec
        .get_path(&["decryption", "provider"])
        .and_then(Node::as_str)?;
    if provider != "sops" {
        return None;
    }
    let path = spec.get("path").and_then(Node::as_str).unwrap_or("");
    Some(FluxDecryption {
        name: obj.name.unwrap_or("?").to_string(),
        path: super::normalize_path(path),
        line: input.line_of(obj.anchor_span().start),
    })
}
