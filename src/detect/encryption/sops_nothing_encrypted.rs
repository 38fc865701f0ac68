//! `sops-nothing-encrypted`: a SOPS file in which not a single value is
//! encrypted.
//!
//! ## What it does
//!
//! Reports a file that carries SOPS metadata but no `ENC[…]` value at all
//! while it has plaintext values, for either of two reasons:
//!
//! - **the selector matches nothing**: the file records, say,
//!   `encrypted_regex: ^(data|stringData)$` but none of its keys is `data` or
//!   `stringData` (the Flux recipe applied to a `.env` or a Helm values
//!   file), so SOPS "encrypted" the file and left every value in clear. The
//!   finding points at the selector;
//! - **the file was decrypted and committed with its `sops` block**: the
//!   selector covers the values but none is encrypted. The finding points at
//!   the `sops` block, and each value is also reported by
//!   `sops-unencrypted-value` at its own line.
//!
//! A file whose values are all exempt only because their keys end with the
//! `unencrypted_suffix` is not reported: someone named each key that way.
//!
//! ## Why it matters
//!
//! This is the worst case of a SOPS file: every tool and every reviewer sees
//! the `sops` block and treats the file as encrypted, and all of it is
//! plaintext (getsops/sops#1886, jkroepke/helm-secrets#143).
//!
//! ## Example
//!
//! ```dotenv
//! DB_PASSWORD=hunter2
//! sops_encrypted_regex=^(data|stringData)$
//! sops_mac=ENC[AES256_GCM,…]
//! ```
//!
//! ## Use instead
//!
//! Give `.env`, values and config files their own creation rule without
//! `encrypted_regex` (SOPS then encrypts every value), re-encrypt the file and
//! rotate every value in it.

use super::Rule;
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sops-nothing-encrypted",
    name: "SOPS file with nothing encrypted",
    category: Category::UnencryptedSops,
    severity: Severity::Critical,
    description: "A file carries SOPS metadata but none of its values is encrypted: its selector matches no key (e.g. encrypted_regex ^(data|stringData)$ on a .env or values file), or it was decrypted and committed with its sops block. Everything in it is plaintext while it looks encrypted.",
    remediation: "Fix the creation rule's selector for this kind of file (no encrypted_regex for .env/values files), re-encrypt with `sops encrypt -i`, and rotate every value in the file.",
};
