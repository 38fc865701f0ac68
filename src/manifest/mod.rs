//! Kubernetes manifests with positions: a span-aware YAML tree ([`yaml`]) and
//! thin views of Kubernetes objects on top of it ([`object`]).
//!
//! Why a model of our own: every finding must point at the exact line and
//! column of the offending value (kube-linter and kubeaudit report line 1),
//! and every input is hostile (YAML bombs, deep nesting, Helm templates that
//! are not YAML). The detectors of plaintext Secrets, env vars, SOPS and
//! SealedSecrets and pod-security policy all read manifests through this
//! module, so positions, limits and Kubernetes shapes are handled once.
//!
//! ```
//! use gitops_guard::manifest::{objects, parse_documents, Limits};
//!
//! let text = "kind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    image: nginx:latest\n";
//! let docs = parse_documents(text, &Limits::default()).unwrap();
//! let objs = objects(&docs);
//! let pod = objs[0].pod_spec().unwrap();
//! let app = pod.containers().next().unwrap();
//! let image = app.image_node().unwrap();
//! assert_eq!((image.span.line, image.span.column), (6, 12));
//! assert_eq!(app.path.key("image").to_string(), "spec.containers[app].image");
//! ```

pub mod object;
pub mod path;
pub mod yaml;

pub use object::{
    ContainerKind, ContainerView, EnvVarView, MetaEntry, Object, POD_LEVEL_SECURITY_KEYS,
    PodSpecView, SettingSource, objects, objects_of,
};
pub use path::{KeyPath, Segment};
pub use yaml::{
    Chunk, Document, Limits, MAX_DEPTH_CAP, Node, Scalar, ScalarStyle, Span, Value, YamlError,
    document_chunks, parse_chunk, parse_documents,
};
