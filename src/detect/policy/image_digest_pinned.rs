//! # image-digest-pinned
//!
//! ## What it checks
//!
//! Every container's `image` (also init and ephemeral containers) should be
//! pinned by content digest: `name[:tag]@sha256:<64 hex digits>`. An image
//! without a digest, or with a malformed one, is reported at the `image:`
//! value. Templated images (`${IMAGE}`, `{{ … }}`) are not judged.
//!
//! ## Why it matters
//!
//! A tag is a mutable pointer: whoever can push to the repository (or
//! compromise it) can move `1.27.3` to other content, and the cluster pulls
//! it on the next restart without any change in Git. A digest names the
//! exact bytes, so what was reviewed is what runs, and signature
//! verification has something fixed to verify. Tags with an automated
//! updater (Renovate, Flux image automation) are a reasonable trade-off,
//! which is why this check is `low` while `image-tag-pinned` is `medium`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginx:1.27.3
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginx:1.27.3@sha256:<digest of that image>
//! ```
//!
//! Renovate's `pinDigests` or `crane digest nginx:1.27.3` fill it in.

use super::image::ImageRef;
use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "image-digest-pinned",
    name: "Images should be pinned by digest",
    severity: Severity::Low,
    remediation: "Append the image's content digest: `image: name:tag@sha256:<digest>` (Renovate `pinDigests` automates it).",
    source: include_str!("image_digest_pinned.rs"),
};

pub struct ImageDigestPinned;

impl PodCheck for ImageDigestPinned {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            let Some(node) = c.image_node() else { continue };
            let Some(image) = node.as_str().and_then(ImageRef::parse) else {
                continue;
            };
            if image.has_valid_digest() {
                continue;
            }
            let problem = if image.digest.is_some() {
                "has a malformed digest (expected sha256: and 64 hex digits)"
            } else {
                "is not pinned by digest"
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
