//! Proof that encrypted files are encrypted (issue 5): SOPS, SealedSecrets, age.

use crate::config::Config;
use crate::detect::Detector;
use crate::scan::RepoCheck;

/// Per-file facts this family's repo-level checks need.
#[derive(Clone, Debug)]
pub enum EncryptionFact {}

/// This family's detectors, configured.
pub fn detectors(_config: &Config) -> Vec<Box<dyn Detector>> {
    Vec::new()
}

/// This family's repo-level checks over facts.
pub fn repo_checks(_config: &Config) -> Vec<Box<dyn RepoCheck>> {
    Vec::new()
}
