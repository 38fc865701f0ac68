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

pub use super::path::{KeyPath, Segment};
use super::yaml::{Document, Node, Span};

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
    objects_of(docs)
}

/// [`objects`] of some documents of a file (see `Input::documents_where`).
pub fn objects_of<'a>(docs: impl IntoIterator<Item = &'a Document>) -> Vec<Object<'a>> {
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
    /// Every kind [`Object::pod_spec`] finds a pod spec in (some only in
    /// their API group: `Rollout`, `DeploymentConfig`).
    pub const POD_KINDS: &'static [&'static str] = &[
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Rollout",
        "DeploymentConfig",
        "PodTemplate",
    ];

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
            // OpenShift 3 wrote DeploymentConfigs as legacy `v1` (no group).
            "DeploymentConfig" if matches!(group, "apps.openshift.io" | "") => {
                &["spec", "template"]
            }
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

    /// The setting `key` that applies to `container`, and where it comes
    /// from: the container's `securityContext` when it sets the key (not to
    /// null), else the pod's `securityContext` for the keys Kubernetes lets
    /// a pod set for all its containers ([`POD_LEVEL_SECURITY_KEYS`]). A
    /// container-only key (`privileged`, `capabilities`, ...) never falls
    /// back to the pod.
    pub fn effective_security(
        &self,
        container: &ContainerView<'a>,
        key: &str,
    ) -> Option<(&'a Node, SettingSource)> {
        let set = |ctx: Option<&'a Node>| ctx.and_then(|c| c.get(key)).filter(|v| !v.is_null());
        if let Some(v) = set(container.security_context()) {
            return Some((v, SettingSource::Container));
        }
        if POD_LEVEL_SECURITY_KEYS.contains(&key) {
            return set(self.security_context()).map(|v| (v, SettingSource::Pod));
        }
        None
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

/// `securityContext` keys that a pod may set for all its containers (and a
/// container may override): the fields `PodSecurityContext` shares with
/// `SecurityContext`.
pub const POD_LEVEL_SECURITY_KEYS: [&str; 7] = [
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];

/// Which `securityContext` an effective setting was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingSource {
    Container,
    Pod,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::{Limits, parse_documents};

    fn docs(text: &str) -> Vec<Document> {
        parse_documents(text, &Limits::default()).expect("valid YAML")
    }

    const POD_SPEC: &str = "containers:
        - name: web
          image: nginx:1.27
          env:
          - name: DB_PASSWORD
            value: hunter2
          - name: TOKEN
            valueFrom:
              secretKeyRef: {name: s, key: token}
        initContainers:
        - name: init
          image: busybox
        ephemeralContainers:
        - name: debug
          image: alpine";

    /// `POD_SPEC` indented to sit under `prefix` keys.
    fn workload(api_version: &str, kind: &str, prefix: &[&str]) -> String {
        let mut out = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: w\n");
        let mut indent = 0;
        for key in prefix {
            out.push_str(&" ".repeat(indent));
            out.push_str(key);
            out.push_str(":\n");
            indent += 2;
            if *key == "template" {
                out.push_str(&" ".repeat(indent));
                out.push_str("metadata: {labels: {app: w}}\n");
            }
        }
        out.push_str(&" ".repeat(indent));
        out.push_str("spec:\n");
        for line in POD_SPEC.lines() {
            out.push_str(&" ".repeat(indent + 2));
            out.push_str(line.trim_start_matches("        "));
            out.push('\n');
        }
        out
    }

    #[test]
    fn every_workload_kind_has_its_pod_spec() {
        let cases: &[(&str, &str, &[&str], &str)] = &[
            ("v1", "Pod", &[], "spec"),
            (
                "apps/v1",
                "Deployment",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "StatefulSet",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "DaemonSet",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "ReplicaSet",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "v1",
                "ReplicationController",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "batch/v1",
                "Job",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "batch/v1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template"],
                "spec.jobTemplate.spec.template.spec",
            ),
            (
                "argoproj.io/v1alpha1",
                "Rollout",
                &["spec", "template"],
                "spec.template.spec",
            ),
            (
                "apps.openshift.io/v1",
                "DeploymentConfig",
                &["spec", "template"],
                "spec.template.spec",
            ),
            ("v1", "PodTemplate", &["template"], "template.spec"),
            (
                "extensions/v1beta1",
                "Deployment",
                &["spec", "template"],
                "spec.template.spec",
            ),
        ];
        for (api, kind, prefix, path) in cases {
            let text = workload(api, kind, prefix);
            let d = docs(&text);
            let objs = objects(&d);
            assert_eq!(objs.len(), 1);
            let pod = objs[0]
                .pod_spec()
                .unwrap_or_else(|| panic!("{kind}: no pod spec in\n{text}"));
            assert_eq!(pod.path.to_string(), *path, "{kind}");
            let names: Vec<_> = pod
                .containers()
                .map(|c| (c.kind, c.name().unwrap()))
                .collect();
            assert_eq!(
                names,
                [
                    (ContainerKind::Container, "web"),
                    (ContainerKind::Init, "init"),
                    (ContainerKind::Ephemeral, "debug")
                ],
                "{kind}"
            );
            // Pod-level labels: the template's, or the Pod's own metadata.
            let pod_meta = pod.metadata.expect("pod metadata");
            if *kind == "Pod" {
                assert_eq!(pod_meta.get("name").and_then(Node::as_str), Some("w"));
            } else {
                assert_eq!(pod.labels().next().map(|e| e.key), Some("app"), "{kind}");
            }
            // The image span points at the value in the source.
            let web = pod.containers().next().unwrap();
            let image = web.image_node().unwrap();
            assert_eq!(&text[image.span.range()], "nginx:1.27");
            let line = text.lines().nth(image.span.line - 1).unwrap();
            assert!(line.ends_with("image: nginx:1.27"), "{kind}: {line}");
        }
    }

    #[test]
    fn non_workloads_and_foreign_kinds_have_no_pod_spec() {
        let cases = [
            "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n",
            // A Rollout that is not Argo's.
            "apiVersion: example.com/v1\nkind: Rollout\nspec:\n  template:\n    spec: {containers: []}\n",
            // Argo Rollout referencing a Deployment instead of a template.
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  workloadRef: {kind: Deployment, name: x}\n",
            // A CRD that reuses the name Job with another shape.
            "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nspec:\n  tasks: []\n",
            "apiVersion: v1\nkind: Pod\nspec: oops\n",
            "kind: Deployment\n",
        ];
        for text in cases {
            let d = docs(text);
            assert!(objects(&d)[0].pod_spec().is_none(), "{text}");
        }
    }

    #[test]
    fn lists_are_flattened() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: ns}
  spec: {containers: [{name: c, image: x}]}
