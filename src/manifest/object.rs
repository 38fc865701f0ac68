//! Kubernetes objects as thin views over the YAML tree.
//!
//! Detectors ask Kubernetes questions ("the containers of this workload",
//! "this Secret's labels") and must answer with positions, so the views only
//! borrow [`Node`]s: nothing is copied, and every value a detector reports
//! still carries its span. Each view also carries a [`KeyPath`] breadcrumb so a
//! message can say *where* in the object the value is
//! (`spec.template.spec.containers[web].env[DB_PASSWORD].value`).
//!
//! Kubernetes semantics that several detectors need live here once: `List`
//! flattening, where each workload kind keeps its pod spec, and the three
//! container lists.

use super::yaml::{Document, Node, Span};
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

/// A label or annotation: its key (with the key node, for its span) and value.
#[derive(Clone, Copy, Debug)]
pub struct MetaEntry<'a> {
    pub key: &'a str,
    pub key_node: &'a Node,
    pub value: &'a Node,
}

impl<'a> MetaEntry<'a> {
    /// The value's text (labels and annotations are strings; null is `None`).
    pub fn value_str(&self) -> Option<&'a str> {
        self.value.as_str()
    }
}

/// A Kubernetes object: a mapping at the root of a document, or an item of a
/// `List`. Fields a detector always wants are read once; the rest is one
/// [`Node::get`] away through `node`.
#[derive(Clone, Debug)]
pub struct Object<'a> {
    /// Which document of the file (0-based, empty documents counted).
    pub doc_index: usize,
    /// The object's mapping.
    pub node: &'a Node,
    /// Where the object sits in its document: empty at the root,
    /// `items[3]` for an item of a `List`.
    pub path: KeyPath,
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub name: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

/// Every object of a file's documents, with `List` kinds (`kind: List` and any
/// `*List` with an `items` sequence, as `kubectl get -o yaml` writes them)
/// flattened into their items. Documents whose root is not a mapping (empty
/// documents, bare scalars) yield nothing; mappings without `kind` (Helm values,
/// Kustomize configs) are objects with `kind: None`.
pub fn objects(docs: &[Document]) -> Vec<Object<'_>> {
    let mut out = Vec::new();
    for doc in docs {
        collect(doc.index, &doc.root, KeyPath::new(), &mut out);
    }
    out
}

fn collect<'a>(doc_index: usize, node: &'a Node, path: KeyPath, out: &mut Vec<Object<'a>>) {
    if node.as_map().is_none() {
        return;
    }
    let kind = node.get("kind").and_then(Node::as_str);
    if let (Some(k), Some(items)) = (kind, node.get("items").and_then(Node::as_seq))
        && k.ends_with("List")
    {
        // Nesting is bounded by the parser's depth limit.
        for (i, item) in items.iter().enumerate() {
            collect(doc_index, item, path.key("items").index(i), out);
        }
        return;
    }
    out.push(Object::new(doc_index, node, path));
}

impl<'a> Object<'a> {
    /// A view of `node` (which should be a mapping) found at `path` in
    /// document `doc_index`.
    pub fn new(doc_index: usize, node: &'a Node, path: KeyPath) -> Self {
        let meta = node.get("metadata");
        let text =
            |n: Option<&'a Node>, key: &str| n.and_then(|m| m.get(key)).and_then(Node::as_str);
        Object {
            doc_index,
            node,
            path,
            api_version: text(Some(node), "apiVersion"),
            kind: text(Some(node), "kind"),
            name: text(meta, "name"),
            namespace: text(meta, "namespace"),
        }
    }

