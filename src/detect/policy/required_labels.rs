//! # required-labels
//!
//! ## What it checks
//!
//! Every workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod,
//! Rollout, …) must carry the required labels, with a non-empty value, in
//! its own `metadata.labels`. By default they are `app`, `owner` and `env`;
//! the `app` label may also be written as the Kubernetes recommended label
//! `app.kubernetes.io/name`. Configure the list in `.gitops-guard.toml`,
//! with `|` between keys that stand in for each other:
//!
//! ```toml
//! [policy]
//! required-labels = ["app|app.kubernetes.io/name", "team", "env|environment"]
//! ```
//!
//! One finding per workload lists the missing labels, at `labels:` when
//! there is one, else at `metadata.name`. Labels added at build time
//! (Kustomize `commonLabels`/`labels`, Helm) are not seen; suppress or
//! disable the check for such bases. kube-linter's
//! `ignore-check.kube-linter.io/required-label-owner` waives the `owner`
//! label only.
//!
//! ## Why it matters
//!
//! Labels are how people and tools find who owns a workload when it pages,
//! leaks or costs money: incident routing, cost allocation, policy
//! exceptions and cleanup of abandoned workloads all key on them. A missing
//! owner is an orphan nobody patches. It is hygiene rather than a
//! vulnerability, so the default severity is `low`.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: web
//!   labels:
//!     app: web
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: web
//!   labels:
//!     app.kubernetes.io/name: web
//!     owner: team-payments
//!     env: production
//! ```

use super::{CheckMeta, PodCheck, Workload, kube_linter_ignore};
use crate::finding::{Finding, Severity, Suppression};

pub const META: CheckMeta = CheckMeta {
    id: "required-labels",
    name: "Workloads must carry the required labels",
    severity: Severity::Low,
    remediation: "Add the missing labels to the workload's metadata.labels (see `policy.required-labels`; default app, owner, env).",
    source: include_str!("required_labels.rs"),
};

/// The default `policy.required-labels`.
pub const DEFAULT: [&str; 3] = ["app|app.kubernetes.io/name", "owner", "env"];

pub struct RequiredLabels {
    /// Each required label as its alternative keys.
    required: Vec<Vec<String>>,
}

impl RequiredLabels {
    pub fn new(configured: Option<&[String]>) -> RequiredLabels {
        let list: Vec<String> = match configured {
            Some(l) => l.to_vec(),
            None => DEFAULT.iter().map(|s| s.to_string()).collect(),
        };
        let required = list
            .iter()
            .map(|entry| {
                entry
                    .split('|')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|alts| !alts.is_empty())
            .collect();
        RequiredLabels { required }
    }
}

impl PodCheck for RequiredLabels {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        let present = |key: &str| w.object.label(key).is_some_and(|v| !v.trim().is_empty());
        let mut missing: Vec<&Vec<String>> = self
            .required
            .iter()
            .filter(|alts| !alts.iter().any(|k| present(k)))
            .collect();
        if missing.is_empty() {
            return;
        }
        let owner_waived = kube_linter_ignore(w.object, "required-label-owner");
        if owner_waived.is_some() {
            missing.retain(|alts| !alts.iter().any(|k| k == "owner"));
        }
        let suppressed = missing.is_empty();
        let shown: Vec<&Vec<String>> = if suppressed {
            self.required
                .iter()
                .filter(|alts| alts.iter().any(|k| k == "owner"))
                .collect()
        } else {
            missing
        };
        let names: Vec<String> = shown.iter().map(|alts| alts.join(" or ")).collect();
        let labels = w.object.metadata().and_then(|m| m.get_entry("labels"));
        let span = labels.map_or(w.object.anchor_span(), |(key, _)| key.span);
        let mut f = w.finding(
            &META,
            format!(
                "missing required label{} {}",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            span,
            &w.object.path.keys(&["metadata", "labels"]),
        );
        if suppressed {
            f.suppressed = Some(Suppression::Annotation {
                reason: owner_waived,
            });
        }
        out.push(f);
    }
}
