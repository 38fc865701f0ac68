//! Kubernetes and GitOps awareness (issue 4): what a regex over lines cannot
//! tell — a `kind: Secret` from a ConfigMap, a literal env value from a
//! `secretKeyRef`, a Helm value from a chart default.
//!
//! One detector per file, each file's doc comment is its documentation:
//!
//! | rule ids | file |
//! |---|---|
//! | `plaintext-secret-manifest` | [`plaintext_secret_manifest`] |
//! | `secret-env-var`, `secret-env-var-ref` | [`secret_env_var`] |
//! | `kustomize-secret-literal`, `kustomize-secret-file` | [`kustomize_secret_literal`] |
//! | `helm-values-secret` | [`helm_values_secret`] |
//! | `hardcoded-ip`, `hardcoded-metadata-ip` | [`hardcoded_ip`] |
//! | `plain-http`, `plain-http-source` | [`plain_http`] |
//!
//! Shared here: the secret-like key names ([`secret_names`]), the walk over
//! an object's scalars ([`scalars`]), and small helpers for messages.
//!
//! Every detector is pure and cheap on blobs it does not care about: a byte
//! prefilter runs before [`Input::documents`] is asked for (the parse is shared
//! by all detectors, but a history scan holds mostly blobs nobody needs parsed).

pub mod hardcoded_ip;
pub mod helm_values_secret;
pub mod kustomize_secret_literal;
pub mod plain_http;
pub mod plaintext_secret_manifest;
pub mod scalars;
pub mod secret_env_var;
pub mod secret_names;

use crate::config::Config;
use crate::detect::Detector;
use crate::detect::RepoCheck;
use crate::detect::secrets::find_secrets;
use crate::detect::{Context, Input};
use crate::finding::RuleInfo;
use crate::finding::{Location, Severity};
use crate::manifest::{Node, Object, ScalarStyle};

/// Per-file facts this family's repo-level checks need. Kept tiny: no file
/// contents, just what the Kustomize check joins on.
#[derive(Clone, Debug)]
pub enum K8sFact {
    /// Emitted for every scanned file: whether it is SOPS-encrypted (a
    /// cheap byte check, see [`kustomize_secret_literal::is_sops_encrypted`])
    /// and whether it has any content at all.
    File { sops: bool, empty: bool },
    /// A Kustomize `secretGenerator` reads this file (`envs`/`files`).
    GeneratorSource(Box<kustomize_secret_literal::GeneratorSource>),
}

/// This family's detectors, configured. A detector whose every rule id is
/// disabled in the config is not run at all.
pub fn detectors(config: &Config) -> Vec<Box<dyn Detector>> {
    let all: Vec<Box<dyn Detector>> = vec![
        Box::new(plaintext_secret_manifest::PlaintextSecretManifest),
        Box::new(secret_env_var::SecretEnvVar),
        Box::new(kustomize_secret_literal::KustomizeSecretLiteral),
        Box::new(helm_values_secret::HelmValuesSecret),
        Box::new(hardcoded_ip::HardcodedIp),
        Box::new(plain_http::PlainHttp),
    ];
    all.into_iter()
        .filter(|d| {
            // The Kustomize detector also emits the file facts its repo
            // check needs, so it stays while that check is enabled.
            let mut ids: Vec<String> = d.rules().into_iter().map(|r| r.id).collect();
            if d.name() == "kustomize-secret-literal" {
                ids.push(kustomize_secret_literal::FILE_RULE.to_string());
            }
            ids.iter().any(|id| !config.rules.disable.contains(id))
        })
        .collect()
}

/// This family's repo-level checks over facts.
pub fn repo_checks(config: &Config) -> Vec<Box<dyn RepoCheck>> {
    let mut v: Vec<Box<dyn RepoCheck>> = Vec::new();
    if !config
        .rules
        .disable
        .iter()
        .any(|d| d == kustomize_secret_literal::FILE_RULE)
    {
        v.push(Box::new(kustomize_secret_literal::GeneratorFileCheck));
    }
    v
}

/// Metadata of one rule of this family.
pub(crate) fn rule_info(
    id: &str,
    name: &str,
    category: crate::finding::Category,
    severity: Severity,
    description: &str,
    remediation: &str,
) -> RuleInfo {
    RuleInfo {
        id: id.to_string(),
        name: name.to_string(),
        category,
        severity,
        description: description.to_string(),
        remediation: remediation.to_string(),
    }
}

