//! `kustomize-secret-literal` and `kustomize-secret-file`: Kustomize
//! `secretGenerator`s fed from plaintext committed next to them.
//!
//! ## What it does
//!
//! In `kustomization.yaml`, `kustomization.yml` and `Kustomization` files:
//!
//! - **`kustomize-secret-literal`** (high): each `secretGenerator[].literals`
//!   item `KEY=value` whose value is not empty, not a placeholder and not a
//!   descriptive field (`username`, `host`, `url` without a password, … as
//!   for `plaintext-secret-manifest`). Points at the value.
//! - **`kustomize-secret-file`** (high, a repo-level check): each
//!   `secretGenerator[].envs` (and the older `env`) and `files` entry whose
//!   file, resolved relative to the kustomization, is in the scanned set, is
//!   not empty and is **not SOPS-encrypted**. Flux's kustomize-controller
//!   decrypts SOPS-encrypted `envs`/`files` sources itself, so an encrypted
//!   file is the right way to do this and stays quiet; a file that is not in
//!   the scan at all (git-ignored, produced by CI) is quiet too.
//!
//! To make the second possible without reading files, this detector emits a
//! [`K8sFact::File`] for *every* scanned file (is it SOPS-encrypted — a byte
//! check, see [`is_sops_encrypted`] — and is it empty) and a
//! [`K8sFact::GeneratorSource`] per `envs`/`files` entry; [`GeneratorFileCheck`]
//! joins them by path. In a history scan the join is by path across commits:
//! a file that was committed in plaintext in any version is reported.
//!
//! ## Example
//!
//! ```yaml
//! secretGenerator:
//! - name: db
//!   literals:
//!   - password=hunter2           # kustomize-secret-literal
//!   envs:
//!   - db.env                     # kustomize-secret-file, if db.env is plaintext
//! ```
//!
//! ## Use instead
//!
//! Encrypt the `envs`/`files` sources with SOPS (Flux decrypts them), or
//! generate the Secret outside Git (External Secrets, Sealed Secrets).

use super::plaintext_secret_manifest::is_exempt;
use super::{K8sFact, rule_info, what_leaked};
use crate::detect::placeholder::is_placeholder;
use crate::detect::suppress::{IGNORE_ANNOTATION, INLINE_ALLOW, INLINE_ALLOW_NEXT};
use crate::detect::{Context, Detector, Fact, Input, Output};
use crate::detect::{FactRecord, RepoCheck};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Location, Severity, Snippet, Suppression};
use crate::manifest::Node;
use std::collections::{HashMap, HashSet};

pub const RULE: &str = "kustomize-secret-literal";
pub const FILE_RULE: &str = "kustomize-secret-file";

