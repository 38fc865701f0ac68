//! SOPS files as SOPS reads them, in every format it writes, reduced to what
//! the checks need: the metadata, and every leaf value with its key path,
//! its position in the file and the comments SOPS would associate with it.
//!
//! | format | metadata | leaf paths |
//! |---|---|---|
//! | YAML (also multi-document) | a top-level `sops:` mapping (SOPS writes it into every document and reads it from the first) | mapping keys down to the value |
//! | JSON, and the *binary* store (`{"data": "ENC[…]", "sops": {…}}`, used for any other extension) | a top-level `"sops"` object | as YAML |
//! | dotenv | flattened `sops_`-prefixed keys (`sops_mac=…`, `sops_age__list_0__map_enc=…`) | `[KEY]` (the text before the first `=`, as written) |
//! | INI | a `[sops]` section with flattened keys | `[section, key]` |
//!
//! `null` values and empty strings are leaves SOPS never encrypts
//! (`sops.go` walk: `case nil`; `aes/cipher.go`: `isEmpty`), so they are not
//! leaves here either.

use super::enc_value::looks_encrypted;
use crate::detect::Input;
use crate::manifest::{Document, Node, Value};
use std::ops::Range;

/// The store SOPS would use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML or JSON (JSON is YAML flow style; the binary store is JSON).
    Tree,
    Dotenv,
    Ini,
}

/// One metadata value and where it is written.
#[derive(Clone, Debug)]
pub struct Field {
    pub value: String,
    pub range: Range<usize>,
}

/// One master key entry (`age`, `pgp`, `kms`, … directly or in `key_groups`).
#[derive(Clone, Debug)]
pub struct MasterKey {
    /// `age`, `pgp`, `kms`, `gcp_kms`, `azure_kv`, `hc_vault`, `hckms`.
    pub kind: String,
    /// The encrypted data key.
    pub enc: Option<Field>,
    /// The recipient, fingerprint, ARN, … for messages.
    pub id: Option<String>,
}

/// The metadata block.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// Where the block starts (the `sops` key, `[sops]`, the first `sops_` key).
    pub anchor: Range<usize>,
    pub mac: Option<Field>,
    pub version: Option<Field>,
    pub lastmodified: Option<Field>,
    /// Recorded selector fields with non-empty values, in file order.
    pub selectors: Vec<(String, Field)>,
    pub mac_only_encrypted: bool,
    pub keys: Vec<MasterKey>,
}

/// One value SOPS would encrypt or leave alone.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Mapping keys from the document root (no sequence positions).
    pub path: Vec<String>,
    /// The scalar as read (escapes resolved, block scalars folded).
    pub text: String,
    /// Byte range of the value in the file.
    pub range: Range<usize>,
    /// Byte ranges of the key of each parent on the path (and of the leaf's
    /// key or list item), to find the comments SOPS associates with them.
    pub anchors: Vec<Range<usize>>,
    /// Comments already collected by the reader (dotenv, INI).
    pub comments: Vec<String>,
    /// Index of the YAML document (0 for other formats).
    pub doc: usize,
    /// Whether the document is a Kubernetes `kind: Secret`.
    pub in_k8s_secret: bool,
}

/// What [`read`] found.
#[derive(Debug)]
pub enum Reading {
    /// Not a SOPS file, and no encrypted value in it.
    NotSops,
    /// A SOPS file.
    Sops(Box<SopsFile>),
    /// Encrypted values but no metadata (the `sops` block was removed): the
    /// byte range of the first encrypted value and how many there are.
    EncryptedWithoutMetadata { first: Range<usize>, count: usize },
}

/// A SOPS file: its metadata and every leaf.
#[derive(Debug)]
pub struct SopsFile {
    pub format: Format,
    pub metadata: Metadata,
    pub leaves: Vec<Leaf>,
}

