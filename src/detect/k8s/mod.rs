//! Kubernetes and GitOps awareness (issue 4): plaintext Secret manifests, secret env vars,
//! Kustomize secret literals, values flowing into manifests, hardcoded IPs, plain HTTP.

use crate::config::Config;
use crate::detect::Detector;
use crate::scan::RepoCheck;

/// Per-file facts this family's repo-level checks need.
#[derive(Clone, Debug)]
pub enum K8sFact {}

/// This family's detectors, configured.
pub fn detectors(_config: &Config) -> Vec<Box<dyn Detector>> {
    Vec::new()
}

/// This family's repo-level checks over facts.
pub fn repo_checks(_config: &Config) -> Vec<Box<dyn RepoCheck>> {
    Vec::new()
}
