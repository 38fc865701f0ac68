//! What document-local detectors found in a YAML document, remembered across
//! blobs, for history scans.
//!
//! Each version of a release bundle (`install.yaml`: 60 documents, 2 MB)
//! repeats most documents of the version before. A detector whose findings
//! in a document depend only on that document's text (the env-var check,
//! the plaintext-Secret check) needs to parse it once per distinct text: the
//! findings are kept with lines relative to the document's `---` line and
//! replayed, moved to where the document sits in the next version. A
//! document that is not YAML is remembered as such.

use super::Fact;
use super::shared_map::{Budget, SharedMap};
use crate::finding::Finding;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A remembered document's findings and facts, moved to where it is now.
pub type Recalled = (Vec<Finding>, Vec<Fact>);

/// What a detector made of one document text.
#[derive(Clone, Debug)]
pub enum Remembered {
    /// Its findings and facts, lines relative to the document's first line,
    /// no path. Only facts that [`shift_fact`] can move are remembered.
    Findings(Box<[Finding]>, Box<[Fact]>),
    /// The text did not parse as YAML.
    NotYaml,
}

/// Per-document results by (detector, xxh3-128 of the document's text),
/// shared by every scanning thread, with a budget.
pub struct DocMemo {
    map: SharedMap<(&'static str, u128), Remembered>,
    budget: Budget,
    /// Documents answered from the memo / parsed and checked.
    pub replayed: AtomicUsize,
    pub checked: AtomicUsize,
}

impl DocMemo {
    pub fn new(budget: usize) -> DocMemo {
        DocMemo {
            map: SharedMap::new(),
            budget: Budget::new(budget),
            replayed: AtomicUsize::new(0),
            checked: AtomicUsize::new(0),
        }
    }

    pub fn key(detector: &'static str, text: &[u8]) -> (&'static str, u128) {
        (detector, xxhash_rust::xxh3::xxh3_128(text))
    }

    /// What was remembered for `key`, moved to `path` and `line0` (the
    /// 0-based line of the document's start in this blob).
    pub fn recall(
        &self,
        key: &(&'static str, u128),
        path: &str,
        line0: usize,
    ) -> Option<Result<Recalled, ()>> {
        let found = self.map.read(key, key.1, |r| match r {
            Remembered::NotYaml => Err(()),
            Remembered::Findings(fs, facts) => Ok((
                fs.iter()
                    .map(|f| {
                        let mut f = f.clone();
                        move_finding(&mut f, path, line0 as isize);
                        f
                    })
                    .collect(),
                facts
                    .iter()
                    .map(|f| {
                        let mut f = f.clone();
                        shift_fact(&mut f, path, line0 as isize);
                        f
                    })
                    .collect(),
            )),
        })?;
        self.replayed.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }

    /// Remember the findings of a document starting at 0-based line `line0`.
    /// Facts are remembered only when every one can be moved (see
    /// [`shift_fact`]); otherwise nothing is, and the document is checked
    /// again next time. Returns whether it was remembered.
    pub fn remember(
        &self,
        key: (&'static str, u128),
        findings: &[Finding],
        facts: &[Fact],
        line0: usize,
    ) -> bool {
        let back = -(line0 as isize);
        let mut kept = Vec::with_capacity(facts.len());
        for f in facts {
            let mut f = f.clone();
            if !shift_fact(&mut f, "", back) {
                return false;
            }
            kept.push(f);
        }
        self.checked.fetch_add(1, Ordering::Relaxed);
        let entry = Remembered::Findings(
            findings
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    move_finding(&mut f, "", back);
                    f
                })
                .collect(),
            kept.into_boxed_slice(),
        );
        self.put(key, entry, 64 + (findings.len() + facts.len()) * 256);
        true
    }

    pub fn remember_not_yaml(&self, key: (&'static str, u128)) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        self.put(key, Remembered::NotYaml, 64);
    }

    fn put(&self, key: (&'static str, u128), entry: Remembered, cost: usize) {
        self.map.keep(key, key.1, entry, cost, &self.budget);
    }
}

/// Move a finding to `path`, `delta` lines down (up when negative).
fn move_finding(f: &mut Finding, path: &str, delta: isize) {
    f.location.path = path.to_string();
    f.location.line = f.location.line.saturating_add_signed(delta);
    f.location.end_line = f.location.end_line.saturating_add_signed(delta);
}

/// Move a fact's positions like [`move_finding`]; `false` for a kind of
/// fact whose positions this does not know (it is then never remembered).
/// Policy facts hold positions only in a pod's ready-made repo-check
/// findings; the others name objects, not places.
fn shift_fact(fact: &mut Fact, path: &str, delta: isize) -> bool {
    use crate::detect::policy::PolicyFact;
    match fact {
        Fact::Policy(PolicyFact::Pod(p)) => {
            for f in [&mut p.token, &mut p.isolation].into_iter().flatten() {
                move_finding(f, path, delta);
            }
            for g in &mut p.resource_gaps {
                move_finding(&mut g.anchor, path, delta);
            }
            true
        }
        Fact::Policy(
            PolicyFact::ServiceAccount(_)
            | PolicyFact::ServiceAccountBinding(_)
            | PolicyFact::NetworkPolicy(_)
            | PolicyFact::LimitRange(_),
        ) => true,
        // A kustomization's entries are directories relative to its path.
        Fact::Policy(PolicyFact::Kustomization(_)) | Fact::K8s(_) | Fact::Encryption(_) => false,
    }
}