/// The metadata fields that mark a `sops` mapping as SOPS's own.
const MARKERS: [&str; 3] = ["mac", "version", "lastmodified"];
/// Master key kinds SOPS records.
pub const KEY_KINDS: [&str; 7] = [
    "kms", "gcp_kms", "azure_kv", "hc_vault", "age", "pgp", "hckms",
];

/// Cheap byte test: could this blob be (or have been) a SOPS file?
pub fn may_be_sops(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"sops").is_some()
        || memchr::memmem::find(bytes, b"ENC[AES256_GCM,").is_some()
}

/// Read a blob as SOPS would. Pure; never panics on hostile input.
pub fn read(input: &Input<'_>) -> Reading {
    if !may_be_sops(input.bytes) {
        return Reading::NotSops;
    }
    let Some(text) = input.text() else {
        return Reading::NotSops;
    };
    let name = input.file_name().to_ascii_lowercase();
    let has_line = |prefix: &str| text.lines().any(|l| l.starts_with(prefix));
    if text.lines().any(|l| l.trim() == "[sops]") {
        if let Some(f) = read_ini(text) {
            return Reading::Sops(Box::new(f));
        }
    } else if has_line("sops_mac=") || has_line("sops_version=") || has_line("sops_lastmodified=") {
        if let Some(f) = read_dotenv(text) {
            return Reading::Sops(Box::new(f));
        }
    } else if is_dotenv_name(&name) {
        if let Some(leaves) = dotenv_leaves(text) {
            return without_metadata(&leaves.0);
        }
    } else if name.ends_with(".ini") {
        if let Some(f) = ini_parts(text) {
            return without_metadata(&f.0);
        }
    } else if may_have_sops_key(text)
        && let Some(docs) = input.documents()
    {
        if let Some(f) = read_tree(docs) {
            return Reading::Sops(Box::new(f));
        }
        return without_metadata(&tree_leaves(docs, None));
    }
    Reading::NotSops
}

/// A top-level `sops:` (YAML, any document) or a `"sops"` member (JSON), or
/// an encrypted value: only then is the blob worth parsing here.
fn may_have_sops_key(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').starts_with("sops:")
        || text.contains("\nsops:")
        || text.contains("\"sops\"")
        || text.contains("ENC[AES256_GCM,")
}

/// Whether a file name is one SOPS reads as dotenv (`.env`, `x.env`, `.env.prod`).
pub fn is_dotenv_name(lower_name: &str) -> bool {
    lower_name.ends_with(".env") || lower_name.starts_with(".env")
}

fn without_metadata(leaves: &[Leaf]) -> Reading {
    let mut enc = leaves
        .iter()
        .filter(|l| l.text.trim_start().starts_with("ENC[AES256_GCM,"));
    match enc.next() {
        Some(first) => Reading::EncryptedWithoutMetadata {
            first: first.range.clone(),
            count: 1 + enc.count(),
        },
        None => Reading::NotSops,
    }
}

// ---------------------------------------------------------------------------
// YAML and JSON

fn scalar_text(node: &Node) -> Option<String> {
    if node.is_null() {
        return None;
    }
    node.as_scalar().map(|s| s.text.clone())
}

fn field(node: &Node) -> Option<Field> {
    scalar_text(node).map(|value| Field {
        value,
        range: node.span.range(),
    })
}

/// Whether a `sops` mapping is SOPS metadata (not, say, a Helm value `sops: {enabled: true}`).
fn is_metadata(node: &Node) -> bool {
    node.as_map().is_some() && MARKERS.iter().any(|m| node.get(m).is_some())
}

