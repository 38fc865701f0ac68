//! `sops-creation-rule-unencrypted`: a plaintext file that a `.sops.yaml`
//! creation rule says must be encrypted.
//!
//! ## What it does
//!
//! Joins two kinds of facts: every `.sops.yaml` with its creation rules
//! ([`sops_config`](super::sops_config)), and every file that holds secret
//! material in clear ([`secret_material`](super::secret_material): a
//! Kubernetes Secret with plaintext data, a secret-named key with a literal
//! value in a config/dotenv/INI file, a value the secret rules flag, a file
//! named `*.enc.*`/`*secret*`). For each such file it finds the `.sops.yaml`
//! SOPS would use — the nearest one in the file's directory or above — and
//! picks the rule exactly as SOPS does: the path relative to the
//! `.sops.yaml`'s directory, rules in order, the first whose `path_regex`
//! matches (unanchored, as Go's `MatchString`) wins, a rule without
//! `path_regex` matches everything, a rule whose regex does not compile stops
//! the search. If a rule matches, the file is reported at the line that
//! shows the secret, naming the rule.
//!
//! A creation rule is a recipe, not a promise that everything it matches is
//! secret — ConfigMaps, workloads and `kustomization.yaml` under a catch-all
//! `\.yaml$` rule are *not* reported.
//!
//! **Limits.** SOPS itself looks for `.sops.yaml` upward from the *working
//! directory*; this check uses the file's directory, which is what you get
//! running `sops` next to the file (and what editors and Flux's tooling do).
//! Paths are relative to the scanned root: a `.sops.yaml` above it is not
//! seen. In a history scan every blob is read once, so a file's facts come
//! from the commit that first introduced its content: the check prefers the
//! `.sops.yaml` version of that same commit, and otherwise uses every
//! version of the nearest `.sops.yaml` seen in the history (a file is
//! reported if one of them says it must be encrypted) — the commit graph
//! that would say which version was in force is not part of the facts.
//!
//! ## Why it matters
//!
//! The repository's own configuration says this file is encrypted before it
//! is committed; a plaintext copy means someone skipped `sops encrypt` (or
//! committed the decrypted file) and the secret is in Git.
//!
//! ## Example
//!
//! ```yaml
//! # .sops.yaml
//! creation_rules:
//!   - path_regex: \.yaml$
//!     encrypted_regex: ^(data|stringData)$
//! # apps/vault.yaml — kind: Secret, stringData in clear ← reported
//! ```
//!
//! ## Use instead
//!
//! `sops encrypt -i <file>` before committing (a pre-commit hook running
//! this scanner catches it), and rotate what was pushed in clear.

use super::Rule;
use super::facts::PlaintextSecretFile;
use super::selector::compile_go_regex;
use super::sops_config::{CreationRule, SopsConfig};
use super::{EncryptionFact, parent_dir};
use crate::detect::Fact;
use crate::detect::{FactRecord, RepoCheck};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity, Suppression};
use regex::Regex;

pub const RULE: Rule = Rule {
    id: "sops-creation-rule-unencrypted",
    name: "Plaintext file a .sops.yaml rule says to encrypt",
    category: Category::UnencryptedSops,
    severity: Severity::High,
    description: "A file holds secret material in clear (a Kubernetes Secret, a secret-named key, a value the secret rules flag, a *.enc.*/*secret* name) and the creation rule of the nearest .sops.yaml that SOPS would pick for it (first matching path_regex, relative to the .sops.yaml) says it must be SOPS-encrypted.",
    remediation: "Encrypt the file with `sops encrypt -i` before committing, and rotate what was pushed in clear.",
};

/// A `.sops.yaml` version with its path regexes compiled.
struct Compiled<'a> {
    config: &'a SopsConfig,
    path: &'a str,
    commit: Option<&'a str>,
    /// `None` regex: matches everything; `Err`: SOPS stops at this rule.
    rules: Vec<(&'a CreationRule, Option<Result<Regex, String>>)>,
}

impl Compiled<'_> {
    /// The rule SOPS picks for `rel` (relative to the config's directory).
    fn rule_for(&self, rel: &str) -> Option<&CreationRule> {
        for (rule, re) in &self.rules {
            match re {
                None => return Some(rule),
                Some(Err(_)) => return None,
                Some(Ok(re)) if re.is_match(rel) => return Some(rule),
                Some(Ok(_)) => {}
            }
        }
        None
    }
}

/// See the module documentation.
pub struct CreationRuleCheck;

impl RepoCheck for CreationRuleCheck {
    fn name(&self) -> &'static str {
        "sops-creation-rule"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![RULE.info()]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let configs: Vec<Compiled<'_>> = facts
            .iter()
            .filter_map(|r| match &r.fact {
                Fact::Encryption(EncryptionFact::SopsConfig(c)) => Some(Compiled {
                    config: c,
                    path: &r.path,
                    commit: r.commit.as_deref(),
                    rules: c
                        .rules
                        .iter()
                        .map(|rule| (rule, rule.path_regex.as_deref().map(compile_go_regex)))
                        .collect(),
                }),
                _ => None,
            })
            .collect();
        if configs.is_empty() {
            return;
        }
        for rec in facts {
            let Fact::Encryption(EncryptionFact::PlaintextSecretFile(file)) = &rec.fact else {
                continue;
            };
            if let Some(f) = check_file(&configs, rec, file) {
                out.push(f);
            }
        }
    }
}

fn check_file(
    configs: &[Compiled<'_>],
    rec: &FactRecord,
    file: &PlaintextSecretFile,
) -> Option<Finding> {
    let mut dir = parent_dir(&rec.path);
    loop {
        let versions: Vec<&Compiled<'_>> = configs.iter().filter(|c| c.config.dir == dir).collect();
        if !versions.is_empty() {
            let same: Vec<&Compiled<'_>> = versions
                .iter()
                .copied()
                .filter(|c| c.commit == rec.commit.as_deref())
                .collect();
            let chosen = if same.is_empty() { versions } else { same };
            let rel = if dir.is_empty() {
                rec.path.as_str()
            } else {
                &rec.path[dir.len() + 1..]
            };
            let (config, rule) = chosen
                .iter()
                .find_map(|c| c.rule_for(rel).map(|r| (*c, r)))?;
            return Some(finding(rec, file, config, rule));
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

fn finding(
    rec: &FactRecord,
    file: &PlaintextSecretFile,
    config: &Compiled<'_>,
    rule: &CreationRule,
) -> Finding {
    let which = match &rule.path_regex {
        Some(re) => format!("`path_regex: {re}`"),
        None => "no `path_regex`: it matches every file".to_string(),
    };
    let selector = rule
        .selector
        .as_ref()
        .map(|s| format!(", `{s}`"))
        .unwrap_or_default();
    let commit = rec
        .commit
        .as_deref()
        .map(|c| format!(" (in commit {})", &c[..c.len().min(12)]))
        .unwrap_or_default();
    let mut f = RULE
        .finding(
            format!(
                "this file holds secret material ({}) but is not SOPS-encrypted, although creation rule #{} of `{}` ({which}{selector}) says it must be{commit}",
                file.what,
                rule.index + 1,
                config.path,
            ),
            Location {
                path: rec.path.clone(),
                line: file.line,
                column: 1,
                end_line: file.line,
                end_column: 1,
            },
        )
        .with_identity(format!("{}#{}", config.path, rule.index));
    if file
        .ignored
        .iter()
        .any(|i| i == RULE.id || i == RULE.category.as_str() || i == "all")
    {
        f.suppressed = Some(Suppression::Annotation { reason: None });
    }
    f
}