/// A `secretGenerator` entry that reads a file: the fact the repo check joins.
#[derive(Clone, Debug)]
pub struct GeneratorSource {
    /// The generator's `name`.
    pub generator: String,
    /// `envs`, `env` or `files`.
    pub field: &'static str,
    /// The file as written in the kustomization.
    pub written: String,
    /// The file's path in the scan, resolved relative to the kustomization.
    pub resolved: String,
    /// The entry's source line (at most 160 characters), for the code frame
    /// of the repo check's finding: a file path, never a value.
    pub line_text: String,
    /// Already suppressed where it is written: an inline allow comment on
    /// (or before) its line, or a `gitops-guard.io/ignore` annotation on the
    /// kustomization. The repo check's findings do not pass through the
    /// per-blob pipeline that applies these, so the detector records them.
    pub suppressed: Option<Suppression>,
    /// Where the entry is written in the kustomization.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub struct KustomizeSecretLiteral;

/// Whether a file name is a Kustomize kustomization.
pub fn is_kustomization(file_name: &str) -> bool {
    matches!(
        file_name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// A cheap byte check for a SOPS-encrypted file in any of SOPS's formats:
/// YAML (`sops:` block with `mac: ENC[`), JSON (`"sops":` with `"mac": "ENC[`),
/// dotenv (`sops_mac=ENC[`) and INI (`[sops]` with `mac = ENC[`). Whether
/// the values really are encrypted is the `unencrypted-sops` check's job.
pub fn is_sops_encrypted(bytes: &[u8]) -> bool {
    use memchr::memmem::find;
    if find(bytes, b"sops").is_none() || find(bytes, b"ENC[").is_none() {
        return false;
    }
    if find(bytes, b"sops_mac=ENC[").is_some() {
        return true;
    }
    let mac_enc = find(bytes, b"mac: ENC[").is_some()
        || find(bytes, b"\"mac\": \"ENC[").is_some()
        || find(bytes, b"\"mac\":\"ENC[").is_some()
        || find(bytes, b"mac = ENC[").is_some();
    mac_enc
        && (find(bytes, b"sops:").is_some()
            || find(bytes, b"\"sops\":").is_some()
            || find(bytes, b"[sops]").is_some())
}

/// Join `rel` to the directory of `base` and normalise `.` and `..`.
/// `None` for absolute paths, URLs, and paths that leave the scan root.
/// The base is normalised too: a path from a crafted tree or a hostile push
/// may itself hold `.` or `..` (fuzzing found `../a/kustomization.yaml`
/// resolving to a path outside the root).
pub fn resolve(base: &str, rel: &str) -> Option<String> {
    if rel.is_empty() || rel.starts_with('/') || rel.contains("://") {
        return None;
    }
    let dir = base.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut parts: Vec<&str> = Vec::new();
    for p in dir.split('/').chain(rel.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

impl Detector for KustomizeSecretLiteral {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![rule_info(
            RULE,
            "Kustomize secretGenerator literal",
            Category::KustomizeSecretLiteral,
            Severity::High,
            "A Kustomize secretGenerator has a `literals` entry KEY=value: the generated \
             Secret's value is committed in plaintext.",
            "Move the value into a SOPS-encrypted `envs`/`files` source (Flux decrypts it) or \
             out of Git (External Secrets, Sealed Secrets); rotate the committed value.",
        )]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        let empty = input.bytes.iter().all(u8::is_ascii_whitespace);
        out.facts.push(Fact::K8s(K8sFact::File {
            sops: !empty && is_sops_encrypted(input.bytes),
            empty,
        }));
        if !is_kustomization(input.file_name())
            || memchr::memmem::find(input.bytes, b"secretGenerator").is_none()
        {
            return;
        }
        let Some(docs) = input.documents() else {
            return;
        };
        for doc in docs {
            let Some(generators) = doc.root.get("secretGenerator").and_then(Node::as_seq) else {
                continue;
            };
            for (i, g) in generators.iter().enumerate() {
                let name = g.get("name").and_then(Node::as_str).unwrap_or("");
                let label = if name.is_empty() {
                    format!("secretGenerator[{i}]")
                } else {
                    format!("secretGenerator \"{name}\"")
                };
                for lit in seq(g.get("literals")) {
                    check_literal(input, cx, &label, lit, out);
                }
                for field in ["envs", "env", "files"] {
                    let items: Vec<&Node> = match g.get(field) {
                        // `env: file.env` (the deprecated singular) is a scalar.
                        Some(n) if n.as_scalar().is_some() => vec![n],
                        other => seq(other).collect(),
                    };
                    for item in items {
                        emit_source(input, &doc.root, name, field, item, out);
                    }
                }
            }
        }
    }
}

fn seq(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    node.and_then(Node::as_seq).unwrap_or(&[]).iter()
}

fn check_literal(input: &Input<'_>, cx: &Context<'_>, label: &str, lit: &Node, out: &mut Output) {
    let Some(text) = lit.as_str() else { return };
    let Some(eq) = text.find('=') else {
        return;
    };
    let key = text[..eq].trim();
    let raw = &text[eq + 1..];
    // Kustomize strips one pair of surrounding quotes from the value.
    let mut start = eq + 1 + (raw.len() - raw.trim_start().len());
    let mut value = raw.trim();
    if value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')))
    {
        value = &value[1..value.len() - 1];
        start += 1;
    }
    if value.is_empty()
        || is_placeholder(value)
        || super::is_dummy_word(value)
        || super::is_word_placeholder(value)
    {
        return;
    }
    let (recognised, worst) = what_leaked(cx, value.as_bytes());
    if recognised.is_empty() && is_exempt(key, value) {
        return;
    }
    let what = match recognised.first() {
        Some(r) => format!(" ({} {r})", super::article(r)),
        None => String::new(),
    };
    let location = super::sub_location(input, lit, start..start + value.len());
    out.findings.push(
        Finding::new(
            RULE,
            Category::KustomizeSecretLiteral,
            worst.map_or(Severity::High, |w| w.max(Severity::High)),
            format!(
                "{label} has literal {key}{what} committed in plaintext; the generated Secret's \
                 value is in Git"
            ),
            location,
        )
        .with_secret(value.to_string()),
    );
}

fn emit_source(
    input: &Input<'_>,
    kustomization: &Node,
    generator: &str,
    field: &'static str,
    item: &Node,
    out: &mut Output,
) {
    let Some(text) = item.as_str() else { return };
    // `files` entries may be `key=path`.
    let path = match text.split_once('=') {
        Some((_, p)) if field == "files" => p.trim(),
        _ => text.trim(),
    };
    let Some(resolved) = resolve(input.path, path) else {
        return;
    };
    let loc = input.span_location(&item.span);
    let (ls, le) = input.line_bounds(item.span.start);
    let line_text: String = String::from_utf8_lossy(&input.bytes[ls..le])
        .chars()
        .take(160)
        .collect();
    let suppressed =
        inline_allow(input, ls, &line_text).or_else(|| ignored_by_annotation(kustomization));
    out.facts.push(Fact::K8s(K8sFact::GeneratorSource(Box::new(
        GeneratorSource {
            generator: generator.to_string(),
            field,
            written: path.to_string(),
            resolved,
            line_text,
            suppressed,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
        },
    ))));
}

/// An inline allow comment on the entry's line, or an allow-next-line
/// comment on the line before (the tokens of [`crate::detect::suppress::INLINE_ALLOW`]).
fn inline_allow(input: &Input<'_>, line_start: usize, line: &str) -> Option<Suppression> {
    let inline = |tok: &str| Suppression::Inline {
        token: tok.to_string(),
    };
    if let Some(tok) = INLINE_ALLOW.iter().find(|t| line.contains(*t)) {
        return Some(inline(tok));
    }
    if line_start == 0 {
        return None;
    }
    let (ps, pe) = input.line_bounds(line_start - 1);
    let prev = String::from_utf8_lossy(&input.bytes[ps..pe]);
    INLINE_ALLOW_NEXT
        .iter()
        .find(|t| prev.contains(*t))
        .map(|tok| inline(tok))
}

/// `gitops-guard.io/ignore: kustomize-secret-file[=reason]` (or the category
/// id, or `all`) on the kustomization's metadata.
fn ignored_by_annotation(kustomization: &Node) -> Option<Suppression> {
    let value = kustomization
        .get_path(&["metadata", "annotations", IGNORE_ANNOTATION])
        .and_then(Node::as_str)?;
    value.split(',').find_map(|item| {
        let (id, reason) = match item.split_once('=') {
            Some((id, r)) => (id.trim(), Some(r.trim().to_string())),
            None => (item.trim(), None),
        };
        let ours = [FILE_RULE, Category::KustomizeSecretLiteral.as_str(), "all"];
        ours.contains(&id)
            .then_some(Suppression::Annotation { reason })
    })
}

/// The repo-level half: `envs`/`files` sources that are committed plaintext.
pub struct GeneratorFileCheck;

impl RepoCheck for GeneratorFileCheck {
    fn name(&self) -> &'static str {
        FILE_RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![rule_info(
            FILE_RULE,
            "Kustomize secretGenerator reads a plaintext file",
            Category::KustomizeSecretLiteral,
            Severity::High,
            "A Kustomize secretGenerator `envs`/`files` entry points at a file that is committed \
             and not SOPS-encrypted, so the generated Secret's values are in Git.",
            "Encrypt the file with SOPS (Flux's kustomize-controller decrypts secretGenerator \
             sources), or keep it out of Git; rotate the committed values.",
        )]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let mut plaintext: HashMap<&str, bool> = HashMap::new();
        for r in facts {
            if let super::super::Fact::K8s(K8sFact::File { sops, empty }) = &r.fact {
                let p = plaintext.entry(r.path.as_str()).or_insert(false);
                *p |= !sops && !empty;
            }
        }
        let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
        for r in facts {
            let super::super::Fact::K8s(K8sFact::GeneratorSource(src)) = &r.fact else {
                continue;
            };
            if !plaintext
                .get(src.resolved.as_str())
                .copied()
                .unwrap_or(false)
            {
                continue;
            }
            if !seen.insert((
                r.path.as_str(),
                src.generator.as_str(),
                src.resolved.as_str(),
            )) {
                continue;
            }
            let generator = if src.generator.is_empty() {
                "secretGenerator".to_string()
            } else {
                format!("secretGenerator \"{}\"", src.generator)
            };
            let caret_start = src.column.saturating_sub(1);
            let caret_len = if src.end_line == src.line {
                src.end_column.saturating_sub(src.column)
            } else {
                src.line_text.chars().count().saturating_sub(caret_start)
            };
            let mut finding = Finding::new(
                FILE_RULE,
                Category::KustomizeSecretLiteral,
                Severity::High,
                format!(
                    "{generator} reads {} ({}{}), which is committed in plaintext (not \
                         SOPS-encrypted)",
                    src.written,
                    src.field,
                    if src.written == src.resolved {
                        String::new()
                    } else {
                        format!("; {} in the repository", src.resolved)
                    }
                ),
                Location {
                    path: r.path.clone(),
                    line: src.line,
                    column: src.column,
                    end_line: src.end_line,
                    end_column: src.end_column,
                },
            )
            .with_identity(format!(
                "secretGenerator[{}].{}[{}]",
                src.generator, src.field, src.resolved
            ));
            finding.suppressed = src.suppressed.clone();
            finding.snippet = Some(Snippet {
                text: src.line_text.clone(),
                caret_start,
                caret_len: caret_len.max(1),
            });
            out.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_paths() {
        assert_eq!(
            resolve("apps/db/kustomization.yaml", "db.env").as_deref(),
            Some("apps/db/db.env")
        );
        assert_eq!(
            resolve("apps/db/kustomization.yaml", "../shared/./x.env").as_deref(),
            Some("apps/shared/x.env")
        );
        assert_eq!(
            resolve("kustomization.yaml", "x.env").as_deref(),
            Some("x.env")
        );
        assert_eq!(resolve("kustomization.yaml", "../x.env"), None);
        assert_eq!(resolve("a/kustomization.yaml", "/etc/passwd"), None);
        assert_eq!(resolve("a/kustomization.yaml", "https://x/y"), None);
    }

    /// Fuzzing (fuzz/fuzz_targets/kustomization.rs) found a base that itself
    /// leaves the root; the result must never do so.
    #[test]
    fn resolve_never_leaves_the_root_even_from_a_hostile_base() {
        assert_eq!(resolve("../a/kustomization.yaml", "x.env"), None);
        assert_eq!(resolve("a/../../b/kustomization.yaml", "x.env"), None);
        assert_eq!(
            resolve("a/./b//kustomization.yaml", "x.env").as_deref(),
            Some("a/b/x.env")
        );
        assert_eq!(
            resolve("a/../b/kustomization.yaml", "../c/x.env").as_deref(),
            Some("c/x.env")
        );
    }

    #[test]
    fn sops_byte_check_in_every_format() {
        assert!(is_sops_encrypted(
            b"data: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    mac: ENC[AES256_GCM,data:m]\n"
        ));
        assert!(is_sops_encrypted(
            b"{\"data\": \"ENC[AES256_GCM,x]\", \"sops\": {\"mac\": \"ENC[AES256_GCM,m]\"}}"
        ));
        assert!(is_sops_encrypted(
            b"PASSWORD=ENC[AES256_GCM,data:x]\nsops_mac=ENC[AES256_GCM,data:m]\n"
        ));
        assert!(is_sops_encrypted(
            b"[db]\npassword = ENC[AES256_GCM,x]\n[sops]\nmac = ENC[AES256_GCM,m]\n"
        ));
        assert!(!is_sops_encrypted(b"PASSWORD=hunter2\n"));
        assert!(!is_sops_encrypted(b"# encrypt with sops: ENC[ later\n"));
        assert!(!is_sops_encrypted(b"sops:\n    mac: \"\"\npassword: x\n"));
    }
}
