//! # no-host-path
//!
//! ## What it checks
//!
//! A pod must not mount directories or files of the node (`hostPath`
//! volumes). Each `hostPath` volume is reported at its `path:`, with a
//! severity that follows what it exposes:
//!
//! | severity | paths |
//! |---|---|
//! | critical | a container runtime socket (`docker.sock`, `containerd.sock`, `crio.sock`, `cri-dockerd.sock`, `podman.sock`), a directory holding one (`/run`, `/var/run`, `/run/containerd`, `/var/run/crio`, …), or the host's root `/` |
//! | high | system and credential directories: `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/lib`, `/usr`, `/bin`, `/sbin`, `/var`, `/home`, `/root…`, `/var/lib/kubelet…`, `/etc/kubernetes…`, `/var/lib/docker…`, `/var/lib/containerd…`, `/proc/…` |
//! | medium | any other path some container mounts writable |
//! | low | any other path mounted read-only everywhere (or not mounted at all) |
//!
//! The message names the containers that mount the volume and whether they
//! can write to it. kube-linter's `docker-sock`, `sensitive-host-mounts` and
//! `writable-host-mount` annotations suppress a finding when every one of
//! them that would report the same volume is present.
//!
//! ## Why it matters
//!
//! Whoever can talk to the container runtime's socket can start a
//! privileged container on the node: that is root on the node and every
//! secret on it. Host system directories give the same through other doors
//! (`/etc/kubernetes` and `/var/lib/kubelet` hold credentials, `/proc` the
//! other processes). Even harmless-looking writable paths have been used
//! to escape (symlink tricks through `/var/log`). The Pod Security
//! Standards' `baseline` profile forbids `hostPath` volumes altogether.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   containers:
//!   - name: builder
//!     image: docker:27-cli
//!     volumeMounts:
//!     - {name: docker, mountPath: /var/run/docker.sock}
//!   volumes:
//!   - name: docker
//!     hostPath: {path: /var/run/docker.sock, type: Socket}
//! ```
//!
//! ## Use instead
//!
//! Build images without a daemon (BuildKit rootless, kaniko, buildah) and
//! keep state in `emptyDir`, a PersistentVolumeClaim, a ConfigMap or a
//! projected volume. A node agent that must read host paths should mount
//! them `readOnly: true` and carry a suppression with the reason.

use super::{CheckMeta, PodCheck, Workload, describe, suppress_if_kube_linter_ignores};
use crate::finding::{Finding, Severity};
use crate::manifest::Node;

pub const META: CheckMeta = CheckMeta {
    id: "no-host-path",
    name: "Pods must not mount host paths",
    severity: Severity::High,
    remediation: "Replace the hostPath volume with an emptyDir, PersistentVolumeClaim, ConfigMap or projected volume; never mount a container runtime socket.",
    source: include_str!("no_host_path.rs"),
};

const SOCKETS: [&str; 6] = [
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "podman.sock",
    "dockershim.sock",
];

/// Directories that hold a runtime socket (mounting them exposes it).
const SOCKET_DIRS: [&str; 10] = [
    "/run",
    "/var/run",
    "/run/docker",
    "/var/run/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/run/crio",
    "/var/run/crio",
    "/run/podman",
    "/var/run/podman",
];

const SENSITIVE: [&str; 13] = [
    "/etc", "/proc", "/sys", "/dev", "/boot", "/lib", "/lib64", "/usr", "/bin", "/sbin", "/var",
    "/var/lib", "/home",
];

/// Sensitive with everything under them.
const SENSITIVE_TREES: [&str; 6] = [
    "/root",
    "/var/lib/kubelet",
    "/etc/kubernetes",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/proc",
];

/// kube-linter's `sensitive-host-mounts` directories.
const KUBE_LINTER_SENSITIVE: [&str; 8] = [
    "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr",
];

/// `//var//run/` → `/var/run`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut out = String::new();
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    out
}

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// How bad a host path is, and what it is, for the message.
pub fn classify(path: &str) -> (Severity, &'static str) {
    let p = normalize(path);
    if SOCKETS.iter().any(|s| p.ends_with(s)) {
        return (Severity::Critical, "the container runtime socket");
    }
    if SOCKET_DIRS.contains(&p.as_str()) {
        return (
            Severity::Critical,
            "a directory holding the container runtime socket",
        );
    }
    if p == "/" {
        return (Severity::Critical, "the host's root filesystem");
    }
    if SENSITIVE.contains(&p.as_str()) || SENSITIVE_TREES.iter().any(|d| under(&p, d)) {
        return (Severity::High, "a host system directory");
    }
    (Severity::Medium, "a host path")
}

pub struct NoHostPath;

impl PodCheck for NoHostPath {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        for volume in w.pod.volumes() {
            let Some(host_path) = volume.get("hostPath") else {
                continue;
            };
            let name = volume.get("name").and_then(Node::as_str).unwrap_or("");
            let path_node = host_path.get("path");
            let path = path_node.and_then(Node::as_str).unwrap_or("");
            // Which containers mount it, and can any of them write to it?
            let mut mounted = Vec::new();
            let mut writable = false;
            for c in w.pod.containers() {
                for m in c.volume_mounts() {
                    if m.get("name").and_then(Node::as_str) != Some(name) || name.is_empty() {
                        continue;
                    }
                    let read_only = m.get("readOnly").and_then(Node::as_bool_yaml11) == Some(true);
                    writable |= !read_only;
                    mounted.push(format!(
                        "{}{}",
                        describe(&c),
                        if read_only { " read-only" } else { " writable" }
                    ));
                }
            }
            let (mut severity, what) = classify(path);
            if severity == Severity::Medium && !writable {
                severity = Severity::Low;
            }
            let into = if mounted.is_empty() {
                "not mounted by any container".to_string()
            } else {
                format!("mounted into {}", mounted.join(", "))
            };
            let span = path_node.map_or(host_path.span, |n| n.span);
            let identity_path = w.pod.path.key("volumes").named(name).key("hostPath");
            let mut f = w.finding(
                &META,
                format!("hostPath volume {name:?} exposes {what} {path:?} ({into})"),
                span,
                &identity_path,
            );
            f.severity = severity;
            // The kube-linter checks that would report this volume.
            let normalized = normalize(path);
            let mut kube_linter = Vec::new();
            if !mounted.is_empty() {
                if path.ends_with("docker.sock") {
                    kube_linter.push("docker-sock");
                }
                if KUBE_LINTER_SENSITIVE.contains(&normalized.as_str()) {
                    kube_linter.push("sensitive-host-mounts");
                }
                if writable {
                    kube_linter.push("writable-host-mount");
                }
            }
            suppress_if_kube_linter_ignores(w.object, &kube_linter, &mut f);
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        for (p, s) in [
            ("/var/run/docker.sock", Severity::Critical),
            ("/run/containerd/containerd.sock", Severity::Critical),
            ("/var/run/crio/crio.sock", Severity::Critical),
            ("//var//run/", Severity::Critical),
            ("/", Severity::Critical),
            ("/etc", Severity::High),
            ("/etc/", Severity::High),
            ("/var/lib/kubelet/pki", Severity::High),
            ("/proc/1/ns", Severity::High),
            ("/etc/ssl/certs", Severity::Medium),
            ("/var/log", Severity::Medium),
            ("/rootfs", Severity::Medium),
            ("/data", Severity::Medium),
        ] {
            assert_eq!(classify(p).0, s, "{p}");
        }
        assert_eq!(normalize("relative/./x/"), "relative/x");
        assert_eq!(
            classify("").0,
            Severity::Medium,
            "an empty path is not the root"
        );
    }
}
