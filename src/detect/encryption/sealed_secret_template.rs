//! `sealed-secret-template-plaintext`: a secret in the plaintext template of
//! a SealedSecret.
//!
//! ## What it does
//!
//! `spec.template.data` of a SealedSecret is *not* encrypted: it holds
//! templated, non-secret entries that the controller renders into the
//! Secret next to the unsealed values (`config.yaml: "server: {{ index .
//! \"host\" }}"`). Each entry is reported when it looks secret: its key is
//! secret-named (`password`, `apiKey`, … but not `passwordFile`) with a
//! literal, non-placeholder value, or a secret rule matches inside it
//! (unless that secret rule already reported the same value). Template
//! expressions (`{{ … }}`) are not literals.
//!
//! ## Why it matters
//!
//! Everything in the template is committed in clear next to ciphertext,
//! and a reviewer who sees a SealedSecret assumes it is all sealed.
//!
//! ## Example
//!
//! ```yaml
//! kind: SealedSecret
//! spec:
//!   encryptedData:
//!     password: AgB…
//!   template:
//!     data:
//!       api_key: s3cr3t-v4lue       # ← plaintext
//! ```
//!
//! ## Use instead
//!
//! Seal the value into `spec.encryptedData` with kubeseal and reference it
//! from the template (`{{ index . "api_key" }}`); rotate it.

use super::Rule;
use super::sealed_secret_ciphertext::{may_hold_sealed_secret, sealed_secrets};
use super::secret_material::is_secret_name;
use crate::detect::placeholder::is_placeholder;
use crate::detect::secrets::find_secrets;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Severity};

pub const RULE: Rule = Rule {
    id: "sealed-secret-template-plaintext",
    name: "Secret in a SealedSecret's plaintext template",
    category: Category::UnencryptedSealedSecret,
    severity: Severity::High,
    description: "spec.template.data of a SealedSecret is committed in clear (it is meant for templated, non-secret entries), but an entry looks secret: a secret-named key with a literal value, or a value a secret rule matches.",
    remediation: "Seal the value into spec.encryptedData with kubeseal, reference it from the template, and rotate it.",
};

/// See the module documentation.
pub struct SealedSecretTemplate;

impl Detector for SealedSecretTemplate {
    fn name(&self) -> &'static str {
        "sealed-secret-template"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![RULE.info()]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        if !may_hold_sealed_secret(input) {
            return;
        }
        let Some(docs) = input.documents() else {
            return;
        };
        for obj in sealed_secrets(docs) {
            let Some(data) = obj.node.get_path(&["spec", "template", "data"]) else {
                continue;
            };
            let name = obj.name.unwrap_or("?");
            for (key, node) in data.entries() {
                let Some(value) = node.as_str() else { continue };
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                let loc = input.span_location(&node.span);
                let already = |s: &str| {
                    out.findings.iter().any(|f| {
                        f.category == Category::Secret
                            && f.location.line >= loc.line
                            && f.location.line <= loc.end_line
                            && f.secret.as_ref().is_some_and(|x| s.contains(x.expose()))
                    })
                };
                let matched: Vec<String> = find_secrets(cx.rules, value.as_bytes())
                    .into_iter()
                    .map(|m| cx.rules.rules[m.rule].spec.name.clone())
                    .collect();
                let named = is_secret_name(key) && !is_placeholder(value);
                if matched.is_empty() && !named {
                    continue;
                }
                if already(value) {
                    continue;
                }
                let why = if matched.is_empty() {
                    "its key is secret-named and its value is a literal".to_string()
                } else {
                    format!("it holds a {}", matched[0])
                };
                out.findings.push(
                    RULE.finding(
                        format!(
                            "SealedSecret `{name}`: `spec.template.data.{key}` is committed in clear and looks secret ({why})"
                        ),
                        loc,
                    )
                    .with_secret(value),
                );
            }
        }
    }
}
