//! # no-privileged
//!
//! ## What it checks
//!
//! No container (also init and ephemeral containers) may set
//! `securityContext.privileged: true`, and no Windows pod or container may
//! set `windowsOptions.hostProcess: true` (the Windows equivalent). The
//! finding points at the offending value.
//!
//! ## Why it matters
//!
//! A privileged container gets every capability, every host device and no
//! seccomp or AppArmor confinement: root in it is root on the node, and
//! escaping takes one `mount` of the host disk. The Pod Security Standards'
//! `baseline` profile forbids it. Node agents that truly need it (CNI
//! plugins, storage drivers) should say so with a suppression and a reason.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: agent
//!   image: ghcr.io/acme/agent:1.4.2
//!   securityContext:
//!     privileged: true
//! ```
//!
//! ## Use instead
//!
//! Grant only what the workload needs:
//!
//! ```yaml
//! containers:
//! - name: agent
//!   image: ghcr.io/acme/agent:1.4.2
//!   securityContext:
//!     capabilities:
//!       drop: [ALL]
//!       add: [NET_ADMIN]
//! ```
//!
//! or, where it is unavoidable, record why:
//! `metadata.annotations: {gitops-guard.io/ignore: "no-privileged=CNI plugin"}`.

use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "no-privileged",
    name: "Containers must not be privileged",
    severity: Severity::High,
    remediation: "Remove `privileged: true` (and Windows `hostProcess: true`); add only the specific capabilities the container needs.",
    source: include_str!("no_privileged.rs"),
};

pub struct NoPrivileged;

impl PodCheck for NoPrivileged {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        fn host_process<'n>(s: &super::Setting<'n>) -> Option<&'n crate::manifest::Node> {
            s.node
                .get("hostProcess")
                .filter(|n| n.as_bool_yaml11() == Some(true))
        }
        if let Some(s) = w.pod_setting("windowsOptions")
            && let Some(n) = host_process(&s)
        {
            out.push(w.finding(
                &META,
                "the pod is a Windows HostProcess pod (windowsOptions.hostProcess: true in the pod securityContext)".to_string(),
                n.span,
                &s.path.key("hostProcess"),
            ));
        }
        for c in w.pod.containers() {
            let who = describe(&c);
            if let Some(s) = w.container_setting(&c, "privileged")
                && s.node.as_bool_yaml11() == Some(true)
            {
                out.push(w.finding(
                    &META,
                    format!("{who} is privileged (privileged: true)"),
                    s.node.span,
                    &s.path,
                ));
            }
            if let Some(s) = w.container_setting(&c, "windowsOptions")
                && let Some(n) = host_process(&s)
            {
                out.push(w.finding(
                    &META,
                    format!("{who} is a Windows HostProcess container (windowsOptions.hostProcess: true)"),
                    n.span,
                    &s.path.key("hostProcess"),
                ));
            }
        }
    }
}
