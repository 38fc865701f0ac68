//! `plaintext-secret-manifest`: a Kubernetes `Secret` committed with its
//! values in clear.
//!
//! ## What it does
//!
//! Reports every non-empty value of a `kind: Secret`'s `data` and
//! `stringData`, at the value's line and column, unless the Secret is
//! SOPS-encrypted (a top-level `sops:` block: whether it really is encrypted
//! is the `unencrypted-sops` check's business, so it is not reported twice).
//! `data` values are base64-decoded and run through the secret rules, so the
//! message says *what* leaked: "data.aws_key holds an AWS access key ID".
//!
//! The same goes for a `kubectl.kubernetes.io/last-applied-configuration`
//! annotation on any object whose JSON is a Secret with data: `kubectl apply`
//! copies the whole Secret, values included, into it — and SOPS's usual
//! `encrypted_regex: ^(data|stringData)$` leaves annotations in clear.
//!
//! Severity is high; critical for Argo CD credential Secrets (label
//! `argocd.argoproj.io/secret-type` = `repository`, `repo-creds`, `cluster`,
//! `repository-write`, `repo-write-creds`, `scm-creds`), or when the decoded
//! value is recognised by a critical secret rule.
//!
//! ## What it does not report
//!
//! Values a Flux or Argo CD maintainer would not call a leak:
//!
//! - empty values, placeholders (`changeme`, `${DB_PASSWORD}`, `<token>`),
//!   filler words of test data (`key: value`, `foo`) and words naming their
//!   slot (`my-password`, `test-token`); weak but real passwords (`admin`,
//!   `hunter2`) are still reported;
//! - public material: certificates (`tls.crt`, `ca.crt`, any PEM with only
//!   `CERTIFICATE`/`PUBLIC KEY` blocks), `*.pub`, `known_hosts` — so a
//!   `kubernetes.io/tls` Secret with only its certificate, or a
//!   `service-account-token` Secret with only `ca.crt`/`namespace`, is quiet;
//! - descriptive fields of credential Secrets, by the words of the key:
//!   `url`, `type`, `name`, `project`, `username`, `host`, `port`,
//!   `database`, `namespace`, `address`, `email`, `audience`, `githubAppID`,
//!   `apiAddress`, `azurestorageaccountname`, flags such as `insecure` and
//!   `enableLFS` (an Argo CD repository Secret with only `type` and `url`
//!   declares a public repository) — unless the key also says `password`,
//!   `secret`, `token`, `key`, …. Such a field is still reported when it
//!   holds a URL with a password or something a secret rule recognises;
//! - references resolved elsewhere: `op://vault/item/field` (1Password),
//!   `vault:…`, `ref+…` (vals), Secrets Manager/SSM ARNs;
//! - a JSON value without `bearerToken`, `password`, `keyData` or another
//!   secret-named field holding something (an Argo CD cluster `config` with
//!   IRSA or exec auth only).
//!
//! ## Why it matters
//!
//! Base64 is an encoding, not encryption: anyone who can read the repository
//! (or any clone, fork or CI cache of it, for ever) can read the Secret.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Secret
//! metadata: {name: db}
//! stringData:
//!   password: hunter2          # reported here
//! ```
//!
//! ## Use instead
//!
//! Encrypt it with SOPS (`sops --encrypt --encrypted-regex '^(data|stringData)$'`),
//! seal it (`kubeseal`), or keep it out of Git with External Secrets Operator.
//! Rotate the value: it is in the history.

use super::secret_names::url_has_password;
use super::{describe, rule_info, what_leaked};
use crate::detect::placeholder::is_placeholder;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity};
use crate::manifest::{KeyPath, Node, Object, objects_of};
use base64::Engine;

pub const RULE: &str = "plaintext-secret-manifest";

/// The annotation `kubectl apply` writes with a copy of the whole object.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Argo CD's label for declarative credential Secrets, and its values.
pub const ARGOCD_SECRET_TYPE: &str = "argocd.argoproj.io/secret-type";
pub const ARGOCD_CREDENTIAL_TYPES: &[&str] = &[
    "repository",
    "repo-creds",
    "cluster",
    "repository-write",
    "repo-write-creds",
    "scm-creds",
];

