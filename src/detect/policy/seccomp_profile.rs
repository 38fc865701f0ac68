//! # seccomp-profile
//!
//! ## What it checks
//!
//! Every container (also init and ephemeral containers) must run under a
//! seccomp profile: `seccompProfile.type` `RuntimeDefault` or `Localhost`,
//! set in the container's `securityContext` or inherited from the pod's.
//! The deprecated annotations count too — `container.seccomp.security.alpha.kubernetes.io/<container>`
//! and `seccomp.security.alpha.kubernetes.io/pod` on the pod template with
//! `runtime/default`, `docker/default` or `localhost/<profile>` — but only
//! where no field decides (fields win, and Kubernetes 1.27+ ignores the
//! annotations on existing pods; prefer the field).
//!
//! `Unconfined` (or `unconfined`) is reported at the value; no profile at
//! all at the container's `name:`. Windows pods (`spec.os.name: windows`)
//! are exempt, as in the Pod Security Standards.
//!
//! ## Why it matters
//!
//! Unless the kubelet runs with `--seccomp-default`, a container without a
//! profile is `Unconfined`: every system call is open to it, including the
//! rarely needed ones behind many container escapes (`unshare`, `keyctl`,
//! `bpf`; CVE-2022-0185 and CVE-2022-0492 were blocked by the runtime's
//! default profile). The Pod Security Standards' `baseline` profile forbids
//! `Unconfined`; `restricted` requires `RuntimeDefault` or `Localhost`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   containers:
//!   - name: web
//!     image: ghcr.io/acme/web:2.3.1
//!     securityContext:
//!       seccompProfile: {type: Unconfined}
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     seccompProfile: {type: RuntimeDefault}
//!   containers:
//!   - name: web
//!     image: ghcr.io/acme/web:2.3.1
//! ```

use super::{CheckMeta, PodCheck, Setting, Workload, describe, shown};
use crate::finding::{Finding, Severity};
use crate::manifest::{ContainerView, Node};

pub const META: CheckMeta = CheckMeta {
    id: "seccomp-profile",
    name: "Containers must run with a seccomp profile",
    severity: Severity::Medium,
    remediation: "Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext (or Localhost with a profile for the container).",
    source: include_str!("seccomp_profile.rs"),
};

/// The pod annotation for one container (deprecated since Kubernetes 1.19).
pub const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
/// The pod-wide annotation (deprecated since Kubernetes 1.19).
pub const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";

/// Where a container's effective profile comes from.
enum Source<'a> {
    Field(Setting<'a>, &'a Node),
    Annotation(&'a str, &'a Node),
}

fn effective<'a>(w: &Workload<'a, '_>, c: &ContainerView<'a>) -> Option<Source<'a>> {
    let field = |s: Option<Setting<'a>>| {
        let s = s?;
        let t = s.node.get("type").filter(|n| !n.is_null())?;
        Some(Source::Field(s, t))
    };
    if let Some(src) = field(w.container_setting(c, "seccompProfile")) {
        return Some(src);
    }
    if let Some(src) = field(w.pod_setting("seccompProfile")) {
        return Some(src);
    }
    let name = c.name().unwrap_or("");
    let mut pod_annotation = None;
    for a in w.pod.annotations() {
        if a.key.strip_prefix(CONTAINER_ANNOTATION_PREFIX) == Some(name) && !name.is_empty() {
            return Some(Source::Annotation(a.key, a.value));
        }
        if a.key == POD_ANNOTATION {
            pod_annotation = Some(Source::Annotation(a.key, a.value));
        }
    }
    pod_annotation
}

pub struct SeccompProfile;

impl PodCheck for SeccompProfile {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        if w.is_windows() {
            return;
        }
        for c in w.pod.containers() {
            let who = describe(&c);
            let path = c.path.keys(&["securityContext", "seccompProfile"]);
            match effective(w, &c) {
                Some(Source::Field(s, t)) => match t.as_str() {
                    Some("RuntimeDefault" | "Localhost") => {}
                    Some("Unconfined") => out.push(w.finding(
                        &META,
                        format!(
                            "{who} runs without seccomp: seccompProfile.type: Unconfined in the {}",
                            s.level()
                        ),
                        t.span,
                        &path,
                    )),
                    _ => out.push(w.finding(
                        &META,
                        format!(
                            "{who} has seccompProfile.type {} in the {}, not RuntimeDefault or Localhost",
                            shown(t),
                            s.level()
                        ),
                        t.span,
                        &path,
                    )),
                },
                Some(Source::Annotation(key, value)) => {
                    let v = value.as_str().unwrap_or("");
                    if v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/") {
                        continue;
                    }
                    out.push(w.finding(
                        &META,
                        format!(
                            "{who} runs without seccomp: annotation {key} is {}",
                            shown(value)
                        ),
                        value.span,
                        &path,
                    ));
                }
                None => out.push(w.finding(
                    &META,
                    format!(
                        "{who} has no seccomp profile (Unconfined unless the kubelet defaults to RuntimeDefault): set seccompProfile.type in the pod or container securityContext"
                    ),
                    c.anchor_span(),
                    &path,
                )),
            }
        }
    }
}
