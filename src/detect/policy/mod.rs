//! Pod-security and supply-chain checks from the Kubernetes hardening guides
//! (issue 6), category `policy`.
//!
//! One check per file. Each file's module doc comment is the check's user
//! documentation (What it checks / Why it matters / Example / Use instead);
//! [`CheckMeta::doc`] extracts it so `gitops-guard rules explain <id>`,
//! SARIF rule metadata and `docs/policy-checks.md` all say the same thing.
//!
//! Two kinds of checks:
//! - [`PodCheck`]s look at one workload at a time (every object with a pod
//!   spec: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
//!   ReplicationController, Job, CronJob, Argo Rollout, OpenShift
//!   DeploymentConfig, PodTemplate — also inside `kind: List`), and see all
//!   three container lists (`containers`, `initContainers`,
//!   `ephemeralContainers`).
//! - Repo-level checks ([`no_service_account_token`], [`network_policy_coverage`],
//!   [`resource_requests_limits`]: a namespace's LimitRange supplies defaults)
//!   need several files: the detector emits small [`PolicyFact`]s and the
//!   checks join them after the scan.
//!
//! Kubernetes semantics shared by the checks live here once: a container's
//! `securityContext` field overrides the pod's ([`Workload::setting`]), an
//! object without `metadata.namespace` is in `default`, and Windows pods
//! (`spec.os.name: windows`) are exempt from the Linux-only controls, as the
//! Pod Security Standards exempt them.

pub mod drop_all_capabilities;
pub mod image;
pub mod image_digest_pinned;
pub mod image_tag_pinned;
pub mod network_policy_coverage;
pub mod no_apparmor_selinux_override;
pub mod no_default_service_account;
pub mod no_host_namespaces;
pub mod no_host_path;
pub mod no_host_port;
pub mod no_privilege_escalation;
pub mod no_privileged;
pub mod no_service_account_token;
pub mod proc_mount_default;
pub mod read_only_root_filesystem;
pub mod required_labels;
pub mod resource_requests_limits;
pub mod run_as_non_root;
pub mod safe_sysctls;
pub mod seccomp_profile;
pub mod trusted_registries;

use crate::config::Config;
use crate::detect::RepoCheck;
use crate::detect::suppress::KUBE_LINTER_IGNORE_PREFIX;
use crate::detect::{Context, Detector, Fact, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Severity, Suppression};
use crate::manifest::{ContainerKind, ContainerView, KeyPath, Node, Object, PodSpecView, Span};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::LazyLock;

/// What every check declares about itself. `source` is the check's own file
/// (`include_str!`), whose leading `//!` lines are its documentation.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable id, used in config, annotations, baselines and reports.
    pub id: &'static str,
    /// One-line title.
    pub name: &'static str,
    /// Default severity (a check may raise it for worse cases, e.g. a
    /// container runtime socket in `no-host-path`; see its documentation).
    pub severity: Severity,
    /// What to do about a finding, in one line.
    pub remediation: &'static str,
    /// The check's source file.
    pub source: &'static str,
}

impl CheckMeta {
    /// The check's documentation: its module doc comment, as Markdown.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.trim_start().strip_prefix("//!") else {
                break;
            };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out.trim().to_string()
    }

    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: self.id.to_string(),
            name: self.name.to_string(),
            category: Category::Policy,
            severity: self.severity,
            description: self.doc(),
            remediation: self.remediation.to_string(),
        }
    }
}

/// A check of one workload's pod spec.
pub trait PodCheck: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>);
}

/// Every check's metadata, pod checks and repo checks, in documentation order.
pub fn all_meta() -> Vec<&'static CheckMeta> {
    vec![
        &run_as_non_root::META,
        &no_privileged::META,
        &no_privilege_escalation::META,
        &drop_all_capabilities::META,
        &read_only_root_filesystem::META,
        &seccomp_profile::META,
        &no_host_namespaces::META,
        &no_host_path::META,
        &no_host_port::META,
        &proc_mount_default::META,
        &safe_sysctls::META,
        &no_apparmor_selinux_override::META,
        &resource_requests_limits::META,
        &no_service_account_token::META,
        &no_default_service_account::META,
        &image_tag_pinned::META,
        &image_digest_pinned::META,
        &trusted_registries::META,
        &required_labels::META,
        &network_policy_coverage::META,
    ]
}

