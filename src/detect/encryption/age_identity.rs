//! `age-identity`: a committed age identity (private key).
//!
//! ## What it does
//!
//! Finds age identities anywhere in any text blob and reports each one whose
//! Bech32 checksum is valid:
//!
//! - `AGE-SECRET-KEY-1…` (X25519, what `age-keygen` writes),
//! - `AGE-SECRET-KEY-PQ-1…` (the ML-KEM-768 + X25519 hybrid, `age-keygen -pq`),
//! - `AGE-PLUGIN-<NAME>-1…` (plugin identities such as `AGE-PLUGIN-YUBIKEY-1…`),
//!   reported at **medium**: many only reference a key held by a device (a
//!   YubiKey's serial and slot, a TPM-sealed blob usable on that TPM only),
//!   though some plugins embed wrapped key material.
//!
//! The checksum turns "looks like a key" into "is a key": a typo, a
//! truncated example or `AGE-SECRET-KEY-1XXXX…` does not validate.
//! DESIGN.md files a committed identity under `unencrypted-age`, so this
//! check owns it: if a secret rule in `patterns/` also matches the same value,
//! that duplicate `secret` finding is dropped for this blob (the secret rules
//! run first), so the key is reported once.
//!
//! ## Why it matters
//!
//! The identity decrypts every file encrypted to its recipient — all the
//! SOPS files of the repository (`sops` `age` keys, Flux's `sops-age`
//! Secret) and every `*.age` file — in the whole history, forever.
//!
//! ## Example
//!
//! ```text
//! # created: 2021-03-31T09:51:59+02:00
//! # public key: age1l44xcng8…
//! AGE-SECRET-KEY-1…            ← reported
//! ```
//!
//! ## Use instead
//!
//! Keep identities out of Git (a secret manager, a cluster Secret created
//! out of band, `SOPS_AGE_KEY_FILE` on the CI runner). Generate a new
//! identity, re-encrypt every file to the new recipient (`sops updatekeys`,
//! `age -R`), and remove the old recipient.

use super::Rule;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Severity};
use regex::bytes::Regex;
use std::sync::LazyLock;

pub const RULE: Rule = Rule {
    id: "age-identity",
    name: "age identity (private key)",
    category: Category::UnencryptedAge,
    severity: Severity::Critical,
    description: "An age identity (AGE-SECRET-KEY-1…, post-quantum AGE-SECRET-KEY-PQ-1…, or a plugin identity AGE-PLUGIN-NAME-1…) with a valid Bech32 checksum is committed: it decrypts every SOPS and age file encrypted to its recipient, in the whole history.",
    remediation: "Remove it from the repository, generate a new identity, re-encrypt every file to the new recipient (`sops updatekeys`, `age -R`) and drop the old recipient.",
};

/// `AGE-SECRET-KEY-`/`AGE-SECRET-KEY-PQ-`/`AGE-PLUGIN-<NAME>-`, the Bech32
/// separator `1` (the last one, as in Bech32) and the data part.
static IDENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bAGE-(?:SECRET-KEY-|PLUGIN-)[A-Z0-9._+-]*1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{6,}\b",
    )
    .expect("static regex")
});

/// Every valid identity in `bytes`, as byte ranges.
pub fn find(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let finder = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    if !(finder(b"AGE-SECRET-KEY-")
        || finder(b"AGE-PLUGIN-")
        || finder(b"age-secret-key-")
        || finder(b"age-plugin-"))
    {
        return Vec::new();
    }
    IDENTITY
        .find_iter(bytes)
        .filter(|m| {
            std::str::from_utf8(m.as_bytes()).is_ok_and(|s| {
                // Bech32 is single-case.
                (s == s.to_ascii_uppercase() || s == s.to_ascii_lowercase())
                    && crate::rules::checksum::Checksum::AgeBech32.validate(s)
            })
        })
        .map(|m| m.range())
        .collect()
}

/// See the module documentation.
pub struct AgeIdentities;

impl Detector for AgeIdentities {
    fn name(&self) -> &'static str {
        "age-identity"
    }

    fn reads_bytes(&self) -> bool {
        true
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![RULE.info()]
    }

    fn detect(&self, input: &Input<'_>, _cx: &Context<'_>, out: &mut Output) {
        let found = find(input.bytes);
        if found.is_empty() {
            return;
        }
        let values: Vec<String> = found
            .iter()
            .map(|r| String::from_utf8_lossy(&input.bytes[r.clone()]).into_owned())
            .collect();
        // The secret rules run first: drop their report of the same key.
        out.findings.retain(|f| {
            f.category != Category::Secret
                || !f
                    .secret
                    .as_ref()
                    .is_some_and(|s| values.iter().any(|v| v.contains(s.expose())))
        });
        for (r, value) in found.into_iter().zip(values) {
            let upper = value.to_ascii_uppercase();
            let mut f = if upper.starts_with("AGE-PLUGIN-") {
                // Often only a reference to a key held by a device (YubiKey
                // serial and slot, a TPM-sealed blob): not a key by itself.
                let mut f = RULE.finding(
                    "committed age plugin identity: it names a decryption key held by the plugin (some plugins embed wrapped key material)",
                    input.location(r.start, r.end),
                );
                f.severity = Severity::Medium;
                f
            } else {
                let kind = if upper.starts_with("AGE-SECRET-KEY-PQ-") {
                    "post-quantum (ML-KEM-768 + X25519) age identity"
                } else {
                    "age identity"
                };
                RULE.finding(
                    format!("committed {kind}: it decrypts every file encrypted to its recipient"),
                    input.location(r.start, r.end),
                )
            };
            f = f.with_secret(value);
            out.findings.push(f);
        }
    }
}
