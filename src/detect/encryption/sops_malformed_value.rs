//! `sops-malformed-value`: a value that claims to be SOPS-encrypted but is
//! not what SOPS writes.
//!
//! ## What it does
//!
//! Every value starting with `ENC[` in a SOPS file must be exactly
//! `ENC[AES256_GCM,data:<base64>,iv:<base64>,tag:<base64>,type:<type>]`:
//! standard padded base64, a 32-byte `iv`, a 16-byte GCM `tag`, a non-empty
//! ciphertext and a type SOPS writes (`str`, `int`, `float`, `bytes`,
//! `bool`, `time`, `comment`). Anything else is reported at the value, with
//! the reason.
//!
//! ## Why it matters
//!
//! SOPS cannot decrypt such a value, so the file is corrupt (a bad merge, a
//! truncated paste) — or the "ciphertext" was typed by hand to make a
//! plaintext value pass a review or a naive `grep ENC\[` check, e.g.
//! `ENC[AES256_GCM,data:aHVudGVyMg==,…]` is just base64 of a password.
//!
//! ## Example
//!
//! ```yaml
//! password: ENC[AES256_GCM,data:aHVudGVyMg==,iv:abc,tag:def,type:str]
//! ```
//!
//! ## Use instead
//!
//! Restore the value from the last good commit, or set it again with
//! `sops set` / `sops edit` so SOPS encrypts it.

use super::Rule;
use super::enc_value::EncValueError;
use super::sops_tree::Leaf;
use super::sops_unencrypted_value::key_path;
use crate::detect::Input;
use crate::finding::{Category, Finding, Severity};

pub const RULE: Rule = Rule {
    id: "sops-malformed-value",
    name: "Malformed SOPS encrypted value",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "A value starts with ENC[ but is not a well-formed SOPS value (AES256_GCM, standard base64, 32-byte iv, 16-byte tag, known type): SOPS cannot decrypt it, and a hand-made one may hide plaintext.",
    remediation: "Restore the value from a good commit or set it again with `sops set` / `sops edit`; if it was hand-made, treat the underlying value as leaked.",
};

/// The finding for one malformed encrypted value.
pub fn finding(input: &Input<'_>, leaf: &Leaf, error: &EncValueError) -> Finding {
    RULE.finding(
        format!(
            "`{}` is not a valid SOPS encrypted value: {error}",
            key_path(&leaf.path)
        ),
        input.location(leaf.range.start, leaf.range.end),
    )
    .with_secret(leaf.text.trim())
}