/// `Kind namespace/name` (or `Kind name`, or `Kind`) for messages.
pub(crate) fn describe(obj: &Object<'_>) -> String {
    let kind = obj.kind.unwrap_or("object");
    match (obj.namespace, obj.name) {
        (Some(ns), Some(n)) => format!("{kind} {ns}/{n}"),
        (None, Some(n)) => format!("{kind} {n}"),
        _ => kind.to_string(),
    }
}

/// `Kind/namespace/name` for fingerprint identities (no line numbers).
pub(crate) fn identity(obj: &Object<'_>) -> String {
    format!(
        "{}/{}/{}",
        obj.kind.unwrap_or("-"),
        obj.namespace.unwrap_or("-"),
        obj.name.unwrap_or("-")
    )
}

/// The location of `range` (indexes the scalar's text) inside `node`, or the
/// node's own location when that part is not verbatim in the source.
pub(crate) fn sub_location(
    input: &Input<'_>,
    node: &Node,
    range: std::ops::Range<usize>,
) -> Location {
    match input.text().and_then(|t| node.locate(t, range)) {
        Some(span) => input.span_location(&span),
        None => input.span_location(&node.span),
    }
}

/// Where a scalar value is written, without its quotes and, for a block
/// scalar (`|`, `>`), at its first line of content rather than at the
/// indicator — so the caret sits under the value itself. Falls back to the
/// node's span when the text is not verbatim in the source (escapes).
pub(crate) fn value_location(input: &Input<'_>, node: &Node) -> Location {
    let Some(s) = node.as_scalar() else {
        return input.span_location(&node.span);
    };
    if s.style == ScalarStyle::Plain && !s.text.contains('\n') {
        return input.span_location(&node.span);
    }
    let end = s.text.find('\n').unwrap_or(s.text.len());
    if end == 0 {
        return input.span_location(&node.span);
    }
    sub_location(input, node, 0..end)
}

/// Names of the secret rules that match `bytes` (deduplicated, in order)
/// and the highest severity among them, so a message can say *what* leaked.
pub(crate) fn what_leaked(cx: &Context<'_>, bytes: &[u8]) -> (Vec<String>, Option<Severity>) {
    let mut names: Vec<String> = Vec::new();
    let mut worst: Option<Severity> = None;
    for m in find_secrets(cx.rules, bytes) {
        let spec = &cx.rules.rules[m.rule].spec;
        if !names.contains(&spec.name) {
            names.push(spec.name.clone());
        }
        worst = worst.max(Some(spec.severity));
    }
    (names, worst)
}

/// "a" or "an" before a rule name ("an AWS …", "an SSH …", "a GitHub …").
pub(crate) fn article(noun: &str) -> &'static str {
    let first = noun.chars().next().unwrap_or('x');
    let initialism = noun
        .split_whitespace()
        .next()
        .is_some_and(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase()));
    // Initialisms go by the letter's name: "an SSH key", "a URL".
    let an = if initialism {
        "AEFHILMNORSX".contains(first)
    } else {
        "aeiouAEIOU".contains(first)
    };
    if an { "an" } else { "a" }
}

/// Filler words that no one uses as a real credential (`key: value`,
/// `password=foo`), as in test data and documentation. Weak but real
/// passwords (`admin`, `password`, `postgres`) are not on the list.
pub(crate) fn is_dummy_word(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "value", "values", "val", "foo", "bar", "baz", "qux", "quux", "foobar", "test", "testing",
        "sample", "string", "data", "key", "fake", "mock", "demo", "none", "null",
    ];
    WORDS.iter().any(|w| value.trim().eq_ignore_ascii_case(w))
}

/// `mysecretpassword`, `test-token`, `my-password`, `adminPassword123`: a
/// word that names the slot instead of filling it (as the generic secret
/// rule's allowlist has it).
pub(crate) fn is_word_placeholder(value: &str) -> bool {
    let lower = value.trim().to_ascii_lowercase();
    let core = lower
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['_', '-']);
    lower.len() - core.len() <= 4
        && core
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && [
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "key",
            "credential",
            "credentials",
        ]
        .iter()
        .any(|w| core.ends_with(w))
}

