//! Detectors: pure functions from a blob's bytes to findings and facts.
//!
//! No detector reads files or Git: sources do all I/O and hand each blob to
//! every detector as an [`Input`]. That keeps detectors testable on byte
//! strings and lets every source (working tree, history, ranges, staged,
//! pushed) reuse all of them.

pub mod decode;
pub mod doc_memo;
pub mod encryption;
pub mod k8s;
pub mod keyword_cache;
pub mod placeholder;
pub mod policy;
pub mod secrets;
pub mod shared_map;
pub mod suppress;

use crate::finding::{Finding, Location};
use crate::manifest::{
    Chunk, Document, Limits, Span, YamlError, document_chunks, parse_chunk, parse_documents,
};
use crate::rules::RuleSet;
pub use doc_memo::DocMemo;
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
    /// The stream cut at its `---` lines, each document parsed on demand
    /// (`None`: not cut, see [`document_chunks`]).
    chunks: OnceLock<Option<Vec<ChunkSlot>>>,
    /// The last column computed on a long line, so that the next one on the
    /// same line is counted from there: findings come in line order, and
    /// counting every column from the line start made a 9 MB one-line file
    /// with thousands of tokens quadratic.
    col_cursor: std::sync::Mutex<ColCursor>,
}

/// A known (byte offset, character column) pair on the line starting at `line_start`.
#[derive(Clone, Copy, Default)]
struct ColCursor {
    line_start: usize,
    offset: usize,
    /// Characters from `line_start` to `offset` (0-based column of `offset`).
    col: usize,
}

/// Columns nearer than this to their line start are counted from it.
const CURSOR_MIN: usize = 256;

/// One document of the stream and its parse, if some detector asked for it.
struct ChunkSlot {
    chunk: Chunk,
    /// `Ok(None)`: the chunk did not hold one document; parse the whole text.
    docs: OnceLock<Result<Option<Vec<Document>>, YamlError>>,
}

