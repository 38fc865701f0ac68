//! A YAML tree that remembers where every node was written.
//!
//! Why not `serde_yaml` or `saphyr`'s own loader: the first is deprecated and
//! neither keeps the byte offset, line and column of each value, which is what
//! lets a finding point at the offending value instead of at line 1 (the peers
//! kube-linter and kubeaudit do the latter). We drive `saphyr-parser`'s event
//! stream ourselves with an explicit stack, so that
//!
//! - no recursion depends on the input (deep nesting cannot overflow the stack,
//!   and is refused at [`Limits::max_depth`] long before it costs anything);
//! - anchors and aliases are expanded under a budget, so a "billion laughs"
//!   file is refused after a bounded amount of work ([`YamlError::AliasBomb`]);
//! - spans are converted from saphyr's character indices to byte offsets, which
//!   is what the rest of the scanner (and `&text[span.start..span.end]`) uses.
//!
//! The tree keeps mappings as written: entry order and duplicate keys are
//! preserved, scalars keep their text and style. Interpretation (null, bool,
//! int) is left to small helpers so detectors can tell `"true"` from `true`.

use saphyr_parser::{Event, Marker, Parser, ScanError, Tag};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

/// Where a node was written. Byte offsets index the text given to
/// [`parse_documents`]; line and column are 1-based, columns count characters
/// (not bytes), as editors and SARIF viewers expect.
///
/// For a collection the span runs from its first character (its anchor or tag
/// if it has one) to the end of its last entry; for a block scalar (`|`, `>`)
/// it starts at the indicator and ends after the last non-blank character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, in characters.
    pub column: usize,
    /// 1-based line of `end`.
    pub end_line: usize,
    /// 1-based column of `end` (exclusive), in characters.
    pub end_column: usize,
}

impl Span {
    /// The byte range, for slicing the original text.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// How a scalar was written. It matters: only plain scalars are resolved to
/// null/bool/int, and detectors treat a quoted `"true"` as a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// A scalar's decoded text (escapes resolved, block scalars folded) and style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    pub style: ScalarStyle,
}

impl Scalar {
    /// Whether this is a plain scalar the YAML 1.2 core schema reads as null
    /// (`~`, `null`, `Null`, `NULL` or nothing at all, as in `key:`).
    pub fn is_null(&self) -> bool {
        self.style == ScalarStyle::Plain
            && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    /// The text, unless the scalar is a plain null. `""` quoted is `Some("")`.
    pub fn as_str(&self) -> Option<&str> {
        if self.is_null() {
            None
        } else {
            Some(&self.text)
        }
    }

    /// A plain `true`/`false` (YAML 1.2 core schema: also `True`, `TRUE`, ...).
    /// `yes`/`on` are strings here; see [`Scalar::as_bool_yaml11`].
    pub fn as_bool(&self) -> Option<bool> {
        if self.style != ScalarStyle::Plain {
            return None;
        }
        match self.text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    /// A plain boolean as YAML 1.1 reads it, which is what Kubernetes does
    /// (`sigs.k8s.io/yaml` is built on go-yaml v2): `yes`, `on`, `y` are true.
    /// Policy checks should use this one, or `privileged: yes` would slip by.
    pub fn as_bool_yaml11(&self) -> Option<bool> {
        if let Some(b) = self.as_bool() {
            return Some(b);
        }
        if self.style != ScalarStyle::Plain {
            return None;
        }
        match self.text.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
            _ => None,
        }
    }

    /// A plain integer of the YAML 1.2 core schema: decimal with optional
    /// sign, `0o` octal or `0x` hexadecimal. `None` on overflow.
    pub fn as_i64(&self) -> Option<i64> {
        if self.style != ScalarStyle::Plain {
            return None;
        }
        let t = self.text.as_str();
        if let Some(oct) = t.strip_prefix("0o") {
            return parse_digits(oct, 8);
        }
        if let Some(hex) = t.strip_prefix("0x") {
            return parse_digits(hex, 16);
        }
        let (neg, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Parse as negative so i64::MIN round-trips.
        let mut v: i64 = 0;
        for b in digits.bytes() {
            v = v.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
        }
        if neg { Some(v) } else { v.checked_neg() }
    }
}

fn parse_digits(s: &str, radix: u32) -> Option<i64> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(s, radix).ok()
}

/// The three shapes of YAML content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in the order written, duplicates kept (see [`Node::get`]).
    Map(Vec<(Node, Node)>),
}

/// A YAML node with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
    /// The node's tag as written in short form (`!!str`, `!foo`), if any.
    pub tag: Option<Box<str>>,
    /// True when this node is a copy made to resolve an alias (`*name`) or a
    /// merge key (`<<: *name`). Its span still points at the anchored
    /// original, so a detector that reports both may want to skip copies.
    pub from_alias: bool,
}

impl Node {
    /// The scalar, if this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the tag is absent or is the given core tag. Explicit tags
    /// override the style-based resolution of the helpers below.
    fn tag_allows(&self, core: &str) -> bool {
        match self.tag.as_deref() {
            None => true,
            Some(t) => t == core,
        }
    }

    /// The text of a non-null scalar (see [`Scalar::as_str`]). A `!!str`
    /// tagged scalar is always text, even when empty.
    pub fn as_str(&self) -> Option<&str> {
        let s = self.as_scalar()?;
        if self.tag.as_deref() == Some("!!str") {
            return Some(&s.text);
        }
        s.as_str()
    }

    /// Whether the node is null: a plain null scalar (not tagged `!!str`).
    pub fn is_null(&self) -> bool {
        self.tag_allows("!!null") && self.as_scalar().is_some_and(Scalar::is_null)
    }

    /// See [`Scalar::as_bool`].
    pub fn as_bool(&self) -> Option<bool> {
        if !self.tag_allows("!!bool") {
            return None;
        }
        self.as_scalar()?.as_bool()
    }

    /// See [`Scalar::as_bool_yaml11`].
    pub fn as_bool_yaml11(&self) -> Option<bool> {
        if !self.tag_allows("!!bool") {
            return None;
        }
        self.as_scalar()?.as_bool_yaml11()
    }

    /// See [`Scalar::as_i64`].
    pub fn as_i64(&self) -> Option<i64> {
        if !self.tag_allows("!!int") {
            return None;
        }
        self.as_scalar()?.as_i64()
    }

    /// The entries, if this node is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this node is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping, comparing scalar key text. With
    /// duplicate keys the *last* one wins, as in JSON and most YAML loaders
    /// (Kubernetes itself rejects duplicates; use [`Node::get_all`] to see them).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(_, v)| v)
    }

    /// The key node and value of `key` (last wins), for pointing at the key.
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(k, v)| (k, v))
    }

    /// Every value written under `key`, in order (more than one means
    /// duplicate keys, which some consumers resolve differently).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.as_map()
            .unwrap_or(&[])
            .iter()
            .filter(move |(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(_, v)| v)
    }

    /// Follow a chain of mapping keys: `get_path(&["spec", "template", "spec"])`.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The `(key text, value)` pairs of a mapping whose keys are scalars, in
    /// order. Empty for anything that is not a mapping.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Node)> + '_ {
        self.as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| k.as_scalar().map(|s| (s.text.as_str(), v)))
    }

    /// Where a part of this scalar's text was written, if that can be found
    /// exactly: `range` indexes [`Scalar::text`] and `source` is the text given
    /// to [`parse_documents`]. Works when that part appears verbatim in the
    /// source (plain and quoted scalars without escapes inside it, lines of
    /// block scalars); returns `None` otherwise (say, across a folded line
    /// break), so the caller can fall back to the node's own span.
    pub fn locate(&self, source: &str, range: Range<usize>) -> Option<Span> {
        let text = &self.as_scalar()?.text;
        let needle = text.get(range.clone())?;
        if needle.is_empty() {
            return None;
        }
        let raw = source.get(self.span.start..self.span.end)?;
        // The k-th occurrence in the decoded text is taken to be the k-th in
        // the raw text; the check below keeps this honest.
        let k = text
            .match_indices(needle)
            .position(|(i, _)| i == range.start)?;
        let (off, _) = raw.match_indices(needle).nth(k)?;
        let start = self.span.start_pos().advance(source, self.span.start + off);
        let end = start.advance(source, start.byte + needle.len());
        Some(Span::between(start, end))
    }
}

