//! # no-default-service-account
//!
//! ## What it checks
//!
//! A workload must not run as its namespace's `default` ServiceAccount on
//! purpose: `serviceAccountName: default` (or the deprecated
//! `serviceAccount: default`), or no service account with
//! `automountServiceAccountToken: true` (asking for the default account's
//! token). A pod that simply leaves both unset is `no-service-account-token`'s
//! matter, not this check's, so one omission is not reported twice.
//!
//! kube-linter's `ignore-check.kube-linter.io/default-service-account` means
//! the same.
//!
//! ## Why it matters
//!
//! Every pod of a namespace that names no account shares `default`: a
//! permission granted to it for one workload (a RoleBinding "just to make it
//! work") is granted to all of them, and a compromise of any pod carries it.
//! A workload that talks to the API should have its own account with only
//! the permissions it needs.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   template:
//!     spec:
//!       serviceAccountName: default
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! apiVersion: v1
//! kind: ServiceAccount
//! metadata:
//!   name: web
//! ---
//! # in the pod spec
//! serviceAccountName: web
//! ```

use super::{CheckMeta, PodCheck, Workload};
use crate::finding::{Finding, Severity};
use crate::manifest::Node;

pub const META: CheckMeta = CheckMeta {
    id: "no-default-service-account",
    name: "Workloads must not run as the default ServiceAccount",
    severity: Severity::Low,
    remediation: "Create a ServiceAccount for the workload and set `serviceAccountName` to it.",
    source: include_str!("no_default_service_account.rs"),
};

pub struct NoDefaultServiceAccount;

impl PodCheck for NoDefaultServiceAccount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        let named = ["serviceAccountName", "serviceAccount"]
            .into_iter()
            .find_map(|k| {
                w.pod
                    .get(k)
                    .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
                    .map(|n| (k, n))
            });
        match named {
            Some((key, n)) if n.as_str() == Some("default") => out.push(w.finding(
                &META,
                format!("the pod runs as the default ServiceAccount ({key}: default)"),
                n.span,
                &w.pod.path.key(key),
            )),
            Some(_) => {}
            None => {
                if let Some(n) = w.pod.get("automountServiceAccountToken")
                    && Node::as_bool_yaml11(n) == Some(true)
                {
                    out.push(w.finding(
                        &META,
                        "the pod names no ServiceAccount but mounts its token (automountServiceAccountToken: true): it gets the default account's".to_string(),
                        n.span,
                        &w.pod.path.key("automountServiceAccountToken"),
                    ));
                }
            }
        }
    }
}
