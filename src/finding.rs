//! What a detector reports: [`Finding`], its [`Category`], [`Severity`] and
//! [`Location`], plus redaction and fingerprints.
//!
//! A finding is data until a report renders it. The raw secret never leaves
//! this module in printable form: [`Secret`] has no `Display`, its `Debug`
//! is redacted, and reports only ever see [`Secret::redacted`] unless the user
//! asked for `--show-secrets`.

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::OnceLock;

/// Environment variable holding the key for value fingerprints (see
/// [`hmac_key`]).
pub const HMAC_KEY_ENV: &str = "GITOPS_GUARD_HMAC_KEY";

/// The user's key for fingerprints of secret values, from
/// [`HMAC_KEY_ENV`], read once. An unkeyed hash of a secret lets anyone who
/// holds a report confirm a guessed weak password offline; a keyed one
/// (HMAC-SHA-256) does not, and still matches the same value across runs,
/// rebases and moves for whoever has the key. Empty counts as absent.
pub fn hmac_key() -> Option<&'static [u8]> {
    static KEY: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    KEY.get_or_init(|| {
        std::env::var_os(HMAC_KEY_ENV)
            .map(|v| v.as_encoded_bytes().to_vec())
            .filter(|v| !v.is_empty())
    })
    .as_deref()
}

fn hmac_hex(key: &[u8], parts: &[&[u8]], bytes: usize) -> String {
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
        m.update(&[0]);
    }
    hex(&m.finalize().into_bytes()[..bytes])
}

/// Prefix of a fingerprint keyed with the user's HMAC key.
pub const FINGERPRINT_KEYED: &str = "k1:";
/// Prefix of a fingerprint that holds no secret material: a finding without
/// a secret, or a secret's redacted form when no key is set.
pub const FINGERPRINT_PLAIN: &str = "p1:";

/// Whether `fp` is a fingerprint of the current format (one written before
/// keyed fingerprints has no prefix: it was an unkeyed hash of the secret).
pub fn is_current_fingerprint(fp: &str) -> bool {
    fp.starts_with(FINGERPRINT_KEYED) || fp.starts_with(FINGERPRINT_PLAIN)
}

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
///
/// A finding replayed from the history cache (`--cache`, see
/// [`crate::cache`]) holds no value: only what the report shows and
/// matches on ([`Kept`]), and [`Secret::expose`] is then empty.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    raw: String,
    /// A keyed digest of the value (HMAC under the history cache's key):
    /// what [`Finding::match_key`] merges on when set, so a fresh finding
    /// and one replayed from the cache merge like two fresh ones.
    merge: Option<[u8; 16]>,
    kept: Option<Box<Kept>>,
}

/// What the report needs of a secret whose value is not at hand (a finding
/// replayed from the history cache): computed from the value when it was
/// found, none of it the value or an unkeyed hash of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// [`redact`] of the value (what every report shows).
    pub redacted: String,
    /// Its length in characters (part of the keyless fingerprint).
    pub chars: usize,
    /// Its length in bytes (to find it again by its keyed digest, see
    /// [`crate::cache::BlobCache::mask_replayed`]).
    pub bytes: usize,
    /// The finding's fingerprint under the user's key, when one is set.
    pub keyed_fingerprint: Option<String>,
    /// [`Secret::keyed_hash`], when the user's key is set.
    pub keyed_hash: Option<String>,
    /// Whether a `[allowlist] regexes` entry matches the value.
    pub allowlisted_regex: bool,
}

impl Secret {
    pub fn new(raw: impl Into<String>) -> Secret {
        Secret {
            raw: raw.into(),
            merge: None,
            kept: None,
        }
    }

    /// A secret replayed from the history cache: no value.
    pub fn from_kept(kept: Kept, merge: [u8; 16]) -> Secret {
        Secret {
            raw: String::new(),
            merge: Some(merge),
            kept: Some(Box::new(kept)),
        }
    }

    /// The raw value. Callers: fingerprinting, `--show-secrets`, redaction of
    /// code frames. Never format this into a message. Empty for a secret
    /// replayed from the history cache ([`Secret::kept`]).
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// What is kept of a secret replayed from the history cache.
    pub fn kept(&self) -> Option<&Kept> {
        self.kept.as_deref()
    }

    /// The keyed digest the secret merges on, if set.
    pub fn merge_digest(&self) -> Option<[u8; 16]> {
        self.merge
    }