/// One YAML document of a multi-document stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The root node. An empty document has a null scalar root.
    pub root: Node,
    /// 0-based position in the stream, counting empty documents too.
    pub index: usize,
    /// From the `---` marker (or the first content) to the end of the root.
    pub span: Span,
}

/// Bounds on what parsing may cost. Every input is hostile (a YAML bomb
/// expands a few hundred bytes into billions of nodes; 100,000 nested `[`
/// would overflow a recursive loader), so each limit is enforced while the
/// events stream in, before the work is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most collections open at once. The Prometheus Operator CRDs, among
    /// the deepest real manifests, reach 27. Capped at [`MAX_DEPTH_CAP`]
    /// whatever is asked: dropping, cloning and walking a tree recurse.
    pub max_depth: usize,
    /// Most nodes built in one call, aliases expanded and anchor copies
    /// included. Bounds memory: a node is about 100 bytes plus its text.
    pub max_nodes: usize,
    /// Most nodes that alias (and merge key) expansion may copy in one call.
    pub max_alias_expansion: usize,
}

/// The hard ceiling on [`Limits::max_depth`]: recursion over a tree this deep
/// stays far below a 2 MiB thread stack.
pub const MAX_DEPTH_CAP: usize = 1000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000,
            max_alias_expansion: 100_000,
        }
    }
}

/// Why a text was not turned into documents.
///
/// [`YamlError::Syntax`] and [`YamlError::Template`] mean "not YAML" (the
/// caller falls back to line-based rules); the limit errors mean the input was
/// refused as hostile or too costly (the caller counts a skip).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("YAML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Unquoted `{{ … }}` (Helm/Go templates) parses as YAML nested flow
    /// mappings used as keys — a tree no detector can use, so it is refused.
    #[error("template syntax `{{{{` at line {line}, column {column}: not plain YAML")]
    Template { line: usize, column: usize },
    #[error("YAML nested deeper than {limit} levels at line {line}, column {column}")]
    TooDeep {
        limit: usize,
        line: usize,
        column: usize,
    },
    #[error("YAML has more than {limit} nodes")]
    TooManyNodes { limit: usize },
    #[error(
        "YAML aliases expand to more than {limit} nodes at line {line}, column {column} (YAML bomb?)"
    )]
    AliasBomb {
        limit: usize,
        line: usize,
        column: usize,
    },
    /// The parser panicked; caught so a scan never dies on one file.
    #[error("internal YAML parser error")]
    Internal,
}

impl YamlError {
    /// A short stable name for stats and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            YamlError::Syntax { .. } => "syntax",
            YamlError::Template { .. } => "template",
            YamlError::TooDeep { .. } => "too-deep",
            YamlError::TooManyNodes { .. } => "too-many-nodes",
            YamlError::AliasBomb { .. } => "alias-bomb",
            YamlError::Internal => "internal",
        }
    }

    /// Whether the input was refused for what it would cost (a counted skip),
    /// rather than for not being YAML (a silent fallback to line rules).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            YamlError::TooDeep { .. }
                | YamlError::TooManyNodes { .. }
                | YamlError::AliasBomb { .. }
        )
    }
}

/// Parse every document of a YAML (or JSON) text, with positions.
///
/// JSON needs no separate path: it is YAML flow style. A leading BOM, CRLF
/// line endings, `---` and `...` markers and comments are all handled.
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    // saphyr-parser has `unwrap`s and `unreachable!`s on paths we have not
    // seen reached; one odd file must not take the whole scan down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Builder::new(text, limits).run()
    }))
    .unwrap_or(Err(YamlError::Internal))
}

/// One document of a multi-document stream, found by its `---` marker line
/// without parsing (see [`document_chunks`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Bytes of the text from the `---` line (or the start) to the next one.
    pub range: Range<usize>,
    /// 0-based line of `range.start`.
    pub line0: usize,
    /// The stream position of the document the chunk holds.
    pub index: usize,
    /// Documents a parse of the chunk must yield (0 for a preamble of
    /// comments, otherwise 1); anything else means the split was wrong.
    pub expect: usize,
}

