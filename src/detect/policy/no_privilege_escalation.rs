//! # no-privilege-escalation
//!
//! ## What it checks
//!
//! Every container (also init and ephemeral containers) must set
//! `securityContext.allowPrivilegeEscalation: false`. An explicit `true`
//! is reported at the value; a missing field at the container's `name:`,
//! because Kubernetes then defaults it to `true`.
//!
//! Not reported where `false` is impossible: a privileged container, or one
//! that adds `CAP_SYS_ADMIN` (the API server rejects `false` for both;
//! `no-privileged` and `drop-all-capabilities` report those). Windows pods
//! (`spec.os.name: windows`) are exempt, as in the Pod Security Standards.
//!
//! ## Why it matters
//!
//! `allowPrivilegeEscalation: false` sets the kernel's `no_new_privs` flag:
//! setuid binaries (`sudo`, `su`, `ping` on older images) and file
//! capabilities can no longer raise a process's privileges. Without it, a
//! compromised non-root process can often become root inside the container.
//! The Pod Security Standards' `restricted` profile requires `false`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   securityContext:
//!     allowPrivilegeEscalation: true
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/web:2.3.1
//!   securityContext:
//!     allowPrivilegeEscalation: false
//! ```

use super::drop_all_capabilities::added_capabilities;
use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "no-privilege-escalation",
    name: "Containers must not allow privilege escalation",
    severity: Severity::Medium,
    remediation: "Set `allowPrivilegeEscalation: false` in every container's securityContext.",
    source: include_str!("no_privilege_escalation.rs"),
};

pub struct NoPrivilegeEscalation;

impl PodCheck for NoPrivilegeEscalation {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        if w.is_windows() {
            return;
        }
        for c in w.pod.containers() {
            let who = describe(&c);
            let setting = w.container_setting(&c, "allowPrivilegeEscalation");
            match setting.as_ref().and_then(|s| s.node.as_bool_yaml11()) {
                Some(false) => {}
                Some(true) => {
                    let s = setting.expect("a value was read");
                    out.push(w.finding(
                        &META,
                        format!(
                            "{who} allows privilege escalation (allowPrivilegeEscalation: true)"
                        ),
                        s.node.span,
                        &c.path,
                    ));
                }
                None => {
                    let privileged = w
                        .container_setting(&c, "privileged")
                        .and_then(|s| s.node.as_bool_yaml11())
                        == Some(true);
                    let sys_admin = added_capabilities(w, &c)
                        .iter()
                        .any(|(_, cap)| cap == "SYS_ADMIN");
                    if privileged || sys_admin {
                        continue;
                    }
                    out.push(w.finding(
                        &META,
                        format!(
                            "{who} allows privilege escalation: allowPrivilegeEscalation is not set to false (it defaults to true)"
                        ),
                        c.anchor_span(),
                        &c.path,
                    ));
                }
            }
        }
    }
}
