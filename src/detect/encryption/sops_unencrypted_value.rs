//! `sops-unencrypted-value`: a plaintext value in a SOPS file whose own
//! selector says it must be encrypted.
//!
//! ## What it does
//!
//! Reads a SOPS file in any format SOPS writes (YAML, multi-document YAML,
//! JSON, dotenv, INI, the binary JSON envelope), evaluates the selector the
//! file itself records in its metadata (`unencrypted_suffix` — by default
//! `_unencrypted` —, `encrypted_suffix`, `encrypted_regex`,
//! `unencrypted_regex`, `encrypted_comment_regex`,
//! `unencrypted_comment_regex`) exactly as SOPS does, and reports every value
//! that the selector covers but that is not an `ENC[AES256_GCM,…]` value.
//! The finding points at the value's own line and names its key path.
//! `null` values and empty strings are never reported: SOPS never encrypts
//! them.
//!
//! ## Why it matters
//!
//! The file *looks* protected — it carries a `sops` block, reviewers and
//! `sops filestatus` (which only checks that the block has a `mac` and a
//! `version`) call it encrypted — while the value sits in Git in clear. This
//! happens when a key is added by hand after encryption, when a decrypted
//! file is committed with its metadata still attached, or when a merge
//! resolves a conflict with the plaintext side.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Secret
//! stringData:
//!   username: ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]
//!   password: hunter2          # ← reported: stringData matches the selector
//! sops:
//!   encrypted_regex: ^(data|stringData)$
//!   …
//! ```
//!
//! ## Use instead
//!
//! Edit SOPS files with `sops edit <file>` (or `sops set`), never by hand;
//! re-encrypt with `sops encrypt -i <file>` after decrypting, and rotate
//! any value that was pushed in clear.

use super::Rule;
use super::sops_tree::Leaf;
use crate::detect::Input;
use crate::finding::{Category, Finding, Severity};

pub const RULE: Rule = Rule {
    id: "sops-unencrypted-value",
    name: "Plaintext value in a SOPS file",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "A value in a SOPS-encrypted file is plaintext although the file's own selector (unencrypted_suffix, encrypted_regex, …) says SOPS encrypts it: the file looks protected while the value sits in Git in clear.",
    remediation: "Edit SOPS files with `sops edit`, never by hand; re-encrypt the file (`sops encrypt -i`) and rotate the value, which is in the Git history.",
};

/// The finding for one plaintext leaf.
pub fn finding(input: &Input<'_>, leaf: &Leaf, selector: &str) -> Finding {
    RULE.finding(
        format!(
            "`{}` is plaintext in a SOPS file whose selector ({selector}) says it must be encrypted",
            key_path(&leaf.path)
        ),
        input.location(leaf.range.start, leaf.range.end),
    )
    .with_secret(leaf.text.trim())
}

/// A key path for messages: `stringData.password`, `[not private].key`.
pub fn key_path(path: &[String]) -> String {
    let mut p = crate::manifest::KeyPath::new();
    for k in path {
        p = p.key(k.trim());
    }
    p.to_string()
}