/// Split a multi-document stream at its `---` lines, so that a caller can
/// parse only the documents it needs (a history scan holds thousands of
/// versions of multi-MB manifest bundles, and only their `kind: Secret`
/// documents interest the secret detectors).
///
/// A `---` at the start of a line always starts a document in YAML, even
/// inside a block or quoted scalar, so the split is exact. Streams it cannot
/// cut safely (directives `%…`, end markers `...`, a single document) give
/// `None`: parse them whole. Whoever parses a chunk checks that it holds
/// [`Chunk::expect`] documents and falls back to the whole text if not.
pub fn document_chunks(text: &str) -> Option<Vec<Chunk>> {
    let bytes = text.as_bytes();
    let at_line_start = |needle: &[u8]| {
        bytes.starts_with(needle)
            || memchr::memmem::find_iter(bytes, needle).any(|i| i > 0 && bytes[i - 1] == b'\n')
    };
    if at_line_start(b"%") || at_line_start(b"...") {
        return None;
    }
    let is_marker = |i: usize| {
        bytes[i..].starts_with(b"---")
            && matches!(bytes.get(i + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
    };
    let mut starts: Vec<usize> = Vec::new();
    if is_marker(0) {
        starts.push(0);
    }
    starts.extend(
        memchr::memmem::find_iter(bytes, b"\n---")
            .map(|i| i + 1)
            .filter(|&i| is_marker(i)),
    );
    if starts.is_empty() || (starts.len() == 1 && starts[0] == 0) {
        return None;
    }
    let mut chunks = Vec::with_capacity(starts.len() + 1);
    let mut index = 0;
    let mut line0 = 0;
    if starts[0] > 0 {
        let pre = &text[..starts[0]];
        let content = pre.lines().any(|l| {
            let t = l.trim_start_matches('\u{feff}').trim();
            !t.is_empty() && !t.starts_with('#')
        });
        let expect = usize::from(content);
        chunks.push(Chunk {
            range: 0..starts[0],
            line0: 0,
            index: 0,
            expect,
        });
        index = expect;
        line0 = memchr::memchr_iter(b'\n', pre.as_bytes()).count();
    }
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(bytes.len());
        chunks.push(Chunk {
            range: start..end,
            line0,
            index,
            expect: 1,
        });
        index += 1;
        line0 += memchr::memchr_iter(b'\n', &bytes[start..end]).count();
    }
    Some(chunks)
}

/// Parse one [`Chunk`] of `text`, with spans, lines and the document index
/// as a parse of the whole text would give them. `Ok(None)`: the chunk did
/// not hold the documents the split expected (parse the whole text instead).
pub fn parse_chunk(
    text: &str,
    chunk: &Chunk,
    limits: &Limits,
) -> Result<Option<Vec<Document>>, YamlError> {
    let part = &text[chunk.range.clone()];
    let shift_err = |e: YamlError| match e {
        YamlError::Syntax {
            line,
            column,
            message,
        } => YamlError::Syntax {
            line: line + chunk.line0,
            column,
            message,
        },
        YamlError::Template { line, column } => YamlError::Template {
            line: line + chunk.line0,
            column,
        },
        YamlError::TooDeep {
            limit,
            line,
            column,
        } => YamlError::TooDeep {
            limit,
            line: line + chunk.line0,
            column,
        },
        YamlError::AliasBomb {
            limit,
            line,
            column,
        } => YamlError::AliasBomb {
            limit,
            line: line + chunk.line0,
            column,
        },
        other => other,
    };
    let mut docs = parse_documents(part, limits).map_err(shift_err)?;
    if docs.len() != chunk.expect {
        return Ok(None);
    }
    let (bytes, lines) = (chunk.range.start, chunk.line0);
    for doc in &mut docs {
        doc.index = chunk.index;
        doc.span.shift(bytes, lines);
        doc.root.shift(bytes, lines);
    }
    Ok(Some(docs))
}

impl Span {
    fn shift(&mut self, bytes: usize, lines: usize) {
        self.start += bytes;
        self.end += bytes;
        self.line += lines;
        self.end_line += lines;
    }
}

impl Node {
    /// Move every span of the tree (an explicit stack: nesting is bounded by
    /// the parse limits, but a stack costs nothing).
    fn shift(&mut self, bytes: usize, lines: usize) {
        let mut stack: Vec<&mut Node> = vec![self];
        while let Some(n) = stack.pop() {
            n.span.shift(bytes, lines);
            match &mut n.value {
                Value::Scalar(_) => {}
                Value::Seq(items) => stack.extend(items.iter_mut()),
                Value::Map(entries) => {
                    for (k, v) in entries.iter_mut() {
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Positions

/// A position: byte offset, 1-based line, 0-based char column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pos {
    byte: usize,
    line: usize,
    col: usize,
}

impl Pos {
    /// Walk forward from `self` to byte offset `to` (clamped, on a char
    /// boundary), counting lines and columns the way saphyr does: `\r\n`, `\n`
    /// and a lone `\r` each end a line; a BOM at the start of a line takes no
    /// column.
    fn advance(self, text: &str, to: usize) -> Pos {
        let to = to.min(text.len());
        let mut p = self;
        let Some(slice) = text.get(p.byte..to) else {
            return p;
        };
        let mut chars = slice.chars().peekable();
        while let Some(c) = chars.next() {
            p.byte += c.len_utf8();
            match c {
                '\n' => {
                    p.line += 1;
                    p.col = 0;
                }
                '\r' if chars.peek() != Some(&'\n') => {
                    p.line += 1;
                    p.col = 0;
                }
                '\r' => {}
                // saphyr skips a BOM at the start of a line without a column.
                '\u{feff}' if p.col == 0 => {}
                _ => p.col += 1,
            }
        }
        p
    }
}

impl Span {
    fn between(a: Pos, b: Pos) -> Span {
        Span {
            start: a.byte,
            end: b.byte,
            line: a.line,
            column: a.col + 1,
            end_line: b.line,
            end_column: b.col + 1,
        }
    }

    fn start_pos(&self) -> Pos {
        Pos {
            byte: self.start,
            line: self.line,
            col: self.column - 1,
        }
    }

    fn end_pos(&self) -> Pos {
        Pos {
            byte: self.end,
            line: self.end_line,
            col: self.end_column - 1,
        }
    }
}

/// Turns saphyr's character indices into byte offsets. Events arrive in
/// (nearly) increasing order, so a cursor that walks from the last answer
/// costs O(distance); pure ASCII input skips the walk entirely.
struct CharToByte<'t> {
    text: &'t str,
    ascii: bool,
    char_idx: usize,
    byte_idx: usize,
    /// The position of the end of the text, computed on first use.
    eof: Option<Pos>,
}

impl<'t> CharToByte<'t> {
    fn new(text: &'t str) -> Self {
        CharToByte {
            text,
            ascii: text.is_ascii(),
            char_idx: 0,
            byte_idx: 0,
            eof: None,
        }
    }

    fn byte(&mut self, target: usize) -> usize {
        if self.ascii {
            return target.min(self.text.len());
        }
        while self.char_idx < target {
            match self.text[self.byte_idx..].chars().next() {
                Some(c) => {
                    self.byte_idx += c.len_utf8();
                    self.char_idx += 1;
                }
                None => break,
            }
        }
        while self.char_idx > target {
            match self.text[..self.byte_idx].chars().next_back() {
                Some(c) => {
                    self.byte_idx -= c.len_utf8();
                    self.char_idx -= 1;
                }
                None => break,
            }
        }
        self.byte_idx
    }

    fn pos(&mut self, m: &Marker) -> Pos {
        let byte = self.byte(m.index());
        if byte == self.text.len() {
            // At the end of a text without a final line break saphyr reports
            // a line past the last one (column 0); count it ourselves.
            return self.eof();
        }
        Pos {
            byte,
            line: m.line(),
            col: m.col(),
        }
    }

    fn eof(&mut self) -> Pos {
        if let Some(p) = self.eof {
            return p;
        }
        let bytes = self.text.as_bytes();
        let mut line = 1;
        let mut line_start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line += 1;
                line_start = i + 1;
            }
        }
        let tail = &self.text[line_start..];
        let mut col = tail.chars().count();
        if tail.starts_with('\u{feff}') {
            col -= 1;
        }
        let p = Pos {
            byte: self.text.len(),
            line,
            col,
        };
        self.eof = Some(p);
        p
    }
}

// ---------------------------------------------------------------------------
// Tree building

/// saphyr-parser counts flow nesting in a `u8`.
const SAPHYR_MAX_FLOW_DEPTH: usize = 255;

enum Frame {
    Seq {
        items: Vec<Node>,
        flow: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        flow: bool,
    },
}

struct Open {
    frame: Frame,
    start: Pos,
    /// Where the last entry was *written* (for an alias: the `*name` token,
    /// not the anchored original its copy points at).
    last_end: Option<Pos>,
    anchor: usize,
    tag: Option<Box<str>>,
}

/// An anchored node kept for later aliases, with what copying it costs.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

struct Builder<'t> {
    text: &'t str,
    conv: CharToByte<'t>,
    limits: Limits,
    stack: Vec<Open>,
    anchors: HashMap<usize, Anchored>,
    /// No `*` anywhere means no alias can exist: skip copying anchored nodes.
    may_alias: bool,
    nodes: usize,
    alias_nodes: usize,
    docs: Vec<Document>,
    doc_start: Option<Pos>,
    root: Option<Node>,
    /// End of the previous event, where a block scalar's indicator search starts.
    prev_end: Pos,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, limits: &Limits) -> Self {
        Builder {
            text,
            conv: CharToByte::new(text),
            limits: Limits {
                max_depth: limits.max_depth.min(MAX_DEPTH_CAP),
                ..*limits
            },
            stack: Vec::new(),
            anchors: HashMap::new(),
            may_alias: text.contains('*'),
            nodes: 0,
            alias_nodes: 0,
            docs: Vec::new(),
            doc_start: None,
            root: None,
            prev_end: Pos {
                byte: 0,
                line: 1,
                col: 0,
            },
        }
    }

    fn run(mut self) -> Result<Vec<Document>, YamlError> {
        let mut parser = Parser::new_from_str(self.text);
        loop {
            let (event, span) = match parser.next_event() {
                None => break,
                Some(Ok(ev)) => ev,
                Some(Err(e)) => return Err(self.syntax(&e)),
            };
            let start = self.conv.pos(&span.start);
            let end = self.conv.pos(&span.end);
            match event {
                Event::StreamEnd => break,
                Event::StreamStart | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    self.doc_start = Some(start);
                    self.anchors.clear();
                }
                Event::DocumentEnd => self.end_document(start)?,
                Event::Scalar(text, style, anchor, tag) => {
                    let node = self.scalar(text.into_owned(), style, start, end, tag.as_deref())?;
                    let written = node.span.end_pos();
                    self.complete(node, anchor, written)?;
                }
                Event::Alias(id) => {
                    let node = self.alias(id, start)?;
                    self.complete(node, 0, end)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.open(
                        Frame::Seq {
                            items: Vec::new(),
                            flow: false,
                        },
                        start,
                        end,
                        anchor,
                        tag.as_deref(),
                    )?;
                }
                Event::MappingStart(anchor, tag) => {
                    if self
                        .text
                        .get(start.byte..)
                        .is_some_and(|t| t.starts_with("{{"))
                    {
                        return Err(YamlError::Template {
                            line: start.line,
                            column: start.col + 1,
                        });
                    }
                    let frame = Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        flow: false,
                    };
                    self.open(frame, start, end, anchor, tag.as_deref())?;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let node = self.close(end)?;
                    let anchor = node.1;
                    let written = node.0.span.end_pos();
                    self.complete(node.0, anchor, written)?;
                }
            }
            if end.byte >= self.prev_end.byte {
                self.prev_end = end;
            }
        }
        Ok(self.docs)
    }

    fn syntax(&self, e: &ScanError) -> YamlError {
        let m = e.marker();
        // saphyr refuses more than 255 nested flow collections itself, and
        // its scanner looks ahead far enough to do so before we see the
        // first event of `[[[[…`. That is a depth refusal, not bad syntax.
        if e.info() == "recursion limit exceeded" {
            return YamlError::TooDeep {
                limit: self.limits.max_depth.min(SAPHYR_MAX_FLOW_DEPTH),
                line: m.line(),
                column: m.col() + 1,
            };
        }
        YamlError::Syntax {
            line: m.line(),
            column: m.col() + 1,
            message: e.info().to_string(),
        }
    }

    fn count(&mut self, n: usize) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes {
            return Err(YamlError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        text: String,
        style: saphyr_parser::ScalarStyle,
        start: Pos,
        end: Pos,
        tag: Option<&Tag>,
    ) -> Result<Node, YamlError> {
        self.count(1)?;
        let style = match style {
            saphyr_parser::ScalarStyle::Plain => ScalarStyle::Plain,
            saphyr_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            saphyr_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            saphyr_parser::ScalarStyle::Literal => ScalarStyle::Literal,
            saphyr_parser::ScalarStyle::Folded => ScalarStyle::Folded,
        };
        let span = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.block_scalar_span(start, end),
            // An empty plain scalar (`key:` with nothing after it) has no
            // characters; saphyr reports where the next token starts, so
            // put it where the previous token (its key, `-` or `---`) ended.
            ScalarStyle::Plain if text.is_empty() => {
                let at = if self.prev_end.byte <= start.byte {
                    self.prev_end
                } else {
                    start
                };
                Span::between(at, at)
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Span::between(
                start,
                self.quoted_end(start, end, style == ScalarStyle::SingleQuoted),
            ),
            ScalarStyle::Plain => Span::between(start, end),
        };
        Ok(Node {
            span,
            value: Value::Scalar(Scalar { text, style }),
            tag: tag.map(short_tag),
            from_alias: false,
        })
    }

    /// saphyr ends a quoted scalar after the blanks and comment that follow
    /// it on its line; end it after the closing quote instead. Falls back to
    /// saphyr's end if the quotes cannot be matched.
    fn quoted_end(&self, start: Pos, end: Pos, single: bool) -> Pos {
        let Some(raw) = self.text.get(start.byte..end.byte) else {
            return end;
        };
        let quote = if single { '\'' } else { '"' };
        let Some(open) = raw.find(quote) else {
            return end;
        };
        let mut iter = raw[open + 1..].char_indices().peekable();
        while let Some((i, c)) = iter.next() {
            match c {
                '\\' if !single => {
                    iter.next();
                }
                '\'' if single && iter.peek().is_some_and(|&(_, n)| n == '\'') => {
                    iter.next();
                }
                c if c == quote => return start.advance(self.text, start.byte + open + 1 + i + 1),
                _ => {}
            }
        }
        end
    }

    /// saphyr starts a block scalar at its first content character and ends
    /// it after the trailing line breaks. Users read `key: |` as where the
    /// value is, so start at the indicator (found by scanning forward from
    /// the previous token, over blanks, comments and node properties) and end
    /// after the last non-blank character.
    fn block_scalar_span(&self, start: Pos, end: Pos) -> Span {
        let from = self.prev_end.byte.min(start.byte);
        let mut indicator = None;
        if let Some(gap) = self.text.get(from..start.byte) {
            let mut iter = gap.char_indices().peekable();
            let mut token_start = true;
            while let Some((i, c)) = iter.next() {
                match c {
                    '|' | '>' if token_start => {
                        indicator = Some(from + i);
                        break;
                    }
                    '#' if token_start => {
                        while iter.peek().is_some_and(|&(_, c)| c != '\n' && c != '\r') {
                            iter.next();
                        }
                    }
                    '&' | '!' if token_start => {
                        while iter.peek().is_some_and(|&(_, c)| !c.is_whitespace()) {
                            iter.next();
                        }
                        token_start = false;
                    }
                    c if c.is_whitespace() => token_start = true,
                    ':' | '-' | '?' => token_start = true,
                    _ => token_start = false,
                }
            }
        }
        let prev = if self.prev_end.byte <= start.byte {
            self.prev_end
        } else {
            start
        };
        let first = match indicator {
            Some(b) => prev.advance(self.text, b),
            None => start,
        };
        let last_byte = self
            .text
            .get(first.byte..end.byte)
            .map(|s| first.byte + s.trim_end().len())
            .unwrap_or(end.byte);
        let last = first.advance(self.text, last_byte);
        Span::between(first, last)
    }

    fn alias(&mut self, id: usize, at: Pos) -> Result<Node, YamlError> {
        let Some(anchored) = self.anchors.get(&id) else {
            let message = if self.stack.iter().any(|o| o.anchor == id) {
                "alias refers to a node that contains it"
            } else {
                "alias refers to an anchor of another document"
            };
            return Err(YamlError::Syntax {
                line: at.line,
                column: at.col + 1,
                message: message.to_string(),
            });
        };
        let (size, height) = (anchored.size, anchored.height);
        if self.stack.len() + height > self.limits.max_depth {
            return Err(YamlError::TooDeep {
                limit: self.limits.max_depth,
                line: at.line,
                column: at.col + 1,
            });
        }
        self.alias_nodes += size;
        if self.alias_nodes > self.limits.max_alias_expansion {
            return Err(YamlError::AliasBomb {
                limit: self.limits.max_alias_expansion,
                line: at.line,
                column: at.col + 1,
            });
        }
        self.count(size)?;
        let mut node = self.anchors[&id].node.clone();
        mark_from_alias(&mut node);
        Ok(node)
    }

    fn open(
        &mut self,
        mut frame: Frame,
        start: Pos,
        end: Pos,
        anchor: usize,
        tag: Option<&Tag>,
    ) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError::TooDeep {
                limit: self.limits.max_depth,
                line: start.line,
                column: start.col + 1,
            });
        }
        self.count(1)?;
        // Flow collections have a non-empty start token (`[` or `{`, maybe
        // after an anchor or tag); block ones an empty span.
        let is_flow =
            end.byte > start.byte && self.text[start.byte..end.byte].ends_with(['[', '{']);
        match &mut frame {
            Frame::Seq { flow, .. } | Frame::Map { flow, .. } => *flow = is_flow,
        }
        self.stack.push(Open {
            frame,
            start,
            last_end: None,
            anchor,
            tag: tag.map(short_tag),
        });
        Ok(())
    }

    fn close(&mut self, end: Pos) -> Result<(Node, usize), YamlError> {
        let Some(open) = self.stack.pop() else {
            return Err(YamlError::Internal);
        };
        // Vecs grow to at least 4 slots and then double; most Kubernetes
        // maps have one to three entries of 208 bytes each, so shrinking
        // saves much of the tree's memory.
        let (value, flow) = match open.frame {
            Frame::Seq { mut items, flow } => {
                items.shrink_to_fit();
                (Value::Seq(items), flow)
            }
            Frame::Map {
                mut entries,
                key,
                flow,
            } => {
                if key.is_some() {
                    return Err(YamlError::Internal);
                }
                merge_keys(&mut entries);
                entries.shrink_to_fit();
                (Value::Map(entries), flow)
            }
        };
        // A flow collection ends after its closing bracket; a block one after
        // its last entry (saphyr reports where the next token starts).
        let stop = if flow {
            end
        } else {
            open.last_end.unwrap_or(open.start)
        };
        let node = Node {
            span: Span::between(open.start, stop),
            value,
            tag: open.tag,
            from_alias: false,
        };
        Ok((node, open.anchor))
    }

    fn complete(&mut self, node: Node, anchor: usize, written_end: Pos) -> Result<(), YamlError> {
        if anchor != 0 && self.may_alias {
            let (size, height) = measure(&node);
            // Keeping a copy is work too; it counts against the node budget.
            self.count(size)?;
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                    height,
                },
            );
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
            }
            Some(open) => {
                if open.last_end.is_none_or(|p| p.byte <= written_end.byte) {
                    open.last_end = Some(written_end);
                }
                match &mut open.frame {
                    Frame::Seq { items, .. } => items.push(node),
                    Frame::Map { entries, key, .. } => match key.take() {
                        None => *key = Some(node),
                        Some(k) => entries.push((k, node)),
                    },
                }
            }
        }
        Ok(())
    }

    fn end_document(&mut self, at: Pos) -> Result<(), YamlError> {
        if !self.stack.is_empty() {
            return Err(YamlError::Internal);
        }
        let start = self.doc_start.take().unwrap_or(at);
        let root = self.root.take().unwrap_or_else(|| Node {
            span: Span::between(start, start),
            value: Value::Scalar(Scalar {
                text: String::new(),
                style: ScalarStyle::Plain,
            }),
            tag: None,
            from_alias: false,
        });
        let end = if root.span.end >= start.byte {
            root.span.end_pos()
        } else {
            start
        };
        let span = Span::between(start, end);
        let index = self.docs.len();
        self.docs.push(Document { root, index, span });
        Ok(())
    }
}

