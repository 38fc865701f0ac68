//! Proof that encrypted files are encrypted (issue 5): SOPS, Sealed Secrets, age.
//!
//! GitOps teams keep secrets in Git encrypted. The leaks that hurt are the
//! files that *look* encrypted and are not: a decrypted file committed with
//! its `sops` block, a selector that matches nothing, a new key the selector
//! does not cover, a SealedSecret whose "ciphertext" is base64 of the
//! password, a `*.age` file that is plain text, an age identity committed next
//! to the files it protects. Each check is one file whose doc comment is its
//! documentation:
//!
//! | rule id | severity | file |
//! |---|---|---|
//! | `sops-unencrypted-value` | high | [`sops_unencrypted_value`] |
//! | `sops-nothing-encrypted` | critical | [`sops_nothing_encrypted`] |
//! | `sops-selector-gap` | high | [`sops_selector_gap`] |
//! | `sops-malformed-value` | high | [`sops_malformed_value`] |
//! | `sops-missing-mac` | high | [`sops_missing_mac`] |
//! | `sops-missing-version` | medium | [`sops_missing_version`] |
//! | `sops-invalid-metadata` | medium | [`sops_invalid_metadata`] |
//! | `sops-missing-metadata` | medium | [`sops_missing_metadata`] |
//! | `sops-config-invalid` | medium | [`sops_config`] |
//! | `sops-creation-rule-unencrypted` | high | [`sops_creation_rule`] (repo check) |
//! | `flux-sops-unencrypted-secret` | high | [`flux_sops_decryption`] (repo check) |
//! | `sealed-secret-not-ciphertext` | high / critical | [`sealed_secret_ciphertext`] |
//! | `sealed-secret-template-plaintext` | high | [`sealed_secret_template`] |
//! | `age-file-not-encrypted` | high | [`age_file`] |
//! | `age-file-malformed` | medium | [`age_file`] |
//! | `age-identity` | critical (plugin identities: medium) | [`age_identity`] |
//!
//! Categories: the SOPS and Flux rules are `unencrypted-sops`, the Sealed
//! Secrets rules `unencrypted-sealed-secret`, the age rules `unencrypted-age`
//! (so `gitops-guard.io/ignore: unencrypted-sops` on an object silences all
//! of one family, and `--category` selects them).
//!
//! Models shared by the checks: [`enc_value`] (the `ENC[…]` format),
//! [`sops_tree`] (SOPS files in every format), [`selector`] (which values a
//! file says must be encrypted), [`secret_material`] (what counts as a secret
//! for the repo-level checks).
//!
//! Every check is pure and runs in every source — working tree, history,
//! commit ranges. Nothing depends on where a file sits on disk: the
//! repo-level checks join on the paths and commits the pipeline records with
//! each fact.

pub mod age_file;
pub mod age_identity;
pub mod enc_value;
pub mod facts;
pub mod flux_sops_decryption;
pub mod sealed_secret_ciphertext;
pub mod sealed_secret_template;
pub mod secret_material;
pub mod selector;
pub mod sops_config;
pub mod sops_creation_rule;
pub mod sops_file;
pub mod sops_invalid_metadata;
pub mod sops_malformed_value;
pub mod sops_missing_mac;
pub mod sops_missing_metadata;
pub mod sops_missing_version;
pub mod sops_nothing_encrypted;
pub mod sops_selector_gap;
pub mod sops_tree;
pub mod sops_unencrypted_value;

use crate::config::Config;
use crate::detect::Detector;
use crate::detect::RepoCheck;
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity};

/// Per-file facts the repo-level checks join (see [`facts`]). Small: paths,
/// names, lines and regex sources, never file contents or secret values.
#[derive(Clone, Debug)]
pub enum EncryptionFact {
    /// A `.sops.yaml` and its creation rules.
    SopsConfig(Box<sops_config::SopsConfig>),
    /// A file that holds secret material in clear (not a SOPS file).
    PlaintextSecretFile(Box<facts::PlaintextSecretFile>),
    /// A plaintext Kubernetes Secret object (for the Flux check).
    PlaintextSecretObject(Box<facts::PlaintextSecretObject>),
    /// A Flux Kustomization that decrypts with SOPS.
    FluxDecryption(Box<facts::FluxDecryption>),
}

/// What a rule is, in one place per rule file.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub description: &'static str,
    pub remediation: &'static str,
}