    /// Merge on a keyed digest of the value (see [`Finding::match_key`]).
    pub fn set_merge_digest(&mut self, digest: [u8; 16]) {
        self.merge = Some(digest);
    }

    pub fn redacted(&self) -> String {
        match &self.kept {
            Some(k) => k.redacted.clone(),
            None => redact(&self.raw),
        }
    }

    /// Length of the value in characters.
    pub fn chars(&self) -> usize {
        match &self.kept {
            Some(k) => k.chars,
            None => self.raw.chars().count(),
        }
    }

    /// HMAC-SHA-256 of the value under the user's key ([`hmac_key`]), to
    /// match a value across reports without showing it; `None` without a
    /// key, since an unkeyed hash would let a report's reader test guesses.
    pub fn keyed_hash(&self) -> Option<String> {
        if let Some(k) = &self.kept {
            return k.keyed_hash.clone();
        }
        hmac_key().map(|k| hmac_hex(k, &[b"gitops-guard/value/v1", self.raw.as_bytes()], 32))
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

/// The second values a finding's verifier needs, by name (see
/// [`Finding::context`]). They can be another finding's secret (a Twilio
/// `SK…` SID beside its secret), so `Debug` shows names and counts only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerifyContext(pub Vec<(String, Vec<String>)>);

impl std::ops::Deref for VerifyContext {
    type Target = Vec<(String, Vec<String>)>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for VerifyContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, values)| (name, values.len())))
            .finish()
    }
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
    /// Found in decoded text (base64, hex, …, see `detect::decode`): it
    /// yields to a finding on the plain text over the same span.
    pub decoded: bool,
    /// What the provider said about the secret (`scan --verify`); `None`
    /// when verification was not asked for.
    pub verification: Option<Verification>,
    /// Second values its rule's verifier needs, found in the same blob by
    /// the scan (`[rule.verify.context]`: an e-mail, an account SID, a shop
    /// name); name -> values. Never reported; never a secret of its own.
    pub context: VerifyContext,
    /// The render roots (Kustomize overlays, Helm releases) whose output
    /// held this finding, when it was judged on rendered manifests and
    /// mapped back to the line that wrote the value (`render`); empty for
    /// a finding on a file as written.
    pub roots: Vec<String>,
}

/// Outcome of checking a secret against its provider (`crate::verify`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub status: VerifyStatus,
    /// For `live`: who the credential acts as, as the provider reports it
    /// (account, user, scopes); otherwise why the status is what it is.
    /// Never holds the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyStatus {
    /// The provider accepted it: rotate now.
    Live,
    /// The provider rejected it (revoked, expired, never valid).
    Invalid,
    /// Not decided: no verifier, network error, rate limited, timed out.
    Unknown,
}

impl VerifyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyStatus::Live => "live",
            VerifyStatus::Invalid => "invalid",
            VerifyStatus::Unknown => "unknown",
        }
    }
}

