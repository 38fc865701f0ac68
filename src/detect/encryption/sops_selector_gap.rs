//! `sops-selector-gap`: a secret-looking value that a SOPS file's selector
//! leaves in clear.
//!
//! ## What it does
//!
//! In a SOPS file whose selector is a regular expression, an
//! `encrypted_suffix` or a comment rule, reports plaintext values that the
//! selector does not cover although they look secret: the key is
//! secret-named (`password`, `apiKey`, `client_secret`, …, but not
//! `passwordFile` or `secretName`) and the value is not a placeholder, or
//! the value sits under `data`/`stringData` of a Kubernetes Secret.
//! Values exempt because their key ends with the `unencrypted_suffix` are
//! not reported: that suffix is an explicit, per-key choice.
//!
//! ## Why it matters
//!
//! A selector is written once and the file keeps growing. A key added later
//! (`dbPassword` under `config:` when the regex is `^(data|stringData)$`)
//! silently stays plaintext, with the file still looking encrypted
//! (getsops/sops#1557).
//!
//! ## Example
//!
//! ```yaml
//! config:
//!   dbPassword: hunter2        # ← reported: the regex does not cover `config`
//! stringData:
//!   token: ENC[AES256_GCM,…]
//! sops:
//!   encrypted_regex: ^(data|stringData)$
//! ```
//!
//! ## Use instead
//!
//! Widen the selector in `.sops.yaml` (or move the value under a covered
//! key), re-encrypt with `sops encrypt -i`, and rotate the value.

use super::Rule;
use super::secret_material::is_secret_name;
use super::sops_tree::Leaf;
use super::sops_unencrypted_value::key_path;
use crate::detect::Input;
use crate::detect::placeholder::is_placeholder;
use crate::finding::{Category, Finding, Severity};

pub const RULE: Rule = Rule {
    id: "sops-selector-gap",
    name: "Secret value left in clear by a SOPS selector",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "A SOPS file's selector (encrypted_regex, encrypted_suffix, unencrypted_regex, comment regex) leaves a secret-looking value in clear: a secret-named key, or data/stringData of a Kubernetes Secret. The file looks encrypted while this value is not.",
    remediation: "Widen the selector in .sops.yaml or move the value under a key it covers, re-encrypt the file, and rotate the value.",
};

/// The finding for a plaintext leaf the selector does not cover, if it
/// looks like a secret.
pub fn check(input: &Input<'_>, leaf: &Leaf, selector: &str) -> Option<Finding> {
    let value = leaf.text.trim();
    if value.is_empty() || is_placeholder(value) {
        return None;
    }
    let secret_data = leaf.in_k8s_secret
        && leaf.path.len() >= 2
        && matches!(leaf.path[0].as_str(), "data" | "stringData");
    let named = leaf.path.last().is_some_and(|k| is_secret_name(k.trim()));
    if !secret_data && !named {
        return None;
    }
    Some(
        RULE.finding(
            format!(
                "`{}` looks secret but the SOPS file's selector ({selector}) leaves it in clear",
                key_path(&leaf.path)
            ),
            input.location(leaf.range.start, leaf.range.end),
        )
        .with_secret(value),
    )
}
