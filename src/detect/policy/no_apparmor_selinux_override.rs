//! # no-apparmor-selinux-override
//!
//! ## What it checks
//!
//! A pod must not turn off or replace the runtime's mandatory access
//! control confinement:
//!
//! - AppArmor: `appArmorProfile.type: Unconfined` in the pod or a container
//!   `securityContext`, or the (pre-1.30) annotation
//!   `container.apparmor.security.beta.kubernetes.io/<container>: unconfined`
//!   on the pod template. `RuntimeDefault` and `Localhost` profiles are fine.
//! - SELinux: `seLinuxOptions` in the pod or a container `securityContext`
//!   that sets a `user` or `role`, or a `type` other than the container
//!   types `container_t`, `container_init_t`, `container_kvm_t` and
//!   `container_engine_t`. Setting only `level` (MCS categories) is fine.
//!
//! Each offending value is reported where it is written.
//!
//! ## Why it matters
//!
//! AppArmor and SELinux are what stop a process that escaped its container's
//! namespaces from touching the host's files and devices. `Unconfined`
//! switches AppArmor off; an SELinux `user`, `role` or a type such as
//! `spc_t` ("super privileged container") or `unconfined_t` runs the
//! container outside the container policy. The Pod Security Standards'
//! `baseline` profile forbids all of these.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     seLinuxOptions:
//!       type: spc_t
//!   containers:
//!   - name: agent
//!     image: ghcr.io/acme/agent:1.4.2
//!     securityContext:
//!       appArmorProfile:
//!         type: Unconfined
//! ```
//!
//! ## Use instead
//!
//! Leave both unset (the runtime default confines the container), or name a
//! profile written for the workload:
//!
//! ```yaml
//! securityContext:
//!   appArmorProfile:
//!     type: Localhost
//!     localhostProfile: acme-agent
//! ```

use super::{CheckMeta, PodCheck, Setting, Workload, describe, shown};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "no-apparmor-selinux-override",
    name: "Pods must not disable or override AppArmor/SELinux confinement",
    severity: Severity::High,
    remediation: "Remove `appArmorProfile: {type: Unconfined}`, the `unconfined` AppArmor annotation and SELinux `user`/`role`/non-container `type`.",
    source: include_str!("no_apparmor_selinux_override.rs"),
};

/// The SELinux types the `baseline` profile allows.
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// The pre-1.30 per-container AppArmor annotation.
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

pub struct NoApparmorSelinuxOverride;

impl NoApparmorSelinuxOverride {
    fn judge(w: &Workload<'_, '_>, who: &str, s: Option<Setting<'_>>, out: &mut Vec<Finding>) {
        let Some(s) = s else { return };
        match s.path.last_key() {
            Some("appArmorProfile") => {
                if let Some(t) = s.node.get("type")
                    && t.as_str() == Some("Unconfined")
                {
                    out.push(w.finding(
                        &META,
                        format!("{who} runs without AppArmor (appArmorProfile.type: Unconfined)"),
                        t.span,
                        &s.path.key("type"),
                    ));
                }
            }
            _ => {
                for field in ["user", "role", "type"] {
                    let Some(v) = s.node.get(field) else { continue };
                    let set = v.as_str().is_some_and(|t| !t.is_empty())
                        || !v.is_null() && v.as_str().is_none();
                    let allowed =
                        field == "type" && v.as_str().is_some_and(|t| SELINUX_TYPES.contains(&t));
                    if !set || allowed {
                        continue;
                    }
                    out.push(w.finding(
                        &META,
                        format!(
                            "{who} overrides SELinux ({} seLinuxOptions.{field}: {})",
                            s.level(),
                            shown(v)
                        ),
                        v.span,
                        &s.path.key(field),
                    ));
                }
            }
        }
    }
}

impl PodCheck for NoApparmorSelinuxOverride {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for key in ["appArmorProfile", "seLinuxOptions"] {
            Self::judge(w, "the pod", w.pod_setting(key), out);
        }
        for c in w.pod.containers() {
            let who = describe(&c);
            for key in ["appArmorProfile", "seLinuxOptions"] {
                Self::judge(w, &who, w.container_setting(&c, key), out);
            }
        }
        for a in w.pod.annotations() {
            let Some(container) = a.key.strip_prefix(APPARMOR_ANNOTATION) else {
                continue;
            };
            if a.value_str().map(str::trim) != Some("unconfined") {
                continue;
            }
            let mut path = w.pod.path.clone();
            path.pop();
            out.push(w.finding(
                &META,
                format!(
                    "container {container:?} runs without AppArmor (annotation {}: unconfined)",
                    a.key
                ),
                a.value.span,
                &path.keys(&["metadata", "annotations", a.key]),
            ));
        }
    }
}