    /// The API group: `apps` for `apps/v1`, `""` for the core group (`v1`).
    pub fn api_group(&self) -> Option<&'a str> {
        let v = self.api_version?;
        Some(v.rsplit_once('/').map_or("", |(group, _)| group))
    }

    /// `metadata`, if it is there.
    pub fn metadata(&self) -> Option<&'a Node> {
        self.node.get("metadata")
    }

    /// A top-level field of the object.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    /// The node of `kind:`'s value, for pointing at the object.
    pub fn kind_node(&self) -> Option<&'a Node> {
        self.node.get("kind")
    }

    /// The node of `metadata.name`'s value.
    pub fn name_node(&self) -> Option<&'a Node> {
        self.node.get_path(&["metadata", "name"])
    }

    /// Where to point when a finding concerns the whole object: its
    /// `metadata.name`, else its `kind`, else the object's mapping.
    pub fn anchor_span(&self) -> Span {
        self.name_node()
            .or_else(|| self.kind_node())
            .map_or(self.node.span, |n| n.span)
    }

    /// `metadata.labels` entries, in order.
    pub fn labels(&self) -> impl Iterator<Item = MetaEntry<'a>> + 'a {
        meta_entries(self.metadata(), "labels")
    }

    /// `metadata.annotations` entries, in order.
    pub fn annotations(&self) -> impl Iterator<Item = MetaEntry<'a>> + 'a {
        meta_entries(self.metadata(), "annotations")
    }

    /// The text of label `key` (last one if duplicated).
    pub fn label(&self, key: &str) -> Option<&'a str> {
        self.node
            .get_path(&["metadata", "labels", key])
            .and_then(Node::as_str)
    }

    /// The text of annotation `key` (last one if duplicated).
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.node
            .get_path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }

    /// The pod spec of a workload, with the pod template's metadata.
    ///
    /// | kind | pod spec at |
    /// |---|---|
    /// | Pod | `spec` |
    /// | Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job | `spec.template.spec` |
    /// | CronJob | `spec.jobTemplate.spec.template.spec` |
    /// | Rollout (`argoproj.io`), DeploymentConfig (`apps.openshift.io`) | `spec.template.spec` |
    /// | PodTemplate | `template.spec` |
    ///
    /// The API version is not checked for the built-in kinds, so old groups
    /// (`extensions/v1beta1`, `batch/v1beta1`) work; a custom resource that
    /// reuses a kind name but not the shape simply yields `None`.
    pub fn pod_spec(&self) -> Option<PodSpecView<'a>> {
        let kind = self.kind?;
        let group = self.api_group().unwrap_or("");
        let template: &[&str] = match kind {
            "Pod" => {
                let spec = self.node.get("spec").filter(|n| n.as_map().is_some())?;
                return Some(PodSpecView {
                    node: spec,
                    path: self.path.key("spec"),
                    metadata: self.metadata(),
                });
            }
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job" => &["spec", "template"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template"],
            "Rollout" if group == "argoproj.io" => &["spec", "template"],
            "DeploymentConfig" if group == "apps.openshift.io" => &["spec", "template"],
            "PodTemplate" => &["template"],
            _ => return None,
        };
        let template_node = self.node.get_path(template)?;
        let spec = template_node.get("spec").filter(|n| n.as_map().is_some())?;
        Some(PodSpecView {
            node: spec,
            path: self.path.keys(template).key("spec"),
            metadata: template_node.get("metadata"),
        })
    }
}

fn meta_entries<'a>(
    metadata: Option<&'a Node>,
    field: &str,
) -> impl Iterator<Item = MetaEntry<'a>> + 'a {
    metadata
        .and_then(|m| m.get(field))
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| {
            k.as_scalar().map(|s| MetaEntry {
                key: s.text.as_str(),
                key_node: k,
                value: v,
            })
        })
}

/// A pod spec inside some workload, with the metadata of its pod template
/// (labels and annotations that land on the pods, as opposed to the
/// workload's own).
#[derive(Clone, Debug)]
pub struct PodSpecView<'a> {
    /// The pod spec mapping.
    pub node: &'a Node,
    /// Its path in the document, e.g. `spec.template.spec`.
    pub path: KeyPath,
    /// The pod-level metadata: `spec.template.metadata` of a workload, the
    /// object's own `metadata` for a Pod. `None` when absent.
    pub metadata: Option<&'a Node>,
}

impl<'a> PodSpecView<'a> {
    /// A field of the pod spec.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    /// The pod-level `securityContext`.
    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext")
    }

    /// Pod template labels, in order.
    pub fn labels(&self) -> impl Iterator<Item = MetaEntry<'a>> + 'a {
        meta_entries(self.metadata, "labels")
    }

    /// Pod template annotations, in order.
    pub fn annotations(&self) -> impl Iterator<Item = MetaEntry<'a>> + 'a {
        meta_entries(self.metadata, "annotations")
    }

    /// `volumes` items.
    pub fn volumes(&self) -> impl Iterator<Item = &'a Node> + 'a {
        seq_items(self.node.get("volumes"))
    }

    /// Every container: `containers`, then `initContainers`, then
    /// `ephemeralContainers`. Items that are not mappings are skipped.
    pub fn containers(&self) -> impl Iterator<Item = ContainerView<'a>> + 'a {
        let node = self.node;
        let path = self.path.clone();
        ContainerKind::ALL.into_iter().flat_map(move |kind| {
            let path = path.key(kind.field());
            seq_items(node.get(kind.field()))
                .enumerate()
                .filter(|(_, c)| c.as_map().is_some())
                .map(move |(index, c)| ContainerView {
                    kind,
                    node: c,
                    index,
                    path: path.item(c.get("name").and_then(Node::as_str), index),
                })
        })
    }
}

