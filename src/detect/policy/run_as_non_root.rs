//! # run-as-non-root
//!
//! ## What it checks
//!
//! Every container (also init and ephemeral containers) of every workload
//! must be kept from running as root: its effective `runAsNonRoot` is `true`
//! or its effective `runAsUser` is a non-zero UID. "Effective" means the
//! container's `securityContext` if it sets the field, else the pod's.
//!
//! - `runAsUser: 0` fails wherever it is effective (with `runAsNonRoot: true`
//!   the pod would not even start).
//! - `runAsNonRoot: false` fails unless a non-zero `runAsUser` is effective.
//! - Neither set fails at the container's `name:`: the image's `USER` decides,
//!   and most images run as root.
//! - Windows pods (`spec.os.name: windows`) pass with a
//!   `windowsOptions.runAsUserName` that is not an administrator
//!   (`ContainerAdministrator`, `Administrator`, `NT AUTHORITY\…`).
//!
//! `runAsGroup: 0` alone is not reported: the Pod Security Standards allow it
//! and OpenShift's arbitrary-UID images rely on the root group.
//!
//! ## Why it matters
//!
//! A process running as UID 0 in a container is root on the node as far as
//! the kernel is concerned, limited only by capabilities, seccomp and
//! namespaces. One kernel or runtime bug (CVE-2019-5736, CVE-2022-0492)
//! turns it into a node compromise. The Pod Security Standards' `restricted`
//! profile requires `runAsNonRoot: true`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   containers:
//!   - name: web
//!     image: nginx:1.27
//!     securityContext:
//!       runAsUser: 0
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     runAsNonRoot: true
//!     runAsUser: 10001
//!   containers:
//!   - name: web
//!     image: nginxinc/nginx-unprivileged:1.27
//! ```

use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "run-as-non-root",
    name: "Containers must not run as root",
    severity: Severity::Medium,
    remediation: "Set `runAsNonRoot: true` (and a non-zero `runAsUser`) in the pod or container securityContext, and use an image that runs as a non-root user.",
    source: include_str!("run_as_non_root.rs"),
};

pub struct RunAsNonRoot;

/// Windows accounts with administrator rights: the container's own
/// administrator and the node's SYSTEM account (HostProcess containers).
fn is_windows_admin(user: &str) -> bool {
    let u = user.to_ascii_lowercase();
    u == "containeradministrator" || u == "administrator" || u.starts_with("nt authority\\")
}

impl PodCheck for RunAsNonRoot {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for c in w.pod.containers() {
            let user = w.setting(&c, "runAsUser");
            let non_root = w.setting(&c, "runAsNonRoot");
            let uid = user.as_ref().and_then(|s| s.node.as_i64());
            let non_root_value = non_root.as_ref().and_then(|s| s.node.as_bool_yaml11());
            let who = describe(&c);
            if let (Some(0), Some(u)) = (uid, &user) {
                let also = if non_root_value == Some(true) {
                    " (and runAsNonRoot: true, so the pod will not start)"
                } else {
                    ""
                };
                out.push(w.finding(
                    &META,
                    format!(
                        "{who} runs as root: runAsUser: 0 in the {}{also}",
                        u.level()
                    ),
                    u.node.span,
                    &c.path,
                ));
                continue;
            }
            if uid.is_some_and(|u| u > 0) || non_root_value == Some(true) {
                continue;
            }
            if w.is_windows() {
                let user_name = w
                    .setting(&c, "windowsOptions")
                    .and_then(|s| s.node.get("runAsUserName"));
                match user_name.and_then(|n| Some((n, n.as_str()?))) {
                    Some((_, u)) if !is_windows_admin(u) => continue,
                    Some((node, u)) if non_root_value != Some(false) => {
                        out.push(w.finding(
                            &META,
                            format!("{who} runs as the Windows administrator account \"{u}\""),
                            node.span,
                            &c.path,
                        ));
                        continue;
                    }
                    _ => {}
                }
            }
            match (non_root_value, &non_root) {
                (Some(false), Some(s)) => out.push(w.finding(
                    &META,
                    format!(
                        "{who} may run as root: runAsNonRoot: false in the {} and no non-zero runAsUser",
                        s.level()
                    ),
                    s.node.span,
                    &c.path,
                )),
                _ => out.push(w.finding(
                    &META,
                    format!(
                        "{who} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set in the pod or container securityContext"
                    ),
                    c.anchor_span(),
                    &c.path,
                )),
            }
        }
    }
}
