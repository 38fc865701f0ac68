//! # network-policy-coverage
//!
//! ## What it checks
//!
//! Every workload in the repository should be selected by at least one
//! NetworkPolicy of its namespace in the repository. A policy selects a pod
//! when its `spec.podSelector` matches the pod template's labels
//! (`matchLabels` and `matchExpressions` with `In`, `NotIn`, `Exists`,
//! `DoesNotExist`); an empty `podSelector: {}` selects every pod of the
//! namespace. One finding per workload not selected, at its
//! `metadata.name`.
//!
//! Also counted: Cilium's `CiliumNetworkPolicy` (`endpointSelector`, same
//! shape) and `CiliumClusterwideNetworkPolicy` (every namespace), and
//! Calico's `NetworkPolicy` / `GlobalNetworkPolicy` (their selector language
//! is not evaluated: they are taken to cover their namespace, or every
//! namespace). Pods with `hostNetwork: true` are skipped (NetworkPolicies do
//! not apply to them; `no-host-namespaces` reports them).
//!
//! This is a repository-level check. An object without
//! `metadata.namespace` matches `default` and any namespace of an object in
//! the same directory (which is deployed to the same destination
//! namespace). Policies kept in another repository are not seen:
//! disable the check there, or suppress it per workload.
//!
//! ## Why it matters
//!
//! Without a NetworkPolicy selecting it, a pod accepts traffic from every
//! pod in the cluster and can reach every other one: a single compromised
//! workload can scan and attack databases, admin endpoints and the
//! metadata service of the whole cluster. A default-deny policy per
//! namespace, plus allow rules for real traffic, contains it.
//!
//! ## Example
//!
//! A namespace `shop` with a Deployment `web` and no NetworkPolicy.
//!
//! ## Use instead
//!
//! ```yaml
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: default-deny, namespace: shop}
//! spec:
//!   podSelector: {}
//!   policyTypes: [Ingress, Egress]
//! ```
//!
//! plus policies that allow the traffic `web` needs.

use std::collections::HashMap;

use super::{BuildGroups, CheckMeta, NamespaceIndex, PolicyFact};
use crate::detect::Fact;
use crate::detect::{FactRecord, RepoCheck};
use crate::finding::RuleInfo;
use crate::finding::{Finding, Provenance, Severity};
use crate::manifest::{Node, Object};

pub const META: CheckMeta = CheckMeta {
    id: "network-policy-coverage",
    name: "Workloads should be selected by a NetworkPolicy",
    severity: Severity::Low,
    remediation: "Add a NetworkPolicy to the namespace that selects the pods (a default-deny with `podSelector: {}` plus allow rules).",
    source: include_str!("network_policy_coverage.rs"),
};

/// Which pods a policy selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every pod (of its namespace, or of the cluster).
    All,
    /// Pods whose labels match.
    Labels(LabelSelector),
}

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

