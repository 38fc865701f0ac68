//! `sealed-secret-not-ciphertext`: a SealedSecret whose "encrypted" data is
//! not kubeseal ciphertext.
//!
//! ## What it does
//!
//! For every `SealedSecret` (`bitnami.com/v1alpha1`, also inside a `List`),
//! decodes each value of `spec.encryptedData` (and the deprecated single
//! blob `spec.data`) and checks the shape of Sealed Secrets' hybrid
//! encryption (`pkg/crypto/crypto.go`): standard base64 of a 2-byte
//! big-endian length `L` of the RSA-OAEP-wrapped session key, with `L` =
//! 256, 384 or 512 (a 2048-, 3072- or 4096-bit controller key), then those
//! `L` bytes, then the AES-256-GCM ciphertext with its 16-byte tag. Real
//! values therefore start with `AQ`/`Ag`/`AY` and are at least 274 bytes.
//!
//! A value that fails is reported at its own line; when it decodes to
//! printable text (base64 of the password itself), the finding is critical
//! and says so. Empty and `null` values are left alone.
//!
//! ## Why it matters
//!
//! The controller cannot unseal such a value, so at best the Secret never
//! appears in the cluster; at worst someone "sealed" the value with
//! `base64` instead of `kubeseal`, and the password is in Git for anyone to
//! decode.
//!
//! ## Example
//!
//! ```yaml
//! kind: SealedSecret
//! spec:
//!   encryptedData:
//!     config.json: eyJ1c2VyIjoiYWRtaW4ifQ==   # ← base64 of {"user":"admin"}
//! ```
//!
//! ## Use instead
//!
//! `kubectl create secret … --dry-run=client -o yaml | kubeseal -o yaml`,
//! and rotate any value that was committed as plain base64.

use super::Rule;
use super::sops_unencrypted_value::key_path;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Severity};
use crate::manifest::{Node, Object, objects};
use base64::Engine;

pub const RULE: Rule = Rule {
    id: "sealed-secret-not-ciphertext",
    name: "SealedSecret value that is not ciphertext",
    category: Category::UnencryptedSealedSecret,
    severity: Severity::High,
    description: "A SealedSecret's spec.encryptedData (or deprecated spec.data) value is not kubeseal's hybrid ciphertext (base64 of a 2-byte RSA-OAEP length of 256/384/512, the wrapped key, then AES-GCM data and tag): the controller cannot unseal it, and base64 of plaintext is a leak.",
    remediation: "Seal the value with kubeseal (`kubectl create secret … --dry-run=client -o yaml | kubeseal -o yaml`) and rotate it if it was committed as plain base64.",
};

/// Cheap byte test for the SealedSecret detectors.
pub fn may_hold_sealed_secret(input: &Input<'_>) -> bool {
    memchr::memmem::find(input.bytes, b"SealedSecret").is_some()
}

/// The SealedSecret objects of a blob.
pub fn sealed_secrets<'a>(docs: &'a [crate::manifest::Document]) -> Vec<Object<'a>> {
    objects(docs)
        .into_iter()
        .filter(|o| o.kind == Some("SealedSecret") && o.api_group() == Some("bitnami.com"))
        .collect()
}

/// Why a value is not kubeseal output, and whether it is printable text.
pub fn verdict(value: &str) -> Result<(), (String, bool)> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = match base64::engine::general_purpose::STANDARD.decode(&compact) {
        Ok(b) => b,
        Err(_) => return Err(("it is not valid base64".into(), false)),
    };
    let printable = !bytes.is_empty()
        && std::str::from_utf8(&bytes).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || c.is_ascii_whitespace())
        });
    if bytes.len() < 2 {
        return Err((format!("it decodes to {} bytes", bytes.len()), printable));
    }
    let l = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    if !matches!(l, 256 | 384 | 512) {
        return Err((
            format!(
                "it decodes to {} bytes that do not start with an RSA-OAEP key length of 256, 384 or 512",
                bytes.len()
            ),
            printable,
        ));
    }
    if bytes.len() < 2 + l + 16 {
        return Err((
            format!(
                "it decodes to {} bytes, too short for a {l}-byte wrapped key and a 16-byte AES-GCM tag",
                bytes.len()
            ),
            printable,
        ));
    }
    Ok(())
}

/// See the module documentation.
pub struct SealedSecretCiphertext;

impl Detector for SealedSecretCiphertext {
    fn name(&self) -> &'static str {
        "sealed-secret-ciphertext"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![RULE.info()]
    }

    fn detect(&self, input: &Input<'_>, _cx: &Context<'_>, out: &mut Output) {
        if !may_hold_sealed_secret(input) {
            return;
        }
        let Some(docs) = input.documents() else {
            return;
        };
        for obj in sealed_secrets(docs) {
            let Some(spec) = obj.get("spec") else {
                continue;
            };
            let name = obj.name.unwrap_or("?");
            let mut values: Vec<(Vec<String>, &Node)> = Vec::new();
            if let Some(data) = spec.get("encryptedData") {
                for (k, v) in data.entries() {
                    values.push((vec!["spec".into(), "encryptedData".into(), k.into()], v));
                }
            }
            if let Some(v) = spec.get("data") {
                values.push((vec!["spec".into(), "data".into()], v));
            }
            for (path, node) in values {
                let Some(value) = node.as_str() else { continue };
                if value.trim().is_empty() {
                    continue;
                }
                if let Err((reason, printable)) = verdict(value) {
                    let mut f = RULE.finding(
                        format!(
                            "SealedSecret `{name}`: `{}` is not kubeseal ciphertext: {reason}{}",
                            key_path(&path),
                            if printable {
                                " — it is base64 of plaintext"
                            } else {
                                ""
                            }
                        ),
                        input.span_location(&node.span),
                    );
                    if printable {
                        f.severity = Severity::Critical;
                    }
                    out.findings.push(f.with_secret(value.trim()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn blob(l: u16, rest: usize) -> String {
        let mut v = l.to_be_bytes().to_vec();
        v.extend(std::iter::repeat_n(0xA5u8, rest));
        STANDARD.encode(v)
    }

    #[test]
    fn shapes() {
        assert!(verdict(&blob(512, 512 + 19)).is_ok());
        assert!(verdict(&blob(256, 256 + 16)).is_ok());
        assert!(verdict(&blob(384, 384 + 40)).is_ok());
        assert!(verdict(&blob(512, 512 + 15)).is_err());
        assert!(verdict(&blob(500, 600)).is_err());
        assert!(
            verdict(&STANDARD.encode("hunter2")).unwrap_err().1,
            "base64 of text is printable"
        );
        assert!(verdict("AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq.....").is_err());
        // line-wrapped base64 is fine
        let b = blob(512, 512 + 20);
        let wrapped = format!("{}\n{}", &b[..60], &b[60..]);
        assert!(verdict(&wrapped).is_ok());
    }
}