impl Rule {
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: self.id.to_string(),
            name: self.name.to_string(),
            category: self.category,
            severity: self.severity,
            description: self.description.to_string(),
            remediation: self.remediation.to_string(),
        }
    }

    /// A finding of this rule at its default severity.
    pub fn finding(&self, message: impl Into<String>, location: Location) -> Finding {
        Finding::new(self.id, self.category, self.severity, message, location)
    }
}

/// Every rule of this family, for `rules list` and the fixture test.
pub fn all_rules() -> Vec<Rule> {
    vec![
        sops_unencrypted_value::RULE,
        sops_nothing_encrypted::RULE,
        sops_selector_gap::RULE,
        sops_malformed_value::RULE,
        sops_missing_mac::RULE,
        sops_missing_version::RULE,
        sops_invalid_metadata::RULE,
        sops_missing_metadata::RULE,
        sops_config::RULE,
        sops_creation_rule::RULE,
        flux_sops_decryption::RULE,
        sealed_secret_ciphertext::RULE,
        sealed_secret_template::RULE,
        age_file::NOT_ENCRYPTED,
        age_file::MALFORMED,
        age_identity::RULE,
    ]
}

/// This family's detectors, configured. A detector whose every rule is
/// disabled does not run (the facts detector runs while one of the repo
/// checks it feeds is enabled).
pub fn detectors(config: &Config) -> Vec<Box<dyn Detector>> {
    let all: Vec<Box<dyn Detector>> = vec![
        Box::new(sops_file::SopsFiles),
        Box::new(facts::EncryptionFacts),
        Box::new(sealed_secret_ciphertext::SealedSecretCiphertext),
        Box::new(sealed_secret_template::SealedSecretTemplate),
        Box::new(age_file::AgeFiles),
        Box::new(age_identity::AgeIdentities),
    ];
    all.into_iter()
        .filter(|d| {
            let mut ids: Vec<String> = d.rules().into_iter().map(|r| r.id).collect();
            if d.name() == facts::NAME {
                ids.push(sops_creation_rule::RULE.id.to_string());
                ids.push(flux_sops_decryption::RULE.id.to_string());
            }
            ids.is_empty() || ids.iter().any(|id| !config.rules.disable.contains(id))
        })
        .collect()
}

/// This family's repo-level checks over facts.
pub fn repo_checks(config: &Config) -> Vec<Box<dyn RepoCheck>> {
    let all: Vec<Box<dyn RepoCheck>> = vec![
        Box::new(sops_creation_rule::CreationRuleCheck),
        Box::new(flux_sops_decryption::FluxDecryptionCheck),
    ];
    all.into_iter()
        .filter(|c| {
            c.rules()
                .iter()
                .any(|r| !config.rules.disable.contains(&r.id))
        })
        .collect()
}

/// Whether the pipeline should hand a binary blob (a NUL in its first
/// 8 KiB) to the detectors anyway: real age files are binary, and a `*.age`
/// file must be checked whatever it holds. See [`age_file`].
pub fn wants_binary(path: &str, bytes: &[u8]) -> bool {
    age_file::is_age_candidate(path, bytes)
}

/// A zero-width location at `offset`: for findings about a place rather
/// than a value (metadata fields, file starts). The pipeline masks the
/// located text of every finding in a secret-material category; a point
/// keeps the frame readable and still puts the caret where it belongs.
pub fn point(input: &crate::detect::Input<'_>, offset: usize) -> Location {
    input.location(offset, offset)
}

/// The directory part of a `/`-separated path (`""` for a top-level file).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether `path` lies under directory `dir` (`""` is the root).
pub fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A path with `./` segments, empty segments and `dir/..` pairs removed,
/// without a leading or trailing `/` (`./apps/../infra/` → `infra`).
pub fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parent_dir("a/b/c.yaml"), "a/b");
        assert_eq!(parent_dir("c.yaml"), "");
        assert!(is_under("a/b/c.yaml", "a"));
        assert!(is_under("a/b/c.yaml", ""));
        assert!(!is_under("ab/c.yaml", "a"));
        assert_eq!(normalize_path("./apps/../infra/"), "infra");
        assert_eq!(normalize_path("./"), "");
        assert_eq!(normalize_path("/clusters//prod"), "clusters/prod");
    }

    #[test]
    fn every_rule_is_documented_and_unique() {
        let rules = all_rules();
        let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "duplicate rule id");
        for r in rules {
            assert!(
                !r.description.is_empty() && !r.remediation.is_empty(),
                "{}",
                r.id
            );
            assert!(
                matches!(
                    r.category,
                    Category::UnencryptedSops
                        | Category::UnencryptedSealedSecret
                        | Category::UnencryptedAge
                ),
                "{}",
                r.id
            );
        }
    }
}