impl<'a> Input<'a> {
    pub fn new(path: &'a str, bytes: &'a [u8]) -> Input<'a> {
        Input {
            path,
            bytes,
            line_starts: OnceLock::new(),
            text: OnceLock::new(),
            documents: OnceLock::new(),
            chunks: OnceLock::new(),
            col_cursor: std::sync::Mutex::new(ColCursor::default()),
        }
    }

    /// Whether the file is JSON by name (`.json`, any case).
    pub fn is_json(&self) -> bool {
        self.has_extension(".json")
    }

    /// Whether the file name ends with `ext`, ASCII case ignored (no
    /// allocation: every detector asks, for every blob).
    fn has_extension(&self, ext: &str) -> bool {
        let name = self.file_name().as_bytes();
        name.len() >= ext.len()
            && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    }

    /// [`mentions_kind`], or [`mentions_json_kind`] for a `.json` file.
    pub fn mentions_kind(&self, bytes: &[u8], kind: &str) -> bool {
        if self.is_json() {
            mentions_json_kind(bytes, kind)
        } else {
            mentions_kind(bytes, kind)
        }
    }

    /// Whether the file is YAML or JSON by name (`.yaml`, `.yml`, `.json`).
    pub fn is_yaml_or_json(&self) -> bool {
        self.has_extension(".yaml") || self.has_extension(".yml") || self.is_json()
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

    /// The documents whose text satisfies `pred` (a cheap byte check such
    /// as [`mentions_kind`]), parsing only those: a 2 MB bundle of CRDs with
    /// one `kind: Secret` costs the parse of that one document. A document's
    /// text is its span, or, when the stream is cut at its `---` lines, up
    /// to the next `---` (trailing comments included). `None` as for
    /// [`Input::documents`] when a selected document is not YAML or is
    /// refused (other documents are not looked at).
    pub fn documents_where<'s>(
        &'s self,
        pred: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<&'s Document>> {
        let text = self.text()?;
        let filter_whole = |docs: &'s [Document]| -> Vec<&'s Document> {
            docs.iter()
                .filter(|d| pred(&self.bytes[d.span.range()]))
                .collect()
        };
        match self.documents.get() {
            Some(Ok(docs)) => return Some(filter_whole(docs)),
            // Refused as hostile: no second try one document at a time.
            Some(Err(e)) if e.is_limit() => return None,
            // Not YAML as a whole (one broken document, a template): the
            // selected documents may still be.
            Some(Err(_)) | None => {}
        }
        let Some(slots) = self.chunk_slots() else {
            // One document: the text is its text.
            if !pred(self.bytes) {
                return Some(Vec::new());
            }
            return self.documents().map(filter_whole);
        };
        let mut out = Vec::new();
        for slot in slots {
            if !pred(&self.bytes[slot.chunk.range.clone()]) {
                continue;
            }
            match slot.parse(text) {
                Ok(Some(docs)) => out.extend(docs.iter()),
                Ok(None) => return self.documents().map(filter_whole),
                Err(_) => return None,
            }
        }
        Some(out)
    }

    /// Run a document-local check on the documents `pred` selects (as
    /// [`Input::documents_where`]), one document at a time, and return what
    /// it found. With a [`DocMemo`] (history scans) a document whose text
    /// was checked before, in another version of the file, is not parsed
    /// again: its findings are replayed at its new lines. `f` must depend on
    /// nothing but the documents it is given (positions come from their
    /// spans); facts it makes are remembered with it when the memo can move
    /// them to the document's next place (policy facts), otherwise passed
    /// through and the document is checked again next time. Adds
    /// nothing to `out` when a selected document is not YAML (as
    /// `documents_where` gives `None`).
    pub fn check_documents<'s>(
        &'s self,
        memo: Option<&DocMemo>,
        detector: &'static str,
        pred: impl Fn(&[u8]) -> bool,
        f: impl FnMut(&[&'s Document], &mut Output),
        out: &mut Output,
    ) {
        if let Some(found) = self.check_documents_inner(memo, detector, pred, f) {
            out.findings.extend(found.findings);
            out.facts.extend(found.facts);
        }
    }

    fn check_documents_inner<'s>(
        &'s self,
        memo: Option<&DocMemo>,
        detector: &'static str,
        pred: impl Fn(&[u8]) -> bool,
        mut f: impl FnMut(&[&'s Document], &mut Output),
    ) -> Option<Output> {
        let mut out = Output::default();
        let (Some(memo), Some(text)) = (memo, self.text()) else {
            return self.check_whole(&pred, &mut f);
        };
        match self.documents.get() {
            Some(Err(e)) if e.is_limit() => return None,
            Some(Ok(_)) => return self.check_whole(&pred, &mut f),
            _ => {}
        }
        let Some(slots) = self.chunk_slots() else {
            return self.check_whole(&pred, &mut f);
        };
        for slot in slots {
            let bytes = &self.bytes[slot.chunk.range.clone()];
            if !pred(bytes) {
                continue;
            }
            let key = DocMemo::key(detector, bytes);
            match memo.recall(&key, self.path, slot.chunk.line0) {
                Some(Ok((findings, facts))) => {
                    out.findings.extend(findings);
                    out.facts.extend(facts);
                    continue;
                }
                Some(Err(())) => return None,
                None => {}
            }
            match slot.parse(text) {
                Ok(Some(docs)) => {
                    let refs: Vec<&Document> = docs.iter().collect();
                    let mut one = Output::default();
                    f(&refs, &mut one);
                    memo.remember(key, &one.findings, &one.facts, slot.chunk.line0);
                    out.findings.extend(one.findings);
                    out.facts.extend(one.facts);
                }
                Ok(None) => return self.check_whole(&pred, &mut f),
                Err(e) => {
                    if !e.is_limit() {
                        memo.remember_not_yaml(key);
                    }
                    return None;
                }
            }
        }
        Some(out)
    }

    /// [`Input::check_documents`] without a memo: every selected document at once.
    fn check_whole<'s>(
        &'s self,
        pred: &dyn Fn(&[u8]) -> bool,
        f: &mut dyn FnMut(&[&'s Document], &mut Output),
    ) -> Option<Output> {
        let docs = self.documents_where(pred)?;
        let mut out = Output::default();
        f(&docs, &mut out);
        Some(out)
    }

    /// The documents holding any of `lines` (1-based) whose text satisfies
    /// `pred`, parsing only those.
    pub fn documents_at_lines(
        &self,
        lines: &[usize],
        pred: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<&Document>> {
        let text = self.text()?;
        match self.documents.get() {
            Some(Ok(docs)) => return Some(docs.iter().collect()),
            Some(Err(e)) if e.is_limit() => return None,
            // Not YAML as a whole: the documents may still be, one by one
            // (as for `documents_where`).
            Some(Err(_)) | None => {}
        }
        let Some(slots) = self.chunk_slots() else {
            if !pred(self.bytes) {
                return Some(Vec::new());
            }
            return self.documents().map(|d| d.iter().collect());
        };
        let mut out = Vec::new();
        for (k, slot) in slots.iter().enumerate() {
            let first = slot.chunk.line0 + 1;
            let next = slots.get(k + 1).map_or(usize::MAX, |n| n.chunk.line0 + 1);
            if !lines.iter().any(|l| (first..next).contains(l))
                || !pred(&self.bytes[slot.chunk.range.clone()])
            {
                continue;
            }
            match slot.parse(text) {
                Ok(Some(docs)) => out.extend(docs.iter()),
                Ok(None) => return self.documents().map(|d| d.iter().collect()),
                Err(_) => {}
            }
        }
        Some(out)
    }

    /// The documents parsed so far, whole or one by one (nothing is parsed).
    pub fn parsed_documents(&self) -> Vec<&Document> {
        if let Some(whole) = self.documents.get() {
            return whole
                .as_ref()
                .map(|d| d.iter().collect())
                .unwrap_or_default();
        }
        let Some(Some(slots)) = self.chunks.get() else {
            return Vec::new();
        };
        slots
            .iter()
            .filter_map(|s| match s.docs.get() {
                Some(Ok(Some(d))) => Some(d),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn chunk_slots(&self) -> Option<&[ChunkSlot]> {
        self.chunks
            .get_or_init(|| {
                let chunks = document_chunks(self.text()?)?;
                Some(
                    chunks
                        .into_iter()
                        .map(|chunk| ChunkSlot {
                            chunk,
                            docs: OnceLock::new(),
                        })
                        .collect(),
                )
            })
            .as_deref()
    }

    /// Whether some detector already parsed documents (so using them is free).
    pub fn documents_parsed(&self) -> bool {
        self.documents.get().is_some()
            || matches!(self.chunks.get(), Some(Some(slots)) if slots.iter().any(|s| s.docs.get().is_some()))
    }

    /// Whether parsing was attempted and refused as hostile or too costly
    /// (a YAML bomb, 1,000-level nesting): the scan counts it as a skip.
    pub fn yaml_refused(&self) -> bool {
        let refused = |r: Option<&YamlError>| r.is_some_and(YamlError::is_limit);
        refused(self.documents.get().and_then(|r| r.as_ref().err()))
            || matches!(self.chunks.get(), Some(Some(slots))
                if slots.iter().any(|s| refused(s.docs.get().and_then(|r| r.as_ref().err()))))
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
        if offset - start < CURSOR_MIN {
            return (line, char_count(&self.bytes[start..offset]) + 1);
        }
        let mut cur = self.col_cursor.lock().unwrap_or_else(|p| p.into_inner());
        // Character counts add up over adjacent byte ranges, whatever the
        // bytes: count from the cursor when it is on this line and nearer.
        let col = if cur.line_start == start && offset >= cur.offset {
            cur.col + char_count(&self.bytes[cur.offset..offset])
        } else if cur.line_start == start && cur.offset - offset < offset - start {
            cur.col - char_count(&self.bytes[offset..cur.offset])
        } else {
            char_count(&self.bytes[start..offset])
        };
        *cur = ColCursor {
            line_start: start,
            offset,
            col,
        };
        (line, col + 1)
    }

    /// The byte offset of 0-based character column `col` on 1-based `line`
    /// (the inverse of [`Input::line_col`]; the line end if the line is
    /// shorter). Counted from the last column asked on the same line when
    /// that is before it, so walking a long line's findings in order is linear.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let starts = self.line_starts();
        let Some(&start) = starts.get(line.max(1) - 1) else {
            return self.bytes.len();
        };
        let end = starts.get(line).map_or(self.bytes.len(), |s| s - 1);
        let nth_char = |from: usize, n: usize| {
            self.bytes[from..end]
                .iter()
                .enumerate()
                .filter(|(_, b)| (**b & 0xC0) != 0x80)
                .nth(n)
                .map_or(end, |(i, _)| from + i)
        };
        if col < CURSOR_MIN {
            return nth_char(start, col);
        }
        let mut cur = self.col_cursor.lock().unwrap_or_else(|p| p.into_inner());
        let at = if cur.line_start == start && cur.col <= col && cur.offset <= end {
            nth_char(cur.offset, col - cur.col)
        } else {
            nth_char(start, col)
        };
        if at < end {
            *cur = ColCursor {
                line_start: start,
                offset: at,
                col,
            };
        }
        at
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

impl ChunkSlot {
    fn parse(&self, text: &str) -> &Result<Option<Vec<Document>>, YamlError> {
        self.docs
            .get_or_init(|| parse_chunk(text, &self.chunk, &Limits::default()))
    }
}

/// [`mentions_kind`] in JSON: only `"kind": "Secret"` counts (a JSON file
/// may hold YAML as text, a search index or a schema that says
/// `kind: Secret` inside a string).
pub fn mentions_json_kind(bytes: &[u8], kind: &str) -> bool {
    memchr::memmem::find_iter(bytes, kind.as_bytes()).any(|i| {
        if i == 0 || bytes[i - 1] != b'"' || bytes.get(i + kind.len()) != Some(&b'"') {
            return false;
        }
        let before = bytes[i.saturating_sub(32)..i - 1].trim_ascii_end();
        let Some(before) = before.strip_suffix(b":") else {
            return false;
        };
        before.trim_ascii_end().ends_with(b"\"kind\"")
    })
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

/// Whether the text is a CustomResourceDefinition (a root-level
/// `kind: CustomResourceDefinition` line): a schema, whose descriptions
/// mention `containers`, `env` and `Secret` everywhere but which holds no
/// workload or value to check. Manifest detectors skip such documents
/// before parsing them (they are the biggest documents there are).
pub fn is_crd_text(bytes: &[u8]) -> bool {
    const LINE: &[u8] = b"kind: CustomResourceDefinition";
    let ends_line =
        |i: usize| matches!(bytes.get(i + LINE.len()), None | Some(b'\r' | b'\n' | b' '));
    (bytes.starts_with(LINE) && ends_line(0))
        || memchr::memmem::find_iter(bytes, LINE)
            .any(|i| i > 0 && bytes[i - 1] == b'\n' && ends_line(i))
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
    /// Keyword hits remembered across blobs (history scans), if enabled.
    pub keyword_cache: Option<&'a keyword_cache::KeywordCache>,
    /// Findings of document-local checks by document text (history scans).
    pub doc_memo: Option<&'a DocMemo>,
    /// Rules not wanted although their category is (`ScanOptions::skip_rules`).
    pub skip_rules: &'a [String],
}

impl Context<'_> {
    /// Whether rule `id` is wanted (a detector may skip the work for it).
    pub fn wants_rule(&self, id: &str) -> bool {
        !self.skip_rules.iter().any(|r| r == id)
    }
}

/// A fact with where it came from.
#[derive(Clone, Debug)]
pub struct FactRecord {
    pub path: String,
    pub commit: Option<String>,
    pub fact: Fact,
}

/// Repo-level checks work on the facts every blob emitted, never by re-reading.
pub trait RepoCheck: Send + Sync {
    fn name(&self) -> &'static str;
    /// The rules this check reports.
    fn rules(&self) -> Vec<crate::finding::RuleInfo> {
        Vec::new()
    }
    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>);
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
    let mut v: Vec<Box<dyn Detector>> = vec![Box::new(secrets::SecretRules::new(config))];
    v.extend(k8s::detectors(config));
    v.extend(encryption::detectors(config));
    v.extend(policy::detectors(config));
    v
}

/// Every repo-level check, configured.
pub fn all_repo_checks(config: &crate::config::Config) -> Vec<Box<dyn RepoCheck>> {
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
    fn rules(&self) -> Vec<crate::finding::RuleInfo> {
        Vec::new()
    }
    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output);
    /// Whether the detector matches raw bytes and so also runs on binary
    /// blobs (a token is a token in a `.env` that starts with NUL, or in an
    /// archive stored uncompressed). Structure-aware detectors need text:
    /// they are not given binary blobs at all (nothing is parsed).
    fn reads_bytes(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;

    /// `line_col` and `offset_of` agree with counting from the line start,
    /// in any order of calls (the cursor is only a shortcut).
    #[test]
    fn columns_on_a_long_line_match_counting_from_the_start() {
        let mut line = String::from("x\n");
        for i in 0..400 {
            line.push_str(if i % 3 == 0 { "é€ab" } else { "abcd" });
        }
        line.push('\n');
        let input = Input::new("p", line.as_bytes());
        let start = 2;
        let offsets: Vec<usize> = line
            .char_indices()
            .map(|(i, _)| i)
            .filter(|&i| i >= start && i < line.len() - 1)
            .collect();
        let mut order: Vec<usize> = (0..offsets.len()).step_by(7).collect();
        order.extend((0..offsets.len()).rev().step_by(5));
        for k in order {
            let off = offsets[k];
            let want = line[start..off].chars().count();
            assert_eq!(input.line_col(off), (2, want + 1), "offset {off}");
            assert_eq!(input.offset_of(2, want), off, "column {want}");
        }
        assert_eq!(input.offset_of(2, 100_000), line.len() - 1);
        assert_eq!(input.offset_of(9, 0), line.len());
    }
}

#[cfg(test)]
mod document_selection_tests {
    use super::*;

    const BUNDLE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n\
        ---\nkind: Secret\nmetadata:\n  name: é\nstringData:\n  k: v\n\
        ---\nkind: Broken\nspec: [unclosed\n\
        ---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {}\n";

    #[test]
    fn only_the_selected_documents_are_parsed_with_whole_file_positions() {
        let input = Input::new("bundle.yaml", BUNDLE.as_bytes());
        let docs = input
            .documents_where(|d| mentions_kind(d, "Secret"))
            .expect("the Secret document parses although another does not");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].index, 1);
        let name = docs[0].root.get_path(&["metadata", "name"]).unwrap();
        assert_eq!((name.span.line, name.span.column), (7, 9));
        assert_eq!(&BUNDLE[name.span.range()], "é");
        assert!(input.documents_parsed());
        assert_eq!(input.parsed_documents().len(), 1);
        // The whole file is not YAML (document 3), so a whole parse fails.
        assert!(input.documents().is_none());
        // Selecting the broken document says so.
        let input = Input::new("bundle.yaml", BUNDLE.as_bytes());
        assert!(
            input
                .documents_where(|d| mentions_kind(d, "Broken"))
                .is_none()
        );
    }

    #[test]
    fn a_whole_parse_is_filtered_the_same_way() {
        let text = BUNDLE.replace("spec: [unclosed", "spec: [closed]");
        let input = Input::new("bundle.yaml", text.as_bytes());
        assert_eq!(input.documents().map(<[Document]>::len), Some(4));
        let docs = input
            .documents_where(|d| mentions_kind(d, "Secret"))
            .unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].index, 1);
        // Documents holding given lines (annotation suppressions).
        let input = Input::new("bundle.yaml", text.as_bytes());
        let at = input.documents_at_lines(&[2, 9], |_| true).unwrap();
        assert_eq!(at.iter().map(|d| d.index).collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn crds_are_known_by_their_root_kind_line() {
        assert!(is_crd_text(
            b"apiVersion: x\nkind: CustomResourceDefinition\n"
        ));
        assert!(is_crd_text(b"kind: CustomResourceDefinition"));
        assert!(!is_crd_text(b"items:\n- kind: CustomResourceDefinition\n"));
        assert!(!is_crd_text(b"kind: CustomResourceDefinitionList\n"));
    }
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