fn seq_items<'a>(node: Option<&'a Node>) -> std::slice::Iter<'a, Node> {
    node.and_then(Node::as_seq).unwrap_or(&[]).iter()
}

/// Which container list a container is in. Checks must cover all three: an
/// init container running as root is as dangerous as a regular one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Container,
    Init,
    Ephemeral,
}

impl ContainerKind {
    pub const ALL: [ContainerKind; 3] = [
        ContainerKind::Container,
        ContainerKind::Init,
        ContainerKind::Ephemeral,
    ];

    /// The pod spec field holding this list.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// One container of a pod spec.
#[derive(Clone, Debug)]
pub struct ContainerView<'a> {
    pub kind: ContainerKind,
    /// The container mapping.
    pub node: &'a Node,
    /// Position in its list.
    pub index: usize,
    /// e.g. `spec.template.spec.containers[web]` (`[0]` when unnamed).
    pub path: KeyPath,
}

impl<'a> ContainerView<'a> {
    /// A field of the container.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    pub fn name(&self) -> Option<&'a str> {
        self.name_node().and_then(Node::as_str)
    }

    /// The `name:` value node, for its span.
    pub fn name_node(&self) -> Option<&'a Node> {
        self.node.get("name")
    }

    pub fn image(&self) -> Option<&'a str> {
        self.image_node().and_then(Node::as_str)
    }

    /// The `image:` value node, for its span.
    pub fn image_node(&self) -> Option<&'a Node> {
        self.node.get("image")
    }

    /// The container-level `securityContext` (which overrides the pod's).
    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext")
    }

    pub fn resources(&self) -> Option<&'a Node> {
        self.node.get("resources")
    }

    /// Where to point when a required field is missing: the container's
    /// `name:` value, else the container mapping itself.
    pub fn anchor_span(&self) -> Span {
        self.name_node().map_or(self.node.span, |n| n.span)
    }

    /// `env` entries that are mappings, in order.
    pub fn env(&self) -> impl Iterator<Item = EnvVarView<'a>> + 'a {
        let path = self.path.key("env");
        seq_items(self.node.get("env"))
            .enumerate()
            .filter(|(_, e)| e.as_map().is_some())
            .map(move |(index, e)| EnvVarView {
                node: e,
                index,
                path: path.item(e.get("name").and_then(Node::as_str), index),
            })
    }

    /// `envFrom` items (each with `configMapRef` or `secretRef`).
    pub fn env_from(&self) -> impl Iterator<Item = &'a Node> + 'a {
        seq_items(self.node.get("envFrom"))
    }

    /// `volumeMounts` items.
    pub fn volume_mounts(&self) -> impl Iterator<Item = &'a Node> + 'a {
        seq_items(self.node.get("volumeMounts"))
    }
}

/// One `env` entry of a container.
#[derive(Clone, Debug)]
pub struct EnvVarView<'a> {
    /// The entry mapping (`{name, value}` or `{name, valueFrom}`).
    pub node: &'a Node,
    pub index: usize,
    /// e.g. `spec.containers[web].env[DB_PASSWORD]`.
    pub path: KeyPath,
}

impl<'a> EnvVarView<'a> {
    pub fn name(&self) -> Option<&'a str> {
        self.name_node().and_then(Node::as_str)
    }

    pub fn name_node(&self) -> Option<&'a Node> {
        self.node.get("name")
    }

    /// The `value:` node (a literal), if present.
    pub fn value(&self) -> Option<&'a Node> {
        self.node.get("value")
    }

    /// The `valueFrom:` node (`secretKeyRef`, `configMapKeyRef`, ...).
    pub fn value_from(&self) -> Option<&'a Node> {
        self.node.get("valueFrom")
    }

    /// `valueFrom.secretKeyRef`, if that is where the value comes from.
    pub fn secret_key_ref(&self) -> Option<&'a Node> {
        self.node.get_path(&["valueFrom", "secretKeyRef"])
    }
}