fn pod_checks(config: &Config) -> Vec<Box<dyn PodCheck>> {
    let all: Vec<Box<dyn PodCheck>> = vec![
        Box::new(run_as_non_root::RunAsNonRoot),
        Box::new(no_privileged::NoPrivileged),
        Box::new(no_privilege_escalation::NoPrivilegeEscalation),
        Box::new(drop_all_capabilities::DropAllCapabilities),
        Box::new(read_only_root_filesystem::ReadOnlyRootFilesystem),
        Box::new(seccomp_profile::SeccompProfile),
        Box::new(no_host_namespaces::NoHostNamespaces),
        Box::new(no_host_path::NoHostPath),
        Box::new(no_host_port::NoHostPort),
        Box::new(proc_mount_default::ProcMountDefault),
        Box::new(safe_sysctls::SafeSysctls),
        Box::new(no_apparmor_selinux_override::NoApparmorSelinuxOverride),
        Box::new(no_default_service_account::NoDefaultServiceAccount),
        Box::new(image_tag_pinned::ImageTagPinned),
        Box::new(image_digest_pinned::ImageDigestPinned),
        Box::new(trusted_registries::TrustedRegistries::new(
            &config.policy.trusted_registries,
        )),
        Box::new(required_labels::RequiredLabels::new(
            config.policy.required_labels.as_deref(),
        )),
    ];
    all.into_iter()
        .filter(|c| enabled(config, c.meta()))
        .collect()
}

fn enabled(config: &Config, meta: &CheckMeta) -> bool {
    !config.rules.disable.iter().any(|d| d == meta.id)
}

/// This family's detectors, configured: one detector that parses each
/// manifest once and runs every enabled check on every workload in it.
pub fn detectors(config: &Config) -> Vec<Box<dyn Detector>> {
    vec![Box::new(PolicyDetector {
        checks: pod_checks(config),
        token_facts: enabled(config, &no_service_account_token::META),
        isolation_facts: enabled(config, &network_policy_coverage::META),
        resource_facts: enabled(config, &resource_requests_limits::META),
    })]
}

/// This family's repo-level checks over facts.
pub fn repo_checks(config: &Config) -> Vec<Box<dyn RepoCheck>> {
    let mut v: Vec<Box<dyn RepoCheck>> = Vec::new();
    if enabled(config, &no_service_account_token::META) {
        v.push(Box::new(no_service_account_token::NoServiceAccountToken));
    }
    if enabled(config, &network_policy_coverage::META) {
        v.push(Box::new(network_policy_coverage::NetworkPolicyCoverage));
    }
    if enabled(config, &resource_requests_limits::META) {
        v.push(Box::new(resource_requests_limits::ResourceRequestsLimits));
    }
    v
}

/// kube-linter checks whose `ignore-check.kube-linter.io/<check>` annotation
/// means the same as ignoring one of ours: (kube-linter check, our id).
/// Applied centrally (`detect::suppress::apply_annotation_suppressions`).
///
/// kube-linter checks that cover only *part* of one of ours are in
/// [`KUBE_LINTER_PARTIAL`] instead, so that ignoring `host-network` does not
/// also silence a `hostPID: true` on the same object.
pub const KUBE_LINTER_EQUIVALENTS: &[(&str, &str)] = &[
    ("run-as-non-root", "run-as-non-root"),
    ("privileged-container", "no-privileged"),
    ("privilege-escalation-container", "no-privilege-escalation"),
    ("no-read-only-root-fs", "read-only-root-filesystem"),
    ("latest-tag", "image-tag-pinned"),
    ("non-isolated-pod", "network-policy-coverage"),
    ("unsafe-sysctls", "safe-sysctls"),
    ("unsafe-proc-mount", "proc-mount-default"),
    ("default-service-account", "no-default-service-account"),
    // the k8s family's env-var checks mean the same as kube-linter's
    ("env-var-secret", "secret-env-var"),
    ("read-secret-from-env-var", "secret-env-var-ref"),
];

/// kube-linter checks that cover one facet of one of our checks; the check
/// itself honours them per finding (see [`kube_linter_ignore`]).
///
/// | kube-linter | ours | facet |
/// |---|---|---|
/// | `host-network`, `host-pid`, `host-ipc` | `no-host-namespaces` | that one field |
/// | `docker-sock`, `sensitive-host-mounts`, `writable-host-mount` | `no-host-path` | a hostPath finding is suppressed when every kube-linter check that would report it is ignored |
/// | `unset-cpu-requirements`, `unset-memory-requirements` | `resource-requests-limits` | missing cpu / memory fields |
/// | `required-label-owner` | `required-labels` | the `owner` label |
pub const KUBE_LINTER_PARTIAL: &[(&str, &str)] = &[
    ("host-network", "no-host-namespaces"),
    ("host-pid", "no-host-namespaces"),
    ("host-ipc", "no-host-namespaces"),
    ("docker-sock", "no-host-path"),
    ("sensitive-host-mounts", "no-host-path"),
    ("writable-host-mount", "no-host-path"),
    ("unset-cpu-requirements", "resource-requests-limits"),
    ("unset-memory-requirements", "resource-requests-limits"),
    ("required-label-owner", "required-labels"),
];

/// kube-linter's annotation that ignores every kube-linter check on the
/// object; we read it as ignoring every `policy` check and the `k8s` checks
/// kube-linter has an equivalent of.
pub const KUBE_LINTER_IGNORE_ALL: &str = "kube-linter.io/ignore-all";

