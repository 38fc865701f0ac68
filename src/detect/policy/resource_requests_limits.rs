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
//! them).
//!
//! A `LimitRange` of the workload's namespace in the repository supplies
//! what it defaults, as the API server's LimitRanger would: an item of
//! `type: Container` with `default.<resource>` sets that limit (and the
//! request, which Kubernetes defaults to `default` when `defaultRequest`
//! leaves it out), `defaultRequest.<resource>` sets that request. Only the
//! resources it names count: a LimitRange defaulting memory leaves a
//! missing CPU limit reported. `min`/`max` are not taken as defaults. The
//! namespace join is the one `network-policy-coverage` uses (an object
//! without `metadata.namespace` shares the namespace of its directory and
//! its Kustomize build). Scans of part of a repository (push, staged,
//! range) see only the LimitRanges among the files they scan.
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

use super::{
    BuildGroups, CheckMeta, NamespaceIndex, PolicyFact, Workload, describe, kube_linter_ignore,
};
use crate::detect::{Fact, FactRecord, RepoCheck};
use crate::finding::{Finding, Provenance, RuleInfo, Severity, Suppression};
use crate::manifest::{ContainerKind, Node, Object};

pub const META: CheckMeta = CheckMeta {
    id: "resource-requests-limits",
    name: "Containers should set CPU and memory requests and limits",
    severity: Severity::Low,
    remediation: "Set `resources.requests` and `resources.limits` for cpu and memory on every container (or a LimitRange in the namespace that defaults them).",
    source: include_str!("resource_requests_limits.rs"),
};

/// The two resources the check asks for.
const RESOURCES: [&str; 2] = ["cpu", "memory"];

/// One field a container leaves unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingField {
    /// `cpu` or `memory`.
    pub resource: &'static str,
    /// The limit (else the request).
    pub limit: bool,
    /// The kube-linter annotation that waives it, with its reason.
    pub waiver: Option<String>,
}

impl MissingField {
    fn label(&self) -> String {
        let what = if self.limit { "limit" } else { "request" };
        format!("{} {what}", self.resource)
    }
}

/// A container that leaves requests or limits unset: what is missing and
/// the finding to report when no LimitRange of its namespace supplies it.
#[derive(Clone, Debug)]
pub struct ResourceGap {
    /// `container "app"`.
    pub container: String,
    /// `requests:`/`limits:` written beside `resources:` instead of under it.
    pub misplaced: bool,
    pub missing: Vec<MissingField>,
    /// The finding, its message to be filled in (`Kind/name: ` prefix kept).
    pub anchor: Finding,
}

fn is_set(node: Option<&Node>) -> bool {
    node.is_some_and(|n| {
        n.as_scalar()
            .is_some_and(|s| !s.is_null() && !s.text.is_empty())
    })
}

/// The containers of `w` that leave a request or limit unset.
pub fn gaps(w: &Workload<'_, '_>) -> Vec<ResourceGap> {
    let mut out = Vec::new();
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
        for res in RESOURCES {
            let limit = is_set(value("limits", res));
            // A request left out while the limit is set defaults to the limit.
            if !is_set(value("requests", res)) && !limit {
                missing.push(MissingField {
                    resource: res,
                    limit: false,
                    waiver: waived(res),
                });
            }
            if !limit {
                missing.push(MissingField {
                    resource: res,
                    limit: true,
                    waiver: waived(res),
                });
            }
        }
        if missing.is_empty() {
            continue;
        }
        let span = resources.map_or(c.anchor_span(), |(key, _)| key.span);
        out.push(ResourceGap {
            container: describe(&c),
            misplaced: c.get("requests").is_some() || c.get("limits").is_some(),
            missing,
            anchor: w.finding(&META, String::new(), span, &c.path.key("resources")),
        });
    }
    out
}

/// What the `type: Container` items of a `LimitRange` default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitRangeFact {
    /// `LimitRange/name`, for messages.
    pub limit_range: String,
    pub namespace: Option<String>,
    /// Resources whose request it defaults (`defaultRequest`, or `default`).
    pub requests: Vec<String>,
    /// Resources whose limit it defaults (`default`).
    pub limits: Vec<String>,
}

