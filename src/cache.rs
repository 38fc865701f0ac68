//! Incremental history rescans (`--cache DIR`): which blobs, commit messages
//! and identities a previous scan read and found *nothing* in, and what it
//! found in blobs whose findings hold no secret value, under the same rule
//! set, config and options.
//!
//! A nightly rescan of a repository reads again every blob it read the
//! night before; with the cache it reads only what it has not judged clean
//! already. What is remembered is deliberately narrow, so that the cache can
//! only ever save work, never change a result:
//!
//! - *Clean* outcomes: no finding, no fact but the one every plain text
//!   file gives (replayed on a hit, see [`Clean`]), no skip, no refused
//!   YAML, no archive member left out.
//! - *Findings*: a record of what the report shows for the blob (rule,
//!   message, place, identity, the masked source line) replayed on a hit
//!   with this run's provenance. A finding's secret value is never kept:
//!   only what the report and the filters use of it ([`Kept`]): its redacted
//!   form and length, its fingerprint and value HMAC under the user's key
//!   (when one is set; the key enters the record's entry, so another key
//!   misses), whether an allowlist regex matches it, and, for merging the
//!   versions of a secret, an HMAC of the value under the cache's random key
//!   (fresh findings of a cached scan merge on the same digest). Under
//!   `--show-secrets` (source lines unmasked) or `--verify` (which needs
//!   the value) no record is used or kept. The whole-report masking of a
//!   secret in an author name, ref name or scan error
//!   ([`crate::sanitize::scrub_report`]) needs the value: for a replayed
//!   secret [`BlobCache::mask_replayed`] finds it again by its keyed digest
//!   (every substring of its byte length) and puts its redacted form.
//! - Each entry is a 128-bit HMAC-SHA256, keyed by a random key made when
//!   the cache is created, of what the outcome depends on: the blob id and
//!   the path it was scanned under (detectors judge by file name), a commit
//!   id for its message, the text of an identity. No blob id or path is
//!   stored (a record keeps its findings' paths relative to the blob's), no
//!   unkeyed hash of anything.
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

use crate::finding::{Category, Finding, Kept, Location, Secret, Severity, Snippet, Suppression};
use crate::scan::{BlobOutcome, Scanner};

/// The tag of a findings record's key (the clean entries use [`Clean`]'s).
const RECORD_TAG: u8 = 0xf0;
/// A record larger than this is not kept (a blob with thousands of findings
/// is rare, and reading it again is cheap next to its report).
const MAX_RECORD: usize = 1 << 20;

/// First bytes of a cache file; the last byte is the format version.
const MAGIC: &[u8; 8] = b"GGCACHE\x03";
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
    /// Findings records by key: serialized [`Record`]s.
    records: std::collections::HashMap<Key, Vec<u8>>,
    keep: Mutex<Vec<Key>>,
    keep_records: Mutex<Vec<(Key, Vec<u8>)>>,
    /// Whether findings records may be used and kept (not under
    /// `--show-secrets` or `--verify`; the allowlist compiles).
    records_allowed: bool,
    allowlist: Option<crate::filter::Allowlist>,
    hits: AtomicU64,
    added: AtomicU64,
    note: Mutex<Option<String>>,
}

