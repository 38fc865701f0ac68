//! # no-service-account-token
//!
//! ## What it checks
//!
//! A pod should not get a Kubernetes API token it does not use. A workload
//! is reported when its pod spec does not set
//! `automountServiceAccountToken: false` and
//!
//! - its ServiceAccount (`serviceAccountName`, else `default`) is not
//!   defined in the repository with `automountServiceAccountToken: false`
//!   (the pod's own setting wins over the ServiceAccount's), and
//! - no RoleBinding or ClusterRoleBinding in the repository grants that
//!   ServiceAccount anything. A bound ServiceAccount is taken as a sign that
//!   the pod talks to the API, so it needs its token (also when the pod
//!   sets `automountServiceAccountToken: true` explicitly).
//!
//! This is a repository-level check: ServiceAccounts and bindings are often
//! in other files than the workload. Objects match by name and namespace;
//! an object without `metadata.namespace` matches `default` and any
//! namespace of an object in the same directory (which is deployed to the
//! same destination namespace). The finding points at
//! `automountServiceAccountToken: true` when the pod sets it, else at
//! `serviceAccountName`, else at the workload's `metadata.name`.
//!
//! ## Why it matters
//!
//! Kubernetes mounts a token for the pod's ServiceAccount into every
//! container by default. Anyone who gets code execution in the pod can read
//! it from `/var/run/secrets/kubernetes.io/serviceaccount/token` and call the
//! API server with that identity — to read Secrets, or to probe for what
//! RBAC grants, today or after someone widens it. Most application pods
//! never call the API and should not carry the credential. Severity is
//! `low` because the harm depends on RBAC granted elsewhere.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   template:
//!     spec:
//!       containers:
//!       - name: web
//!         image: ghcr.io/acme/web:2.3.1
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! spec:
//!   template:
//!     spec:
//!       automountServiceAccountToken: false
//!       containers:
//!       - name: web
//!         image: ghcr.io/acme/web:2.3.1
//! ```
//!
//! or opt out once for every pod of a ServiceAccount:
//!
//! ```yaml
//! apiVersion: v1
//! kind: ServiceAccount
//! metadata: {name: web}
//! automountServiceAccountToken: false
//! ```

use super::{BuildGroups, CheckMeta, NamespaceIndex, PolicyFact};
use crate::detect::Fact;
use crate::detect::{FactRecord, RepoCheck};
use crate::finding::RuleInfo;
use crate::finding::{Finding, Provenance, Severity};
use crate::manifest::{Node, Object};
use std::collections::HashMap;

pub const META: CheckMeta = CheckMeta {
    id: "no-service-account-token",
    name: "Pods should not mount a service-account token they do not use",
    severity: Severity::Low,
    remediation: "Set `automountServiceAccountToken: false` in the pod spec or on its ServiceAccount, unless the pod calls the Kubernetes API.",
    source: include_str!("no_service_account_token.rs"),
};

/// A ServiceAccount object.
#[derive(Clone, Debug)]
pub struct ServiceAccountFact {
    pub namespace: Option<String>,
    pub name: String,
    /// Its `automountServiceAccountToken`, if a boolean.
    pub automount: Option<bool>,
}

/// A ServiceAccount named as a subject of a RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug)]
pub struct BindingFact {
    /// The subject's namespace (a RoleBinding's own namespace when unset).
    pub namespace: Option<String>,
    pub name: String,
}

pub fn service_account_fact(obj: &Object<'_>) -> Option<PolicyFact> {
    if obj.api_group() != Some("") {
        return None;
    }
    Some(PolicyFact::ServiceAccount(ServiceAccountFact {
        namespace: obj.namespace.map(str::to_string),
        name: obj.name?.to_string(),
        automount: obj
            .get("automountServiceAccountToken")
            .and_then(Node::as_bool_yaml11),
    }))
}

/// One fact per ServiceAccount subject of a RoleBinding or ClusterRoleBinding.
pub fn binding_facts(obj: &Object<'_>) -> Vec<PolicyFact> {
    if obj.api_group() != Some("rbac.authorization.k8s.io") {
        return Vec::new();
    }
    let own_ns = if obj.kind == Some("RoleBinding") {
        obj.namespace
    } else {
        None
    };
    obj.get("subjects")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter(|s| s.get("kind").and_then(Node::as_str) == Some("ServiceAccount"))
        .filter_map(|s| {
            let name = s.get("name").and_then(Node::as_str)?;
            let ns = s.get("namespace").and_then(Node::as_str).or(own_ns);
            Some(PolicyFact::ServiceAccountBinding(BindingFact {
                namespace: ns.map(str::to_string),
                name: name.to_string(),
            }))
        })
        .collect()
}

pub struct NoServiceAccountToken;

impl RepoCheck for NoServiceAccountToken {
    fn name(&self) -> &'static str {
        "no-service-account-token"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![META.info()]
    }

    fn check(&self, facts: &[FactRecord], out: &mut Vec<Finding>) {
        let groups = BuildGroups::from_facts(facts);
        // By ServiceAccount name, then by namespace.
        let mut accounts: HashMap<&str, NamespaceIndex<'_, Option<bool>>> = HashMap::new();
        let mut bindings: HashMap<&str, NamespaceIndex<'_, ()>> = HashMap::new();
        let mut pods = Vec::new();
        for r in facts {
            match &r.fact {
                Fact::Policy(PolicyFact::ServiceAccount(sa)) => accounts
                    .entry(sa.name.as_str())
                    .or_default()
                    .push(groups.place(sa.namespace.as_deref(), &r.path), sa.automount),
                Fact::Policy(PolicyFact::ServiceAccountBinding(b)) => bindings
                    .entry(b.name.as_str())
                    .or_default()
                    .push(groups.place(b.namespace.as_deref(), &r.path), ()),
                Fact::Policy(PolicyFact::Pod(p)) => pods.push((r, p)),
                _ => {}
            }
        }
        for (record, pod) in pods {
            let Some(anchor) = &pod.token else { continue };
            let ns = pod.namespace.as_deref();
            let here = groups.place(ns, &record.path);
            let sa = pod.service_account.as_str();
            let bound = bindings
                .get(sa)
                .is_some_and(|b| b.matching(here).next().is_some());
            if bound {
                continue;
            }
            let account: Vec<Option<bool>> = accounts
                .get(sa)
                .map(|a| a.matching(here).copied().collect())
                .unwrap_or_default();
            let shown_ns = ns.unwrap_or("default");
            let message = if pod.automount == Some(true) {
                format!(
                    "the pod sets automountServiceAccountToken: true, but no RoleBinding or ClusterRoleBinding in the repository grants ServiceAccount {sa:?} anything"
                )
            } else if account.contains(&Some(false)) {
                continue;
            } else if account.is_empty() {
                format!(
                    "the pod mounts a token for ServiceAccount {sa:?}, which the repository does not define in namespace {shown_ns:?}: set automountServiceAccountToken: false in the pod spec"
                )
            } else {
                format!(
                    "the pod mounts a token for ServiceAccount {sa:?}, which does not set automountServiceAccountToken: false, and no binding in the repository grants it anything"
                )
            };
            let mut f = anchor.clone();
            f.message = format!("{}: {message}", pod.workload);
            if f.provenance.is_none()
                && let Some(commit) = &record.commit
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
