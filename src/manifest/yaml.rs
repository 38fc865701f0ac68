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
    /// Most collections open at once. Real CRD schemas reach ~40.
    pub max_depth: usize,
    /// Most nodes built in one call, aliases expanded and anchor copies
    /// included. Bounds memory: a node is about 100 bytes plus its text.
    pub max_nodes: usize,
    /// Most nodes that alias (and merge key) expansion may copy in one call.
    pub max_alias_expansion: usize,
}

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
    /// and a lone `\r` each end a line.
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
}

impl<'t> CharToByte<'t> {
    fn new(text: &'t str) -> Self {
        CharToByte {
            text,
            ascii: text.is_ascii(),
            char_idx: 0,
            byte_idx: 0,
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
        Pos {
            byte: self.byte(m.index()),
            line: m.line(),
            col: m.col(),
        }
    }
}

// ---------------------------------------------------------------------------
// Tree building

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
            limits: *limits,
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
                    self.complete(node, anchor)?;
                }
                Event::Alias(id) => {
                    let node = self.alias(id, start)?;
                    self.complete(node, 0)?;
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
                    self.complete(node.0, anchor)?;
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
            anchor,
            tag: tag.map(short_tag),
        });
        Ok(())
    }

    fn close(&mut self, end: Pos) -> Result<(Node, usize), YamlError> {
        let Some(open) = self.stack.pop() else {
            return Err(YamlError::Internal);
        };
        let (value, flow, last_end) = match open.frame {
            Frame::Seq { items, flow } => {
                let last = items.last().map(|n| n.span.end_pos());
                (Value::Seq(items), flow, last)
            }
            Frame::Map {
                mut entries,
                key,
                flow,
            } => {
                if key.is_some() {
                    return Err(YamlError::Internal);
                }
                let last = entries.last().map(|(k, v)| {
                    if v.span.end >= k.span.end {
                        v.span.end_pos()
                    } else {
                        k.span.end_pos()
                    }
                });
                merge_keys(&mut entries);
                (Value::Map(entries), flow, last)
            }
        };
        // A flow collection ends after its closing bracket; a block one after
        // its last entry (saphyr reports where the next token starts).
        let stop = if flow {
            end
        } else {
            last_end.unwrap_or(open.start)
        };
        let node = Node {
            span: Span::between(open.start, stop),
            value,
            tag: open.tag,
            from_alias: false,
        };
        Ok((node, open.anchor))
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
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
            Some(open) => match &mut open.frame {
                Frame::Seq { items, .. } => items.push(node),
                Frame::Map { entries, key, .. } => match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                },
            },
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
                    if let Some(name) = name {
                        if own.contains(&name) || !seen.insert(name) {
                            continue;
                        }
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