impl BlobCache {
    /// Open the cache in `dir` for this scanner's rules, config and
    /// options. Never fails: an unusable file is a note and an empty cache.
    pub fn open(dir: &Path, scanner: &Scanner, use_records: bool) -> BlobCache {
        let file = dir.join(FILE_NAME);
        let fingerprint = fingerprint(scanner);
        let empty = || (HashSet::new(), std::collections::HashMap::new());
        let (salt, (known, records), note) = match std::fs::read(&file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (new_salt(), empty(), None),
            Err(e) => (
                new_salt(),
                empty(),
                Some(format!(
                    "cache {} could not be read ({e}): ignored, rebuilt",
                    file.display()
                )),
            ),
            Ok(bytes) => match parse(&bytes, &fingerprint) {
                Ok((salt, known, records)) => (salt, (known, records), None),
                Err(why) => (
                    new_salt(),
                    empty(),
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
            records,
            keep: Mutex::new(Vec::new()),
            keep_records: Mutex::new(Vec::new()),
            records_allowed: use_records && !scanner.options.show_secrets,
            allowlist: crate::filter::Allowlist::new(&scanner.config).ok(),
            hits: AtomicU64::new(0),
            added: AtomicU64::new(0),
            note: Mutex::new(note),
        }
    }

    /// The entry for an object of `kind` identified by `parts` whose clean
    /// outcome was `clean`.
    fn key(&self, kind: Kind, clean: Clean, parts: &[&[u8]]) -> Key {
        self.key_tagged(kind, clean as u8, parts)
    }

    fn key_tagged(&self, kind: Kind, tag: u8, parts: &[&[u8]]) -> Key {
        let mut m = self.mac.clone();
        m.update(&[kind as u8, tag]);
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

    /// The findings (without provenance) and facts a previous scan of the
    /// blob `parts` scanned under `path` gave, if it kept a record of them;
    /// it is then kept for the next run and counted as a hit. A record that
    /// does not parse is not used (the blob is read again).
    pub fn lookup_findings(
        &self,
        parts: &[&[u8]],
        path: &str,
    ) -> Option<(Vec<Finding>, Vec<crate::detect::Fact>)> {
        if self.records.is_empty() || !self.records_allowed || self.allowlist.is_none() {
            return None;
        }
        let key = self.record_key(parts);
        let bytes = self.records.get(&key)?;
        let record: Record = serde_json::from_slice(bytes).ok()?;
        let facts = record
            .facts
            .into_iter()
            .map(StoredFact::into_fact)
            .collect();
        let findings = record
            .findings
            .into_iter()
            .map(|f| f.into_finding(path))
            .collect();
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.keep_records
            .lock()
            .expect("cache lock")
            .push((key, bytes.clone()));
        Some((findings, facts))
    }

    /// A record's entry: the blob's parts and the user's key, if any (so a
    /// record made under another key, whose keyed fingerprints differ,
    /// misses).
    fn record_key(&self, parts: &[&[u8]]) -> Key {
        let user = crate::finding::hmac_key().unwrap_or(b"");
        let mut all: Vec<&[u8]> = parts.to_vec();
        all.push(user);
        self.key_tagged(Kind::Blob, RECORD_TAG, &all)
    }

    /// The digest fresh and replayed findings of this scan merge on: an
    /// HMAC under the user's key ([`crate::finding::hmac_key`]). Never under
    /// the cache's own key alone: that key is stored in the cache file, so a
    /// digest under it would let whoever holds the file test guesses of the
    /// secret. Without a user key there is none, and records of blobs with
    /// secrets are not kept (see [`Cache::offer`]).
    fn merge_digest(&self, value: &str) -> Option<[u8; 16]> {
        let user = crate::finding::hmac_key()?;
        let mut m = hmac::Hmac::<Sha256>::new_from_slice(user).expect("HMAC takes any key length");
        m.update(b"gitops-guard/merge/v2\0");
        m.update(value.as_bytes());
        let full = m.finalize().into_bytes();
        let mut k = [0u8; 16];
        k.copy_from_slice(&full[..16]);
        Some(k)
    }

    /// The whole-report masking for replayed secrets (whose values are not
    /// at hand): every substring of `texts` (authors, ref names, scan
    /// errors) whose keyed digest is a replayed secret's is replaced by its
    /// redacted form, leftmost-longest, as [`crate::sanitize::Masker`] does
    /// with the values it knows. Texts are visited through `visit`.
    pub fn mask_replayed(
        &self,
        findings: &[Finding],
        visit: impl FnOnce(&mut dyn FnMut(&mut String)),
    ) {
        // byte length -> digest -> redacted form
        let mut kept: std::collections::BTreeMap<
            usize,
            std::collections::HashMap<[u8; 16], String>,
        > = Default::default();
        for f in findings {
            if let Some(s) = &f.secret
                && let (Some(k), Some(d)) = (s.kept(), s.merge_digest())
                && k.bytes >= crate::sanitize::MIN_MASKED_LEN
            {
                kept.entry(k.bytes)
                    .or_default()
                    .insert(d, k.redacted.clone());
            }
        }
        if kept.is_empty() {
            return;
        }
        let mut memo: std::collections::HashMap<String, String> = Default::default();
        let mut mask = |text: &mut String| {
            if let Some(m) = memo.get(text.as_str()) {
                text.clone_from(m);
                return;
            }
            let original = text.clone();
            let mut out = String::new();
            let mut last = 0;
            let mut i = 0;
            while i < original.len() {
                let mut hit = None;
                // Longest first.
                for (&len, digests) in kept.iter().rev() {
                    let end = i + len;
                    if end > original.len() || !original.is_char_boundary(end) {
                        continue;
                    }
                    if let Some(r) = self
                        .merge_digest(&original[i..end])
                        .and_then(|d| digests.get(&d))
                    {
                        hit = Some((end, r));
                        break;
                    }
                }
                match hit {
                    Some((end, r)) => {
                        out.push_str(&original[last..i]);
                        out.push_str(r);
                        last = end;
                        i = end;
                    }
                    None => {
                        i += original[i..].chars().next().map_or(1, char::len_utf8);
                    }
                }
            }
            if last > 0 {
                out.push_str(&original[last..]);
                *text = out;
            }
            memo.insert(original, text.clone());
        };
        visit(&mut mask);
    }

    /// Give the secrets of freshly scanned findings the keyed digest they
    /// merge on, as replayed ones have it (see [`Finding::match_key`]).
    pub fn annotate(&self, findings: &mut [Finding]) {
        for f in findings {
            if let Some(s) = f.secret.as_mut()
                && s.kept().is_none()
                && let Some(d) = self.merge_digest(s.expose())
            {
                s.set_merge_digest(d);
            }
        }
    }

    /// Enter the object if this run's outcome for it is clean, or keep a
    /// record of its findings (a blob scanned under `path`).
    pub fn offer(&self, kind: Kind, parts: &[&[u8]], outcome: &BlobOutcome, path: &str) {
        if let Some(clean) = clean_class(outcome) {
            let key = self.key(kind, clean, parts);
            self.added.fetch_add(1, Ordering::Relaxed);
            self.keep.lock().expect("cache lock").push(key);
            return;
        }
        if !self.records_allowed || !matches!(kind, Kind::Blob) {
            return;
        }
        let Some(allow) = &self.allowlist else {
            return;
        };
        // A secret is kept only as a digest under the user's key: without
        // one, such a blob is read again next time.
        if crate::finding::hmac_key().is_none()
            && outcome.findings.iter().any(|f| f.secret.is_some())
        {
            return;
        }
        if let Some(record) = Record::of(outcome, path, allow, |v| {
            self.merge_digest(v).expect("a user key is set")
        }) && let Ok(bytes) = serde_json::to_vec(&record)
            && bytes.len() <= MAX_RECORD
        {
            let key = self.record_key(parts);
            self.added.fetch_add(1, Ordering::Relaxed);
            self.keep_records
                .lock()
                .expect("cache lock")
                .push((key, bytes));
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
        let mut records = std::mem::take(&mut *self.keep_records.lock().expect("cache lock"));
        records.sort_unstable_by_key(|a| a.0);
        records.dedup_by(|a, b| a.0 == b.0);
        let mut out = Vec::with_capacity(HEADER + keys.len() * 16 + TRAILER);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.fingerprint);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        for k in &keys {
            out.extend_from_slice(k);
        }
        out.extend_from_slice(&(records.len() as u64).to_le_bytes());
        for (k, bytes) in &records {
            out.extend_from_slice(k);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
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
    if !(o.findings.is_empty()
        && o.skipped.is_none()
        && !o.yaml_refused
        && o.archive_skips.is_empty()
        && o.archive_errors.is_empty())
    {
        return None;
    }
    facts_class(&o.facts)
}

/// The [`Clean`] class of a blob's facts, if they are of one.
fn facts_class(facts: &[crate::detect::Fact]) -> Option<Clean> {
    use crate::detect::{Fact, k8s::K8sFact};
    match facts {
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

/// What a scan found in a blob whose findings hold no secret value: what
/// the report shows for it, without provenance (this run's is used).
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    /// The blob's facts for the repo checks (only kinds that hold no
    /// content: see [`StoredFact`]).
    facts: Vec<StoredFact>,
    findings: Vec<StoredFinding>,
}

/// The facts a record replays: a file's SOPS/empty flags, and where it
/// or a Kubernetes Secret in it holds secret material in clear (line,
/// what, object name: never a value). A blob with any other fact (a
/// workload's pod template, a kustomization, …) is read again.
#[derive(serde::Serialize, serde::Deserialize)]
enum StoredFact {
    File {
        sops: bool,
        empty: bool,
    },
    PlaintextSecretFile {
        line: usize,
        what: String,
        ignored: Vec<String>,
    },
    PlaintextSecretObject {
        name: String,
        namespace: Option<String>,
        line: usize,
        decrypt_disabled: bool,
        ignored: Vec<String>,
    },
}

impl StoredFact {
    fn of(f: &crate::detect::Fact) -> Option<StoredFact> {
        use crate::detect::{Fact, encryption::EncryptionFact, k8s::K8sFact};
        Some(match f {
            Fact::K8s(K8sFact::File { sops, empty }) => StoredFact::File {
                sops: *sops,
                empty: *empty,
            },
            Fact::Encryption(EncryptionFact::PlaintextSecretFile(p)) => {
                StoredFact::PlaintextSecretFile {
                    line: p.line,
                    what: p.what.clone(),
                    ignored: p.ignored.clone(),
                }
            }
            Fact::Encryption(EncryptionFact::PlaintextSecretObject(p)) => {
                StoredFact::PlaintextSecretObject {
                    name: p.name.clone(),
                    namespace: p.namespace.clone(),
                    line: p.line,
                    decrypt_disabled: p.decrypt_disabled,
                    ignored: p.ignored.clone(),
                }
            }
            _ => return None,
        })
    }

    fn into_fact(self) -> crate::detect::Fact {
        use crate::detect::encryption::{EncryptionFact, facts};
        use crate::detect::{Fact, k8s::K8sFact};
        match self {
            StoredFact::File { sops, empty } => Fact::K8s(K8sFact::File { sops, empty }),
            StoredFact::PlaintextSecretFile {
                line,
                what,
                ignored,
            } => Fact::Encryption(EncryptionFact::PlaintextSecretFile(Box::new(
                facts::PlaintextSecretFile {
                    line,
                    what,
                    ignored,
                },
            ))),
            StoredFact::PlaintextSecretObject {
                name,
                namespace,
                line,
                decrypt_disabled,
                ignored,
            } => Fact::Encryption(EncryptionFact::PlaintextSecretObject(Box::new(
                facts::PlaintextSecretObject {
                    name,
                    namespace,
                    line,
                    decrypt_disabled,
                    ignored,
                },
            ))),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredFinding {
    rule: String,
    category: Category,
    severity: Severity,
    message: String,
    /// The finding's path after the blob's (empty, or `!member` of an
    /// archive).
    path_suffix: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    identity: Option<String>,
    /// Text (redacted), caret start, caret length.
    snippet: Option<(String, usize, usize)>,
    suppressed: Option<StoredSuppression>,
    decoded: bool,
    /// What is kept of the secret, and the digest it merges on.
    secret: Option<(Kept, [u8; 16])>,
}

#[derive(serde::Serialize, serde::Deserialize)]
enum StoredSuppression {
    Inline(String),
    Annotation(Option<String>),
    Config(String),
    Baseline,
}

impl Record {
    /// The record of an outcome whose findings all lack a secret value (and
    /// provenance, verification), with no skip and facts of a [`Clean`]
    /// class; `None` otherwise.
    fn of(
        o: &BlobOutcome,
        path: &str,
        allow: &crate::filter::Allowlist,
        merge: impl Fn(&str) -> [u8; 16],
    ) -> Option<Record> {
        if o.skipped.is_some()
            || o.yaml_refused
            || !o.archive_skips.is_empty()
            || !o.archive_errors.is_empty()
        {
            return None;
        }
        let facts = o
            .facts
            .iter()
            .map(StoredFact::of)
            .collect::<Option<Vec<_>>>()?;
        let mut findings = Vec::with_capacity(o.findings.len());
        for f in &o.findings {
            if f.provenance.is_some() || f.verification.is_some() {
                return None;
            }
            let secret = match &f.secret {
                None => None,
                // Already a replayed one: never re-kept from an empty value.
                Some(s) if s.kept().is_some() => return None,
                Some(s) => Some((
                    Kept {
                        redacted: s.redacted(),
                        chars: s.chars(),
                        bytes: s.expose().len(),
                        keyed_fingerprint: crate::finding::hmac_key().map(|_| f.fingerprint()),
                        keyed_hash: s.keyed_hash(),
                        allowlisted_regex: allow.matches_value(s.expose()),
                    },
                    merge(s.expose()),
                )),
            };
            let suffix = f.location.path.strip_prefix(path)?;
            findings.push(StoredFinding {
                rule: f.rule.clone(),
                category: f.category,
                severity: f.severity,
                message: f.message.clone(),
                path_suffix: suffix.to_string(),
                line: f.location.line,
                column: f.location.column,
                end_line: f.location.end_line,
                end_column: f.location.end_column,
                identity: f.identity.clone(),
                snippet: f
                    .snippet
                    .as_ref()
                    .map(|s| (s.text.clone(), s.caret_start, s.caret_len)),
                suppressed: f.suppressed.as_ref().map(|s| match s {
                    Suppression::Inline { token } => StoredSuppression::Inline(token.clone()),
                    Suppression::Annotation { reason } => {
                        StoredSuppression::Annotation(reason.clone())
                    }
                    Suppression::Config { reason } => StoredSuppression::Config(reason.clone()),
                    Suppression::Baseline => StoredSuppression::Baseline,
                }),
                decoded: f.decoded,
                secret,
            });
        }
        Some(Record { facts, findings })
    }
}

impl StoredFinding {
    fn into_finding(self, path: &str) -> Finding {
        let mut f = Finding::new(
            self.rule,
            self.category,
            self.severity,
            self.message,
            Location {
                path: format!("{path}{}", self.path_suffix),
                line: self.line,
                column: self.column,
                end_line: self.end_line,
                end_column: self.end_column,
            },
        );
        f.identity = self.identity;
        f.snippet = self.snippet.map(|(text, caret_start, caret_len)| Snippet {
            text,
            caret_start,
            caret_len,
        });
        f.suppressed = self.suppressed.map(|s| match s {
            StoredSuppression::Inline(token) => Suppression::Inline { token },
            StoredSuppression::Annotation(reason) => Suppression::Annotation { reason },
            StoredSuppression::Config(reason) => Suppression::Config { reason },
            StoredSuppression::Baseline => Suppression::Baseline,
        });
        f.decoded = self.decoded;
        f.secret = self.secret.map(|(k, d)| Secret::from_kept(k, d));
        f
    }
}

type Records = std::collections::HashMap<Key, Vec<u8>>;

/// The salt, clean entries and findings records of a well-formed cache made
/// under `fingerprint`.
fn parse(
    bytes: &[u8],
    fingerprint: &[u8; 32],
) -> Result<([u8; 32], HashSet<Key>, Records), &'static str> {
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
    let keys_end = count
        .checked_mul(16)
        .and_then(|n| n.checked_add(HEADER as u64))
        .filter(|&n| n.saturating_add(8) <= body.len() as u64)
        .ok_or("is corrupt (entry count mismatch)")? as usize;
    if &body[8..40] != fingerprint {
        return Err("was made by another build, rule set, config or options");
    }
    let salt: [u8; 32] = body[40..72].try_into().expect("32 bytes");
    let known = body[HEADER..keys_end]
        .chunks_exact(16)
        .map(|c| c.try_into().expect("16 bytes"))
        .collect();
    let n_records = u64::from_le_bytes(body[keys_end..keys_end + 8].try_into().expect("8 bytes"));
    let mut records = Records::new();
    let mut at = keys_end + 8;
    for _ in 0..n_records {
        let head = body
            .get(at..at + 20)
            .ok_or("is corrupt (record count mismatch)")?;
        let key: Key = head[..16].try_into().expect("16 bytes");
        let len = u32::from_le_bytes(head[16..].try_into().expect("4 bytes")) as usize;
        let data = body
            .get(at + 20..at + 20 + len)
            .ok_or("is corrupt (record length mismatch)")?;
        records.insert(key, data.to_vec());
        at += 20 + len;
    }
    if at != body.len() {
        return Err("is corrupt (trailing bytes)");
    }
    Ok((salt, known, records))
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
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&[5u8; 16]);
        body.extend_from_slice(&2u32.to_le_bytes());
        body.extend_from_slice(b"{}");
        let mut file = body.clone();
        file.extend_from_slice(&Sha256::digest(&body));
        let (salt, known, records) = parse(&file, &fp).expect("valid");
        assert_eq!(salt, [1u8; 32]);
        assert!(known.contains(&[9u8; 16]));
        assert_eq!(records.get(&[5u8; 16]).map(|r| &r[..]), Some(&b"{}"[..]));
        assert!(parse(&file, &[8u8; 32]).is_err(), "other fingerprint");
        assert!(parse(&file[..file.len() - 1], &fp).is_err(), "truncated");
        let mut bad = file.clone();
        bad[HEADER] ^= 1;
        assert!(parse(&bad, &fp).is_err(), "flipped bit");
        assert!(parse(b"{\"not\":\"a cache\"}", &fp).is_err(), "foreign");
        // A record running past the end, with a valid checksum: refused.
        let mut long = body.clone();
        let n = long.len();
        long[n - 6..n - 2].copy_from_slice(&9u32.to_le_bytes());
        let mut long_file = long.clone();
        long_file.extend_from_slice(&Sha256::digest(&long));
        assert!(parse(&long_file, &fp).is_err(), "record length");
    }
}