- apiVersion: v1
  kind: ServiceList
  items:
  - {apiVersion: v1, kind: Service, metadata: {name: b}}
---
# empty
---
just a scalar
---
replicaCount: 2
---
apiVersion: v1
kind: PodList
items: []
";
        let d = docs(text);
        let objs = objects(&d);
        let seen: Vec<_> = objs
            .iter()
            .map(|o| (o.doc_index, o.kind, o.name, o.path.to_string()))
            .collect();
        assert_eq!(
            seen,
            [
                (0, Some("Pod"), Some("a"), "items[0]".to_string()),
                (
                    0,
                    Some("Service"),
                    Some("b"),
                    "items[1].items[0]".to_string()
                ),
                (3, None, None, String::new()),
            ]
        );
        assert_eq!(objs[0].namespace, Some("ns"));
        let pod = objs[0].pod_spec().unwrap();
        assert_eq!(pod.path.to_string(), "items[0].spec");
        let c = pod.containers().next().unwrap();
        assert_eq!(
            c.path.key("image").to_string(),
            "items[0].spec.containers[c].image"
        );
    }

    #[test]
    fn a_list_kind_without_items_is_an_object() {
        let d = docs("apiVersion: example.com/v1\nkind: AllowList\nspec: {cidrs: []}\n");
        let objs = objects(&d);
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].kind, Some("AllowList"));
    }

    #[test]
    fn env_entries_and_breadcrumbs() {
        let text = workload("apps/v1", "Deployment", &["spec", "template"]);
        let d = docs(&text);
        let objs = objects(&d);
        let pod = objs[0].pod_spec().unwrap();
        let web = pod.containers().next().unwrap();
        let env: Vec<_> = web.env().collect();
        assert_eq!(env.len(), 2);
        assert_eq!(env[0].name(), Some("DB_PASSWORD"));
        let value = env[0].value().unwrap();
        assert_eq!(&text[value.span.range()], "hunter2");
        assert_eq!(
            env[0].path.key("value").to_string(),
            "spec.template.spec.containers[web].env[DB_PASSWORD].value"
        );
        assert!(env[0].secret_key_ref().is_none());
        assert_eq!(
            env[1]
                .secret_key_ref()
                .and_then(|r| r.get("key"))
                .and_then(Node::as_str),
            Some("token")
        );
        assert!(env[1].value().is_none());
        assert!(env[1].value_from().is_some());
        assert_eq!(web.anchor_span(), web.name_node().unwrap().span);
    }

    #[test]
    fn unnamed_containers_and_non_map_items() {
        let text = "kind: Pod\nspec:\n  containers:\n  - image: a\n  - just-a-string\n  - image: b\n    env: [x, {name: Y, value: '1'}]\n";
        let d = docs(text);
        let objs = objects(&d);
        let pod = objs[0].pod_spec().unwrap();
        let cs: Vec<_> = pod.containers().collect();
        assert_eq!(cs.len(), 2, "the string item is skipped");
        assert_eq!(cs[0].path.to_string(), "spec.containers[0]");
        assert_eq!(cs[1].path.to_string(), "spec.containers[2]");
        assert_eq!(cs[1].index, 2);
        assert_eq!(
            cs[0].anchor_span(),
            cs[0].node.span,
            "no name: point at the container"
        );
        let env: Vec<_> = cs[1].env().collect();
        assert_eq!(env.len(), 1);
        assert_eq!(env[0].path.to_string(), "spec.containers[2].env[Y]");
    }

    #[test]
    fn labels_and_annotations_with_positions() {
        let text = "\
apiVersion: v1
kind: Secret
metadata:
  name: repo
  labels:
    argocd.argoproj.io/secret-type: repository
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {\"kind\":\"Secret\"}
    note: ~
";
        let d = docs(text);
        let objs = objects(&d);
        let o = &objs[0];
        assert_eq!(o.api_group(), Some(""));
        assert_eq!(
            o.label("argocd.argoproj.io/secret-type"),
            Some("repository")
        );
        let labels: Vec<_> = o.labels().collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(
            (labels[0].key_node.span.line, labels[0].key_node.span.column),
            (6, 5)
        );
        assert_eq!(labels[0].value_str(), Some("repository"));
        let ann: Vec<_> = o.annotations().collect();
        assert_eq!(ann.len(), 2);
        assert_eq!(ann[0].value.span.line, 8);
        assert_eq!(ann[1].value_str(), None);
        assert_eq!(o.annotation("note"), None);
        let path = KeyPath::new()
            .keys(&["metadata", "annotations"])
            .key(ann[0].key);
        assert_eq!(
            path.to_string(),
            "metadata.annotations[\"kubectl.kubernetes.io/last-applied-configuration\"]"
        );
        assert_eq!(o.anchor_span(), o.name_node().unwrap().span);
    }

    #[test]
    fn container_security_context_overrides_the_pods() {
        let text = "\
kind: Pod
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  containers:
  - name: a
    securityContext: {runAsUser: 0, privileged: true}
  - name: b
    securityContext: {runAsNonRoot: ~}
";
        let d = docs(text);
        let objs = objects(&d);
        let pod = objs[0].pod_spec().unwrap();
        let cs: Vec<_> = pod.containers().collect();
        let eff = |c: &ContainerView<'_>, k: &str| {
            pod.effective_security(c, k)
                .map(|(n, src)| (n.as_scalar().unwrap().text.clone(), src, n.span.line))
        };
        assert_eq!(
            eff(&cs[0], "runAsUser"),
            Some(("0".into(), SettingSource::Container, 6))
        );
        assert_eq!(
            eff(&cs[0], "runAsNonRoot"),
            Some(("true".into(), SettingSource::Pod, 3))
        );
        assert_eq!(
            eff(&cs[0], "privileged"),
            Some(("true".into(), SettingSource::Container, 6))
        );
        // Null means unset: the pod's value applies.
        assert_eq!(
            eff(&cs[1], "runAsNonRoot"),
            Some(("true".into(), SettingSource::Pod, 3))
        );
        assert_eq!(
            eff(&cs[1], "runAsUser"),
            Some(("1000".into(), SettingSource::Pod, 3))
        );
        // Container-only keys never come from the pod.
        assert_eq!(eff(&cs[1], "privileged"), None);
        assert_eq!(eff(&cs[1], "readOnlyRootFilesystem"), None);
    }

    #[test]
    fn api_group_of_versions() {
        let d = docs("apiVersion: apps/v1\nkind: Deployment\n---\nkind: Thing\n");
        let objs = objects(&d);
        assert_eq!(objs[0].api_group(), Some("apps"));
        assert_eq!(objs[1].api_group(), None);
        assert_eq!(objs[1].anchor_span(), objs[1].kind_node().unwrap().span);
    }
}