/// kubeaudit's override labels (`kubeaudit.io/allow-<x>` for the pod,
/// `container.kubeaudit.io/<container>.allow-<x>` for one container): the
/// team has accepted that risk and said so to kubeaudit. Each maps to the
/// check of ours that reports the same thing: (override, our id). A
/// container-scoped label is honoured for the whole object (our findings do
/// not carry the container they came from to the suppression step), which
/// errs towards trusting an explicit, reviewed override.
pub const KUBEAUDIT_OVERRIDES: &[(&str, &str)] = &[
    ("allow-privileged", "no-privileged"),
    ("allow-privilege-escalation", "no-privilege-escalation"),
    ("allow-run-as-root", "run-as-non-root"),
    (
        "allow-read-only-root-filesystem-false",
        "read-only-root-filesystem",
    ),
    ("allow-host-network", "no-host-namespaces"),
    ("allow-host-ipc", "no-host-namespaces"),
    ("allow-host-pid", "no-host-namespaces"),
    (
        "allow-automount-service-account-token",
        "no-service-account-token",
    ),
    ("allow-disabled-apparmor", "no-apparmor-selinux-override"),
    ("allow-disabled-seccomp", "seccomp-profile"),
    (
        "allow-non-default-deny-ingress-network-policy",
        "network-policy-coverage",
    ),
];

/// Our check ids that a kubeaudit override label `key` (object or pod
/// template label) accepts, if `key` is one.
pub fn kubeaudit_override(key: &str) -> Vec<&'static str> {
    let Some((scope, name)) = key.split_once('/') else {
        return Vec::new();
    };
    let name = match scope {
        "kubeaudit.io" => name,
        "container.kubeaudit.io" => match name.split_once(".allow-") {
            Some((_, rest)) => return kubeaudit_override(&format!("kubeaudit.io/allow-{rest}")),
            None => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    KUBEAUDIT_OVERRIDES
        .iter()
        .filter(|(o, _)| *o == name)
        .map(|(_, ours)| *ours)
        .collect()
}

/// The reason given by `ignore-check.kube-linter.io/<check>` on the object,
/// if it carries that annotation.
pub fn kube_linter_ignore(obj: &Object<'_>, check: &str) -> Option<String> {
    obj.annotations().find_map(|a| {
        (a.key.strip_prefix(KUBE_LINTER_IGNORE_PREFIX) == Some(check))
            .then(|| format!("kube-linter: {}", a.value_str().unwrap_or("")))
    })
}

/// Mark `f` suppressed when all of `checks` (kube-linter check names, at
/// least one) are ignored on the object.
pub fn suppress_if_kube_linter_ignores(obj: &Object<'_>, checks: &[&str], f: &mut Finding) {
    if checks.is_empty() || f.suppressed.is_some() {
        return;
    }
    let reasons: Option<Vec<String>> = checks.iter().map(|c| kube_linter_ignore(obj, c)).collect();
    if let Some(reasons) = reasons {
        f.suppressed = Some(Suppression::Annotation {
            reason: Some(reasons.join("; ")),
        });
    }
}

/// Words without which a blob holds nothing this family looks at: the
/// workload kinds (`Pod` also covers `PodTemplate`, `Job` covers `CronJob`,
/// `Deployment` covers `DeploymentConfig`) and the kinds the repo-level
/// facts come from. Case-sensitive, so `podSelector` does not count.
static PREFILTER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::new([
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "Rollout",
        "ServiceAccount",
        "RoleBinding",
        "NetworkPolicy",
        "LimitRange",
    ])
    .expect("static patterns")
});

struct PolicyDetector {
    checks: Vec<Box<dyn PodCheck>>,
    token_facts: bool,
    isolation_facts: bool,
    /// `resource-requests-limits` is judged after the scan, once the
    /// namespace's LimitRanges are known.
    resource_facts: bool,
}

impl Detector for PolicyDetector {
    fn name(&self) -> &'static str {
        "policy"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        self.checks.iter().map(|c| c.meta().info()).collect()
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        let kustomization =
            input.path.ends_with("kustomization.yaml") || input.path.ends_with("kustomization.yml");
        if !input.is_yaml_or_json() || !(kustomization || PREFILTER.is_match(input.bytes)) {
            return;
        }
        // Each distinct document once per history scan, its findings and
        // facts replayed for the next version that repeats it (see
        // `Input::check_documents`): most of a full audit's time was parsing
        // every version of every manifest.
        // A kustomization's facts name directories relative to its own
        // path, so they are never replayed under another one.
        let memo = if kustomization { None } else { cx.doc_memo };
        input.check_documents(
            memo,
            "policy",
            |doc| kustomization || PREFILTER.is_match(doc),
            |docs, out| self.check_objects(input, docs, out, kustomization),
            out,
        );
    }
}