/// A lower-case identifier made of words (`etcd-cluster-k8s`,
/// `grafana.local-tls`, `hmac-sha256`): the name of something (a Secret, an
/// algorithm, a cluster), not a credential.
pub(crate) fn is_identifier_like(value: &str) -> bool {
    let v = value.trim();
    let mut words = v.split(['-', '.']);
    let first_ok = words
        .next()
        .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_lowercase()));
    first_ok
        && v.contains(['-', '.'])
        && v.split(['-', '.']).all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A reference to a secret kept in a secret manager, resolved at deploy or
/// run time: 1Password (`op://vault/item/field`), Vault and argocd-vault-plugin
/// (`vault:…`), vals (`ref+…`), AWS Secrets Manager / SSM ARNs, Azure Key
/// Vault, GCP Secret Manager paths.
pub(crate) fn is_secret_reference(value: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "op://",
        "vault:",
        "ref+",
        "akv://",
        "azkv://",
        "gcpsm://",
        "awssm://",
        "awsssm://",
        "sm://",
        "bws://",
        "arn:aws:secretsmanager:",
        "arn:aws:ssm:",
        "secretref+",
    ];
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    PREFIXES.iter().any(|p| lower.starts_with(p))
        || (lower.starts_with("projects/") && lower.contains("/secrets/"))
}

/// Values that are clearly not a credential even under a secret-like name:
/// empty, placeholders and template references, booleans and numbers, paths,
/// environment-variable names, and URLs without a password. Weak passwords
/// (`admin`, `postgres`) are *not* excused here: under a name like
/// `DB_PASSWORD` they are exactly what a structural check should catch.
pub(crate) fn is_literal_non_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty()
        || crate::detect::placeholder::is_placeholder(v)
        || is_dummy_word(v)
        || is_word_placeholder(v)
        || is_secret_reference(v)
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "none" | "nil" | "yes" | "no" | "on" | "off" | "~"
    ) || v.parse::<f64>().is_ok()
    {
        return true;
    }
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/") {
        return true;
    }
    // An environment variable's name (a reference, not a value).
    if v.len() >= 3
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && v.contains('_')
    {
        return true;
    }
    if v.contains("://") && !secret_names::url_has_password(v) {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_filters() {
        for v in [
            "my-password",
            "mysecretpassword1",
            "test-token",
            "adminPassword123",
        ] {
            assert!(is_word_placeholder(v), "{v}");
        }
        for v in ["hunter2", "password-Xk9q", "fixture-Ak7Lm2Qp"] {
            assert!(!is_word_placeholder(v), "{v}");
        }
        for v in ["etcd-cluster-k8s", "grafana.local-tls", "hmac-sha256"] {
            assert!(is_identifier_like(v), "{v}");
        }
        for v in ["hunter2", "Xk9-Qm2", "s3cr3t-V4lue", "-a-b"] {
            assert!(!is_identifier_like(v), "{v}");
        }
        for v in [
            "op://vault/item/field",
            "vault:secret/data/db#password",
            "ref+awssm://prod/db",
            "arn:aws:secretsmanager:eu-west-1:000000000000:secret:db",
            "projects/p/secrets/db/versions/latest",
        ] {
            assert!(is_secret_reference(v), "{v}");
            assert!(is_literal_non_secret(v), "{v}");
        }
        for v in [
            "",
            "true",
            "8080",
            "/run/secrets/db",
            "DB_PASSWORD_FROM_VAULT",
            "key",
            "https://auth.example.com",
        ] {
            assert!(is_literal_non_secret(v), "{v:?}");
        }
        // The URL is built at run time so the scanner does not trip on itself.
        let url = format!("postgres://u:{}@db/app", "pw-9");
        for v in ["hunter2", "admin", url.as_str()] {
            assert!(!is_literal_non_secret(v), "{v}");
        }
    }

    #[test]
    fn articles() {
        assert_eq!(article("AWS access key ID"), "an");
        assert_eq!(article("SSH private key"), "an");
        assert_eq!(article("URL with a password"), "a");
        assert_eq!(article("GitHub token"), "a");
        assert_eq!(article("OpenSSH private key"), "an");
        assert_eq!(article("RSA private key"), "an");
    }
}
