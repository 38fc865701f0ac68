//! # no-host-namespaces
//!
//! ## What it checks
//!
//! A pod must not share the node's namespaces: `hostNetwork: true`,
//! `hostPID: true` and `hostIPC: true` in the pod spec are each reported at
//! their value.
//!
//! kube-linter's `ignore-check.kube-linter.io/host-network`, `…/host-pid`
//! and `…/host-ipc` annotations each suppress only the finding for their
//! own field.
//!
//! ## Why it matters
//!
//! - `hostNetwork` puts the pod on the node's network stack: it can bind
//!   node ports, reach services listening on `localhost` (the kubelet's
//!   read-only port, cloud metadata helpers), sniff traffic, and bypasses
//!   every NetworkPolicy.
//! - `hostPID` shows every process on the node; with root it can read their
//!   environment (credentials) and `/proc/<pid>/root`, or `nsenter` into them.
//! - `hostIPC` exposes the node's shared memory and message queues.
//!
//! The Pod Security Standards' `baseline` profile forbids all three.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   hostNetwork: true
//!   hostPID: true
//!   containers:
//!   - name: agent
//!     image: ghcr.io/acme/agent:1.4.2
//! ```
//!
//! ## Use instead
//!
//! Drop the fields (they default to `false`) and expose the pod through a
//! Service; a node agent that needs one should carry a suppression with the
//! reason, e.g. `gitops-guard.io/ignore: "no-host-namespaces=CNI needs the host network"`.

use super::{CheckMeta, PodCheck, Workload, suppress_if_kube_linter_ignores};
use crate::finding::{Finding, Severity};
use crate::manifest::Node;

pub const META: CheckMeta = CheckMeta {
    id: "no-host-namespaces",
    name: "Pods must not share the host's network, PID or IPC namespace",
    severity: Severity::High,
    remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false); expose the pod through a Service instead.",
    source: include_str!("no_host_namespaces.rs"),
};

/// (field, kube-linter check, what it shares).
const FIELDS: [(&str, &str, &str); 3] = [
    ("hostNetwork", "host-network", "network namespace"),
    ("hostPID", "host-pid", "process (PID) namespace"),
    ("hostIPC", "host-ipc", "IPC namespace"),
];

pub struct NoHostNamespaces;

impl PodCheck for NoHostNamespaces {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for (field, kube_linter, what) in FIELDS {
            let Some(node) = w.pod.get(field) else {
                continue;
            };
            if Node::as_bool_yaml11(node) != Some(true) {
                continue;
            }
            let mut f = w.finding(
                &META,
                format!("the pod shares the host's {what} ({field}: true)"),
                node.span,
                &w.pod.path.key(field),
            );
            suppress_if_kube_linter_ignores(w.object, &[kube_linter], &mut f);
            out.push(f);
        }
    }
}