impl PolicyDetector {
    fn check_objects(
        &self,
        input: &Input<'_>,
        docs: &[&crate::manifest::Document],
        out: &mut Output,
        kustomization: bool,
    ) {
        let objects = crate::manifest::objects_of(docs.iter().copied());
        let mut pods = Vec::new();
        for obj in &objects {
            if let Some(pod) = obj.pod_spec() {
                let w = Workload {
                    input,
                    object: obj,
                    pod,
                };
                for check in &self.checks {
                    check.check(&w, &mut out.findings);
                }
                if self.token_facts || self.isolation_facts || self.resource_facts {
                    pods.push(PodFact::new(
                        &w,
                        self.token_facts,
                        self.isolation_facts,
                        self.resource_facts,
                    ));
                }
                continue;
            }
            if kustomization && (self.token_facts || self.isolation_facts || self.resource_facts) {
                out.facts
                    .extend(kustomization_fact(input, obj).map(Fact::Policy));
                continue;
            }
            let facts = match obj.kind {
                Some("ServiceAccount") if self.token_facts => {
                    no_service_account_token::service_account_fact(obj)
                        .into_iter()
                        .collect()
                }
                Some("RoleBinding" | "ClusterRoleBinding") if self.token_facts => {
                    no_service_account_token::binding_facts(obj)
                }
                Some("LimitRange") if self.resource_facts => {
                    resource_requests_limits::limit_range_fact(obj)
                        .into_iter()
                        .collect()
                }
                Some(_) if self.isolation_facts => {
                    network_policy_coverage::network_policy_fact(obj)
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            };
            out.facts.extend(facts.into_iter().map(Fact::Policy));
        }
        if !pods.is_empty() {
            // The pod facts carry ready-made findings for the repo checks:
            // suppressions (annotations, inline comments) and code frames are
            // decided here, where the file is at hand, exactly as for the
            // per-file findings.
            let mut anchors = Vec::new();
            let mut shape = Vec::with_capacity(pods.len());
            for p in &mut pods {
                shape.push((p.token.is_some(), p.isolation.is_some()));
                anchors.extend(p.token.take());
                anchors.extend(p.isolation.take());
                anchors.extend(p.resource_gaps.iter().map(|g| g.anchor.clone()));
            }
            crate::detect::suppress::apply_annotation_suppressions(input, &mut anchors);
            crate::detect::suppress::prepare_findings(input, &mut anchors, false);
            let mut anchors = anchors.into_iter();
            for (mut p, (token, isolation)) in pods.into_iter().zip(shape) {
                if token {
                    p.token = anchors.next();
                }
                if isolation {
                    p.isolation = anchors.next();
                }
                for g in &mut p.resource_gaps {
                    if let Some(a) = anchors.next() {
                        g.anchor = a;
                    }
                }
                out.facts.push(Fact::Policy(PolicyFact::Pod(Box::new(p))));
            }
        }
    }
}

/// Per-file facts this family's repo-level checks need. Small: names,
/// namespaces, labels and one ready-made finding anchor per repo check.
#[derive(Clone, Debug)]
pub enum PolicyFact {
    /// A workload's pod template.
    Pod(Box<PodFact>),
    /// A ServiceAccount and whether it opts out of token automounting.
    ServiceAccount(no_service_account_token::ServiceAccountFact),
    /// A ServiceAccount that a RoleBinding or ClusterRoleBinding grants
    /// permissions to (so its pods use the API and need the token).
    ServiceAccountBinding(no_service_account_token::BindingFact),
    /// A NetworkPolicy (or Cilium/Calico policy) and which pods it selects.
    NetworkPolicy(network_policy_coverage::NetworkPolicyFact),
    /// A `kustomization.yaml` and the local entries it builds from.
    Kustomization(KustomizationFact),
    /// A LimitRange and the container requests and limits it defaults.
    LimitRange(resource_requests_limits::LimitRangeFact),
}

/// The `resources:`, `bases:` and `components:` entries of a Kustomize
/// kustomization file, for [`BuildGroups`].
#[derive(Clone, Debug)]
pub struct KustomizationFact {
    pub entries: Vec<String>,
}

/// The fact of a Kustomize kustomization file (by its file name, with
/// `kustomize.config.k8s.io` or no `kind`: Flux's `Kustomization` is another
/// kind of object with the same name).
fn kustomization_fact(input: &Input<'_>, obj: &Object<'_>) -> Option<PolicyFact> {
    let name = input.path.rsplit('/').next().unwrap_or(input.path);
    if !matches!(name, "kustomization.yaml" | "kustomization.yml") {
        return None;
    }
    match obj.kind {
        None => {}
        Some("Kustomization" | "Component")
            if obj.api_group() == Some("kustomize.config.k8s.io") => {}
        _ => return None,
    }
    let entries: Vec<String> = ["resources", "bases", "components"]
        .iter()
        .filter_map(|k| obj.node.get(k).and_then(Node::as_seq))
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    (!entries.is_empty()).then_some(PolicyFact::Kustomization(KustomizationFact { entries }))
}

/// A workload's pod template, for the repo-level checks.
#[derive(Clone, Debug)]
pub struct PodFact {
    /// `Deployment/web`.
    pub workload: String,
    /// `metadata.namespace` of the workload; `None` when unset (the
    /// namespace is then decided at deploy time: `default`, Kustomize's
    /// `namespace:`, or the Argo CD / Flux destination).
    pub namespace: Option<String>,
    /// `serviceAccountName` (or the deprecated `serviceAccount`), else `default`.
    pub service_account: String,
    /// The pod spec's `automountServiceAccountToken`, if set to a boolean.
    pub automount: Option<bool>,
    /// Pod template labels.
    pub labels: Vec<(String, String)>,
    /// `hostNetwork: true`: NetworkPolicies do not apply to such pods.
    pub host_network: bool,
    /// The finding `no-service-account-token` reports, message to be filled in.
    pub token: Option<Finding>,
    /// The finding `network-policy-coverage` reports, message to be filled in.
    pub isolation: Option<Finding>,
    /// The containers `resource-requests-limits` may report, unless a
    /// LimitRange of the namespace supplies what they leave out.
    pub resource_gaps: Vec<resource_requests_limits::ResourceGap>,
}

impl PodFact {
    /// The ready-made findings this fact carries for the repo checks (the
    /// token, isolation and resource-gap anchors), to move them together
    /// when the object is judged somewhere else than where it was written
    /// (`render`).
    pub fn anchors_mut(&mut self) -> impl Iterator<Item = &mut Finding> {
        self.token
            .iter_mut()
            .chain(self.isolation.iter_mut())
            .chain(self.resource_gaps.iter_mut().map(|g| &mut g.anchor))
    }
}

impl PodFact {
    fn new(w: &Workload<'_, '_>, token: bool, isolation: bool, resources: bool) -> PodFact {
        let pod = &w.pod;
        let sa_node = pod
            .get("serviceAccountName")
            .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
            .or_else(|| {
                pod.get("serviceAccount")
                    .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
            });
        let automount_node = pod.get("automountServiceAccountToken");
        let automount = automount_node.and_then(Node::as_bool_yaml11);
        let token_finding = (token && automount != Some(false)).then(|| {
            let (span, path) = match (automount_node.filter(|_| automount.is_some()), sa_node) {
                (Some(a), _) => (a.span, pod.path.key("automountServiceAccountToken")),
                (None, Some(sa)) => (sa.span, pod.path.key("serviceAccountName")),
                (None, None) => (w.object.anchor_span(), pod.path.clone()),
            };
            w.finding(&no_service_account_token::META, String::new(), span, &path)
        });
        let isolation_finding = isolation.then(|| {
            w.finding(
                &network_policy_coverage::META,
                String::new(),
                w.object.anchor_span(),
                &pod.path,
            )
        });
        PodFact {
            workload: format!("{}/{}", w.kind(), w.name()),
            namespace: w.object.namespace.map(str::to_string),
            service_account: sa_node
                .and_then(Node::as_str)
                .unwrap_or("default")
                .to_string(),
            automount,
            labels: pod
                .labels()
                .filter_map(|e| Some((e.key.to_string(), e.value_str()?.to_string())))
                .collect(),
            host_network: pod.get("hostNetwork").and_then(Node::as_bool_yaml11) == Some(true),
            token: token_finding,
            isolation: isolation_finding,
            resource_gaps: if resources {
                resource_requests_limits::gaps(w)
            } else {
                Vec::new()
            },
        }
    }
}

/// Where an object lives, for the repo-level joins: its
/// `metadata.namespace` and the directory group it is deployed with (its
/// file's directory, or the Kustomize build that directory belongs to; see
/// [`BuildGroups`]).
#[derive(Clone, Copy, Debug)]
pub struct Placement<'a> {
    pub namespace: Option<&'a str>,
    dir: &'a str,
}