fn read_tree(docs: &[Document]) -> Option<SopsFile> {
    // SOPS reads the metadata from the first document; later documents carry copies.
    let (key, meta) = docs.iter().find_map(|d| {
        let (k, v) = d.root.get_entry("sops")?;
        is_metadata(v).then_some((k, v))
    })?;
    let mut metadata = Metadata {
        anchor: key.span.range(),
        mac: meta.get("mac").and_then(field),
        version: meta.get("version").and_then(field),
        lastmodified: meta.get("lastmodified").and_then(field),
        selectors: Vec::new(),
        mac_only_encrypted: meta
            .get("mac_only_encrypted")
            .and_then(|n| n.as_bool().or_else(|| n.as_str().map(|s| s == "true")))
            .unwrap_or(false),
        keys: Vec::new(),
    };
    for (k, v) in meta.entries() {
        if super::selector::FIELDS.contains(&k)
            && let Some(f) = field(v)
            && !f.value.is_empty()
        {
            metadata.selectors.push((k.to_string(), f));
        }
    }
    collect_keys(meta, &mut metadata.keys);
    if let Some(groups) = meta.get("key_groups").and_then(Node::as_seq) {
        for g in groups {
            collect_keys(g, &mut metadata.keys);
        }
    }
    Some(SopsFile {
        format: Format::Tree,
        metadata,
        leaves: tree_leaves(docs, Some(())),
    })
}

fn collect_keys(group: &Node, out: &mut Vec<MasterKey>) {
    for kind in KEY_KINDS {
        let Some(list) = group.get(kind).and_then(Node::as_seq) else {
            continue;
        };
        for entry in list {
            if entry.as_map().is_none() {
                continue;
            }
            let id = [
                "recipient",
                "fp",
                "arn",
                "resource_id",
                "vault_url",
                "vault_address",
                "key_id",
            ]
            .iter()
            .find_map(|f| entry.get(f).and_then(scalar_text));
            out.push(MasterKey {
                kind: kind.to_string(),
                enc: entry.get("enc").and_then(field),
                id,
            });
        }
    }
}

/// Every leaf of every document. With `skip_sops`, the top-level `sops`
/// key of each document is left out (it is the metadata).
fn tree_leaves(docs: &[Document], skip_sops: Option<()>) -> Vec<Leaf> {
    let mut out = Vec::new();
    for d in docs {
        let Some(map) = d.root.as_map() else { continue };
        let is_secret = d.root.get("kind").and_then(Node::as_str) == Some("Secret");
        for (k, v) in map {
            let Some(key) = k.as_scalar() else { continue };
            if skip_sops.is_some() && key.text == "sops" {
                continue;
            }
            if k.from_alias || v.from_alias {
                continue;
            }
            let mut path = vec![key.text.clone()];
            let mut anchors = vec![k.span.range()];
            walk(v, d.index, is_secret, &mut path, &mut anchors, &mut out);
        }
    }
    out
}

/// Depth is bounded by the YAML parser's nesting limit.
fn walk(
    node: &Node,
    doc: usize,
    in_k8s_secret: bool,
    path: &mut Vec<String>,
    anchors: &mut Vec<Range<usize>>,
    out: &mut Vec<Leaf>,
) {
    match &node.value {
        Value::Scalar(s) => {
            if node.is_null() || s.text.is_empty() {
                return;
            }
            let mut a = anchors.clone();
            a.push(node.span.range());
            out.push(Leaf {
                path: path.clone(),
                text: s.text.clone(),
                range: node.span.range(),
                anchors: a,
                comments: Vec::new(),
                doc,
                in_k8s_secret,
            });
        }
        Value::Seq(items) => {
            for item in items {
                if item.from_alias {
                    continue;
                }
                anchors.push(item.span.range());
                walk(item, doc, in_k8s_secret, path, anchors, out);
                anchors.pop();
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let Some(key) = k.as_scalar() else { continue };
                if k.from_alias || v.from_alias {
                    continue;
                }
                path.push(key.text.clone());
                anchors.push(k.span.range());
                walk(v, doc, in_k8s_secret, path, anchors, out);
                anchors.pop();
                path.pop();
            }
        }
    }
}

