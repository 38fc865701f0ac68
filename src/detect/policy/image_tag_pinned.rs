//! # image-tag-pinned
//!
//! ## What it checks
//!
//! Every container's `image` (also init and ephemeral containers) must name
//! a specific version: a tag other than `latest`, or a digest
//! (`@sha256:…`, which passes whatever the tag). An image without a tag —
//! `nginx`, `ghcr.io/acme/api` — means `:latest` and is reported too, at the
//! `image:` value.
//!
//! Images that are filled in later are not judged: Flux post-build
//! variables (`${IMAGE}`), Helm templates and `$(VAR)` references. A
//! Kustomize `images:` override that sets the tag at build time is not
//! seen either: pin the tag in the base, or suppress.
//!
//! ## Why it matters
//!
//! A GitOps repository is supposed to say exactly what runs. `:latest` (or
//! no tag) means whatever the registry serves at pull time: two replicas can
//! run different code, a rollback restores nothing, and a compromised or
//! careless push lands in production without a commit. With the default
//! `imagePullPolicy: Always` for `:latest`, every pod restart is a deploy.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginx:latest
//! - name: sidecar
//!   image: ghcr.io/acme/sidecar
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginx:1.27.3
//! - name: sidecar
//!   image: ghcr.io/acme/sidecar:2.1.0@sha256:…
//! ```

use super::image::ImageRef;
use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "image-tag-pinned",
    name: "Images must be pinned to a tag other than latest",
    severity: Severity::Medium,
    remediation: "Use an explicit version tag (and ideally a digest) instead of `:latest` or no tag.",
    source: include_str!("image_tag_pinned.rs"),
};

pub struct ImageTagPinned;

impl PodCheck for ImageTagPinned {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            let Some(node) = c.image_node() else { continue };
            let Some(image) = node.as_str().and_then(ImageRef::parse) else {
                continue;
            };
            if image.digest.is_some() {
                continue;
            }
            let problem = match image.tag {
                None => "has no tag, so it pulls :latest",
                Some("latest") => "uses the :latest tag",
                Some(_) => continue,
            };
            out.push(w.finding(
                &META,
                format!("{} image {:?} {problem}", describe(&c), image.raw),
                node.span,
                &c.path.key("image"),
            ));
        }
    }
}
