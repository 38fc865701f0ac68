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

use super::shared_map::{Budget, SharedMap};
use crate::finding::Finding;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a detector made of one document text.
#[derive(Clone, Debug)]
pub enum Remembered {
    /// Its findings, lines relative to the document's first line, no path.
    Findings(Box<[Finding]>),
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
    ) -> Option<Result<Vec<Finding>, ()>> {
        let found = self.map.read(key, key.1, |r| match r {
            Remembered::NotYaml => Err(()),
            Remembered::Findings(fs) => Ok(fs
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    f.location.path = path.to_string();
                    f.location.line += line0;
                    f.location.end_line += line0;
                    f
                })
                .collect()),
        })?;
        self.replayed.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }

    /// Remember the findings of a document starting at 0-based line `line0`.
    pub fn remember(&self, key: (&'static str, u128), findings: &[Finding], line0: usize) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        let entry = Remembered::Findings(
            findings
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    f.location.path = String::new();
                    f.location.line -= line0;
                    f.location.end_line -= line0;
                    f
                })
                .collect(),
        );
        self.put(key, entry, 64 + findings.len() * 256);
    }

    pub fn remember_not_yaml(&self, key: (&'static str, u128)) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        self.put(key, Remembered::NotYaml, 64);
    }

    fn put(&self, key: (&'static str, u128), entry: Remembered, cost: usize) {
        self.map.keep(key, key.1, entry, cost, &self.budget);
    }
}
