//! `flux-sops-unencrypted-secret`: a plaintext Secret under a Flux
//! Kustomization that decrypts with SOPS.
//!
//! ## What it does
//!
//! A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`) with
//! `spec.decryption.provider: sops` applies the manifests under its
//! `spec.path` and decrypts the SOPS-encrypted ones on the way. Every
//! Kubernetes Secret under that path (relative to the repository root;
//! `./` and `..` normalised) is expected to be SOPS-encrypted, so a Secret
//! there with a plaintext `data`/`stringData` value is reported at its
//! `metadata.name`, naming the Kustomization — unless the Secret opts out
//! with `kustomize.toolkit.fluxcd.io/decrypt: Disabled` (Flux's own
//! opt-out), or is silenced with `gitops-guard.io/ignore`. Secrets whose
//! `data` holds a base64 SOPS document (which Flux decrypts too) count as
//! encrypted.
//!
//! **Limits.** The Kustomization's source is assumed to be the scanned
//! repository, scanned from its root; resources a `kustomization.yaml`
//! pulls in from outside `spec.path` (`../base`) are not followed. In a
//! history scan the Kustomization version of the same commit is preferred,
//! any version otherwise (see `sops-creation-rule-unencrypted`).
//!
//! ## Why it matters
//!
//! The cluster is set up for encrypted Secrets, so a plaintext one in that
//! tree is a mistake by definition: someone committed the decrypted file.
//!
//! ## Example
//!
//! ```yaml
//! # clusters/prod/apps.yaml
//! apiVersion: kustomize.toolkit.fluxcd.io/v1
//! kind: Kustomization
//! spec:
//!   path: ./apps
//!   decryption:
//!     provider: sops
//! # apps/db-secret.yaml: kind: Secret, stringData: {password: …}  ← reported
//! ```
//!
//! ## Use instead
//!
//! `sops encrypt --encrypted-regex '^(data|stringData)$' -i <file>`, and
//! rotate the values that were pushed in clear.

use super::facts::{FluxDecryption, PlaintextSecretObject};
use super::{EncryptionFact, Rule, is_under};
use crate::detect::Fact;
use crate::detect::{FactRecord, RepoCheck};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity, Suppression};

pub const RULE: Rule = Rule {
    id: "flux-sops-unencrypted-secret",
    name: "Plaintext Secret under a Flux SOPS Kustomization",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "A Kubernetes Secret with plaintext data lies under the spec.path of a Flux Kustomization with spec.decryption.provider: sops, which expects SOPS-encrypted Secrets there (opt-out: kustomize.toolkit.fluxcd.io/decrypt: Disabled).",
    remediation: "Encrypt the Secret with `sops encrypt --encrypted-regex '^(data|stringData)$' -i`, and rotate the values that were pushed in clear.",
};

/// See the module documentation.
pub struct FluxDecryptionCheck;

impl RepoCheck for FluxDecryptionCheck {
    fn name(&self) -> &'static str {
        "flux-sops-decryption"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![RULE.info()]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let kustomizations: Vec<(&FactRecord, &FluxDecryption)> = facts
            .iter()
            .filter_map(|r| match &r.fact {
                Fact::Encryption(EncryptionFact::FluxDecryption(k)) => Some((r, &**k)),
                _ => None,
            })
            .collect();
        if kustomizations.is_empty() {
            return;
        }
        for rec in facts {
            let Fact::Encryption(EncryptionFact::PlaintextSecretObject(secret)) = &rec.fact else {
                continue;
            };
            if secret.decrypt_disabled {
                continue;
            }
            let covering = |same_commit: bool| {
                kustomizations.iter().find(|(k, ks)| {
                    (!same_commit || k.commit == rec.commit) && is_under(&rec.path, &ks.path)
                })
            };
            let Some((krec, k)) = covering(true).or_else(|| covering(false)) else {
                continue;
            };
            out.push(finding(rec, secret, krec, k));
        }
    }
}

fn finding(
    rec: &FactRecord,
    secret: &PlaintextSecretObject,
    krec: &FactRecord,
    k: &FluxDecryption,
) -> Finding {
    let ns = secret
        .namespace
        .as_deref()
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
    let path = if k.path.is_empty() { "./" } else { &k.path };
    let mut f = RULE
        .finding(
            format!(
                "Secret `{ns}{}` holds plaintext data, but Flux Kustomization `{}` ({}:{}) applies `{path}` with SOPS decryption: Secrets there must be SOPS-encrypted (or annotated `kustomize.toolkit.fluxcd.io/decrypt: Disabled`)",
                secret.name, k.name, krec.path, k.line
            ),
            Location {
                path: rec.path.clone(),
                line: secret.line,
                column: 1,
                end_line: secret.line,
                end_column: 1,
            },
        )
        .with_identity(format!("Secret/{ns}{}", secret.name));
    if secret
        .ignored
        .iter()
        .any(|i| i == RULE.id || i == RULE.category.as_str() || i == "all")
    {
        f.suppressed = Some(Suppression::Annotation { reason: None });
    }
    f
}