/// Keys whose value is public material (compared lower-case).
const PUBLIC_KEYS: &[&str] = &[
    "known_hosts",
    "ca.pem",
    "cert.pem",
    "ca-cert.pem",
    "cacert.pem",
    "chain.pem",
    "fullchain.pem",
    "ca-bundle.pem",
    "ca",
    "cacert",
    "cafile",
    "certfile",
    "ca-bundle",
    "cabundle",
    "tlsclientcertdata",
    "identity.pub",
];

/// Words that make a key descriptive (`username`, `apiAddress`,
/// `azurestorageaccountname`, `githubAppID`, `node.session.auth.username_in`).
const DESCRIPTIVE_WORDS: &[&str] = &[
    "type",
    "name",
    "username",
    "user",
    "project",
    "url",
    "uri",
    "server",
    "endpoint",
    "address",
    "addr",
    "host",
    "hostname",
    "port",
    "namespace",
    "namespaces",
    "database",
    "dbname",
    "region",
    "email",
    "audience",
    "issuer",
    "id",
    "owner",
    "shard",
    "proxy",
];

/// Flags and settings of credential Secrets (Argo CD, Flux), compared
/// lower-case and whole.
const DESCRIPTIVE_KEYS: &[&str] = &[
    "clusterresources",
    "insecure",
    "insecureignorehostkey",
    "enablelfs",
    "enableoci",
    "forcehttpbasicauth",
    "useazureworkloadidentity",
    "noproxy",
    "githubappenterprisebaseurl",
    "githubappbaseurl",
];

/// Words that make a key hold a secret whatever else it says.
const STRONG_SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "key",
    "credential",
    "creds",
    "cert",
    "auth",
];

/// A key that describes a credential rather than holding it: a descriptive
/// word in it (or at the end of an unsplit name) and no secret word.
fn is_descriptive_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let words = super::secret_names::words(key);
    let strong = words.iter().any(|w| {
        STRONG_SECRET_PARTS
            .iter()
            .any(|p| w == p || (w.len() > p.len() + 2 && w.ends_with(p)))
    });
    if strong && !words.iter().any(|w| w == "username" || w == "user") {
        return false;
    }
    DESCRIPTIVE_KEYS.contains(&lower.as_str())
        || words
            .iter()
            .any(|w| DESCRIPTIVE_WORDS.contains(&w.as_str()))
        || DESCRIPTIVE_WORDS
            .iter()
            .any(|d| d.len() >= 4 && words.last().is_some_and(|l| l.ends_with(d)))
}

/// Secret-bearing fields of an Argo CD cluster Secret's `config` JSON.
const ARGO_CONFIG_SECRETS: &[&str] = &["bearerToken", "password", "keyData"];

pub struct PlaintextSecretManifest;

impl Detector for PlaintextSecretManifest {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![rule_info(
            RULE,
            "Kubernetes Secret committed in plaintext",
            Category::PlaintextSecretManifest,
            Severity::High,
            "A `kind: Secret` whose `data`/`stringData` values (or a last-applied-configuration \
             annotation copying them) are committed unencrypted. Base64 is an encoding, not \
             encryption. Critical for Argo CD credential Secrets.",
            "Encrypt the Secret with SOPS (`--encrypted-regex '^(data|stringData)$'`), seal it \
             with kubeseal, or fetch it with External Secrets Operator; drop the \
             last-applied-configuration annotation; rotate the value, since it stays in the \
             Git history.",
        )]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        if !input.is_yaml_or_json() {
            return;
        }
        let has_secret = input.mentions_kind(input.bytes, "Secret");
        let has_last_applied = memchr::memmem::find(input.bytes, LAST_APPLIED.as_bytes()).is_some();
        if !has_secret && !has_last_applied {
            return;
        }
        // Only the documents that could hold either (a bundle of CRDs with one
        // Secret parses one document), each checked once per distinct text
        // in a history scan.
        input.check_documents(
            cx.doc_memo,
            RULE,
            |doc| {
                (has_secret && input.mentions_kind(doc, "Secret"))
                    || (has_last_applied
                        && memchr::memmem::find(doc, LAST_APPLIED.as_bytes()).is_some())
            },
            |docs, out| {
                for obj in objects_of(docs.iter().copied()) {
                    if obj.kind == Some("Secret") && matches!(obj.api_group(), None | Some("")) {
                        check_secret(input, cx, &obj, out);
                    }
                    if let Some(entry) = obj.annotations().find(|a| a.key == LAST_APPLIED) {
                        check_last_applied(input, cx, &obj, entry.value, out);
                    }
                }
            },
            out,
        );
    }
}