impl<'a> Placement<'a> {
    /// An object of the file at `path`, grouped by the file's directory.
    pub fn new(namespace: Option<&'a str>, path: &'a str) -> Self {
        Placement {
            namespace,
            dir: parent_dir(path),
        }
    }

    fn dir(&self) -> &'a str {
        self.dir
    }
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The directories of one Kustomize build, joined: a kustomization and
/// every directory its `resources:`, `bases:` and `components:` name
/// (transitively), and the directories of the files it names. Namespace-less
/// objects in any of them are deployed together, into the one namespace the
/// build or its GitOps destination gives, so a deny-all NetworkPolicy in
/// `base/np/` covers the Deployments of `base/` when `base/kustomization.yaml`
/// lists `np`.
///
/// A base that several overlays use joins them all into one group (a union,
/// not a per-overlay set): lenient where overlays deploy to different
/// namespaces, which rendering each overlay resolves exactly.
#[derive(Debug, Default)]
pub struct BuildGroups {
    parent: HashMap<String, String>,
}

impl BuildGroups {
    pub fn from_facts(facts: &[crate::detect::FactRecord]) -> Self {
        let mut g = BuildGroups::default();
        for r in facts {
            if let Fact::Policy(PolicyFact::Kustomization(k)) = &r.fact {
                let dir = parent_dir(&r.path);
                for entry in &k.entries {
                    if let Some(other) = join_relative(dir, entry) {
                        g.union(dir, &other);
                    }
                }
            }
        }
        g
    }

