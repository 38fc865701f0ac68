//! # safe-sysctls
//!
//! ## What it checks
//!
//! Every `securityContext.sysctls[].name` of a pod must be in the Pod
//! Security Standards' safe set (namespaced, isolated from the node and
//! other pods): `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
//! `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`,
//! `net.ipv4.ping_group_range`, `net.ipv4.ip_local_reserved_ports`,
//! `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
//! `net.ipv4.tcp_keepalive_intvl` and `net.ipv4.tcp_keepalive_probes`.
//! Each other name is reported at its value.
//!
//! kube-linter's `ignore-check.kube-linter.io/unsafe-sysctls` means the same.
//!
//! ## Why it matters
//!
//! Outside the safe set a sysctl may not be namespaced, or is namespaced but
//! not limited: it can change the kernel for every pod on the node (memory,
//! networking, message queues) or starve them. The kubelet refuses them
//! unless a node is configured with `--allowed-unsafe-sysctls`, and the
//! `baseline` profile forbids them.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     sysctls:
//!     - name: kernel.msgmax
//!       value: "65536"
//! ```
//!
//! ## Use instead
//!
//! Tune the node (a node pool with the setting) rather than the pod, or use
//! a safe sysctl:
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     sysctls:
//!     - name: net.ipv4.ip_local_port_range
//!       value: "1024 65535"
//! ```

use super::{CheckMeta, PodCheck, Workload, shown};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "safe-sysctls",
    name: "Pods must set only safe sysctls",
    severity: Severity::Medium,
    remediation: "Remove unsafe sysctls from the pod securityContext; tune the node instead.",
    source: include_str!("safe_sysctls.rs"),
};

/// The Pod Security Standards' safe sysctls (baseline, Kubernetes 1.29+).
/// The kernel accepts `/` as separator too; names are compared with `.`.
pub const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

pub struct SafeSysctls;

impl PodCheck for SafeSysctls {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        let Some(s) = w.pod_setting("sysctls") else {
            return;
        };
        for (i, item) in s.node.as_seq().unwrap_or(&[]).iter().enumerate() {
            let Some(name) = item.get("name") else {
                continue;
            };
            let safe = name
                .as_str()
                .is_some_and(|n| SAFE.contains(&n.replace('/', ".").as_str()));
            if safe {
                continue;
            }
            out.push(w.finding(
                &META,
                format!("the pod sets the unsafe sysctl {}", shown(name)),
                name.span,
                &s.path.index(i).key("name"),
            ));
        }
    }
}
