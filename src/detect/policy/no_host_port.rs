//! # no-host-port
//!
//! ## What it checks
//!
//! No container (also init and ephemeral containers) may declare a
//! `ports[].hostPort` other than `0`. The finding points at the value.
//!
//! ## Why it matters
//!
//! A host port binds the container to that port on every node it runs on:
//! it bypasses the Service and NetworkPolicy model, exposes the workload on
//! the node's address (often outside the cluster network), limits the pod to
//! one replica per node and lets a compromised container squat a well-known
//! port of the node. The Pod Security Standards' `baseline` profile forbids
//! host ports.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:1.4.2
//!   ports:
//!   - containerPort: 8080
//!     hostPort: 80
//! ```
//!
//! ## Use instead
//!
//! Drop `hostPort` and expose the pod through a Service (`ClusterIP`,
//! `NodePort` or `LoadBalancer`) or an Ingress:
//!
//! ```yaml
//! ports:
//! - containerPort: 8080
//! ```

use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};
use crate::manifest::Node;

pub const META: CheckMeta = CheckMeta {
    id: "no-host-port",
    name: "Containers must not bind host ports",
    severity: Severity::Medium,
    remediation: "Remove `hostPort`; expose the pod through a Service or an Ingress.",
    source: include_str!("no_host_port.rs"),
};

pub struct NoHostPort;

impl PodCheck for NoHostPort {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            let Some(ports) = c.get("ports").and_then(Node::as_seq) else {
                continue;
            };
            for (i, p) in ports.iter().enumerate() {
                let Some(n) = p.get("hostPort") else {
                    continue;
                };
                // 0 and null mean "no host port"; anything else (a number,
                // or a string a template left) binds one.
                if n.is_null() || n.as_i64() == Some(0) {
                    continue;
                }
                let text = n.as_scalar().map(|s| s.text.as_str()).unwrap_or("?");
                out.push(w.finding(
                    &META,
                    format!("{} binds host port {text}", describe(&c)),
                    n.span,
                    &c.path.key("ports").index(i).key("hostPort"),
                ));
            }
        }
    }
}
