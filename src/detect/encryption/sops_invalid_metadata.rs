//! `sops-invalid-metadata`: SOPS metadata that SOPS itself would reject or
//! that cannot decrypt anything.
//!
//! ## What it does
//!
//! Reports, each at the offending metadata field:
//!
//! - no `lastmodified`, or one that is not an RFC 3339 time (SOPS parses it
//!   before anything else: it is the MAC's additional data);
//! - no master key with an encrypted data key (`age`, `pgp`, `kms`,
//!   `gcp_kms`, `azure_kv`, `hc_vault`, `hckms`, directly or in
//!   `key_groups`): nobody can decrypt the file;
//! - an `age` data key (`enc`) that is not a well-formed age file;
//! - more than one selector (`unencrypted_suffix`, `encrypted_suffix`,
//!   `unencrypted_regex`, `encrypted_regex`, `unencrypted_comment_regex`,
//!   `encrypted_comment_regex`): SOPS refuses such a file;
//! - a selector regex that does not compile (the Go RE2 syntax is read with
//!   the Rust `regex` crate, which accepts the same syntax family; the
//!   message gives the compiler's reason). The file's values are not checked
//!   then, since which ones must be encrypted cannot be known.
//!
//! ## Why it matters
//!
//! Metadata that SOPS rejects means the file cannot be decrypted by the
//! cluster either; metadata that was edited by hand is where plaintext
//! values and broken selectors come from.
//!
//! ## Example
//!
//! ```yaml
//! sops:
//!   encrypted_regex: ^(data|stringData)$
//!   unencrypted_suffix: _unencrypted       # ← two selectors
//! ```
//!
//! ## Use instead
//!
//! Re-encrypt the file with `sops` from a `.sops.yaml` creation rule that
//! sets one selector and at least one key.

use super::age_file;
use super::sops_tree::{Field, Metadata};
use super::{Rule, point};
use crate::detect::{Input, Output};
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sops-invalid-metadata",
    name: "Invalid SOPS metadata",
    category: Category::UnencryptedSops,
    severity: Severity::Medium,
    description: "SOPS metadata that SOPS rejects or that cannot decrypt anything: lastmodified missing or not RFC 3339, no master key with an encrypted data key, an age data key that is not an age file, more than one selector, or a selector regex that does not compile.",
    remediation: "Re-encrypt the file with sops from a .sops.yaml creation rule that sets exactly one selector and at least one key.",
};

/// Check everything but the selector regexes (see [`bad_regex`]).
pub fn check(input: &Input<'_>, m: &Metadata, out: &mut Output) {
    let at = |f: Option<&Field>| point(input, f.map_or(m.anchor.start, |f| f.range.start));
    match &m.lastmodified {
        None => out.findings.push(RULE.finding(
            "SOPS metadata has no `lastmodified` (SOPS needs it to check the MAC)",
            at(None),
        )),
        Some(f) if !is_rfc3339(f.value.trim()) => out.findings.push(RULE.finding(
            "SOPS metadata `lastmodified` is not an RFC 3339 time: SOPS rejects the file",
            at(Some(f)),
        )),
        Some(_) => {}
    }
    let usable = m
        .keys
        .iter()
        .filter(|k| k.enc.as_ref().is_some_and(|e| !e.value.trim().is_empty()))
        .count();
    if usable == 0 {
        out.findings.push(RULE.finding(
            "SOPS metadata has no master key with an encrypted data key (age, pgp, kms, …): nobody can decrypt this file",
            at(None),
        ));
    }
    for k in m.keys.iter().filter(|k| k.kind == "age") {
        let Some(enc) = &k.enc else { continue };
        if enc.value.trim().is_empty() {
            continue;
        }
        if let Err(e) = age_file::parse(enc.value.as_bytes()) {
            let who =
                k.id.as_deref()
                    .map(|r| format!(" for `{r}`"))
                    .unwrap_or_default();
            out.findings.push(RULE.finding(
                format!("the age data key{who} is not a valid age file: {e}"),
                at(Some(enc)),
            ));
        }
    }
    if m.selectors.len() > 1 {
        let names: Vec<&str> = m.selectors.iter().map(|(n, _)| n.as_str()).collect();
        out.findings.push(RULE.finding(
            format!(
                "SOPS metadata records more than one selector ({}): SOPS refuses to decrypt such a file",
                names.join(", ")
            ),
            at(Some(&m.selectors[1].1)),
        ));
    }
}

/// A selector regex that does not compile.
pub fn bad_regex(input: &Input<'_>, m: &Metadata, field: &str, reason: &str, out: &mut Output) {
    let f = m.selectors.iter().find(|(n, _)| n == field).map(|(_, f)| f);
    let at = point(input, f.map_or(m.anchor.start, |f| f.range.start));
    out.findings.push(RULE.finding(
        format!(
            "SOPS metadata `{field}` does not compile as a regular expression ({reason}); its values were not checked"
        ),
        at,
    ));
}

/// `2006-01-02T15:04:05Z07:00` with optional fractional seconds, as Go's
/// `time.RFC3339` parses it.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert!(is_rfc3339("2019-08-29T22:23:01Z"));
        assert!(is_rfc3339("2024-11-12T13:33:42.123+02:00"));
        assert!(!is_rfc3339("2019-08-29 22:23:01"));
        assert!(!is_rfc3339("yesterday"));
        assert!(!is_rfc3339("2019-08-29T22:23:01"));
        assert!(!is_rfc3339("2019-08-29T22:23:01.Z"));
    }
}
