//! # resource-requests-limits
//!
//! ## What it checks
//!
//! Every container and init container must declare CPU and memory
//! requests and limits (`resources.requests.cpu`, `resources.requests.memory`,
//! `resources.limits.cpu`, `resources.limits.memory`). One finding per
//! container lists what is missing, at `resources:` when the container has
//! one, else at its `name:`; its identity is the container, so adding one
//! field later does not turn it into a new finding.
//!
//! A request that is missing while the limit for the same resource is set
//! is not reported: Kubernetes then uses the limit as the request.
//! Ephemeral containers are skipped (the API does not allow resources on
//! them). A namespace `LimitRange` that supplies defaults is not taken into
//! account; suppress the check for such namespaces.
//!
//! kube-linter's `ignore-check.kube-linter.io/unset-cpu-requirements` and
//! `…/unset-memory-requirements` annotations each waive the fields of their
//! resource; the finding is suppressed when nothing else is missing.
//!
//! ## Why it matters
//!
//! Without requests the scheduler packs pods blindly and the pod is the
//! first to be evicted (`BestEffort`); without a memory limit one leaking or
//! attacked container can exhaust the node's memory and take its neighbours
//! down with it; without a CPU limit it can starve them. Many teams leave
//! CPU limits off on purpose (throttling); they can lower this check or
//! disable it in `.gitops-guard.toml`. It is about availability rather than
//! confidentiality, so the default severity is `low`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   resources:
//!     requests: {cpu: 100m}
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   resources:
//!     requests: {cpu: 100m, memory: 128Mi}
//!     limits: {cpu: 500m, memory: 256Mi}
//! ```

use super::{CheckMeta, PodCheck, Workload, describe, kube_linter_ignore};
use crate::finding::{Finding, Severity, Suppression};
use crate::manifest::{ContainerKind, Node};

pub const META: CheckMeta = CheckMeta {
    id: "resource-requests-limits",
    name: "Containers should set CPU and memory requests and limits",
    severity: Severity::Low,
    remediation: "Set `resources.requests` and `resources.limits` for cpu and memory on every container.",
    source: include_str!("resource_requests_limits.rs"),
};

pub struct ResourceRequestsLimits;

fn is_set(node: Option<&Node>) -> bool {
    node.is_some_and(|n| {
        n.as_scalar()
            .is_some_and(|s| !s.is_null() && !s.text.is_empty())
    })
}

impl PodCheck for ResourceRequestsLimits {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            if c.kind == ContainerKind::Ephemeral {
                continue;
            }
            let resources = c.node.get_entry("resources");
            let value = |section: &str, res: &str| {
                resources
                    .and_then(|(_, r)| r.get(section))
                    .and_then(|s| s.get(res))
            };
            // kube-linter's annotations waive one resource each.
            let waived = |res: &str| {
                let check = if res == "cpu" {
                    "unset-cpu-requirements"
                } else {
                    "unset-memory-requirements"
                };
                kube_linter_ignore(w.object, check)
            };
            let mut missing = Vec::new();
            let mut waivers = Vec::new();
            for res in ["cpu", "memory"] {
                let limit = is_set(value("limits", res));
                let mut fields = Vec::new();
                if !is_set(value("requests", res)) && !limit {
                    fields.push(format!("{res} request"));
                }
                if !limit {
                    fields.push(format!("{res} limit"));
                }
                if fields.is_empty() {
                    continue;
                }
                match waived(res) {
                    Some(reason) => waivers.push((fields, reason)),
                    None => missing.extend(fields),
                }
            }
            if missing.is_empty() && waivers.is_empty() {
                continue;
            }
            let suppressed = missing.is_empty();
            if suppressed {
                missing = waivers.iter().flat_map(|(f, _)| f.clone()).collect();
            }
            let who = describe(&c);
            let misplaced = if c.get("requests").is_some() || c.get("limits").is_some() {
                " (requests and limits belong under resources:)"
            } else {
                ""
            };
            let span = resources.map_or(c.anchor_span(), |(key, _)| key.span);
            let mut f = w.finding(
                &META,
                format!("{who} has no {}{misplaced}", missing.join(", ")),
                span,
                &c.path.key("resources"),
            );
            if suppressed {
                let reasons: Vec<String> = waivers.into_iter().map(|(_, r)| r).collect();
                f.suppressed = Some(Suppression::Annotation {
                    reason: Some(reasons.join("; ")),
                });
            }
            out.push(f);
        }
    }
}