/// `!!str` for core-schema tags, `!foo` for local ones, the handle and suffix
/// verbatim otherwise.
fn short_tag(tag: &Tag) -> Box<str> {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix).into()
    } else {
        format!("{}{}", tag.handle, tag.suffix).into()
    }
}

/// Node count and collection height of a subtree. Recursion is bounded by
/// [`Limits::max_depth`], which the builder enforced while building it.
fn measure(node: &Node) -> (usize, usize) {
    match &node.value {
        Value::Scalar(_) => (1, 0),
        Value::Seq(items) => items
            .iter()
            .map(measure)
            .fold((1, 1), |(s, h), (cs, ch)| (s + cs, h.max(ch + 1))),
        Value::Map(entries) => entries.iter().fold((1, 1), |(s, h), (k, v)| {
            let (ks, kh) = measure(k);
            let (vs, vh) = measure(v);
            (s + ks + vs, h.max(kh + 1).max(vh + 1))
        }),
    }
}

fn mark_from_alias(node: &mut Node) {
    node.from_alias = true;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(mark_from_alias),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            mark_from_alias(k);
            mark_from_alias(v);
        }),
    }
}

fn is_merge_key(key: &Node) -> bool {
    key.as_scalar()
        .is_some_and(|s| s.style == ScalarStyle::Plain && s.text == "<<")
        && matches!(key.tag.as_deref(), None | Some("!!merge"))
}

