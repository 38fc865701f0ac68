//! `.sops.yaml` creation rules, read the way SOPS reads them
//! (`config/config.go`), and `sops-config-invalid`.
//!
//! ## What it does
//!
//! Every `.sops.yaml` becomes a fact for the
//! [`sops_creation_rule`](super::sops_creation_rule) check: its directory
//! and, for each `creation_rules` entry in order, its `path_regex` (none:
//! the rule matches every file) and its selector. Findings, at the
//! offending field:
//!
//! - a `path_regex` or selector regex that does not compile (SOPS stops with
//!   "can not compile regexp" when it reaches that rule; the Go RE2 syntax is
//!   read with the Rust `regex` crate, the same syntax family);
//! - a rule with more than one selector (SOPS: "cannot use more than one of
//!   …");
//! - a `.sops.yml` with creation rules: SOPS ignores that name (it only
//!   warns), so the rules in it protect nothing.
//!
//! ## Why it matters
//!
//! A creation rule that SOPS rejects means files under it are encrypted by
//! some other rule, or not at all; the `.sops.yml` spelling is a silent
//! version of the same mistake.
//!
//! ## Example
//!
//! ```yaml
//! creation_rules:
//!   - path_regex: secrets/(.*\.yaml      # ← does not compile
//!     age: age1…
//! ```
//!
//! ## Use instead
//!
//! Fix the regex (test it with `sops encrypt` on a matching file), keep one
//! selector per rule, and name the file `.sops.yaml`.

use super::selector::{self, compile_go_regex};
use super::{Rule, point};
use crate::detect::{Input, Output};
use crate::finding::{Category, Severity};
use crate::manifest::Node;

pub const RULE: Rule = Rule {
    id: "sops-config-invalid",
    name: "Invalid .sops.yaml creation rule",
    category: Category::UnencryptedSops,
    severity: Severity::Medium,
    description: "A .sops.yaml creation rule that SOPS rejects (a path_regex or selector regex that does not compile, more than one selector), or creation rules in a .sops.yml, a name SOPS ignores: files under them are not encrypted as intended.",
    remediation: "Fix the regular expression, keep one selector per creation rule, and name the file .sops.yaml.",
};

/// One creation rule, as a fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreationRule {
    /// 0-based position in `creation_rules`.
    pub index: usize,
    /// 1-based line of the rule in the `.sops.yaml`.
    pub line: usize,
    /// `None`: the rule matches every file.
    pub path_regex: Option<String>,
    /// The selector as written (`encrypted_regex: ^(data|stringData)$`), if any.
    pub selector: Option<String>,
}

/// A `.sops.yaml`, as a fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SopsConfig {
    /// The directory the file is in (`""` at the top), relative to the scan root.
    pub dir: String,
    pub rules: Vec<CreationRule>,
}

/// Whether the blob is a SOPS config by name (`.sops.yml` included, to warn).
pub fn is_config_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".sops.yaml" || name == ".sops.yml"
}

/// Read a `.sops.yaml`; push findings for what SOPS would reject. `None`
/// when it has no `creation_rules` (SOPS treats it as absent) or is not YAML.
pub fn read(input: &Input<'_>, out: &mut Output) -> Option<SopsConfig> {
    let docs = input.documents()?;
    let root = &docs.first()?.root;
    let (key, list) = root.get_entry("creation_rules")?;
    let items = list.as_seq()?;
    if input.file_name() == ".sops.yml" {
        out.findings.push(RULE.finding(
            "SOPS only reads `.sops.yaml`: it ignores this `.sops.yml` (with a warning), so these creation rules protect nothing",
            point(input, key.span.start),
        ).with_identity("sops-config/yml-name"));
        return None;
    }
    let mut rules = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if item.as_map().is_none() {
            continue;
        }
        let text = |k: &str| item.get(k).and_then(Node::as_str).map(str::to_string);
        let path_regex = text("path_regex").filter(|s| !s.is_empty());
        if let (Some(re), Some(node)) = (&path_regex, item.get("path_regex"))
            && let Err(e) = compile_go_regex(re)
        {
            out.findings.push(
                RULE.finding(
                    format!("creation rule #{} has a `path_regex` that does not compile ({e}): SOPS stops at this rule", index + 1),
                    point(input, node.span.start),
                )
                .with_identity(format!("sops-config/rule-{index}/path_regex")),
            );
        }
        let mut selectors: Vec<(&str, String, &Node)> = Vec::new();
        for field in selector::FIELDS {
            if let Some(node) = item.get(field)
                && let Some(v) = node.as_str().filter(|v| !v.is_empty())
            {
                selectors.push((field, v.to_string(), node));
            }
        }
        selectors.sort_by_key(|s| s.2.span.start);
        for (field, value, node) in &selectors {
            if field.ends_with("_regex")
                && let Err(e) = compile_go_regex(value)
            {
                out.findings.push(
                    RULE.finding(
                        format!(
                            "creation rule #{}: `{field}` does not compile ({e})",
                            index + 1
                        ),
                        point(input, node.span.start),
                    )
                    .with_identity(format!("sops-config/rule-{index}/{field}")),
                );
            }
        }
        if selectors.len() > 1 {
            let names: Vec<&str> = selectors.iter().map(|s| s.0).collect();
            out.findings.push(
                RULE.finding(
                    format!(
                        "creation rule #{} sets more than one selector ({}): SOPS refuses it",
                        index + 1,
                        names.join(", ")
                    ),
                    point(input, selectors[1].2.span.start),
                )
                .with_identity(format!("sops-config/rule-{index}/selectors")),
            );
        }
        rules.push(CreationRule {
            index,
            line: item.span.line,
            path_regex,
            selector: selectors.first().map(|(f, v, _)| format!("{f}: {v}")),
        });
    }
    Some(SopsConfig {
        dir: super::parent_dir(input.path).to_string(),
        rules,
    })
}
