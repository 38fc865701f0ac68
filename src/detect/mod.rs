//! Detectors: pure functions from a blob's bytes to findings and facts.
//!
//! No detector reads files or Git: sources do all I/O and hand each blob to
//! every detector as an [`Input`]. That keeps detectors testable on byte
//! strings and lets every source (working tree, history, ranges, staged,
//! pushed) reuse all of them.

pub mod encryption;
pub mod k8s;
pub mod placeholder;
pub mod policy;
pub mod secrets;

use crate::finding::{Finding, Location};
use crate::manifest::{Document, Limits, Span, YamlError, parse_documents};
use crate::rules::RuleSet;
use std::sync::OnceLock;

/// One blob as detectors see it, with lazily built views (line index, UTF-8
/// text) so each is computed at most once per blob, and only if some
/// detector asks.
pub struct Input<'a> {
    pub path: &'a str,
    pub bytes: &'a [u8],
    line_starts: OnceLock<Vec<usize>>,
    text: OnceLock<Option<&'a str>>,
    documents: OnceLock<Result<Vec<Document>, YamlError>>,
}

impl<'a> Input<'a> {
    pub fn new(path: &'a str, bytes: &'a [u8]) -> Input<'a> {
        Input {
            path,
            bytes,
            line_starts: OnceLock::new(),
            text: OnceLock::new(),
            documents: OnceLock::new(),
        }
    }

    /// Whether the file is YAML or JSON by name (`.yaml`, `.yml`, `.json`).
    pub fn is_yaml_or_json(&self) -> bool {
        let name = self.file_name().to_ascii_lowercase();
        name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
    }

    /// The blob parsed as (multi-document) YAML or JSON, at most once per
    /// blob however many detectors ask. `None` when it is not valid UTF-8,
    /// not YAML (a Helm template: detectors fall back to line rules
    /// silently), or refused by the parser's limits (see [`Input::yaml_refused`]).
    pub fn documents(&self) -> Option<&[Document]> {
        let text = self.text()?;
        self.documents
            .get_or_init(|| parse_documents(text, &Limits::default()))
            .as_ref()
            .ok()
            .map(Vec::as_slice)
    }

    /// Whether some detector already parsed the documents (so using them is free).
    pub fn documents_parsed(&self) -> bool {
        self.documents.get().is_some()
    }

    /// Whether parsing was attempted and refused as hostile or too costly
    /// (a YAML bomb, 1,000-level nesting): the scan counts it as a skip.
    pub fn yaml_refused(&self) -> bool {
        matches!(self.documents.get(), Some(Err(e)) if e.is_limit())
    }

    /// The location of a YAML node's span.
    pub fn span_location(&self, span: &Span) -> Location {
        self.location(span.start, span.end)
    }

    /// The blob as UTF-8 (a leading BOM kept), or `None` when it is not valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        *self
            .text
            .get_or_init(|| std::str::from_utf8(self.bytes).ok())
    }

    /// The file name (last path component).
    pub fn file_name(&self) -> &'a str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut v = Vec::with_capacity(self.bytes.len() / 40 + 1);
            v.push(0);
            v.extend(memchr::memchr_iter(b'\n', self.bytes).map(|i| i + 1));
            v
        })
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let starts = self.line_starts();
        match starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte range of the line (without its `\n` or `\r\n`) holding `offset`.
    pub fn line_bounds(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts();
        let line = self.line_of(offset.min(self.bytes.len()));
        let start = starts[line - 1];
        let mut end = starts.get(line).map(|s| s - 1).unwrap_or(self.bytes.len());
        if end > start && self.bytes[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end.max(start))
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.bytes.len());
        let line = self.line_of(offset);
        let start = self.line_starts()[line - 1];
        (line, char_count(&self.bytes[start..offset]) + 1)
    }

    /// The location of the byte range `start..end`.
    pub fn location(&self, start: usize, end: usize) -> Location {
        let (line, column) = self.line_col(start);
        let (end_line, end_column) = self.line_col(end.max(start));
        Location {
            path: self.path.to_string(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Whether `kind` appears as a Kubernetes kind (`kind: Secret`,
/// `"kind": "Secret"`, `kind: 'Secret'`): a cheap byte check before anything
/// is parsed. The word alone is everywhere (`secretName`, `existingSecret`,
/// CRD descriptions that mention Secrets), and parsing is what costs.
pub fn mentions_kind(bytes: &[u8], kind: &str) -> bool {
    memchr::memmem::find_iter(bytes, kind.as_bytes()).any(|i| {
        let before = &bytes[i.saturating_sub(16)..i];
        let trimmed = before
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'"' | b'\'' | b':'))
            .map_or(&before[..0], |p| &before[..=p]);
        let after = bytes.get(i + kind.len()).copied();
        trimmed.ends_with(b"kind") && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

/// Characters in a byte string that may not be valid UTF-8: every byte that
/// is not a UTF-8 continuation byte starts a character.
pub fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// What detectors may consult besides the blob: the compiled rules (so a
/// manifest detector can run them on decoded Secret data).
pub struct Context<'a> {
    pub rules: &'a RuleSet,
}

/// Small, per-file facts for repo-level checks (`.sops.yaml` rules, Flux
/// decryption paths, NetworkPolicy coverage). Detector families add variants.
#[derive(Clone, Debug)]
pub enum Fact {
    K8s(k8s::K8sFact),
    Encryption(encryption::EncryptionFact),
    Policy(policy::PolicyFact),
}

/// Every detector, configured: the secret rules first, then each family.
pub fn all(config: &crate::config::Config) -> Vec<Box<dyn Detector>> {
    let mut v: Vec<Box<dyn Detector>> = vec![Box::new(secrets::SecretRules)];
    v.extend(k8s::detectors(config));
    v.extend(encryption::detectors(config));
    v.extend(policy::detectors(config));
    v
}

/// Every repo-level check, configured.
pub fn all_repo_checks(config: &crate::config::Config) -> Vec<Box<dyn crate::scan::RepoCheck>> {
    let mut v = k8s::repo_checks(config);
    v.extend(encryption::repo_checks(config));
    v.extend(policy::repo_checks(config));
    v
}

/// Where a detector puts what it found.
#[derive(Default, Debug)]
pub struct Output {
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

pub trait Detector: Send + Sync {
    /// Stable name, for stats and errors.
    fn name(&self) -> &'static str;
    /// The rules/checks this detector reports, beyond the secret rule set
    /// (for `rules list`, `rules explain` and SARIF metadata).
    fn rules(&self) -> Vec<crate::report::RuleInfo> {
        Vec::new()
    }
    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_bytes() {
        assert!(mentions_kind(b"apiVersion: v1\nkind: Secret\n", "Secret"));
        assert!(mentions_kind(br#"{"kind":"Secret"}"#, "Secret"));
        assert!(mentions_kind(b"kind: 'Secret'", "Secret"));
        assert!(!mentions_kind(
            b"secretName: x\nexistingSecret: y\n",
            "Secret"
        ));
        assert!(!mentions_kind(
            b"description: a Secret holds data",
            "Secret"
        ));
        assert!(!mentions_kind(b"kind: SecretStore", "Secret"));
    }

    #[test]
    fn lines_and_columns() {
        let text = "a: 1\r\nbé: xyz\nlast";
        let input = Input::new("f.yaml", text.as_bytes());
        let off = text.find("xyz").unwrap();
        assert_eq!(input.line_col(off), (2, 5));
        assert_eq!(input.line_bounds(0), (0, 4));
        let (s, e) = input.line_bounds(off);
        assert_eq!(&text[s..e], "bé: xyz");
        assert_eq!(input.line_col(text.len()), (3, 5));
        assert_eq!(input.line_of(0), 1);
    }
}