/// One `matchExpressions` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Read a selector mapping. A key prefix `k8s:` (Cilium's label
    /// source) is dropped.
    pub fn parse(node: &Node) -> LabelSelector {
        let key = |k: &str| k.strip_prefix("k8s:").unwrap_or(k).to_string();
        let match_labels = node
            .get("matchLabels")
            .map(|m| {
                m.entries()
                    .map(|(k, v)| (key(k), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let expressions = node
            .get("matchExpressions")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(|e| Requirement {
                key: key(e.get("key").and_then(Node::as_str).unwrap_or("")),
                operator: e
                    .get("operator")
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_string(),
                values: e
                    .get("values")
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            })
            .collect();
        LabelSelector {
            match_labels,
            expressions,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    /// Whether pods with `labels` are selected. An unknown operator
    /// selects nothing (the API server would reject the policy).
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        self.match_labels
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
            && self.expressions.iter().all(|r| {
                let value = get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                    "NotIn" => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// A network policy of any supported flavour.
#[derive(Clone, Debug)]
pub struct NetworkPolicyFact {
    /// `Kind/name`, for debugging and messages.
    pub policy: String,
    pub namespace: Option<String>,
    /// Applies in every namespace (cluster-wide Cilium/Calico policies).
    pub cluster_wide: bool,
    /// One entry per selector (Cilium's `specs` list has several).
    pub selections: Vec<Selection>,
}

impl NetworkPolicyFact {
    /// Whether the policy selects pods with `labels` (in a namespace it
    /// applies to: the caller's join decides that).
    fn selects(&self, labels: &[(String, String)]) -> bool {
        self.selections.iter().any(|s| match s {
            Selection::All => true,
            Selection::Labels(sel) => sel.matches(labels),
        })
    }
}

fn selection(node: Option<&Node>) -> Selection {
    match node {
        None => Selection::All,
        Some(n) if n.is_null() => Selection::All,
        Some(n) => {
            let sel = LabelSelector::parse(n);
            if sel.is_empty() {
                Selection::All
            } else {
                Selection::Labels(sel)
            }
        }
    }
}

pub fn network_policy_fact(obj: &Object<'_>) -> Option<PolicyFact> {
    let group = obj.api_group()?;
    let kind = obj.kind?;
    let spec = obj.get("spec");
    let (cluster_wide, selections) = match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy") => (
            false,
            vec![selection(spec.and_then(|s| s.get("podSelector")))],
        ),
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            let mut v: Vec<Selection> = spec
                .and_then(|s| s.get("endpointSelector"))
                .map(|n| selection(Some(n)))
                .into_iter()
                .collect();
            for s in obj.get("specs").and_then(Node::as_seq).unwrap_or(&[]) {
                if let Some(n) = s.get("endpointSelector") {
                    v.push(selection(Some(n)));
                }
            }
            (kind == "CiliumClusterwideNetworkPolicy", v)
        }
        ("projectcalico.org" | "crd.projectcalico.org", "NetworkPolicy") => {
            (false, vec![Selection::All])
        }
        ("projectcalico.org" | "crd.projectcalico.org", "GlobalNetworkPolicy") => {
            (true, vec![Selection::All])
        }
        _ => return None,
    };
    Some(PolicyFact::NetworkPolicy(NetworkPolicyFact {
        policy: format!("{kind}/{}", obj.name.unwrap_or("<unnamed>")),
        namespace: obj.namespace.map(str::to_string),
        cluster_wide,
        selections,
    }))
}

pub struct NetworkPolicyCoverage;

impl RepoCheck for NetworkPolicyCoverage {
    fn name(&self) -> &'static str {
        "network-policy-coverage"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![META.info()]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let groups = BuildGroups::from_facts(facts);
        let mut namespaced: NamespaceIndex<'_, &NetworkPolicyFact> = NamespaceIndex::default();
        let mut cluster_wide: Vec<&NetworkPolicyFact> = Vec::new();
        for r in facts {
            if let Fact::Policy(PolicyFact::NetworkPolicy(p)) = &r.fact {
                if p.cluster_wide {
                    cluster_wide.push(p);
                } else {
                    namespaced.push(groups.place(p.namespace.as_deref(), &r.path), p);
                }
            }
        }
        // A history scan holds every version of every workload: the same
        // placement and labels are judged once (whether a policy selects
        // them, how many apply there), not once per version.
        type Key<'k> = (Option<&'k str>, &'k str, &'k [(String, String)]);
        let mut memo: HashMap<Key<'_>, (bool, usize)> = HashMap::new();
        for r in facts {
            let Fact::Policy(PolicyFact::Pod(pod)) = &r.fact else {
                continue;
            };
            let Some(anchor) = &pod.isolation else {
                continue;
            };
            if pod.host_network {
                continue;
            }
            let ns = pod.namespace.as_deref();
            let here = groups.place(ns, &r.path);
            let key = (here.namespace, here.dir(), pod.labels.as_slice());
            let (selected, in_ns) = *memo.entry(key).or_insert_with(|| {
                let applicable: Vec<&NetworkPolicyFact> = namespaced
                    .matching(here)
                    .copied()
                    .chain(cluster_wide.iter().copied())
                    .collect();
                (
                    applicable.iter().any(|p| p.selects(&pod.labels)),
                    applicable.len(),
                )
            });
            if selected {
                continue;
            }
            let shown_ns = ns.unwrap_or("default");
            let labels: Vec<String> = pod.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let message = if in_ns == 0 {
                format!(
                    "no NetworkPolicy in the repository applies to namespace {shown_ns:?}: its pods accept traffic from anywhere in the cluster"
                )
            } else {
                format!(
                    "no NetworkPolicy for namespace {shown_ns:?} selects its pods (pod labels: {}; {in_ns} polic{} there)",
                    if labels.is_empty() {
                        "none".to_string()
                    } else {
                        labels.join(", ")
                    },
                    if in_ns == 1 { "y" } else { "ies" }
                )
            };
            let mut f = anchor.clone();
            f.message = format!("{}: {message}", pod.workload);
            if f.provenance.is_none()
                && let Some(commit) = &r.commit
            {
                f.provenance = Some(Provenance {
                    commit: commit.clone(),
                    ..Default::default()
                });
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn selectors() {
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        let sel = |ml: &[(&str, &str)], ex: Vec<Requirement>| LabelSelector {
            match_labels: labels(ml),
            expressions: ex,
        };
        assert!(sel(&[("app", "web")], vec![]).matches(&pod));
        assert!(!sel(&[("app", "db")], vec![]).matches(&pod));
        assert!(sel(&[], vec![req("tier", "In", &["front", "back"])]).matches(&pod));
        assert!(!sel(&[], vec![req("tier", "NotIn", &["front"])]).matches(&pod));
        assert!(sel(&[], vec![req("env", "NotIn", &["prod"])]).matches(&pod));
        assert!(sel(&[], vec![req("app", "Exists", &[])]).matches(&pod));
        assert!(!sel(&[], vec![req("app", "DoesNotExist", &[])]).matches(&pod));
        assert!(!sel(&[], vec![req("app", "Bogus", &[])]).matches(&pod));
        assert!(!sel(&[("app", "web")], vec![req("x", "Exists", &[])]).matches(&pod));
    }
}