impl Verification {
    /// `live (user octocat)`: for text, annotations and the step summary.
    pub fn describe(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} ({d})", self.status.as_str()),
            None => self.status.as_str().to_string(),
        }
    }
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
            decoded: false,
            verification: None,
            context: VerifyContext::default(),
            roots: Vec::new(),
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

    /// What baselines and allowlists match on; stable across runs, edits
    /// (lines move) and rebases (commits change). Never an unkeyed hash of
    /// a secret:
    /// - a finding with a secret and a key set ([`hmac_key`]): `k1:` and an
    ///   HMAC of rule and value, so it also follows the value across moves;
    /// - a finding with a secret and no key: `p1:` and a hash of rule, path,
    ///   the value's redacted form (what the report shows anyway) and its
    ///   length: it matches across runs and rebases, not across renames;
    /// - a finding without a secret: `p1:` and a hash of rule, path and
    ///   object identity (or message), which hold no secret (they are
    ///   redacted like the code frames).
    pub fn fingerprint(&self) -> String {
        self.fingerprint_with(hmac_key())
    }

    /// Every fingerprint a baseline or allowlist entry may hold for this
    /// finding: the current one and, when a key is set, the keyless form
    /// too, so a baseline written before the key was set keeps matching.
    pub fn fingerprints(&self) -> Vec<String> {
        let mut v = vec![self.fingerprint()];
        if hmac_key().is_some() && self.secret.is_some() {
            v.push(self.fingerprint_with(None));
        }
        v
    }

    fn fingerprint_with(&self, key: Option<&[u8]>) -> String {
        let path = self.location.path.as_bytes();
        match (&self.secret, &self.identity) {
            (Some(s), _) if s.kept().is_some() => match key {
                // Computed under the same key when the value was at hand
                // (the cache's entries are keyed by the user's key too).
                Some(_) => s
                    .kept()
                    .and_then(|k| k.keyed_fingerprint.clone())
                    .unwrap_or_default(),
                None => {
                    let len = s.chars().to_string();
                    plain_fingerprint(&[
                        b"secret",
                        self.rule.as_bytes(),
                        path,
                        s.redacted().as_bytes(),
                        len.as_bytes(),
                    ])
                }
            },
            (Some(s), _) => match key {
                Some(k) => format!(
                    "{FINGERPRINT_KEYED}{}",
                    hmac_hex(
                        k,
                        &[
                            b"gitops-guard/fp/v1",
                            self.rule.as_bytes(),
                            s.expose().as_bytes()
                        ],
                        16
                    )
                ),
                None => {
                    let len = s.expose().chars().count().to_string();
                    plain_fingerprint(&[
                        b"secret",
                        self.rule.as_bytes(),
                        path,
                        s.redacted().as_bytes(),
                        len.as_bytes(),
                    ])
                }
            },
            (None, Some(id)) => {
                plain_fingerprint(&[b"identity", self.rule.as_bytes(), path, id.as_bytes()])
            }
            (None, None) => plain_fingerprint(&[
                b"message",
                self.rule.as_bytes(),
                path,
                self.message.as_bytes(),
            ]),
        }
    }

    /// Whether two findings are about the same thing (rule and secret
    /// value; else rule, path and identity), for merging the versions of a
    /// file in history. In memory only, never written anywhere: it is an
    /// unkeyed hash of the secret.
    pub fn match_key(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.rule.as_bytes());
        h.update([0]);
        match (&self.secret, &self.identity) {
            (Some(s), _) => match &s.merge {
                Some(d) => {
                    h.update(b"\0keyed\0");
                    h.update(d);
                }
                None => h.update(s.expose().as_bytes()),
            },
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

fn plain_fingerprint(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    h.update(b"gitops-guard/fp/v1");
    for p in parts {
        h.update([0]);
        h.update(p);
    }
    format!("{FINGERPRINT_PLAIN}{}", hex(&h.finalize()[..16]))
}

/// What a rule or check is, for `rules list`, SARIF rule metadata and `rules explain`.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub severity: Severity,
    pub description: String,
    pub remediation: String,
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
    fn fingerprint_ignores_line_and_commit_and_holds_no_plain_hash() {
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
        b.provenance = Some(Provenance {
            commit: "abc".into(),
            ..Default::default()
        });
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = Finding::new("r2", Category::Secret, Severity::High, "m", loc(1))
            .with_secret("s3cr3t-value");
        assert_ne!(a.fingerprint(), c.fingerprint());
        // Without a key (the test environment sets none): no hash of the value.
        assert!(a.fingerprint().starts_with(FINGERPRINT_PLAIN));
        let d = Finding::new("r", Category::Secret, Severity::High, "m", loc(1))
            .with_secret("s3cr3t-valuf");
        let h = hex(&Sha256::digest(b"s3cr3t-value"));
        assert!(!a.fingerprint().contains(&h[..32]));
        assert_ne!(a.match_key(), d.match_key());
        assert_eq!(a.match_key(), b.match_key());
    }

    #[test]
    fn debug_of_a_verify_context_shows_names_and_counts_not_values() {
        let value = ["SK", "0123456789abcdef", "0123456789abcdef"].concat();
        let c = VerifyContext(vec![("sid".to_string(), vec![value.clone()])]);
        let shown = format!("{c:?}");
        assert_eq!(shown, r#"{"sid": 1}"#);
        assert!(!shown.contains(&value));
        assert_eq!(c.len(), 1, "reads like the list it holds");
    }

    #[test]
    fn keyed_hashes_depend_on_the_key() {
        let a = hmac_hex(b"k1", &[b"v"], 32);
        assert_eq!(a, hmac_hex(b"k1", &[b"v"], 32));
        assert_ne!(a, hmac_hex(b"k2", &[b"v"], 32));
        assert_ne!(a, hex(&Sha256::digest(b"v")));
    }

    #[test]
    fn severity_orders_for_fail_on() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    }
}
