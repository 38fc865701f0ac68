//! Pod-security and supply-chain checks from the Kubernetes hardening guides (issue 6).

use crate::config::Config;
use crate::detect::Detector;
use crate::scan::RepoCheck;

/// Per-file facts this family's repo-level checks need.
#[derive(Clone, Debug)]
pub enum PolicyFact {}

/// This family's detectors, configured.
pub fn detectors(_config: &Config) -> Vec<Box<dyn Detector>> {
    Vec::new()
}

/// This family's repo-level checks over facts.
pub fn repo_checks(_config: &Config) -> Vec<Box<dyn RepoCheck>> {
    Vec::new()
}

/// kube-linter checks whose `ignore-check.kube-linter.io/<check>` annotation
/// means the same as ignoring one of ours: (kube-linter check, our id).
pub const KUBE_LINTER_EQUIVALENTS: &[(&str, &str)] = &[];
