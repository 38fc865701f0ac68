//! Verification results kept across runs (`[verification] cache = FILE`).
//!
//! An entry is keyed by an HMAC of rule and value under the user's key
//! (`GITOPS_GUARD_HMAC_KEY`, as for `k1:` fingerprints): the file holds no
//! secret and no unkeyed hash of one, so it cannot be used to test guesses.
//! Without a key there is no cache. Only decided outcomes (`live`,
//! `invalid`) are kept, each for `ttl`.

use crate::finding::{Verification, VerifyStatus, hex};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Default, Serialize, Deserialize)]
struct File {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    live: bool,
    #[serde(default)]
    detail: Option<String>,
    /// Seconds since the Unix epoch.
    checked: u64,
}

pub struct Cache {
    path: PathBuf,
    key: Vec<u8>,
    ttl: Duration,
    file: File,
    dirty: bool,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Cache {
    /// Open (or start) the cache at `path`; `None` without a key. A file
    /// that cannot be read as a cache is started afresh, never trusted.
    pub fn open(path: &Path, key: Option<&[u8]>, ttl: Duration) -> Option<Cache> {
        let key = key?.to_vec();
        let file = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .filter(|f| f.version == 1)
            .unwrap_or(File {
                version: 1,
                entries: BTreeMap::new(),
            });
        Some(Cache {
            path: path.to_path_buf(),
            key,
            ttl,
            file,
            dirty: false,
        })
    }

    fn id(&self, rule: &str, secret: &str, pair: Option<&str>) -> String {
        let mut m =
            hmac::Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for p in [
            b"gitops-guard/verify-cache/v1" as &[u8],
            rule.as_bytes(),
            secret.as_bytes(),
            pair.unwrap_or("").as_bytes(),
        ] {
            m.update(p);
            m.update(&[0]);
        }
        hex(&m.finalize().into_bytes()[..16])
    }

    pub fn get(&self, rule: &str, secret: &str, pair: Option<&str>) -> Option<Verification> {
        let e = self.file.entries.get(&self.id(rule, secret, pair))?;
        if now().saturating_sub(e.checked) > self.ttl.as_secs() {
            return None;
        }
        Some(Verification {
            status: if e.live {
                VerifyStatus::Live
            } else {
                VerifyStatus::Invalid
            },
            detail: e.detail.clone(),
        })
    }

    pub fn put(&mut self, rule: &str, secret: &str, pair: Option<&str>, v: &Verification) {
        if v.status == VerifyStatus::Unknown {
            return;
        }
        let id = self.id(rule, secret, pair);
        self.file.entries.insert(
            id,
            Entry {
                live: v.status == VerifyStatus::Live,
                detail: v.detail.clone(),
                checked: now(),
            },
        );
        self.dirty = true;
    }

    /// Write the file back (atomically: a temporary file renamed over it).
    pub fn save(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let cutoff = now().saturating_sub(self.ttl.as_secs());
        self.file.entries.retain(|_, e| e.checked >= cutoff);
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty());
        let mut tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
        serde_json::to_writer(&mut tmp, &self.file)?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_file_holds_no_secret_and_needs_the_key() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.json");
        assert!(Cache::open(&p, None, Duration::from_secs(60)).is_none());
        let mut c = Cache::open(&p, Some(b"k"), Duration::from_secs(60)).unwrap();
        let live = Verification {
            status: VerifyStatus::Live,
            detail: Some("user bob".into()),
        };
        c.put("r", "super-secret-value-42", None, &live);
        c.save().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("super-secret-value-42"));
        let c = Cache::open(&p, Some(b"k"), Duration::from_secs(60)).unwrap();
        assert_eq!(c.get("r", "super-secret-value-42", None), Some(live));
        assert_eq!(c.get("r", "other", None), None);
        let c = Cache::open(&p, Some(b"other key"), Duration::from_secs(60)).unwrap();
        assert_eq!(c.get("r", "super-secret-value-42", None), None);
    }
}
