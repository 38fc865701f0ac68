//! `sops-missing-version`: SOPS metadata without a `version`.
//!
//! ## What it does
//!
//! Reports a SOPS file whose metadata has no (or an empty) `version`.
//!
//! ## Why it matters
//!
//! SOPS always records the version that wrote the file; `sops filestatus`
//! calls a file without one unencrypted. A missing version means the
//! metadata was assembled or trimmed by hand.
//!
//! ## Example
//!
//! ```yaml
//! sops:
//!   mac: ENC[AES256_GCM,…]
//!   lastmodified: '2024-01-01T00:00:00Z'    # ← no version
//! ```
//!
//! ## Use instead
//!
//! Re-encrypt the file with `sops`.

use super::Rule;
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sops-missing-version",
    name: "SOPS file without a version",
    category: Category::UnencryptedSops,
    severity: Severity::Medium,
    description: "SOPS metadata has no version: SOPS always writes one and `sops filestatus` reports such a file as unencrypted; the metadata was assembled or trimmed by hand.",
    remediation: "Re-encrypt the file with sops.",
};
