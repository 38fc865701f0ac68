//! # drop-all-capabilities
//!
//! ## What it checks
//!
//! Every container (also init and ephemeral containers) must drop all Linux
//! capabilities (`securityContext.capabilities.drop` contains `ALL`, in any
//! case, with or without a `CAP_` prefix) and add back none but
//! `NET_BIND_SERVICE`.
//!
//! - A missing `ALL` is reported at `drop:` when there is one, else at the
//!   container's `name:`.
//! - Each added capability other than `NET_BIND_SERVICE` is reported at its
//!   list item (`NET_RAW`, `SYS_ADMIN`, `NET_ADMIN`, …).
//!
//! Privileged containers are skipped (they get every capability whatever
//! the lists say; `no-privileged` reports them), and so are Windows pods
//! (`spec.os.name: windows`), as in the Pod Security Standards.
//!
//! ## Why it matters
//!
//! Container runtimes grant a default set of about 14 capabilities,
//! including `NET_RAW` (ARP and DNS spoofing inside the cluster network),
//! `CHOWN`, `DAC_OVERRIDE`, `SETUID` and `SETGID`. Most applications need
//! none of them, and each one is attack surface for privilege escalation
//! and container escape (`SYS_ADMIN` and `SYS_PTRACE` especially). The Pod
//! Security Standards' `restricted` profile requires dropping `ALL` and
//! allows adding only `NET_BIND_SERVICE`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   securityContext:
//!     capabilities:
//!       drop: [NET_RAW]
//!       add: [SYS_ADMIN]
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   securityContext:
//!     capabilities:
//!       drop: [ALL]
//!       add: [NET_BIND_SERVICE]   # only if it binds a port below 1024
//! ```

use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};
use crate::manifest::{ContainerView, Node};

pub const META: CheckMeta = CheckMeta {
    id: "drop-all-capabilities",
    name: "Containers must drop all capabilities",
    severity: Severity::Medium,
    remediation: "Set `capabilities: {drop: [ALL]}` in every container's securityContext and add back only NET_BIND_SERVICE if needed.",
    source: include_str!("drop_all_capabilities.rs"),
};

/// A capability name as the runtimes compare it: upper case, no `CAP_`.
pub fn normalize_capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map_or(upper.clone(), str::to_string)
}

/// The container's `capabilities.add` items, with their normalised names.
pub fn added_capabilities<'a>(
    w: &Workload<'a, '_>,
    c: &ContainerView<'a>,
) -> Vec<(&'a Node, String)> {
    w.container_setting(c, "capabilities")
        .and_then(|s| s.node.get("add"))
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| Some((n, normalize_capability(n.as_str()?))))
        .collect()
}

pub struct DropAllCapabilities;

impl PodCheck for DropAllCapabilities {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        if w.is_windows() {
            return;
        }
        for c in w.pod.containers() {
            let privileged = w
                .container_setting(&c, "privileged")
                .and_then(|s| s.node.as_bool_yaml11())
                == Some(true);
            if privileged {
                continue;
            }
            let who = describe(&c);
            let caps = w.container_setting(&c, "capabilities");
            let drop_entry = caps.as_ref().and_then(|s| s.node.get_entry("drop"));
            let dropped: Vec<String> = drop_entry
                .and_then(|(_, v)| v.as_seq())
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| n.as_str().map(normalize_capability))
                .collect();
            if !dropped.iter().any(|d| d == "ALL") {
                let path = c.path.keys(&["securityContext", "capabilities", "drop"]);
                let finding = match drop_entry {
                    Some((key, _)) if !dropped.is_empty() => w.finding(
                        &META,
                        format!(
                            "{who} drops only {} but not ALL capabilities",
                            dropped.join(", ")
                        ),
                        key.span,
                        &path,
                    ),
                    Some((key, _)) => w.finding(
                        &META,
                        format!("{who} does not drop ALL capabilities (the drop list is empty)"),
                        key.span,
                        &path,
                    ),
                    None => w.finding(
                        &META,
                        format!(
                            "{who} keeps the runtime's default capabilities: capabilities.drop does not contain ALL"
                        ),
                        c.anchor_span(),
                        &path,
                    ),
                };
                out.push(finding);
            }
            for (node, cap) in added_capabilities(w, &c) {
                if cap == "NET_BIND_SERVICE" {
                    continue;
                }
                let path = c
                    .path
                    .keys(&["securityContext", "capabilities", "add"])
                    .named(&cap);
                out.push(w.finding(
                    &META,
                    format!("{who} adds capability {cap}"),
                    node.span,
                    &path,
                ));
            }
        }
    }
}
