//! # proc-mount-default
//!
//! ## What it checks
//!
//! No container may set `securityContext.procMount` to anything but
//! `Default` (in practice: `Unmasked`). The finding points at the value.
//!
//! ## Why it matters
//!
//! The container runtime masks and makes read-only the parts of `/proc` that
//! reveal or change the node (`/proc/kcore`, `/proc/sys`, `/proc/sysrq-trigger`,
//! …). `procMount: Unmasked` removes that protection; it exists for nested
//! container runtimes in user namespaces and is a container-escape aid
//! anywhere else. The Pod Security Standards' `baseline` profile allows only
//! `Default`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: builder
//!   image: ghcr.io/acme/builder:2.0.1
//!   securityContext:
//!     procMount: Unmasked
//! ```
//!
//! ## Use instead
//!
//! Remove the field (it defaults to `Default`); a nested-runtime workload
//! should run with `hostUsers: false` and carry a suppression with the reason.

use super::{CheckMeta, PodCheck, Workload, describe, shown};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "proc-mount-default",
    name: "Containers must keep the default (masked) /proc mount",
    severity: Severity::High,
    remediation: "Remove `procMount` (or set it to `Default`).",
    source: include_str!("proc_mount_default.rs"),
};

pub struct ProcMountDefault;

impl PodCheck for ProcMountDefault {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            let Some(s) = w.container_setting(&c, "procMount") else {
                continue;
            };
            if s.node.as_str() == Some("Default") {
                continue;
            }
            out.push(w.finding(
                &META,
                format!("{} sets procMount: {}", describe(&c), shown(s.node)),
                s.node.span,
                &s.path,
            ));
        }
    }
}
