//! Incremental history rescans (`--cache DIR`): which blobs, commit messages
//! and identities a previous scan read and found *nothing* in, under the
//! same rule set, config and options.
//!
//! A nightly rescan of a repository reads again every blob it read the
//! night before; with the cache it reads only what it has not judged clean
//! already. What is remembered is deliberately narrow, so that the cache can
//! only ever save work, never change a result:
//!
//! - Only *clean* outcomes: no finding, no fact but the one every plain
//!   text file gives (replayed on a hit, see [`Clean`]), no skip, no refused YAML, no archive member left out. Anything
//!   with a finding is read and scanned again, so its findings, provenance
//!   and masking come from this run, and the cache holds nothing about a
//!   secret at all.
//! - Each entry is a 128-bit HMAC-SHA256, keyed by a random key made when
//!   the cache is created, of what the outcome depends on: the blob id and
//!   the path it was scanned under (detectors judge by file name), a commit
//!   id for its message, the text of an identity. No blob id, path or text
//!   is stored, and no unkeyed hash of anything.
//! - The file starts with a fingerprint of the tool build, the built-in
//!   rules, the config and the scan options: any change and the whole cache
//!   is dropped (with a note) and rebuilt.
//! - The file ends with a SHA-256 of everything before it: a truncated,
//!   corrupt or foreign file is ignored with a note and rebuilt, never
//!   trusted.
//! - Fail closed: an entry is added only after its object was read and
//!   scanned in this run (or was found in the cache). An object that could
//!   not be read, or whose scan failed, is never entered, so a later rescan
//!   reads it again.
//!
//! The rewritten file holds the entries this run used or added: entries
//! of objects no longer reachable fall out.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::scan::{BlobOutcome, Scanner};

/// First bytes of a cache file; the last byte is the format version.
const MAGIC: &[u8; 8] = b"GGCACHE\x01";
/// The file's name in the cache directory.
pub const FILE_NAME: &str = "history.ggcache";
/// The directory used by `--cache` without a value, under the git dir.
pub const DEFAULT_DIR: &str = "gitops-guard-cache";
const HEADER: usize = 8 + 32 + 32 + 8;
const TRAILER: usize = 32;

/// One entry: a keyed hash, truncated to 128 bits (collisions between a
/// few million entries: ~2^-84).
pub type Key = [u8; 16];

/// What kind of object an entry stands for (part of the keyed input, so a
/// commit id can never be taken for a blob id).
#[derive(Clone, Copy)]
pub enum Kind {
    Blob = b'b' as isize,
    Message = b'm' as isize,
    Identity = b'i' as isize,
}

/// A clean outcome, as remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clean {
    /// No finding, no fact (a binary blob: the structure-aware detectors
    /// did not run).
    Nothing = 0,
    /// No finding; the one fact every plain text file gives to the
    /// repo-level checks (Kustomize generator sources): not SOPS-encrypted,
    /// not empty. It is replayed on a hit, so those checks see what a
    /// fresh scan shows them.
    PlainFile = 1,
}

impl Clean {
    /// The facts a fresh scan of the object gave.
    pub fn facts(self) -> Vec<crate::detect::Fact> {
        use crate::detect::{Fact, k8s::K8sFact};
        match self {
            Clean::Nothing => Vec::new(),
            Clean::PlainFile => vec![Fact::K8s(K8sFact::File {
                sops: false,
                empty: false,
            })],
        }
    }
}

/// What a scan did with its cache, reported in the stats.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CacheStats {
    /// Objects not read because the cache knew them clean.
    pub hits: u64,
    /// Clean objects entered this run.
    pub added: u64,
    /// Why an existing cache was not used, or could not be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An open cache: the entries loaded and those gathered for the next run.
pub struct BlobCache {
    file: PathBuf,
    fingerprint: [u8; 32],
    mac: hmac::Hmac<Sha256>,
    salt: [u8; 32],
    known: HashSet<Key>,
    keep: Mutex<Vec<Key>>,
    hits: AtomicU64,
    added: AtomicU64,
    note: Mutex<Option<String>>,
}