/// Resolve YAML 1.1 merge keys (`<<: *defaults`, `<<: [*a, *b]`), which Helm
/// values and docker-compose-style files use: the merged maps' entries take
/// the place of the `<<` entry, except keys the map sets itself; with several
/// maps the first one listed wins. A `<<` whose value is not a map or a list of
/// maps is left as written.
fn merge_keys(entries: &mut Vec<(Node, Node)>) {
    if !entries.iter().any(|(k, v)| is_merge_key(k) && mergeable(v)) {
        return;
    }
    let own: HashSet<String> = entries
        .iter()
        .filter(|(k, _)| !is_merge_key(k))
        .filter_map(|(k, _)| k.as_scalar().map(|s| s.text.clone()))
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries.drain(..) {
        if !(is_merge_key(&k) && mergeable(&v)) {
            out.push((k, v));
            continue;
        }
        let sources: Vec<Node> = match v.value {
            Value::Map(_) => vec![v],
            Value::Seq(items) => items,
            Value::Scalar(_) => Vec::new(),
        };
        for source in sources {
            if let Value::Map(inner) = source.value {
                for (ik, iv) in inner {
                    let name = ik.as_scalar().map(|s| s.text.clone());
                    if let Some(name) = name
                        && (own.contains(&name) || !seen.insert(name))
                    {
                        continue;
                    }
                    out.push((ik, iv));
                }
            }
        }
    }
    *entries = out;
}

