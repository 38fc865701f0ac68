//! What a detector reports: [`Finding`], its [`Category`], [`Severity`] and
//! [`Location`], plus redaction and fingerprints.
//!
//! A finding is data until a report renders it. The raw secret never leaves
//! this module in printable form: [`Secret`] has no `Display`, its `Debug`
//! is redacted, and reports only ever see [`Secret::redacted`] unless the user
//! asked for `--show-secrets`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The category ids of DESIGN.md, used in every output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Secret,
    PlaintextSecretManifest,
    SecretEnvVar,
    KustomizeSecretLiteral,
    HardcodedIp,
    PlainHttp,
    UnencryptedSops,
    UnencryptedSealedSecret,
    UnencryptedAge,
    Policy,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Secret,
        Category::PlaintextSecretManifest,
        Category::SecretEnvVar,
        Category::KustomizeSecretLiteral,
        Category::HardcodedIp,
        Category::PlainHttp,
        Category::UnencryptedSops,
        Category::UnencryptedSealedSecret,
        Category::UnencryptedAge,
        Category::Policy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Secret => "secret",
            Category::PlaintextSecretManifest => "plaintext-secret-manifest",
            Category::SecretEnvVar => "secret-env-var",
            Category::KustomizeSecretLiteral => "kustomize-secret-literal",
            Category::HardcodedIp => "hardcoded-ip",
            Category::PlainHttp => "plain-http",
            Category::UnencryptedSops => "unencrypted-sops",
            Category::UnencryptedSealedSecret => "unencrypted-sealed-secret",
            Category::UnencryptedAge => "unencrypted-age",
            Category::Policy => "policy",
        }
    }

    /// Categories about leaked or unprotected secret material (what a
    /// pre-receive hook blocks by default), as opposed to configuration hygiene.
    pub fn is_secret_material(self) -> bool {
        !matches!(
            self,
            Category::HardcodedIp | Category::PlainHttp | Category::Policy
        )
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered from least to most severe, so `>=` compares with `--fail-on`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// GitHub code scanning's `security-severity` (0.0–10.0): >9 critical,
    /// 7–8.9 high, 4–6.9 medium, 0.1–3.9 low.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Info => "0.0",
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret value as found. No `Display`; `Debug` is redacted, so a stray
/// `{:?}` or a panic message cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(raw: impl Into<String>) -> Secret {
        Secret(raw.into())
    }

    /// The raw value. Callers: fingerprinting, `--show-secrets`, redaction of
    /// code frames. Never format this into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// Keep a few characters at each end so a human can recognise the value, and
/// hide the rest. Short values keep at most one character at each end.
pub fn redact(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let keep = (n / 6).clamp(0, 4);
    if keep == 0 {
        return "…".to_string();
    }
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[n - keep..].iter().collect();
    format!("{head}…{tail}")
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Where in a file. Lines and columns are 1-based; columns count characters
/// (Unicode scalar values) from the start of the line, as editors and SARIF do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Where a blob came from in Git history. `None` on a finding means the
/// working tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// Commit that first introduced the blob (hex oid).
    pub commit: String,
    pub author: String,
    /// RFC 3339, UTC.
    pub date: String,
    /// How many (commit, path) places carry the same blob besides the first.
    pub occurrences: u64,
    /// Whether the blob is still reachable at HEAD under some path.
    pub at_head: bool,
    /// For pushes: the ref being updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
}

/// One source line as shown in a code frame, with the caret's place. The
/// text is already redacted; `caret_start`/`caret_len` count characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    pub caret_start: usize,
    pub caret_len: usize,
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Suppression {
    /// `gitops-guard:allow` (or a peer's token) on the line.
    Inline { token: String },
    /// Annotation on the Kubernetes object.
    Annotation { reason: Option<String> },
    /// `.gitops-guard.toml` allowlist.
    Config { reason: String },
    /// Listed in `--baseline`.
    Baseline,
}

/// One thing found, at one place.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Rule or check id (`github-pat-classic`, `run-as-non-root`, …).
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    pub provenance: Option<Provenance>,
    /// The secret value, when the finding is about one.
    pub secret: Option<Secret>,
    /// Identity of a non-secret finding (e.g. `Deployment/web/containers[app]`),
    /// used instead of the secret for the fingerprint. Must not contain
    /// line numbers.
    pub identity: Option<String>,
    /// The source line, already redacted (every secret on it hidden) unless
    /// `--show-secrets`; filled in by the scan pipeline, not by detectors.
    pub snippet: Option<Snippet>,
    pub suppressed: Option<Suppression>,
}

impl Finding {
    pub fn new(
        rule: impl Into<String>,
        category: Category,
        severity: Severity,
        message: impl Into<String>,
        location: Location,
    ) -> Finding {
        Finding {
            rule: rule.into(),
            category,
            severity,
            message: message.into(),
            location,
            provenance: None,
            secret: None,
            identity: None,
            snippet: None,
            suppressed: None,
        }
    }

    pub fn with_secret(mut self, secret: impl Into<String>) -> Finding {
        self.secret = Some(Secret::new(secret));
        self
    }

    pub fn with_identity(mut self, identity: impl Into<String>) -> Finding {
        self.identity = Some(identity.into());
        self
    }

    /// Stable across edits, moves and commits: the rule plus the secret, or
    /// for findings without a secret, the rule, path and object identity.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.rule.as_bytes());
        h.update([0]);
        match (&self.secret, &self.identity) {
            (Some(s), _) => h.update(s.expose().as_bytes()),
            (None, Some(id)) => {
                h.update(self.location.path.as_bytes());
                h.update([0]);
                h.update(id.as_bytes());
            }
            (None, None) => {
                h.update(self.location.path.as_bytes());
                h.update([0]);
                h.update(self.message.as_bytes());
            }
        }
        hex(&h.finalize()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_most_of_the_value() {
        let s = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let r = redact(s);
        assert_eq!(r, "ghp_…6789");
        assert_eq!(redact("hunter22"), "h…2");
        assert_eq!(redact("abc"), "…");
        assert_eq!(redact(""), "");
        // multi-byte characters are never split
        assert_eq!(redact("пароль-очень-длинный"), "пар…ный");
    }

    #[test]
    fn debug_of_a_secret_is_redacted() {
        let s = Secret::new("AKIAZZZZZZZZZZZZZZZZ");
        assert!(!format!("{s:?}").contains("AKIAZZZZZZZZZZZZZZZZ"));
    }

    #[test]
    fn fingerprint_ignores_location_and_commit() {
        let loc = |line| Location {
            path: "a.yaml".into(),
            line,
            column: 1,
            end_line: line,
            end_column: 2,
        };
        let a = Finding::new("r", Category::Secret, Severity::High, "m", loc(1))
            .with_secret("s3cr3t-value");
        let mut b = Finding::new("r", Category::Secret, Severity::High, "m", loc(9))
            .with_secret("s3cr3t-value");
        b.location.path = "b.yaml".into();
        b.provenance = Some(Provenance {
            commit: "abc".into(),
            ..Default::default()
        });
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = Finding::new("r2", Category::Secret, Severity::High, "m", loc(1))
            .with_secret("s3cr3t-value");
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn severity_orders_for_fail_on() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    }
}