/// What a value leaks, if it leaks anything.
struct Leak {
    /// The value as written in the file (base64 for `data`): the finding's
    /// secret, so the code frame masks exactly what is on the line.
    written: String,
    recognised: Vec<String>,
    severity: Severity,
    /// For a JSON value: the secret-named field inside it and its value.
    inner: Option<(String, String)>,
}

/// Decide whether one Secret value is a leak (see the module doc).
fn inspect(
    cx: &Context<'_>,
    key: &str,
    written: &str,
    plaintext: &[u8],
    base: Severity,
) -> Option<Leak> {
    let text = String::from_utf8_lossy(plaintext);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let json = json_object(trimmed);
    if json.is_none()
        && !trimmed.contains('\n')
        && (is_placeholder(trimmed)
            || super::is_dummy_word(trimmed)
            || super::is_word_placeholder(trimmed)
            || super::is_secret_reference(trimmed))
    {
        return None;
    }
    let inner = json.as_ref().and_then(json_secret);
    let (recognised, worst) = what_leaked(cx, trimmed.as_bytes());
    if recognised.is_empty() && (is_exempt(key, trimmed) || (json.is_some() && inner.is_none())) {
        return None;
    }
    Some(Leak {
        written: written.trim().to_string(),
        severity: worst.map_or(base, |w| w.max(base)),
        recognised,
        inner,
    })
}

/// Public or descriptive values (see the module doc).
pub(crate) fn is_exempt(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let private = value.contains("PRIVATE KEY");
    if !private
        && (PUBLIC_KEYS.contains(&k.as_str())
            || k.ends_with(".crt")
            || k.ends_with(".cer")
            || k.ends_with(".pub")
            || only_public_pem(value))
    {
        return true;
    }
    if is_descriptive_key(key) && !url_has_password(value) {
        return true;
    }
    false
}

/// `value` parsed as a JSON object (a `config` or `.dockerconfigjson` blob).
pub(crate) fn json_object(value: &str) -> Option<serde_json::Value> {
    if !value.starts_with('{') {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(value)
        .ok()
        .filter(serde_json::Value::is_object)
}

/// A PEM bundle whose every block is a certificate or a public key.
fn only_public_pem(value: &str) -> bool {
    let mut blocks = 0;
    for line in value.lines() {
        let Some(rest) = line.trim().strip_prefix("-----BEGIN ") else {
            continue;
        };
        blocks += 1;
        let label = rest.trim_end_matches('-');
        if !matches!(
            label,
            "CERTIFICATE"
                | "TRUSTED CERTIFICATE"
                | "PUBLIC KEY"
                | "X509 CRL"
                | "CERTIFICATE REQUEST"
        ) {
            return false;
        }
    }
    blocks > 0
}

/// The first non-empty, non-placeholder string under a secret-like key
/// (`bearerToken`, `password`, `keyData`, `auth`, `private_key`, …) of a
/// JSON value, as (key, value). An Argo CD cluster `config` with only IRSA
/// or exec auth, or a JSON blob of settings, has none.
pub(crate) fn json_secret(v: &serde_json::Value) -> Option<(String, String)> {
    match v {
        serde_json::Value::Object(m) => m.iter().find_map(|(k, v)| {
            let named =
                ARGO_CONFIG_SECRETS.contains(&k.as_str()) || super::secret_names::is_secret_name(k);
            match v.as_str() {
                Some(s) if named && !s.trim().is_empty() && !is_placeholder(s) => {
                    Some((k.clone(), s.to_string()))
                }
                _ => json_secret(v),
            }
        }),
        serde_json::Value::Array(a) => a.iter().find_map(json_secret),
        _ => None,
    }
}

/// Kubernetes decodes `data` as standard base64; block scalars may wrap it.
fn decode_base64(raw: &str) -> Option<Vec<u8>> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let e = base64::engine::general_purpose::STANDARD;
    e.decode(compact.as_bytes()).ok().or_else(|| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(compact.trim_end_matches('=').as_bytes())
            .ok()
    })
}

