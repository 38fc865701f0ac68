//! `sops-missing-mac`: SOPS metadata without a valid `mac`.
//!
//! ## What it does
//!
//! Reports a SOPS file whose metadata has no `mac`, or a `mac` that is not a
//! well-formed `ENC[AES256_GCM,…,type:str]` value (SOPS encrypts the MAC
//! with the data key).
//!
//! ## Why it matters
//!
//! The MAC is what lets SOPS notice that a file was changed outside SOPS.
//! Without it `sops decrypt` refuses the file (it only works with
//! `--ignore-mac`), and a file that lost its MAC has usually been edited by
//! hand — the moment plaintext values slip in.
//!
//! ## Example
//!
//! ```yaml
//! sops:
//!   lastmodified: '2019-08-29T22:23:01Z'
//!   version: 3.3.1           # ← no mac
//! ```
//!
//! ## Use instead
//!
//! Re-encrypt the file with `sops` (which writes a new MAC) after checking
//! every value is still encrypted.

use super::Rule;
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sops-missing-mac",
    name: "SOPS file without a valid MAC",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "SOPS metadata has no mac, or its mac is not an encrypted ENC[…] value: SOPS refuses to decrypt the file without --ignore-mac, and the file has usually been edited outside SOPS.",
    remediation: "Check that every value is still encrypted, then re-encrypt the file with sops so it gets a new MAC.",
};