fn mergeable(v: &Node) -> bool {
    match &v.value {
        Value::Map(_) => true,
        Value::Seq(items) => items.iter().all(|i| i.as_map().is_some()),
        Value::Scalar(_) => false,
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_docs(text: &str) -> Option<Vec<Document>> {
        let chunks = document_chunks(text)?;
        let mut out = Vec::new();
        for c in &chunks {
            out.extend(parse_chunk(text, c, &Limits::default()).unwrap()?);
        }
        Some(out)
    }

    #[test]
    fn chunks_parse_as_the_whole_stream_does() {
        for text in [
            "a: 1\n---\nb: 2\n",
            "# only a comment\n---\nb: 2\n--- |\n  text\n---\n---\nc: [1, 2]\n",
            "---\nkind: Secret\ndata:\n  k: dg==\n---\nkind: ConfigMap\ndata: {é: ü}\n",
            "\u{feff}x: 1\r\n---\r\ny: &a {z: 1}\r\nw: *a\r\n",
            "a: 1\n---   \nb: 2\n---\tc\n",
        ] {
            let whole = parse_documents(text, &Limits::default()).unwrap();
            assert_eq!(chunk_docs(text).as_ref(), Some(&whole), "{text:?}");
        }
    }

    #[test]
    fn streams_that_cannot_be_cut_safely_are_not_split() {
        for text in [
            "a: 1\n",
            "---\na: 1\n",
            "%YAML 1.2\n---\na: 1\n---\nb: 2\n",
            "a: 1\n...\n---\nb: 2\n",
            "a: |\n  ---x\n",
            "a: 1\n----\n",
        ] {
            assert!(document_chunks(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn a_chunk_that_does_not_hold_one_document_asks_for_the_whole_parse() {
        // A flow sequence left open across `---` is an error either way; a
        // chunk with an unexpected count says so instead of guessing.
        let text = "a: 1\n--- # c\n";
        let chunks = document_chunks(text).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].index, 1);
        let text = "---\n- [\n---\nb: 2\n";
        let chunks = document_chunks(text).unwrap();
        assert!(parse_chunk(text, &chunks[0], &Limits::default()).is_err());
        assert_eq!(
            parse_chunk(text, &chunks[1], &Limits::default())
                .unwrap()
                .unwrap()[0]
                .span
                .line,
            3
        );
    }

    fn parse(text: &str) -> Vec<Document> {
        match parse_documents(text, &Limits::default()) {
            Ok(docs) => docs,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn root(text: &str) -> Node {
        let mut docs = parse(text);
        assert_eq!(docs.len(), 1, "expected one document");
        docs.remove(0).root
    }

    /// (line, column, source text) of a node.
    fn at<'t>(text: &'t str, n: &Node) -> (usize, usize, &'t str) {
        (n.span.line, n.span.column, &text[n.span.range()])
    }

    fn key<'n>(map: &'n Node, k: &str) -> &'n Node {
        map.get_entry(k).map(|(k, _)| k).expect("key present")
    }

    #[test]
    fn block_positions_of_keys_and_values() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: 'hunter2'\n";
        let r = root(text);
        assert_eq!(at(text, key(&r, "kind")), (2, 1, "kind"));
        assert_eq!(at(text, r.get("kind").unwrap()), (2, 7, "Secret"));
        let pw = r.get_path(&["stringData", "password"]).unwrap();
        assert_eq!(at(text, pw), (6, 13, "'hunter2'"));
        assert_eq!(pw.as_scalar().unwrap().style, ScalarStyle::SingleQuoted);
        assert_eq!((pw.span.end_line, pw.span.end_column), (6, 22));
        let meta = r.get("metadata").unwrap();
        assert_eq!(at(text, meta), (4, 3, "name: db"));
        assert_eq!(r.span.start, 0);
        assert_eq!(&text[r.span.range()], text.trim_end());
    }

    #[test]
    fn flow_positions() {
        let text = "a: {k: v, l: [1, \"two\"]}\n";
        let r = root(text);
        let a = r.get("a").unwrap();
        assert_eq!(at(text, a), (1, 4, "{k: v, l: [1, \"two\"]}"));
        let l = a.get("l").unwrap();
        assert_eq!(at(text, l), (1, 14, "[1, \"two\"]"));
        assert_eq!(at(text, &l.as_seq().unwrap()[1]), (1, 18, "\"two\""));
    }

    #[test]
    fn multibyte_characters_give_byte_offsets_and_char_columns() {
        // Three 2-, 3- and 4-byte characters before the value on its line,
        // and a multi-byte line before it.
        let text = "note: ünïcødé €\nkey€: é€😀 value\n";
        let r = root(text);
        let v = r.get("key€").unwrap();
        assert_eq!(v.as_str(), Some("é€😀 value"));
        assert_eq!(&text[v.span.range()], "é€😀 value");
        assert_eq!((v.span.line, v.span.column), (2, 7));
        // Columns count characters: "é€😀 value" is 9 chars wide.
        assert_eq!(v.span.end_column, 16);
        let k = key(&r, "key€");
        assert_eq!(&text[k.span.range()], "key€");
    }

    #[test]
    fn quoted_scalar_span_stops_at_closing_quote_not_at_comment() {
        // saphyr ends a quoted scalar after the trailing comment; we must not.
        let text = "a: \"v€\\\" x\" # comment\nb: 'it''s'   # c\nc: {\"k\" : 1}\n";
        let r = root(text);
        assert_eq!(at(text, r.get("a").unwrap()), (1, 4, "\"v€\\\" x\""));
        assert_eq!(r.get("a").unwrap().as_str(), Some("v€\" x"));
        assert_eq!(at(text, r.get("b").unwrap()), (2, 4, "'it''s'"));
        assert_eq!(r.get("b").unwrap().as_str(), Some("it's"));
        let c = r.get("c").unwrap();
        assert_eq!(at(text, key(c, "k")), (3, 5, "\"k\""));
    }

    #[test]
    fn crlf_line_endings() {
        let text = "a: 1\r\nb:\r\n  c: \"x\"\r\n";
        let r = root(text);
        let c = r.get_path(&["b", "c"]).unwrap();
        assert_eq!(at(text, c), (3, 6, "\"x\""));
        assert_eq!(c.span.start, 15);
    }

    #[test]
    fn text_without_final_line_break() {
        // saphyr puts end-of-stream markers on a line past the last one.
        let text = "a:\n  b: c\n  ? d";
        let r = root(text);
        assert_eq!((r.span.end_line, r.span.end_column), (3, 6));
        let d = r.get("a").unwrap();
        assert_eq!((d.span.end_line, d.span.end_column), (3, 6));
        assert_eq!(r.span.end, text.len());
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let text = "\u{feff}kind: Pod\nx: y\n";
        let r = root(text);
        assert_eq!(at(text, key(&r, "kind")), (1, 1, "kind"));
        assert_eq!(key(&r, "kind").span.start, 3);
        assert_eq!(at(text, r.get("x").unwrap()), (2, 4, "y"));
    }

    #[test]
    fn block_scalars_span_from_indicator_to_last_character() {
        let text = "a: |\n  line1\n  line2\n\nb: >- # note\n  folded\n  text\nc:\n- !!str |\n  x\n";
        let r = root(text);
        let a = r.get("a").unwrap();
        assert_eq!(a.as_str(), Some("line1\nline2\n"));
        assert_eq!(at(text, a), (1, 4, "|\n  line1\n  line2"));
        assert_eq!((a.span.end_line, a.span.end_column), (3, 8));
        let b = r.get("b").unwrap();
        assert_eq!(b.as_str(), Some("folded text"));
        assert_eq!(at(text, b), (5, 4, ">- # note\n  folded\n  text"));
        let c0 = &r.get("c").unwrap().as_seq().unwrap()[0];
        assert_eq!(c0.tag.as_deref(), Some("!!str"));
        // saphyr starts a tagged block scalar at its tag, like other nodes.
        assert_eq!(&text[c0.span.range()], "!!str |\n  x");
    }

    #[test]
    fn empty_value_is_null_at_end_of_its_key() {
        let text = "a:\nb: 1\n";
        let r = root(text);
        let a = r.get("a").unwrap();
        assert!(a.is_null());
        assert_eq!((a.span.line, a.span.start, a.span.end), (1, 1, 1));
    }

    #[test]
    fn multi_document_streams() {
        let text = "# head\na: 1\n...\n---\n---\nplain scalar\n--- \n- x\n";
        let docs = parse(text);
        assert_eq!(docs.len(), 4);
        assert_eq!(
            docs.iter().map(|d| d.index).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(docs[0].root.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(docs[0].span.line, 2);
        assert!(docs[1].root.is_null(), "empty document has a null root");
        assert_eq!(docs[1].span.line, 4);
        assert_eq!(docs[2].root.as_str(), Some("plain scalar"));
        assert_eq!(docs[2].root.span.line, 6);
        assert_eq!(docs[3].root.as_seq().unwrap()[0].span.line, 8);
    }

    #[test]
    fn empty_and_comment_only_text_has_no_documents() {
        assert!(parse("").is_empty());
        assert!(parse("# only a comment\n").is_empty());
    }

    #[test]
    fn json_manifest() {
        let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"data\": {\"url\": \"http://x\", \"n\": 3, \"on\": true, \"z\": null}\n}\n";
        let r = root(text);
        assert_eq!(r.get("kind").unwrap().as_str(), Some("ConfigMap"));
        let url = r.get_path(&["data", "url"]).unwrap();
        assert_eq!(at(text, url), (4, 19, "\"http://x\""));
        let data = r.get("data").unwrap();
        assert_eq!(data.get("n").unwrap().as_i64(), Some(3));
        assert_eq!(data.get("on").unwrap().as_bool(), Some(true));
        assert!(data.get("z").unwrap().is_null());
        assert_eq!(r.span.end_line, 5);
    }

    #[test]
    fn core_schema_helpers_only_resolve_plain_scalars() {
        let text = "a: true\nb: 'true'\nc: yes\nd: ~\ne: ''\nf: 0x1F\ng: 0o17\nh: -42\ni: '42'\nj: 99999999999999999999\nk: -9223372036854775808\nl: !!str null\nm: 1.5\nn: +7\no: Off\n";
        let r = root(text);
        let g = |k: &str| r.get(k).unwrap();
        assert_eq!(g("a").as_bool(), Some(true));
        assert_eq!(g("b").as_bool(), None);
        assert_eq!(g("b").as_str(), Some("true"));
        assert_eq!(g("c").as_bool(), None, "yes is a string in YAML 1.2");
        assert_eq!(
            g("c").as_bool_yaml11(),
            Some(true),
            "but true for Kubernetes"
        );
        assert_eq!(g("o").as_bool_yaml11(), Some(false));
        assert!(g("d").is_null());
        assert_eq!(g("d").as_str(), None);
        assert!(!g("e").is_null());
        assert_eq!(g("e").as_str(), Some(""));
        assert_eq!(g("f").as_i64(), Some(31));
        assert_eq!(g("g").as_i64(), Some(15));
        assert_eq!(g("h").as_i64(), Some(-42));
        assert_eq!(g("i").as_i64(), None);
        assert_eq!(g("j").as_i64(), None, "overflow is not a number");
        assert_eq!(g("k").as_i64(), Some(i64::MIN));
        assert!(!g("l").is_null(), "!!str null is the string null");
        assert_eq!(g("l").as_str(), Some("null"));
        assert_eq!(g("m").as_i64(), None);
        assert_eq!(g("n").as_i64(), Some(7));
    }

    #[test]
    fn duplicate_keys_are_kept_and_last_wins() {
        let text = "privileged: false\nprivileged: true\nother: 1\n";
        let r = root(text);
        assert_eq!(r.as_map().unwrap().len(), 3);
        assert_eq!(r.get("privileged").unwrap().as_bool(), Some(true));
        let all: Vec<_> = r.get_all("privileged").filter_map(Node::as_bool).collect();
        assert_eq!(all, [false, true]);
        let keys: Vec<_> = r.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["privileged", "privileged", "other"]);
        assert!(r.get("missing").is_none());
        assert!(r.get_path(&["other", "deeper"]).is_none());
    }

    #[test]
    fn anchors_and_aliases_are_copied_and_marked() {
        let text = "base: &b {image: nginx}\nuse: *b\nlist: [&s one, *s]\n";
        let r = root(text);
        let used = r.get("use").unwrap();
        assert!(used.from_alias);
        assert_eq!(used.get("image").unwrap().as_str(), Some("nginx"));
        assert!(used.get("image").unwrap().from_alias);
        // The copy points at the anchored original.
        assert_eq!(used.span, r.get("base").unwrap().span);
        assert!(!r.get("base").unwrap().from_alias);
        let list = r.get("list").unwrap().as_seq().unwrap();
        assert_eq!(list[1].as_str(), Some("one"));
        assert!(list[1].from_alias && !list[0].from_alias);
    }

    #[test]
    fn merge_keys_inline_aliased_maps() {
        let text = "\
defaults: &defaults
  adapter: postgres
  host: localhost
  port: 5432
extra: &extra
  host: extra-host
  pool: 5
development:
  <<: [*defaults, *extra]
  database: dev
  port: 6543
";
        let r = root(text);
        let dev = r.get("development").unwrap();
        let keys: Vec<_> = dev.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["adapter", "host", "pool", "database", "port"]);
        assert_eq!(
            dev.get("host").unwrap().as_str(),
            Some("localhost"),
            "first merged map wins"
        );
        assert_eq!(
            dev.get("port").unwrap().as_i64(),
            Some(6543),
            "own keys win"
        );
        assert_eq!(
            dev.get("adapter").unwrap().span.line,
            2,
            "merged value points at its definition"
        );
        assert!(dev.get("adapter").unwrap().from_alias);
        // A single alias merges too; a merge of a scalar is left as written.
        let r = root("d: &d {a: 1}\ne: {<<: *d, b: 2}\nf: {<<: 3}\n");
        assert_eq!(r.get("e").unwrap().entries().count(), 2);
        assert_eq!(r.get_path(&["e", "a"]).unwrap().as_i64(), Some(1));
        assert_eq!(r.get_path(&["f", "<<"]).unwrap().as_i64(), Some(3));
    }

    #[test]
    fn alias_bomb_is_refused() {
        // "Billion laughs": 9 levels of 9 aliases = 9^9 nodes if expanded.
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(", ");
            text.push_str(&format!("{}: &{} [{}]\n", w[1], w[1], refs));
        }
        let err = parse_documents(&text, &Limits::default()).unwrap_err();
        assert!(matches!(err, YamlError::AliasBomb { .. }), "got {err:?}");
        assert!(err.is_limit());
        assert_eq!(err.kind(), "alias-bomb");
    }

    #[test]
    fn alias_expansion_within_budget_is_fine() {
        // 100 aliases of a 101-node sequence: about 10,000 copied nodes.
        let text = format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["x"; 100].join(", "),
            vec!["*a"; 100].join(", ")
        );
        let r = root(&text);
        let b = r.get("b").unwrap().as_seq().unwrap();
        assert_eq!(b.len(), 100);
        assert!(b.iter().all(|n| n.as_seq().is_some_and(|s| s.len() == 100)));
        let tight = Limits {
            max_alias_expansion: 5_000,
            ..Limits::default()
        };
        assert!(matches!(
            parse_documents(&text, &tight),
            Err(YamlError::AliasBomb { limit: 5_000, .. })
        ));
    }

    #[test]
    fn deep_block_nesting_is_refused() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&" ".repeat(i));
            text.push_str("k:\n");
        }
        let err = parse_documents(&text, &Limits::default()).unwrap_err();
        assert!(
            matches!(err, YamlError::TooDeep { limit: 64, .. }),
            "got {err:?}"
        );
        assert_eq!(err.kind(), "too-deep");
        let seqs = "- ".repeat(100_000) + "x\n";
        let err = parse_documents(&seqs, &Limits::default()).unwrap_err();
        assert!(matches!(err, YamlError::TooDeep { .. }), "got {err:?}");
    }

    #[test]
    fn deep_flow_nesting_is_refused_without_stack_overflow() {
        for open in ["[", "{a: ", "[{x: "] {
            let text = open.repeat(100_000);
            let err = parse_documents(&text, &Limits::default()).unwrap_err();
            assert!(
                matches!(err, YamlError::TooDeep { .. }),
                "{open}: got {err:?}"
            );
        }
        // saphyr stops at 255 flow levels on its own; that too is TooDeep.
        let lax = Limits {
            max_depth: 100_000,
            ..Limits::default()
        };
        let err = parse_documents(&"[".repeat(100_000), &lax).unwrap_err();
        assert!(
            matches!(err, YamlError::TooDeep { limit: 255, .. }),
            "got {err:?}"
        );
        // Block nesting has no saphyr limit; ours is capped so that dropping
        // the tree cannot overflow the stack.
        let err = parse_documents(&("- ".repeat(100_000) + "x"), &lax).unwrap_err();
        assert!(
            matches!(
                err,
                YamlError::TooDeep {
                    limit: MAX_DEPTH_CAP,
                    ..
                }
            ),
            "got {err:?}"
        );
        let deep = Limits {
            max_depth: 950,
            ..Limits::default()
        };
        let docs = parse_documents(&("- ".repeat(900) + "x"), &deep);
        assert!(docs.is_ok(), "a tree deep within the cap builds and drops");
    }

    #[test]
    fn nesting_at_the_limit_is_accepted() {
        let text = "[".repeat(64) + &"]".repeat(64);
        assert!(parse_documents(&text, &Limits::default()).is_ok());
        let text = "[".repeat(65) + &"]".repeat(65);
        assert!(matches!(
            parse_documents(&text, &Limits::default()),
            Err(YamlError::TooDeep { .. })
        ));
    }

    #[test]
    fn alias_that_would_exceed_depth_is_refused() {
        let inner = "[".repeat(40) + &"]".repeat(40);
        let text =
            format!("a: &a {inner}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]\n");
        assert!(matches!(
            parse_documents(&text, &Limits::default()),
            Err(YamlError::TooDeep { .. })
        ));
    }

    #[test]
    fn node_budget_is_enforced() {
        let text = "- x\n".repeat(1000);
        let small = Limits {
            max_nodes: 100,
            ..Limits::default()
        };
        let err = parse_documents(&text, &small).unwrap_err();
        assert!(
            matches!(err, YamlError::TooManyNodes { limit: 100 }),
            "got {err:?}"
        );
        assert_eq!(root(&text).as_seq().unwrap().len(), 1000);
    }

    #[test]
    fn recursive_alias_is_an_error() {
        let err = parse_documents("a: &a [1, *a]\n", &Limits::default()).unwrap_err();
        assert!(matches!(err, YamlError::Syntax { .. }), "got {err:?}");
    }

    #[test]
    fn alias_cannot_reach_into_another_document() {
        let err = parse_documents("a: &x 1\n---\nb: *x\n", &Limits::default()).unwrap_err();
        assert!(
            matches!(err, YamlError::Syntax { line: 3, .. }),
            "got {err:?}"
        );
    }

    #[test]
    fn helm_templates_are_errors_not_panics() {
        let templates = [
            "apiVersion: v1\nkind: Service\nspec:\n  {{- if .Values.x }}\n  type: LoadBalancer\n  {{- end }}\n",
            "containers:\n- name: app\n  resources:\n    {{ toYaml .Values.resources | nindent 12 }}\n",
            "image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n",
            "{{- include \"chart.labels\" . | nindent 4 }}\n",
            "metadata:\n  labels:\n{{ include \"x\" . | indent 4 }}\n",
            "{{ range .Values.items }}\n- {{ . }}\n{{ end }}\n",
        ];
        for t in templates {
            let err = parse_documents(t, &Limits::default()).unwrap_err();
            assert!(
                matches!(err, YamlError::Syntax { .. } | YamlError::Template { .. }),
                "{t:?}: got {err:?}"
            );
            assert!(!err.is_limit());
        }
        // Quoted templates are ordinary strings.
        let r = root("image: \"{{ .Values.image }}\"\n");
        assert_eq!(
            r.get("image").unwrap().as_str(),
            Some("{{ .Values.image }}")
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_documents("a: 1\nb: c: d\n", &Limits::default()).unwrap_err();
        match err {
            YamlError::Syntax {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (2, 5));
                assert!(message.contains("mapping values"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn bare_scalar_document() {
        let r = root("just text\n");
        assert_eq!(r.as_str(), Some("just text"));
        assert!(r.as_map().is_none() && r.as_seq().is_none());
        assert_eq!(r.entries().count(), 0);
    }

    #[test]
    fn tags_are_kept_in_short_form() {
        let r = root("a: !!binary aGk=\nb: !vault x\nc: !<tag:example.com,2000:t> y\n");
        assert_eq!(r.get("a").unwrap().tag.as_deref(), Some("!!binary"));
        assert_eq!(r.get("b").unwrap().tag.as_deref(), Some("!vault"));
        assert_eq!(
            r.get("c").unwrap().tag.as_deref(),
            Some("tag:example.com,2000:t")
        );
    }

    #[test]
    fn locate_finds_parts_of_a_scalar() {
        let text = "url: \"postgres://user:s3cr3t@db:5432/app\"\nlit: |\n  first\n  key=abc123\nfold: >\n  one\n  two\n"; // gitops-guard:allow (made-up test value)
        let r = root(text);
        let url = r.get("url").unwrap();
        let s = url.as_str().unwrap();
        let at_pw = s.find("s3cr3t").unwrap();
        let span = url.locate(text, at_pw..at_pw + 6).unwrap();
        assert_eq!(
            (&text[span.range()], span.line, span.column),
            ("s3cr3t", 1, 23)
        );
        let lit = r.get("lit").unwrap();
        let s = lit.as_str().unwrap();
        let at = s.find("abc123").unwrap();
        let span = lit.locate(text, at..at + 6).unwrap();
        assert_eq!((span.line, span.column), (4, 7));
        // Across a folded line break the text is not in the source verbatim.
        let fold = r.get("fold").unwrap();
        assert_eq!(fold.as_str(), Some("one two\n"));
        assert!(fold.locate(text, 0..7).is_none());
        assert!(
            fold.locate(text, 0..100).is_none(),
            "out of range is None, not a panic"
        );
    }

    #[test]
    fn char_to_byte_walks_both_ways() {
        let text = "aé€😀b";
        let mut c = CharToByte::new(text);
        assert_eq!(c.byte(4), 1 + 2 + 3 + 4);
        assert_eq!(c.byte(1), 1);
        assert_eq!(c.byte(5), text.len());
        assert_eq!(c.byte(99), text.len(), "clamped at the end");
        assert_eq!(c.byte(0), 0);
    }
}
