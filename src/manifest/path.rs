//! Key paths: the breadcrumb a finding message shows
//! (`spec.template.spec.containers[web].env[DB_PASSWORD].value`), and a walk
//! over every scalar of a tree that keeps the path up to date.
//!
//! Detectors that look at every value (SOPS leaves, Helm values, IPs and URLs
//! in any field) need both where the value is and how to name it; building
//! the path once here keeps their messages uniform.

use super::yaml::{Node, Value};
use std::fmt;

/// One segment of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key: `.spec`.
    Key(String),
    /// A sequence position: `[2]`.
    Index(usize),
    /// A sequence item named by its `name` field: `[web]` — more useful in a
    /// message than an index, and stable when items are reordered.
    Named(String),
}

/// A human-readable key path such as
/// `spec.template.spec.containers[web].env[DB_PASSWORD].value`, used in
/// finding messages. Keys that would be ambiguous (dots, brackets, spaces, as
/// in annotation keys) are quoted: `metadata.annotations["a.b/c"]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    pub fn new() -> Self {
        KeyPath(Vec::new())
    }

    /// A copy with `key` appended.
    pub fn key(&self, key: &str) -> KeyPath {
        self.with(Segment::Key(key.to_string()))
    }

    /// A copy with `[index]` appended.
    pub fn index(&self, index: usize) -> KeyPath {
        self.with(Segment::Index(index))
    }

    /// A copy with `[name]` appended.
    pub fn named(&self, name: &str) -> KeyPath {
        self.with(Segment::Named(name.to_string()))
    }

    /// A copy with `[name]` appended, or `[index]` when there is no name.
    pub fn item(&self, name: Option<&str>, index: usize) -> KeyPath {
        match name {
            Some(n) if !n.is_empty() => self.named(n),
            _ => self.index(index),
        }
    }

    /// A copy with each key of `keys` appended.
    pub fn keys(&self, keys: &[&str]) -> KeyPath {
        let mut p = self.clone();
        p.0.extend(keys.iter().map(|k| Segment::Key(k.to_string())));
        p
    }

    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    pub fn pop(&mut self) -> Option<Segment> {
        self.0.pop()
    }

    /// The last mapping key of the path, if it ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last()? {
            Segment::Key(k) => Some(k),
            _ => None,
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn with(&self, segment: Segment) -> KeyPath {
        let mut p = self.clone();
        p.0.push(segment);
        p
    }
}

fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_bare_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '[' | ']' | '"'))
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("[\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"]")
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                // A key (or item name) shaped like a credential is one, used
                // as a key by mistake: a message must not print it.
                Segment::Key(k) | Segment::Named(k) if crate::sanitize::looks_like_token(k) => {
                    if i > 0 && matches!(seg, Segment::Key(_)) {
                        f.write_str(".")?;
                    }
                    let masked = crate::finding::redact(k);
                    match seg {
                        Segment::Key(_) => f.write_str(&masked)?,
                        _ => write!(f, "[{masked}]")?,
                    }
                }
                Segment::Key(k) if is_bare_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write_quoted(f, k)?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Named(n) if is_bare_name(n) => write!(f, "[{n}]")?,
                Segment::Named(n) => write_quoted(f, n)?,
            }
        }
        Ok(())
    }
}

impl Node {
    /// Call `f(path, key, value)` for every scalar under this node, in
    /// document order: `path` extends `base` with mapping keys and sequence
    /// indexes, `key` is the mapping key node the value belongs to (`None`
    /// for sequence items and for the node itself). Complex (non-scalar) keys
    /// show as `?` in the path. Null scalars are visited too.
    ///
    /// Recursion is bounded by the parser's depth cap.
    pub fn visit_scalars<'a>(
        &'a self,
        base: &KeyPath,
        mut f: impl FnMut(&KeyPath, Option<&'a Node>, &'a Node),
    ) {
        let mut path = base.clone();
        visit(self, None, &mut path, &mut f);
    }
}

fn visit<'a, F>(node: &'a Node, key: Option<&'a Node>, path: &mut KeyPath, f: &mut F)
where
    F: FnMut(&KeyPath, Option<&'a Node>, &'a Node),
{
    match &node.value {
        Value::Scalar(_) => f(path, key, node),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                visit(item, None, path, f);
                path.pop();
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let name = k.as_scalar().map_or("?", |s| s.text.as_str());
                path.push(Segment::Key(name.to_string()));
                visit(v, Some(k), path, f);
                path.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::{Limits, parse_documents};

    #[test]
    fn key_path_rendering() {
        let p = KeyPath::new()
            .key("data")
            .key("with space")
            .index(3)
            .named("a]b")
            .named("ok.name");
        assert_eq!(p.to_string(), "data[\"with space\"][3][\"a]b\"][ok.name]");
        assert_eq!(
            KeyPath::new().key("x\"y\n").to_string(),
            "[\"x\\\"y\\u{a}\"]"
        );
        assert_eq!(
            KeyPath::new().item(None, 1).item(Some(""), 2).to_string(),
            "[1][2]"
        );
        assert!(KeyPath::new().is_empty());
        assert_eq!(KeyPath::new().key("a").segments().len(), 1);
    }

    #[test]
    fn visit_scalars_reports_paths_keys_and_values() {
        let text = "sops:\n  mac: x\ndata:\n  a.b: [1, {c: ~}]\n  {k: v}: w\n";
        let docs = parse_documents(text, &Limits::default()).unwrap();
        let mut seen = Vec::new();
        docs[0]
            .root
            .visit_scalars(&KeyPath::new().key("root"), |path, key, value| {
                let key = key.and_then(Node::as_scalar).map(|k| k.text.clone());
                seen.push((
                    path.to_string(),
                    key,
                    value.as_str().map(str::to_string),
                    value.span.line,
                ));
            });
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            seen,
            [
                ("root.sops.mac".to_string(), s("mac"), s("x"), 2),
                ("root.data[\"a.b\"][0]".to_string(), None, s("1"), 4),
                ("root.data[\"a.b\"][1].c".to_string(), s("c"), None, 4),
                ("root.data[\"?\"]".to_string(), None, s("w"), 5),
            ]
        );
        let mut p = KeyPath::new().key("a").index(1);
        assert_eq!(p.last_key(), None);
        assert_eq!(p.pop(), Some(Segment::Index(1)));
        assert_eq!(p.last_key(), Some("a"));
    }
}