    fn find<'s>(&'s self, dir: &'s str) -> &'s str {
        let mut cur = dir;
        // Ends: union always points a larger name at a smaller one.
        while let Some(p) = self.parent.get(cur) {
            cur = p;
        }
        cur
    }

    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a).to_string(), self.find(b).to_string());
        if ra != rb {
            let (small, large) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent.insert(large, small);
        }
    }

    /// Where an object of the file at `path` lives: its directory's group
    /// (the directory itself when no kustomization joins it).
    pub fn place<'s>(&'s self, namespace: Option<&'s str>, path: &'s str) -> Placement<'s> {
        Placement {
            namespace,
            dir: self.find(parent_dir(path)),
        }
    }
}

/// `dir/entry` normalised, for a kustomization entry that is a directory
/// (or the directory of a file entry). `None` for remote entries (URLs,
/// `git@`, `?ref=`), absolute paths and paths that leave the repository.
fn join_relative(dir: &str, entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry.is_empty()
        || entry.contains("://")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
        || entry.starts_with('/')
    {
        return None;
    }
    let lower = entry.to_ascii_lowercase();
    let is_file = [".yaml", ".yml", ".json"]
        .iter()
        .any(|e| lower.ends_with(e));
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in entry.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    if is_file {
        parts.pop()?;
    }
    Some(parts.join("/"))
}

/// Whether two objects of the repository can end up in the same namespace.
///
/// - Both name a namespace: the same one.
/// - One leaves it unset: it lands in `default` when applied as is, or in
///   whatever namespace its directory is deployed to (Kustomize
///   `namespace:`, the Argo CD or Flux destination) — the same for the files
///   of one directory. So it matches `default`, and anything in the same
///   directory.
pub fn same_namespace(a: Placement<'_>, b: Placement<'_>) -> bool {
    match (a.namespace, b.namespace) {
        (Some(x), Some(y)) => x == y,
        (None, Some(n)) | (Some(n), None) if n == "default" => true,
        _ => a.dir() == b.dir(),
    }
}

/// Objects of the repository indexed for [`same_namespace`] joins, so a
/// repo-level check costs time linear in the number of workloads rather
/// than workloads × objects (a history scan sees every version of every
/// file).
pub struct NamespaceIndex<'a, T> {
    items: Vec<T>,
    by_namespace: HashMap<&'a str, Vec<usize>>,
    by_dir: HashMap<&'a str, Vec<usize>>,
    unset: Vec<usize>,
    unset_by_dir: HashMap<&'a str, Vec<usize>>,
}

impl<T> Default for NamespaceIndex<'_, T> {
    fn default() -> Self {
        NamespaceIndex {
            items: Vec::new(),
            by_namespace: HashMap::new(),
            by_dir: HashMap::new(),
            unset: Vec::new(),
            unset_by_dir: HashMap::new(),
        }
    }
}

impl<'a, T> NamespaceIndex<'a, T> {
    pub fn push(&mut self, at: Placement<'a>, item: T) {
        let i = self.items.len();
        self.items.push(item);
        self.by_dir.entry(at.dir()).or_default().push(i);
        match at.namespace {
            Some(ns) => self.by_namespace.entry(ns).or_default().push(i),
            None => {
                self.unset.push(i);
                self.unset_by_dir.entry(at.dir()).or_default().push(i);
            }
        }
    }

    /// The items that [`same_namespace`] matches with `at`, in insertion order.
    pub fn matching(&self, at: Placement<'_>) -> impl Iterator<Item = &T> + '_ {
        let get = |m: &HashMap<&'a str, Vec<usize>>, k: &str| -> Vec<usize> {
            m.get(k).cloned().unwrap_or_default()
        };
        let mut idx = match at.namespace {
            Some(ns) => {
                let mut v = get(&self.by_namespace, ns);
                if ns == "default" {
                    v.extend(&self.unset);
                } else {
                    v.extend(get(&self.unset_by_dir, at.dir()));
                }
                v
            }
            None => {
                let mut v = get(&self.by_namespace, "default");
                v.extend(get(&self.by_dir, at.dir()));
                v
            }
        };
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| &self.items[i])
    }
}

