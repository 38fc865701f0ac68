//! # trusted-registries
//!
//! ## What it checks
//!
//! Runs only when `.gitops-guard.toml` lists registries:
//!
//! ```toml
//! [policy]
//! trusted-registries = ["ghcr.io/acme", "registry.k8s.io", "*.dkr.ecr.eu-west-1.amazonaws.com"]
//! ```
//!
//! Every container's `image` (also init and ephemeral containers) must then
//! come from one of them, else it is reported at the `image:` value. An
//! entry is a registry host, optionally followed by a path prefix that
//! matches whole path components (`ghcr.io/acme` allows
//! `ghcr.io/acme/api` but not `ghcr.io/acme-evil/api`); a leading `*.`
//! matches any subdomain of the host. Image names are read as the runtimes
//! read them: a name without a registry is on Docker Hub, so `nginx` is
//! `docker.io/library/nginx` (allowed by `docker.io` or `docker.io/library`),
//! and `index.docker.io` is `docker.io`. Templated images (`${IMAGE}`) are
//! not judged.
//!
//! ## Why it matters
//!
//! An image is code that runs with the pod's identity, secrets and network
//! access. Limiting the sources to registries the organisation controls or
//! mirrors (where images are scanned, signed and kept) shuts out typo-squats
//! (`ngnix`), abandoned Docker Hub images and pulls that fail when a public
//! registry rate-limits. When the list is configured, the team has decided
//! it is policy, so the severity is `high`.
//!
//! ## Example
//!
//! With `trusted-registries = ["ghcr.io/acme"]`:
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginx:1.27.3          # docker.io/library/nginx
//! ```
//!
//! ## Use instead
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: ghcr.io/acme/mirror/nginx:1.27.3
//! ```

use super::image::ImageRef;
use super::{CheckMeta, PodCheck, Workload, describe};
use crate::finding::{Finding, Severity};

pub const META: CheckMeta = CheckMeta {
    id: "trusted-registries",
    name: "Images must come from a trusted registry",
    severity: Severity::High,
    remediation: "Pull the image from (or mirror it into) one of the registries listed in `policy.trusted-registries`.",
    source: include_str!("trusted_registries.rs"),
};

/// One `trusted-registries` entry, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Host, lower case; `*.` kept for wildcards.
    host: String,
    /// Path prefix without slashes at either end (may be empty).
    prefix: String,
}

impl Entry {
    fn parse(raw: &str) -> Option<Entry> {
        let t = raw.trim();
        let t = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .unwrap_or(t)
            .trim_matches('/');
        if t.is_empty() {
            return None;
        }
        let (host, prefix) = t.split_once('/').unwrap_or((t, ""));
        let host = host.to_ascii_lowercase();
        let host = match host.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
                "docker.io".to_string()
            }
            _ => host,
        };
        Some(Entry {
            host,
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn allows(&self, image: &ImageRef<'_>) -> bool {
        let host_ok = match self.host.strip_prefix("*.") {
            Some(suffix) => image
                .registry
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.') && head.len() > 1),
            None => image.registry == self.host,
        };
        host_ok
            && (self.prefix.is_empty()
                || image.path == self.prefix
                || image
                    .path
                    .strip_prefix(&self.prefix)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

pub struct TrustedRegistries {
    entries: Vec<Entry>,
    listed: String,
}

impl TrustedRegistries {
    pub fn new(registries: &[String]) -> TrustedRegistries {
        let entries: Vec<Entry> = registries.iter().filter_map(|r| Entry::parse(r)).collect();
        let listed = entries
            .iter()
            .map(|e| {
                if e.prefix.is_empty() {
                    e.host.clone()
                } else {
                    format!("{}/{}", e.host, e.prefix)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        TrustedRegistries { entries, listed }
    }
}

impl PodCheck for TrustedRegistries {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn check(&self, w: &Workload<'_, '_>, out: &mut Vec<Finding>) {
        if self.entries.is_empty() {
            return;
        }
        for c in w.pod.containers() {
            let Some(node) = c.image_node() else { continue };
            let Some(image) = node.as_str().and_then(ImageRef::parse) else {
                continue;
            };
            if self.entries.iter().any(|e| e.allows(&image)) {
                continue;
            }
            out.push(w.finding(
                &META,
                format!(
                    "{} image {:?} ({}) is not from a trusted registry ({})",
                    describe(&c),
                    image.raw,
                    image.full_name(),
                    self.listed
                ),
                node.span,
                &c.path.key("image"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entry: &str, image: &str) -> bool {
        Entry::parse(entry)
            .unwrap()
            .allows(&ImageRef::parse(image).unwrap())
    }

    #[test]
    fn entries_match_whole_components() {
        assert!(allowed("ghcr.io/acme", "ghcr.io/acme/api:1"));
        assert!(allowed("ghcr.io/acme/", "ghcr.io/acme/team/api:1"));
        assert!(allowed("https://ghcr.io/acme", "ghcr.io/acme/api:1"));
        assert!(!allowed("ghcr.io/acme", "ghcr.io/acme-evil/api:1"));
        assert!(!allowed("ghcr.io/acme", "ghcr.io.evil.com/acme/api:1"));
        assert!(allowed("ghcr.io", "GHCR.io/anyone/x"));
        assert!(allowed("docker.io", "nginx"));
        assert!(allowed("docker.io/library", "nginx:1"));
        assert!(allowed("index.docker.io", "bitnami/redis:7"));
        assert!(!allowed("docker.io/library", "bitnami/redis:7"));
        assert!(!allowed("ghcr.io", "nginx"));
        assert!(allowed(
            "*.dkr.ecr.eu-west-1.amazonaws.com",
            "123.dkr.ecr.eu-west-1.amazonaws.com/app:1"
        ));
        assert!(!allowed(
            "*.dkr.ecr.eu-west-1.amazonaws.com",
            "dkr.ecr.eu-west-1.amazonaws.com/app:1"
        ));
        assert!(!allowed("*.example.com", "evilexample.com/app:1"));
        assert!(allowed("localhost:5000", "localhost:5000/app"));
        assert_eq!(Entry::parse("  /  "), None);
    }
}