impl BlobCache {
    /// Open the cache in `dir` for this scanner's rules, config and
    /// options. Never fails: an unusable file is a note and an empty cache.
    pub fn open(dir: &Path, scanner: &Scanner) -> BlobCache {
        let file = dir.join(FILE_NAME);
        let fingerprint = fingerprint(scanner);
        let (salt, known, note) = match std::fs::read(&file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (new_salt(), HashSet::new(), None)
            }
            Err(e) => (
                new_salt(),
                HashSet::new(),
                Some(format!(
                    "cache {} could not be read ({e}): ignored, rebuilt",
                    file.display()
                )),
            ),
            Ok(bytes) => match parse(&bytes, &fingerprint) {
                Ok((salt, known)) => (salt, known, None),
                Err(why) => (
                    new_salt(),
                    HashSet::new(),
                    Some(format!("cache {} {why}: ignored, rebuilt", file.display())),
                ),
            },
        };
        BlobCache {
            file,
            fingerprint,
            mac: hmac::Hmac::<Sha256>::new_from_slice(&salt).expect("HMAC takes any key length"),
            salt,
            known,
            keep: Mutex::new(Vec::new()),
            hits: AtomicU64::new(0),
            added: AtomicU64::new(0),
            note: Mutex::new(note),
        }
    }

    /// The entry for an object of `kind` identified by `parts` whose clean
    /// outcome was `clean`.
    fn key(&self, kind: Kind, clean: Clean, parts: &[&[u8]]) -> Key {
        let mut m = self.mac.clone();
        m.update(&[kind as u8, clean as u8]);
        for p in parts {
            // Length-prefixed: ("ab", "c") and ("a", "bc") differ.
            m.update(&(p.len() as u64).to_le_bytes());
            m.update(p);
        }
        let full = m.finalize().into_bytes();
        let mut k = [0u8; 16];
        k.copy_from_slice(&full[..16]);
        k
    }

    /// How the object was judged clean before, if it was; it is then kept
    /// for the next run and counted as a hit.
    pub fn lookup(&self, kind: Kind, parts: &[&[u8]]) -> Option<Clean> {
        for clean in [Clean::Nothing, Clean::PlainFile] {
            let key = self.key(kind, clean, parts);
            if self.known.contains(&key) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                self.keep.lock().expect("cache lock").push(key);
                return Some(clean);
            }
        }
        None
    }

    /// Enter the object if this run's outcome for it is clean.
    pub fn offer(&self, kind: Kind, parts: &[&[u8]], outcome: &BlobOutcome) {
        if let Some(clean) = clean_class(outcome) {
            let key = self.key(kind, clean, parts);
            self.added.fetch_add(1, Ordering::Relaxed);
            self.keep.lock().expect("cache lock").push(key);
        }
    }

    /// Write the entries used or added this run (atomically: a temporary
    /// file renamed over the old one). A failure is a note, not a scan error:
    /// the next run then simply reads everything.
    pub fn save(&self) {
        if let Err(e) = self.write() {
            let mut note = self.note.lock().expect("cache lock");
            let text = format!("cache {} not written: {e}", self.file.display());
            *note = Some(match note.take() {
                Some(n) => format!("{n}; {text}"),
                None => text,
            });
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let mut keys = std::mem::take(&mut *self.keep.lock().expect("cache lock"));
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::with_capacity(HEADER + keys.len() * 16 + TRAILER);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.fingerprint);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        for k in &keys {
            out.extend_from_slice(k);
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, &out)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.file).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            added: self.added.load(Ordering::Relaxed),
            note: self.note.lock().expect("cache lock").clone(),
        }
    }
}

/// Nothing to report, and for repo-level checks at most the fact every
/// text file gives (it is not encrypted and not empty: see
/// [`Clean::facts`]): the only outcomes a rescan may skip.
fn clean_class(o: &BlobOutcome) -> Option<Clean> {
    use crate::detect::{Fact, k8s::K8sFact};
    if !(o.findings.is_empty()
        && o.skipped.is_none()
        && !o.yaml_refused
        && o.archive_skips.is_empty()
        && o.archive_errors.is_empty())
    {
        return None;
    }
    match o.facts.as_slice() {
        [] => Some(Clean::Nothing),
        [
            Fact::K8s(K8sFact::File {
                sops: false,
                empty: false,
            }),
        ] => Some(Clean::PlainFile),
        _ => None,
    }
}