/// One workload as the checks see it.
pub struct Workload<'a, 'i> {
    pub input: &'a Input<'i>,
    pub object: &'a Object<'a>,
    pub pod: PodSpecView<'a>,
}

/// Where a security-context setting was found.
#[derive(Clone, Debug)]
pub struct Setting<'a> {
    pub node: &'a Node,
    /// e.g. `spec.template.spec.containers[app].securityContext.runAsUser`.
    pub path: KeyPath,
    /// Set on the pod's `securityContext` (and not overridden by the container).
    pub pod_level: bool,
}

impl Setting<'_> {
    /// `container securityContext` or `pod securityContext`, for messages.
    pub fn level(&self) -> &'static str {
        if self.pod_level {
            "pod securityContext"
        } else {
            "container securityContext"
        }
    }
}

impl<'a> Workload<'a, '_> {
    pub fn kind(&self) -> &'a str {
        self.object.kind.unwrap_or("?")
    }

    pub fn name(&self) -> &'a str {
        self.object.name.unwrap_or("<unnamed>")
    }

    /// `metadata.namespace`, else `default`.
    pub fn namespace(&self) -> &'a str {
        self.object.namespace.unwrap_or("default")
    }

    /// `spec.os.name: windows`: the Pod Security Standards exempt such pods
    /// from the Linux-only controls (seccomp, capabilities, privilege
    /// escalation; a read-only root filesystem is not supported there).
    pub fn is_windows(&self) -> bool {
        self.pod
            .node
            .get_path(&["os", "name"])
            .and_then(Node::as_str)
            == Some("windows")
    }

    /// A field of the pod-level `securityContext`, ignoring explicit nulls.
    pub fn pod_setting(&self, key: &str) -> Option<Setting<'a>> {
        let node = self.pod.security_context()?.get(key)?;
        (!node.is_null()).then(|| Setting {
            node,
            path: self.pod.path.keys(&["securityContext", key]),
            pod_level: true,
        })
    }

    /// A field of the container's `securityContext` only (fields the pod
    /// level does not have: privileged, capabilities, …).
    pub fn container_setting(&self, c: &ContainerView<'a>, key: &str) -> Option<Setting<'a>> {
        let node = c.security_context()?.get(key)?;
        (!node.is_null()).then(|| Setting {
            node,
            path: c.path.keys(&["securityContext", key]),
            pod_level: false,
        })
    }

    /// The effective value of a field both levels have (runAsNonRoot,
    /// runAsUser, runAsGroup, seccompProfile, …): the container's wins.
    pub fn setting(&self, c: &ContainerView<'a>, key: &str) -> Option<Setting<'a>> {
        self.container_setting(c, key)
            .or_else(|| self.pod_setting(key))
    }

    /// `Kind/namespace/name/<path>`: a finding's identity for fingerprints
    /// (no line numbers, so a baseline survives edits).
    pub fn identity(&self, path: &KeyPath) -> String {
        format!(
            "{}/{}/{}/{}",
            self.kind(),
            self.namespace(),
            self.name(),
            path
        )
    }

    /// A finding of `meta`'s check at `span`, about the thing at `path`. The
    /// message is prefixed with `Kind/name: `.
    pub fn finding(
        &self,
        meta: &CheckMeta,
        message: String,
        span: Span,
        path: &KeyPath,
    ) -> Finding {
        Finding::new(
            meta.id,
            Category::Policy,
            meta.severity,
            format!("{}/{}: {message}", self.kind(), self.name()),
            self.input.span_location(&span),
        )
        .with_identity(self.identity(path))
    }
}

/// `container "app"`, `init container "setup"`, `ephemeral container "debug"`
/// (`container #2` when unnamed), for messages.
pub fn describe(c: &ContainerView<'_>) -> String {
    let kind = match c.kind {
        ContainerKind::Container => "container",
        ContainerKind::Init => "init container",
        ContainerKind::Ephemeral => "ephemeral container",
    };
    match c.name() {
        Some(n) if !n.is_empty() => format!("{kind} {n:?}"),
        _ => format!("{kind} #{}", c.index + 1),
    }
}

/// A scalar's text for a message, quoted and shortened.
pub fn shown(node: &Node) -> String {
    match node.as_scalar() {
        Some(s) => {
            let t: String = s.text.chars().take(80).collect();
            if t.len() < s.text.len() {
                format!("{t:?}…")
            } else {
                format!("{t:?}")
            }
        }
        None => "(not a scalar)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_documentation_and_remediation() {
        let mut ids = std::collections::HashSet::new();
        for m in all_meta() {
            assert!(ids.insert(m.id), "duplicate id {}", m.id);
            let doc = m.doc();
            for section in [
                "## What it checks",
                "## Why it matters",
                "## Example",
                "## Use instead",
            ] {
                assert!(doc.contains(section), "{}: no `{section}`", m.id);
            }
            assert!(!m.remediation.is_empty(), "{}", m.id);
            assert!(
                m.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.id
            );
        }
        assert_eq!(ids.len(), 20);
    }

    #[test]
    fn namespace_index_matches_like_same_namespace() {
        let namespaces = [None, Some("default"), Some("a"), Some("b")];
        let paths = ["1.yaml", "x/1.yaml", "x/2.yaml", "y/1.yaml"];
        let places: Vec<Placement<'_>> = namespaces
            .iter()
            .flat_map(|ns| paths.iter().map(move |p| Placement::new(*ns, p)))
            .collect();
        let mut index = NamespaceIndex::default();
        for (i, at) in places.iter().enumerate() {
            index.push(*at, i);
        }
        for at in &places {
            let fast: Vec<usize> = index.matching(*at).copied().collect();
            let slow: Vec<usize> = (0..places.len())
                .filter(|&i| same_namespace(*at, places[i]))
                .collect();
            assert_eq!(fast, slow, "{at:?}");
        }
    }

    #[test]
    fn kustomization_entries_resolve_inside_the_repository_only() {
        assert_eq!(join_relative("base", "./np").as_deref(), Some("base/np"));
        assert_eq!(
            join_relative("overlays/prod", "../../base").as_deref(),
            Some("base")
        );
        assert_eq!(
            join_relative("base", "np/deny.yaml").as_deref(),
            Some("base/np")
        );
        assert_eq!(join_relative("", "deploy.yaml").as_deref(), Some(""));
        assert_eq!(join_relative("a", "../../outside"), None);
        assert_eq!(
            join_relative("a", "https://github.com/x/y//base?ref=v1"),
            None
        );
        assert_eq!(join_relative("a", "/etc"), None);
    }

    #[test]
    fn build_groups_join_a_kustomization_with_what_it_builds() {
        let record = |path: &str, entries: &[&str]| crate::detect::FactRecord {
            path: path.to_string(),
            commit: None,
            fact: Fact::Policy(PolicyFact::Kustomization(KustomizationFact {
                entries: entries.iter().map(|e| e.to_string()).collect(),
            })),
        };
        let g = BuildGroups::from_facts(&[
            record("base/kustomization.yaml", &["deploy.yaml", "np"]),
            record("overlays/prod/kustomization.yaml", &["../../base"]),
        ]);
        let dir = |p: &'static str| g.place(None, p).dir();
        assert_eq!(dir("base/np/deny.yaml"), dir("base/deploy.yaml"));
        assert_eq!(dir("overlays/prod/patch.yaml"), dir("base/deploy.yaml"));
        assert_ne!(dir("other/deploy.yaml"), dir("base/deploy.yaml"));
    }

    #[test]
    fn repo_checks_are_named_by_their_ids() {
        let config = Config::default();
        let names: Vec<&str> = repo_checks(&config).iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                no_service_account_token::META.id,
                network_policy_coverage::META.id,
                resource_requests_limits::META.id
            ]
        );
    }

    #[test]
    fn kube_linter_tables_name_our_checks() {
        let config = crate::config::Config::default();
        let mut ours: Vec<String> = all_meta().iter().map(|m| m.id.to_string()).collect();
        for d in crate::detect::k8s::detectors(&config) {
            ours.extend(d.rules().into_iter().map(|r| r.id));
        }
        for (kl, id) in KUBE_LINTER_EQUIVALENTS.iter().chain(KUBE_LINTER_PARTIAL) {
            let id = id.to_string();
            assert!(ours.contains(&id), "{kl} -> {id}");
        }
    }

    #[test]
    fn namespaces_unset_match_default_and_their_directory() {
        let at = |ns, path| Placement::new(ns, path);
        assert!(same_namespace(
            at(Some("a"), "x/1.yaml"),
            at(Some("a"), "y/2.yaml")
        ));
        assert!(!same_namespace(
            at(Some("a"), "x/1.yaml"),
            at(Some("b"), "x/1.yaml")
        ));
        // Unset: `default`, or the same directory's destination.
        assert!(same_namespace(
            at(None, "x/1.yaml"),
            at(Some("default"), "y/2.yaml")
        ));
        assert!(same_namespace(
            at(None, "x/1.yaml"),
            at(Some("b"), "x/2.yaml")
        ));
        assert!(same_namespace(
            at(Some("b"), "x/1.yaml"),
            at(None, "x/1.yaml")
        ));
        assert!(same_namespace(at(None, "1.yaml"), at(None, "2.yaml")));
        assert!(!same_namespace(
            at(None, "x/1.yaml"),
            at(Some("b"), "y/2.yaml")
        ));
        assert!(!same_namespace(at(None, "x/1.yaml"), at(None, "y/1.yaml")));
    }
}