/// The comments SOPS's YAML store associates with a leaf: for the leaf and
/// each parent key, the comment lines directly above it (up to a blank or
/// non-comment line) and a comment at the end of its line. The text is what
/// follows `#`, as SOPS keeps it.
pub fn yaml_comments(text: &str, leaf: &Leaf) -> Vec<String> {
    let mut out = Vec::new();
    let mut last_line = usize::MAX;
    for a in &leaf.anchors {
        let line_start = text[..a.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if line_start == last_line {
            continue; // a value on its key's line: same comments
        }
        last_line = line_start;
        // comment lines above
        let mut above = Vec::new();
        let mut end = line_start;
        while end > 0 {
            let prev_start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
            let line = text[prev_start..end - 1].trim();
            match line.strip_prefix('#') {
                Some(c) => above.push(c.to_string()),
                None => break,
            }
            end = prev_start;
        }
        above.reverse();
        out.extend(above);
        // a comment after the anchor on its own line
        let line_end = text[a.end.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| a.end + i);
        let rest = &text[a.end.min(line_end)..line_end];
        if let Some(i) = rest.find(" #").or_else(|| rest.find("\t#")) {
            out.push(rest[i + 2..].trim_end_matches('\r').to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// dotenv

/// Leaves and `sops_` metadata entries of a dotenv file, or `None` when a
/// line is not `KEY=VALUE` or a comment (SOPS rejects such a file too).
#[allow(clippy::type_complexity)]
fn dotenv_leaves(text: &str) -> Option<(Vec<Leaf>, Vec<(String, Field)>)> {
    let mut leaves = Vec::new();
    let mut meta = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut offset = 0;
    for raw in text.split('\n') {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            comments.push(c.to_string());
            continue;
        }
        let eq = line.find('=')?;
        let key = &line[..eq];
        let value = line[eq + 1..].replace("\\n", "\n");
        let range = start + eq + 1..start + line.len();
        if let Some(k) = key.strip_prefix("sops_") {
            meta.push((k.to_string(), Field { value, range }));
        } else if !value.is_empty() {
            leaves.push(Leaf {
                path: vec![key.to_string()],
                text: value,
                range,
                anchors: Vec::new(),
                comments: std::mem::take(&mut comments),
                doc: 0,
                in_k8s_secret: false,
            });
        }
        comments.clear();
    }
    Some((leaves, meta))
}

fn read_dotenv(text: &str) -> Option<SopsFile> {
    let (leaves, meta) = dotenv_leaves(text)?;
    let anchor = meta.first()?.1.range.clone();
    Some(SopsFile {
        format: Format::Dotenv,
        metadata: flat_metadata(anchor, meta),
        leaves,
    })
}

// ---------------------------------------------------------------------------
// INI

/// Leaves (sections other than `sops`) and the `[sops]` entries of an INI
/// file, with the byte range of the `[sops]` header.
#[allow(clippy::type_complexity)]
fn ini_parts(text: &str) -> Option<(Vec<Leaf>, Vec<(String, Field)>, Option<Range<usize>>)> {
    let mut leaves = Vec::new();
    let mut meta = Vec::new();
    let mut header = None;
    let mut section = "DEFAULT".to_string();
    let mut section_comments: Vec<String> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let lines: Vec<(usize, &str)> = {
        let mut v = Vec::new();
        let mut offset = 0;
        for raw in text.split('\n') {
            v.push((offset, raw.strip_suffix('\r').unwrap_or(raw)));
            offset += raw.len() + 1;
        }
        v
    };
    let mut i = 0;
    while i < lines.len() {
        let (start, line) = lines[i];
        i += 1;
        let t = line.trim();
        if t.is_empty() {
            comments.clear();
            continue;
        }
        if let Some(c) = t.strip_prefix(';').or_else(|| t.strip_prefix('#')) {
            comments.push(c.trim_start_matches([';', '#', ' ']).to_string());
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].trim().to_string();
            section_comments = std::mem::take(&mut comments);
            if section == "sops" {
                let lead = line.len() - line.trim_start().len();
                header = Some(start + lead..start + lead + t.len());
            }
            continue;
        }
        let delim = line.find(['=', ':'])?;
        let key = line[..delim].trim().to_string();
        let after = &line[delim + 1..];
        let lead = after.len() - after.trim_start().len();
        let vstart = start + delim + 1 + lead;
        let rest = after.trim();
        let (value, range) = if let Some(body) = rest.strip_prefix("\"\"\"") {
            // Python-style multi-line value, up to the closing `"""`.
            if let Some(end) = body.find("\"\"\"") {
                (body[..end].to_string(), vstart..vstart + rest.len())
            } else {
                let mut v = body.to_string();
                let mut end = vstart + rest.len();
                while i < lines.len() {
                    let (s, l) = lines[i];
                    i += 1;
                    if let Some(p) = l.find("\"\"\"") {
                        v.push('\n');
                        v.push_str(&l[..p]);
                        end = s + p + 3;
                        break;
                    }
                    v.push('\n');
                    v.push_str(l);
                    end = s + l.len();
                }
                (v, vstart..end)
            }
        } else if rest.len() >= 2
            && ((rest.starts_with('"') && rest.ends_with('"'))
                || (rest.starts_with('`') && rest.ends_with('`')))
        {
            (
                rest[1..rest.len() - 1].to_string(),
                vstart..vstart + rest.len(),
            )
        } else {
            // go-ini cuts an unquoted value at an inline `;` or `#` comment.
            let cut = rest.find([';', '#']).unwrap_or(rest.len());
            let v = rest[..cut].trim_end();
            (v.to_string(), vstart..vstart + v.len())
        };
        if section == "sops" {
            meta.push((
                key,
                Field {
                    value: value.replace("\\n", "\n"),
                    range,
                },
            ));
        } else if !value.is_empty() {
            let mut c = section_comments.clone();
            c.append(&mut comments);
            leaves.push(Leaf {
                path: vec![section.clone(), key],
                text: value,
                range,
                anchors: Vec::new(),
                comments: c,
                doc: 0,
                in_k8s_secret: false,
            });
        }
        comments.clear();
    }
    Some((leaves, meta, header))
}

fn read_ini(text: &str) -> Option<SopsFile> {
    let (leaves, meta, header) = ini_parts(text)?;
    Some(SopsFile {
        format: Format::Ini,
        metadata: flat_metadata(header?, meta),
        leaves,
    })
}

// ---------------------------------------------------------------------------
// Flattened metadata (dotenv, INI)

/// Rebuild metadata from flattened keys such as `mac`,
/// `age__list_0__map_enc` or `key_groups__list_0__map_pgp__list_1__map_fp`.
fn flat_metadata(anchor: Range<usize>, entries: Vec<(String, Field)>) -> Metadata {
    let mut m = Metadata {
        anchor,
        mac: None,
        version: None,
        lastmodified: None,
        selectors: Vec::new(),
        mac_only_encrypted: false,
        keys: Vec::new(),
    };
    // (key prefix up to `__map_`, kind) → index into m.keys
    let mut seen: Vec<String> = Vec::new();
    for (k, f) in entries {
        match k.as_str() {
            "mac" => m.mac = Some(f),
            "version" => m.version = Some(f),
            "lastmodified" => m.lastmodified = Some(f),
            "mac_only_encrypted" => m.mac_only_encrypted = f.value == "true",
            s if super::selector::FIELDS.contains(&s) => {
                if !f.value.is_empty() {
                    m.selectors.push((k, f));
                }
            }
            _ => {
                let Some((prefix, attr)) = k.rsplit_once("__map_") else {
                    continue;
                };
                // the kind is the segment right before the last `__list_<n>`
                let Some((head, _index)) = prefix.rsplit_once("__list_") else {
                    continue;
                };
                let kind = head.rsplit("__map_").next().unwrap_or(head);
                if !KEY_KINDS.contains(&kind) {
                    continue;
                }
                let idx = match seen.iter().position(|p| p == prefix) {
                    Some(i) => i,
                    None => {
                        seen.push(prefix.to_string());
                        m.keys.push(MasterKey {
                            kind: kind.to_string(),
                            enc: None,
                            id: None,
                        });
                        m.keys.len() - 1
                    }
                };
                match attr {
                    "enc" => m.keys[idx].enc = Some(f),
                    "recipient" | "fp" | "arn" | "resource_id" | "vault_url" | "vault_address"
                    | "key_id" => m.keys[idx].id = Some(f.value),
                    _ => {}
                }
            }
        }
    }
    m
}

/// Whether a leaf's value claims to be encrypted.
pub fn leaf_is_encrypted(leaf: &Leaf) -> bool {
    looks_encrypted(&leaf.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sops(path: &str, text: &str) -> SopsFile {
        match read(&Input::new(path, text.as_bytes())) {
            Reading::Sops(f) => *f,
            other => panic!("not read as SOPS: {other:?}"),
        }
    }

    #[test]
    fn yaml_paths_skip_sequence_positions_and_metadata() {
        let f = sops(
            "a.yaml",
            "a:\n  b:\n    - x\n    - ~\n  c: ''\nsops:\n  mac: m\n  version: 3.9.0\n",
        );
        assert_eq!(f.format, Format::Tree);
        let paths: Vec<_> = f.leaves.iter().map(|l| l.path.join(".")).collect();
        assert_eq!(paths, vec!["a.b"]);
        assert_eq!(f.metadata.mac.unwrap().value, "m");
    }

    #[test]
    fn dotenv_and_ini_metadata_is_unflattened() {
        let f = sops(
            "x.env",
            "foo =bar\nsops_mac=m\nsops_age__list_0__map_enc=e\nsops_age__list_0__map_recipient=r\nsops_encrypted_regex=^x$\n",
        );
        assert_eq!(f.format, Format::Dotenv);
        assert_eq!(f.leaves[0].path, vec!["foo ".to_string()]);
        assert_eq!(f.metadata.keys.len(), 1);
        assert_eq!(f.metadata.keys[0].kind, "age");
        assert_eq!(f.metadata.keys[0].id.as_deref(), Some("r"));
        assert_eq!(f.metadata.selectors[0].0, "encrypted_regex");
        let f = sops(
            "x.ini",
            "; top\n[foo]\nbar = baz\n\n[sops]\nmac = m\nkey_groups__list_0__map_pgp__list_1__map_enc = \"\"\"a\nb\"\"\"\nversion = 3\n",
        );
        assert_eq!(f.format, Format::Ini);
        assert_eq!(f.leaves[0].path, vec!["foo".to_string(), "bar".to_string()]);
        assert_eq!(f.leaves[0].comments, vec!["top".to_string()]);
        assert_eq!(f.metadata.keys[0].kind, "pgp");
        assert_eq!(f.metadata.keys[0].enc.as_ref().unwrap().value, "a\nb");
        assert_eq!(f.metadata.version.unwrap().value, "3");
    }

    #[test]
    fn sops_look_alikes_are_not_sops() {
        let r = read(&Input::new("v.yaml", b"sops:\n  enabled: true\n"));
        assert!(matches!(r, Reading::NotSops));
        let r = read(&Input::new("v.yaml", b"a: ENC[AES256_GCM,data:x]\n"));
        assert!(matches!(
            r,
            Reading::EncryptedWithoutMetadata { count: 1, .. }
        ));
        assert!(matches!(
            read(&Input::new("x.bin", b"\xff\xfesops")),
            Reading::NotSops
        ));
    }

    #[test]
    fn yaml_comments_above_and_inline() {
        let text = "# head\na:\n  # sops:enc\n  b: v # tail\n";
        let f = sops("c.yaml", &format!("{text}sops:\n  mac: m\n"));
        let c = yaml_comments(&format!("{text}sops:\n  mac: m\n"), &f.leaves[0]);
        assert_eq!(c, vec![" head", " sops:enc", " tail"]);
    }
}