fn argo_type<'a>(obj: &Object<'a>) -> Option<&'a str> {
    obj.label(ARGOCD_SECRET_TYPE)
        .filter(|t| ARGOCD_CREDENTIAL_TYPES.contains(t))
}

fn what(obj_desc: &str, argo: Option<&str>) -> String {
    match argo {
        Some(t) => format!("Argo CD {t} credential {obj_desc}"),
        None => obj_desc.to_string(),
    }
}

/// "data.aws_key holds an AWS access key ID, committed in plaintext{place}
/// (base64 is an encoding, not encryption)".
fn leak_message(field_path: &str, leak: &Leak, base64: bool, place: &str) -> String {
    let mut m = match leak.recognised.as_slice() {
        [] => format!("{field_path} is committed in plaintext{place}"),
        [one] => format!(
            "{field_path} holds {} {one}, committed in plaintext{place}",
            super::article(one)
        ),
        [one, rest @ ..] => format!(
            "{field_path} holds {} {one} (and {} more), committed in plaintext{place}",
            super::article(one),
            rest.len()
        ),
    };
    if base64 {
        m.push_str(" (base64 is an encoding, not encryption)");
    }
    m
}

fn check_secret(input: &Input<'_>, cx: &Context<'_>, obj: &Object<'_>, out: &mut Output) {
    if obj.get("sops").is_some_and(|s| s.as_map().is_some()) {
        return; // SOPS-encrypted: the encryption family checks it.
    }
    let argo = argo_type(obj);
    let base = if argo.is_some() {
        Severity::Critical
    } else {
        Severity::High
    };
    let desc = what(&describe(obj), argo);
    for field in ["data", "stringData"] {
        let Some(map) = obj.get(field) else { continue };
        for (key, value) in map.entries() {
            let Some(raw) = value.as_str() else { continue };
            if value.from_alias || raw.trim().is_empty() {
                continue;
            }
            // Not valid base64: the API server would refuse it, but what is
            // written is still in clear.
            let decoded = if field == "data" {
                decode_base64(raw)
            } else {
                None
            };
            let plaintext = decoded.as_deref().unwrap_or(raw.as_bytes());
            let Some(leak) = inspect(cx, key, raw, plaintext, base) else {
                continue;
            };
            let mut field_path = obj.path.key(field).key(key);
            let mut location = super::value_location(input, value);
            if let (None, Some((k, v))) = (&decoded, &leak.inner) {
                // Point at the field inside the JSON, when it is written verbatim.
                field_path = field_path.key(k);
                if let Some(at) = serde_json::to_string(v).ok().and_then(|j| raw.find(&j)) {
                    location = super::sub_location(input, value, at + 1..at + 1 + v.len());
                }
            }
            let message = format!(
                "{desc}: {}",
                leak_message(&field_path.to_string(), &leak, decoded.is_some(), "")
            );
            push(out, location, &leak, message);
        }
    }
}

fn push(out: &mut Output, location: Location, leak: &Leak, message: String) {
    let secret = match &leak.inner {
        Some((_, v)) => v.clone(),
        None => leak.written.clone(),
    };
    out.findings.push(
        Finding::new(
            RULE,
            Category::PlaintextSecretManifest,
            leak.severity,
            message,
            location,
        )
        .with_secret(secret),
    );
}

