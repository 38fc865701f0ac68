//! # read-only-root-filesystem
//!
//! ## What it checks
//!
//! Every container (also init and ephemeral containers) must set
//! `securityContext.readOnlyRootFilesystem: true`. An explicit `false` is
//! reported at the value, a missing field at the container's `name:`.
//! Windows pods (`spec.os.name: windows`) are skipped: Windows containers
//! do not support a read-only root filesystem.
//!
//! ## Why it matters
//!
//! With a writable root filesystem an attacker who gets code execution can
//! drop tools, replace binaries the application will run later, or persist
//! across process restarts inside the container. A read-only root makes
//! the image immutable at run time; the application writes only where a
//! volume is mounted for it. It is defence in depth rather than a boundary,
//! so the default severity is `low` (reported, not failing the default
//! `--fail-on medium`).
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   securityContext:
//!     readOnlyRootFilesystem: true
//!   volumeMounts:
//!   - {name: tmp, mountPath: /tmp}
//! volumes:
//! - {name: tmp, emptyDir: {}}
//! ```

use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "read-only-root-filesystem",
    name: "Containers should have a read-only root filesystem",
    severity: Severity::Low,
    remediation: "Set `readOnlyRootFilesystem: true` in the container securityContext and mount an emptyDir where the application must write.",
    source: include_str!("read_only_root_filesystem.rs"),
};

pub struct ReadOnlyRootFilesystem;

impl PodCheck for ReadOnlyRootFilesystem {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        if w.is_windows() {
            return;
        }
        for c in w.pod.containers() {
            let who = describe(&c);
            let setting = w.container_setting(&c, "readOnlyRootFilesystem");
            match setting {
                Some(s) if s.node.as_bool_yaml11() == Some(true) => {}
                Some(s) if s.node.as_bool_yaml11() == Some(false) => out.push(w.finding(
                    &META,
                    format!("{who} has a writable root filesystem (readOnlyRootFilesystem: false)"),
                    s.node.span,
                    &c.path,
                )),
                _ => out.push(w.finding(
                    &META,
                    format!("{who} has a writable root filesystem: readOnlyRootFilesystem is not set to true"),
                    c.anchor_span(),
                    &c.path,
                )),
            }
        }
    }
}