/// The salt and entries of a well-formed cache made under `fingerprint`.
fn parse(bytes: &[u8], fingerprint: &[u8; 32]) -> Result<([u8; 32], HashSet<Key>), &'static str> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err("is not a gitops-guard cache (or of another format version)");
    }
    if bytes.len() < HEADER + TRAILER {
        return Err("is truncated");
    }
    let (body, sum) = bytes.split_at(bytes.len() - TRAILER);
    if Sha256::digest(body).as_slice() != sum {
        return Err("is corrupt or truncated (checksum mismatch)");
    }
    let count = u64::from_le_bytes(body[72..80].try_into().expect("8 bytes"));
    if (body.len() - HEADER) as u64 != count.saturating_mul(16) {
        return Err("is corrupt (entry count mismatch)");
    }
    if &body[8..40] != fingerprint {
        return Err("was made by another build, rule set, config or options");
    }
    let salt: [u8; 32] = body[40..72].try_into().expect("32 bytes");
    let known = body[HEADER..]
        .chunks_exact(16)
        .map(|c| c.try_into().expect("16 bytes"))
        .collect();
    Ok((salt, known))
}

/// Everything a blob's outcome depends on besides its bytes and path: the
/// build (version and executable), the built-in rules, the config (extra
/// rules, disabled rules, allowlists, limits, decode depth) and the scan
/// options. Conservative: a rebuilt binary starts a new cache.
fn fingerprint(scanner: &Scanner) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"gitops-guard history cache\n");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(exe) = std::env::current_exe()
        && let Ok(meta) = std::fs::metadata(&exe)
    {
        h.update(meta.len().to_le_bytes());
        if let Ok(t) = meta.modified()
            && let Ok(d) = t.duration_since(std::time::UNIX_EPOCH)
        {
            h.update(d.as_nanos().to_le_bytes());
        }
    }
    let specs = crate::rules::builtin_specs()
        .map(|s| format!("{s:?}"))
        .unwrap_or_else(|e| format!("error {e}"));
    h.update(specs.as_bytes());
    h.update(format!("{:?}", scanner.config).as_bytes());
    let o = &scanner.options;
    h.update(
        format!(
            "{:?}|{:?}|{}|{}|{}|{:?}",
            o.categories,
            o.skip_rules,
            o.max_file_size,
            o.oversize_blocks,
            o.show_secrets,
            o.exclude
        )
        .as_bytes(),
    );
    h.finalize().into()
}

/// A fresh random key from the operating system; if none can be had, one
/// from the clock and process (the entries then stay keyed, only less
/// unpredictably).
fn new_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .is_ok()
    {
        return salt;
    }
    let mut h = Sha256::new();
    h.update(format!("{:?}{}", std::time::SystemTime::now(), std::process::id()).as_bytes());
    h.update((&salt as *const _ as usize).to_le_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_is_read_back_only_under_its_own_fingerprint_and_checksum() {
        let fp = [7u8; 32];
        let mut body = Vec::new();
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&fp);
        body.extend_from_slice(&[1u8; 32]);
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&[9u8; 16]);
        let mut file = body.clone();
        file.extend_from_slice(&Sha256::digest(&body));
        let (salt, known) = parse(&file, &fp).expect("valid");
        assert_eq!(salt, [1u8; 32]);
        assert!(known.contains(&[9u8; 16]));
        assert!(parse(&file, &[8u8; 32]).is_err(), "other fingerprint");
        assert!(parse(&file[..file.len() - 1], &fp).is_err(), "truncated");
        let mut bad = file.clone();
        bad[HEADER] ^= 1;
        assert!(parse(&bad, &fp).is_err(), "flipped bit");
        assert!(parse(b"{\"not\":\"a cache\"}", &fp).is_err(), "foreign");
    }
}