fn check_last_applied(
    input: &Input<'_>,
    cx: &Context<'_>,
    obj: &Object<'_>,
    node: &Node,
    out: &mut Output,
) {
    let Some(text) = node.as_str() else { return };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    if json.get("kind").and_then(|k| k.as_str()) != Some("Secret") || json.get("sops").is_some() {
        return;
    }
    let argo = json
        .pointer("/metadata/labels")
        .and_then(|l| l.get(ARGOCD_SECRET_TYPE))
        .and_then(|t| t.as_str())
        .filter(|t| ARGOCD_CREDENTIAL_TYPES.contains(t));
    let base = if argo.is_some() {
        Severity::Critical
    } else {
        Severity::High
    };
    let desc = what(&describe(obj), argo);
    for field in ["data", "stringData"] {
        let Some(map) = json.get(field).and_then(|m| m.as_object()) else {
            continue;
        };
        let field_at = text.find(&format!("\"{field}\"")).unwrap_or(0);
        for (key, value) in map {
            let Some(raw) = value.as_str() else { continue };
            if raw.trim().is_empty() {
                continue;
            }
            let is_data = field == "data";
            let decoded = if is_data { decode_base64(raw) } else { None };
            let plaintext = decoded.as_deref().unwrap_or(raw.as_bytes());
            let Some(leak) = inspect(cx, key, raw, plaintext, base) else {
                continue;
            };
            let location = locate_json_value(text, field_at, key, raw).map_or_else(
                || input.span_location(&node.span),
                |r| super::sub_location(input, node, r),
            );
            let message = format!(
                "{desc}: {}",
                leak_message(
                    &KeyPath::new().key(field).key(key).to_string(),
                    &leak,
                    decoded.is_some(),
                    &format!(" in the {LAST_APPLIED} annotation"),
                )
            );
            push(out, location, &leak, message);
        }
    }
}

/// The range (in the annotation's text) of the JSON string value `raw` of
/// `key`, searched after the `data`/`stringData` key at `from`.
fn locate_json_value(
    text: &str,
    from: usize,
    key: &str,
    raw: &str,
) -> Option<std::ops::Range<usize>> {
    let key_json = serde_json::to_string(key).ok()?;
    let value_json = serde_json::to_string(raw).ok()?;
    let k = from + text.get(from..)?.find(&key_json)?;
    let after_key = k + key_json.len();
    let v = after_key + text.get(after_key..)?.find(&value_json)?;
    // Inside the quotes.
    Some(v + 1..v + value_json.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_kind_prefilter() {
        for yes in [
            &b"kind: Secret\n"[..],
            b"kind:   'Secret'",
            b"{\"kind\": \"Secret\"}",
            b"{\"kind\":\"Secret\"}",
            b"- kind: Secret",
        ] {
            assert!(
                crate::detect::mentions_kind(yes, "Secret"),
                "{}",
                String::from_utf8_lossy(yes)
            );
        }
        for no in [
            &b"secretName: x\nexistingSecret: y\n"[..],
            b"imagePullSecrets: []",
            b"kind: SealedSecret",
            b"Secret",
        ] {
            assert!(
                !crate::detect::mentions_kind(no, "Secret"),
                "{}",
                String::from_utf8_lossy(no)
            );
        }
    }

    #[test]
    fn descriptive_keys_by_word() {
        for k in [
            "username",
            "url",
            "apiAddress",
            "azurestorageaccountname",
            "githubAppID",
            "githubAppInstallationOwner",
            "node.session.auth.username_in",
            "enableLFS",
            "client_id",
        ] {
            assert!(is_descriptive_key(k), "{k}");
        }
        for k in [
            "password",
            "apiPassword",
            "azurestorageaccountkey",
            "node.session.auth.password_in",
            "tls.key",
            "token",
            "AWS_ACCESS_KEY_ID",
            "identity",
            "config",
            ".dockerconfigjson",
        ] {
            assert!(!is_descriptive_key(k), "{k}");
        }
    }

    #[test]
    fn public_pem_and_base64() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(only_public_pem(cert));
        assert!(!only_public_pem(&format!(
            "{cert}-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"
        )));
        assert!(!only_public_pem("no pem here"));
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aG\n  k=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aGk").as_deref(), Some(&b"hi"[..]));
        assert!(decode_base64("not base64!").is_none());
    }

    #[test]
    fn json_values_with_and_without_secrets() {
        let with: serde_json::Value =
            serde_json::from_str(r#"{"tlsClientConfig": {"keyData": "a2V5", "caData": "x"}}"#)
                .unwrap();
        assert_eq!(
            json_secret(&with),
            Some(("keyData".to_string(), "a2V5".to_string()))
        );
        let without: serde_json::Value =
            serde_json::from_str(r#"{"awsAuthConfig": {"roleARN": "arn:x"}, "password": ""}"#)
                .unwrap();
        assert_eq!(json_secret(&without), None);
        assert!(json_object("[1]").is_none());
        assert!(json_object("{not json").is_none());
    }
}