impl LimitRangeFact {
    fn supplies(&self, m: &MissingField) -> bool {
        let list = if m.limit {
            &self.limits
        } else {
            &self.requests
        };
        list.iter().any(|r| r == m.resource)
    }
}

/// The fact of a core `LimitRange` that defaults something.
pub fn limit_range_fact(obj: &Object<'_>) -> Option<PolicyFact> {
    if obj.kind != Some("LimitRange") || obj.api_group() != Some("") {
        return None;
    }
    let mut fact = LimitRangeFact {
        limit_range: format!("LimitRange/{}", obj.name.unwrap_or("<unnamed>")),
        namespace: obj.namespace.map(str::to_string),
        ..LimitRangeFact::default()
    };
    let items = obj
        .get("spec")
        .and_then(|s| s.get("limits"))
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for item in items {
        if item.get("type").and_then(Node::as_str) != Some("Container") {
            continue;
        }
        let named = |key: &str| -> Vec<String> {
            item.get(key)
                .map(|m| {
                    m.entries()
                        .filter(|(_, v)| is_set(Some(v)))
                        .map(|(k, _)| k.to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        // The API server defaults `defaultRequest` to `default` per resource.
        let default = named("default");
        fact.requests.extend(named("defaultRequest"));
        fact.requests.extend(default.iter().cloned());
        fact.limits.extend(default);
    }
    fact.requests.sort();
    fact.requests.dedup();
    fact.limits.sort();
    fact.limits.dedup();
    (!fact.requests.is_empty() || !fact.limits.is_empty()).then_some(PolicyFact::LimitRange(fact))
}

/// The check, run after the scan: each container's gaps less what a
/// LimitRange of its namespace defaults.
pub struct ResourceRequestsLimits;

impl RepoCheck for ResourceRequestsLimits {
    fn name(&self) -> &'static str {
        "resource-requests-limits"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![META.info()]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let groups = BuildGroups::from_facts(facts);
        let mut ranges: NamespaceIndex<'_, &LimitRangeFact> = NamespaceIndex::default();
        for r in facts {
            if let Fact::Policy(PolicyFact::LimitRange(l)) = &r.fact {
                ranges.push(groups.place(l.namespace.as_deref(), &r.path), l);
            }
        }
        for r in facts {
            let Fact::Policy(PolicyFact::Pod(pod)) = &r.fact else {
                continue;
            };
            if pod.resource_gaps.is_empty() {
                continue;
            }
            let here = groups.place(pod.namespace.as_deref(), &r.path);
            let applicable: Vec<&LimitRangeFact> = ranges.matching(here).copied().collect();
            for gap in &pod.resource_gaps {
                if let Some(f) = judge(gap, &applicable, r.commit.as_deref()) {
                    out.push(f);
                }
            }
        }
    }
}

/// The finding for `gap` once `ranges` have supplied their defaults.
fn judge(gap: &ResourceGap, ranges: &[&LimitRangeFact], commit: Option<&str>) -> Option<Finding> {
    let (mut missing, mut waivers) = (Vec::new(), Vec::new());
    for m in &gap.missing {
        if ranges.iter().any(|l| l.supplies(m)) {
            continue;
        }
        match &m.waiver {
            Some(reason) => waivers.push((m.label(), reason.clone())),
            None => missing.push(m.label()),
        }
    }
    if missing.is_empty() && waivers.is_empty() {
        return None;
    }
    let waived_only = missing.is_empty();
    if waived_only {
        missing = waivers.iter().map(|(label, _)| label.clone()).collect();
    }
    let misplaced = if gap.misplaced {
        " (requests and limits belong under resources:)"
    } else {
        ""
    };
    let mut f = gap.anchor.clone();
    f.message = format!(
        "{}{} has no {}{misplaced}",
        f.message,
        gap.container,
        missing.join(", ")
    );
    if waived_only && f.suppressed.is_none() {
        let mut reasons: Vec<String> = waivers.into_iter().map(|(_, r)| r).collect();
        reasons.dedup();
        f.suppressed = Some(Suppression::Annotation {
            reason: Some(reasons.join("; ")),
        });
    }
    if f.provenance.is_none()
        && let Some(commit) = commit
    {
        f.provenance = Some(Provenance {
            commit: commit.to_string(),
            ..Default::default()
        });
    }
    Some(f)
}
