//! A walk over every scalar under a node, with the key that holds it and the
//! path to it, for the detectors that look at *values* wherever they are
//! (`helm-values-secret`, `hardcoded-ip`, `plain-http`).
//!
//! The path is kept as a stack of borrowed segments and only turned into a
//! [`KeyPath`] for a value that is reported, so walking a 10,000-line CRD
//! bundle costs no allocation per node. Recursion depth is bounded by the
//! parser's depth limit. Copies made for YAML aliases are skipped: the
//! anchored original is walked once, so one value is reported once.

use crate::manifest::{KeyPath, Node, Segment, Value};

/// One segment of the walk's path.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    /// A sequence item named by its `name` field.
    Named(&'a str),
}

/// A scalar found by [`walk`].
pub struct Visit<'a, 's> {
    pub node: &'a Node,
    /// The scalar's text (a plain null is skipped by the walk).
    pub text: &'a str,
    /// The mapping key holding it; for a `{name: X, value: …}` pair (when the
    /// walk treats pairs as keys), `X`.
    pub key: Option<&'a str>,
    /// Every segment above the value, innermost last.
    pub keys: &'s [Seg<'a>],
}

impl Visit<'_, '_> {
    /// The full path: `base` followed by the walked segments.
    pub fn path(&self, base: &KeyPath) -> KeyPath {
        let mut p = base.clone();
        for s in self.keys {
            p.push(match *s {
                Seg::Key(k) => Segment::Key(k.to_string()),
                Seg::Index(i) => Segment::Index(i),
                Seg::Named(n) => Segment::Named(n.to_string()),
            });
        }
        p
    }

    /// Whether any key on the path satisfies `f`.
    pub fn any_key(&self, f: impl Fn(&str) -> bool) -> bool {
        self.keys.iter().any(|s| match s {
            Seg::Key(k) => f(k),
            _ => false,
        })
    }
}

/// How to walk.
pub struct Walk<'f> {
    /// Subtrees under a key for which this returns true are not walked.
    pub prune: &'f dyn Fn(&str) -> bool,
    /// Treat `{name: X, value: "…"}` sequence items as key `X` with that
    /// value (Argo CD `parameters`, `plugin.env`, env-like lists in values).
    pub name_value_pairs: bool,
}

/// Call `f` for every non-null scalar under `node`.
pub fn walk<'a>(node: &'a Node, how: &Walk<'_>, f: &mut dyn FnMut(&Visit<'a, '_>)) {
    let mut stack: Vec<Seg<'a>> = Vec::new();
    go(node, None, how, &mut stack, f);
}

fn go<'a>(
    node: &'a Node,
    key: Option<&'a str>,
    how: &Walk<'_>,
    stack: &mut Vec<Seg<'a>>,
    f: &mut dyn FnMut(&Visit<'a, '_>),
) {
    if node.from_alias {
        return;
    }
    match &node.value {
        Value::Scalar(_) => {
            if let Some(text) = node.as_str() {
                f(&Visit {
                    node,
                    text,
                    key,
                    keys: stack,
                });
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let Some(k) = k.as_scalar().map(|s| s.text.as_str()) else {
                    continue;
                };
                if (how.prune)(k) {
                    continue;
                }
                stack.push(Seg::Key(k));
                go(v, Some(k), how, stack, f);
                stack.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if how.name_value_pairs
                    && let (Some(name), Some(value)) = (
                        item.get("name").and_then(Node::as_str),
                        item.get("value").filter(|v| v.as_scalar().is_some()),
                    )
                {
                    if (how.prune)(name) || item.from_alias {
                        continue;
                    }
                    stack.push(Seg::Named(name));
                    stack.push(Seg::Key("value"));
                    go(value, Some(name), how, stack, f);
                    stack.pop();
                    stack.pop();
                    continue;
                }
                // `containers[app]` reads better than `containers[0]`.
                stack.push(match item.get("name").and_then(Node::as_str) {
                    Some(name) if !name.is_empty() => Seg::Named(name),
                    _ => Seg::Index(i),
                });
                go(item, None, how, stack, f);
                stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Limits, parse_documents};

    #[test]
    fn walks_scalars_with_paths_and_pairs() {
        let text = "a:\n  b: 1\n  skip: {c: 2}\nl:\n- {name: P, value: v}\n- x\n- {name: web, image: i}\nn: ~\nal: &x {y: 3}\nref: *x\n";
        let docs = parse_documents(text, &Limits::default()).unwrap();
        let mut seen = Vec::new();
        let prune = |k: &str| k == "skip";
        let how = Walk {
            prune: &prune,
            name_value_pairs: true,
        };
        walk(&docs[0].root, &how, &mut |v| {
            seen.push((
                v.key.map(str::to_string),
                v.text.to_string(),
                v.path(&KeyPath::new().key("root")).to_string(),
            ))
        });
        let s = |k: Option<&str>, t: &str, p: &str| (k.map(str::to_string), t.into(), p.into());
        assert_eq!(
            seen,
            vec![
                s(Some("b"), "1", "root.a.b"),
                s(Some("P"), "v", "root.l[P].value"),
                s(None, "x", "root.l[1]"),
                s(Some("name"), "web", "root.l[web].name"),
                s(Some("image"), "i", "root.l[web].image"),
                s(Some("y"), "3", "root.al.y"),
            ]
        );
    }
}
