//! `sops-missing-metadata`: encrypted values without SOPS metadata.
//!
//! ## What it does
//!
//! Reports a YAML, JSON, dotenv or INI file that holds
//! `ENC[AES256_GCM,…]` values but no SOPS metadata (no `sops` block, no
//! `sops_` keys, no `[sops]` section). Points at the first encrypted value.
//!
//! ## Why it matters
//!
//! Without the metadata no one can decrypt the file: the data key, the MAC
//! and the selector are gone. Usually the `sops` block was cut by a merge, a
//! templating step or a hand edit — and with it the only record of which
//! values were meant to be encrypted.
//!
//! ## Example
//!
//! ```yaml
//! password: ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]
//! # (no sops: block)
//! ```
//!
//! ## Use instead
//!
//! Restore the `sops` block from the Git history, or re-create the file
//! from its plaintext with `sops encrypt`.

use super::Rule;
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sops-missing-metadata",
    name: "Encrypted SOPS values without metadata",
    category: Category::UnencryptedSops,
    severity: Severity::Medium,
    description: "A file holds ENC[AES256_GCM,…] values but no SOPS metadata (sops block, sops_ keys or [sops] section): nobody can decrypt it, and the record of which values must be encrypted is gone.",
    remediation: "Restore the sops block from the Git history, or re-create the file from its plaintext with `sops encrypt`.",
};
