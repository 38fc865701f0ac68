//! Archives inside a scanned tree: Helm chart packages (`charts/*.tgz`),
//! zip, tar and gzip blobs are opened and their members scanned like files,
//! named `outer!inner` (`charts/db-1.2.0.tgz!db/values.yaml`; nested:
//! `a.tgz!b.zip!c.yaml`). A vendored chart is where a values file with a
//! password hides from a scanner that only sees compressed bytes.
//!
//! An archive is recognised by its magic bytes, never by its name alone:
//! gzip (`1f 8b 08`), zip (`PK\x03\x04`), tar (`ustar` at offset 257 with a
//! valid header checksum, so a text file that happens to hold `ustar` there
//! is not taken for one).
//!
//! Opening is bounded so a hostile blob cannot exhaust memory or time: a
//! nesting depth (`[limits] archive-depth`, default 2), a total of inflated
//! bytes per outermost blob (`archive-max-bytes`), a compression ratio per
//! inflated stream (`archive-max-ratio`, above a 1 MiB floor so small,
//! repetitive text still opens) and a member count (`archive-max-members`).
//! Each member is also held to `--max-file-size`. What goes over a limit,
//! or cannot be read (corrupt, encrypted, unsupported compression), is a
//! [`Refusal`]: the caller counts and names it, or, where a scan judges what
//! enters a repository, fails the scan (see `Scanner::scan_blob`). Links and
//! devices inside tars are never followed.

use crate::config::LimitsConfig;
use crate::error::Error;
use std::borrow::Cow;
use std::io::Read;

/// Limits on opening archives, from `[limits]` in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How many archive layers are opened (0: none; 2: a zip inside a tgz).
    pub depth: usize,
    /// Inflated bytes allowed per outermost blob, all layers together.
    pub max_bytes: u64,
    /// Largest inflated/compressed ratio of one stream (above [`RATIO_FLOOR`]).
    pub max_ratio: u64,
    /// Members (of any kind, directories too) allowed per archive.
    pub max_members: usize,
}

/// Inflated bytes a stream may reach whatever its ratio: a 2 KiB chart of
/// repetitive YAML legitimately inflates more than 100-fold.
pub const RATIO_FLOOR: u64 = 1024 * 1024;

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            depth: 2,
            max_bytes: 256 * 1024 * 1024,
            max_ratio: 100,
            max_members: 10_000,
        }
    }
}

impl ArchiveLimits {
    pub fn from_config(c: &LimitsConfig) -> Result<ArchiveLimits, Error> {
        let d = ArchiveLimits::default();
        let limits = ArchiveLimits {
            depth: c.archive_depth.unwrap_or(d.depth),
            max_bytes: c.archive_max_bytes.unwrap_or(d.max_bytes),
            max_ratio: c.archive_max_ratio.unwrap_or(d.max_ratio),
            max_members: c.archive_max_members.unwrap_or(d.max_members),
        };
        if limits.max_ratio == 0 {
            return Err(Error::Config(
                "[limits] archive-max-ratio must be at least 1".into(),
            ));
        }
        if limits.depth > 8 {
            return Err(Error::Config(format!(
                "[limits] archive-depth = {} is more than the 8 allowed",
                limits.depth
            )));
        }
        Ok(limits)
    }
}

/// The container formats recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gzip,
    Zip,
    Tar,
}

/// The archive format of `bytes`, by magic bytes.
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if is_tar(bytes) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// `ustar` at offset 257 and a header checksum that adds up.
fn is_tar(bytes: &[u8]) -> bool {
    if bytes.len() < 512 || &bytes[257..262] != b"ustar" {
        return false;
    }
    let header = &bytes[..512];
    let field = &header[148..156];
    let digits: String = field
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .skip_while(|b| **b == b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(digits.trim(), 8) else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    sum == stored
}

/// Why (part of) an archive was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over a limit (depth, bytes, ratio, members, member size).
    Limit(String),
    /// Not readable: corrupt, truncated, encrypted, unsupported method.
    Corrupt(String),
}

/// What opening one archive layer met, in order.
pub enum Event<'a> {
    /// A regular member, its path relative to the archive and its bytes.
    Member(String, Cow<'a, [u8]>),
    /// A link or device member: never followed.
    Link(String),
    /// A member over the size limit (`--max-file-size`), not read.
    TooLarge(String, u64),
    /// Part of the archive (a member, when named) was refused.
    Refused(Option<String>, Refusal),
}

/// Inflated bytes still allowed for one outermost blob.
pub struct Budget {
    pub left: u64,
}

/// Open one archive layer of `kind` and hand every member to `visit`.
/// `name` is the archive's own file name (used for a bare gzip stream's
/// single member). Never panics on bad input, and every read is bounded.
pub fn open(
    kind: Kind,
    name: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    max_member: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Event<'_>, &mut Budget),
) {
    match kind {
        Kind::Gzip => open_gzip(name, bytes, limits, max_member, budget, visit),
        Kind::Zip => open_zip(bytes, limits, max_member, budget, visit),
        Kind::Tar => open_tar(bytes, limits, max_member, budget, visit),
    }
}

/// `what` (`gzip`, `tar`, `zip`) could not be read at `at`.
fn corrupt(at: Option<String>, what: &str, e: impl std::fmt::Display) -> Event<'static> {
    Event::Refused(at, Refusal::Corrupt(format!("{what}: {e}")))
}

/// Read at most `cap` bytes of `r`; `Ok(None)` when there were more.
fn read_capped(r: impl Read, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    r.take(cap.saturating_add(1)).read_to_end(&mut out)?;
    Ok((out.len() as u64 <= cap).then_some(out))
}

/// The inflated size one stream of `compressed` bytes may reach, and the
/// limit that sets it, in words.
fn inflate_cap(compressed: u64, limits: &ArchiveLimits, budget: &Budget) -> (u64, String) {
    let by_ratio = compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR);
    if by_ratio <= budget.left {
        (
            by_ratio,
            format!(
                "inflates more than {}:1 (archive-max-ratio), a compression bomb?",
                limits.max_ratio
            ),
        )
    } else {
        (
            budget.left,
            format!(
                "inflates past the {} allowed per archive (archive-max-bytes)",
                crate::scan::human_size(limits.max_bytes)
            ),
        )
    }
}

fn open_gzip(
    name: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    max_member: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Event<'_>, &mut Budget),
) {
    let (cap, why) = inflate_cap(bytes.len() as u64, limits, budget);
    let mut decoder = flate2::read::GzDecoder::new(bytes);
    // The first block tells a tar (whose members are each held to the size
    // limit) from a single compressed file (held to it as a whole): a
    // bare `.gz` is never inflated past `max_member`.
    let mut head = Vec::with_capacity(512);
    if let Err(e) = (&mut decoder).take(512).read_to_end(&mut head) {
        visit(corrupt(None, "gzip", e), budget);
        return;
    }
    let single = head.len() < 512 || &head[257..262] != b"ustar";
    let inner_name = decoder
        .header()
        .and_then(|h| h.filename())
        .map(|f| clean_name(&String::from_utf8_lossy(f)));
    let (cap, why) = if single && max_member < cap {
        (max_member, String::new())
    } else {
        (cap, why)
    };
    let inflated = match read_capped(std::io::Cursor::new(head).chain(&mut decoder), cap) {
        Ok(Some(v)) => v,
        Ok(None) if why.is_empty() => {
            let name = single_name(name, inner_name);
            visit(Event::TooLarge(name, cap.saturating_add(1)), budget);
            return;
        }
        Ok(None) => {
            budget.left = budget.left.saturating_sub(cap);
            visit(Event::Refused(None, Refusal::Limit(why)), budget);
            return;
        }
        Err(e) => {
            visit(corrupt(None, "gzip", e), budget);
            return;
        }
    };
    budget.left = budget.left.saturating_sub(inflated.len() as u64);
    // A tar inside (a .tgz, a Helm chart): its members are slices of the
    // inflated bytes. Anything else is the stream's single member.
    if is_tar(&inflated) {
        open_tar(&inflated, limits, max_member, budget, visit);
        return;
    }
    let member = single_name(name, inner_name);
    visit(Event::Member(member, Cow::Owned(inflated)), budget);
}

/// The name of a bare gzip stream's single member: the name in its header,
/// else the archive's own name without `.gz`.
fn single_name(name: &str, inner_name: Option<String>) -> String {
    inner_name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        let base = name.rsplit(['/', '!']).next().unwrap_or(name);
        if let Some(stem) = base.strip_suffix(".tgz") {
            format!("{stem}.tar")
        } else if let Some(stem) = base.strip_suffix(".gz") {
            stem.to_string()
        } else {
            format!("{base}.inflated")
        }
    })
}

fn open_tar(
    bytes: &[u8],
    limits: &ArchiveLimits,
    max_member: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Event<'_>, &mut Budget),
) {
    use tar::EntryType;
    let mut archive = tar::Archive::new(bytes);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            visit(corrupt(None, "tar", e), budget);
            return;
        }
    };
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_members {
            visit(
                Event::Refused(
                    None,
                    Refusal::Limit(format!(
                        "more than {} members (archive-max-members); the rest not scanned",
                        limits.max_members
                    )),
                ),
                budget,
            );
            return;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                visit(corrupt(None, "tar", e), budget);
                return;
            }
        };
        let path = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory
            | EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => continue,
            _ => {
                visit(Event::Link(path), budget);
                continue;
            }
        }
        let size = entry.size();
        if size > max_member {
            visit(Event::TooLarge(path, size), budget);
            continue;
        }
        match read_capped(&mut entry, max_member) {
            Ok(Some(data)) => visit(Event::Member(path, Cow::Owned(data)), budget),
            Ok(None) => visit(Event::TooLarge(path, size), budget),
            Err(e) => {
                visit(corrupt(Some(path), "tar", e), budget);
                return;
            }
        }
    }
}

fn open_zip(
    bytes: &[u8],
    limits: &ArchiveLimits,
    max_member: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Event<'_>, &mut Budget),
) {
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            visit(corrupt(None, "zip", e), budget);
            return;
        }
    };
    if archive.len() > limits.max_members {
        visit(
            Event::Refused(
                None,
                Refusal::Limit(format!(
                    "{} members, more than the {} allowed (archive-max-members); not scanned",
                    archive.len(),
                    limits.max_members
                )),
            ),
            budget,
        );
        return;
    }
    for i in 0..archive.len() {
        let name = archive
            .name_for_index(i)
            .and_then(Result::ok)
            .map(|n| clean_name(&n))
            .unwrap_or_else(|| format!("#{i}"));
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                visit(corrupt(Some(name), "zip", e), budget);
                continue;
            }
        };
        let path = name;
        if file.is_dir() {
            continue;
        }
        if file.is_symlink() || !file.is_file() {
            visit(Event::Link(path), budget);
            continue;
        }
        let size = file.size();
        if size > max_member {
            visit(Event::TooLarge(path, size), budget);
            continue;
        }
        // Stored members are read from the blob itself; inflated ones
        // count against the ratio and the byte budget.
        let stored = file.compression() == zip::CompressionMethod::Stored;
        let (cap, why) = if stored {
            (max_member, String::new())
        } else {
            let (c, w) = inflate_cap(file.compressed_size(), limits, budget);
            (c.min(max_member), w)
        };
        match read_capped(&mut file, cap) {
            Ok(Some(data)) => {
                if !stored {
                    budget.left = budget.left.saturating_sub(data.len() as u64);
                }
                visit(Event::Member(path, Cow::Owned(data)), budget);
            }
            Ok(None) if cap == max_member => visit(Event::TooLarge(path, size), budget),
            Ok(None) => {
                budget.left = budget.left.saturating_sub(cap);
                visit(Event::Refused(Some(path), Refusal::Limit(why)), budget);
            }
            Err(e) => visit(corrupt(Some(path), "zip", e), budget),
        }
    }
}

/// A member name as shown in paths: control characters (a terminal escape
/// in a hostile archive) become `?`, a leading `./` is dropped.
fn clean_name(name: &str) -> String {
    let name = name.strip_prefix("./").unwrap_or(name);
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn collect(bytes: &[u8], limits: &ArchiveLimits) -> Vec<String> {
        let mut seen = Vec::new();
        let mut budget = Budget {
            left: limits.max_bytes,
        };
        let k = kind(bytes).expect("an archive");
        open(
            k,
            "x.tgz",
            bytes,
            limits,
            64 << 20,
            &mut budget,
            &mut |e, _| {
                seen.push(match e {
                    Event::Member(p, d) => format!("member {p} {}", d.len()),
                    Event::Link(p) => format!("link {p}"),
                    Event::TooLarge(p, n) => format!("large {p} {n}"),
                    Event::Refused(p, Refusal::Limit(_)) => format!("limit {p:?}"),
                    Event::Refused(p, Refusal::Corrupt(_)) => format!("corrupt {p:?}"),
                })
            },
        );
        seen
    }

    #[test]
    fn kinds_are_told_by_magic_bytes_not_names() {
        let t = tar_of(&[("a.yaml", b"a: 1\n")]);
        assert_eq!(kind(&t), Some(Kind::Tar));
        assert_eq!(kind(&gz(&t)), Some(Kind::Gzip));
        assert_eq!(kind(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(kind(b"key: value\n"), None);
        // `ustar` at 257 in a text file, without a valid header checksum.
        let mut text = vec![b'a'; 600];
        text[257..262].copy_from_slice(b"ustar");
        assert_eq!(kind(&text), None);
    }

    #[test]
    fn a_tgz_gives_its_regular_members_and_not_its_links() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_cksum();
        b.append_data(&mut h, "db/values.yaml", &b"a: 1\n"[..])
            .unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        b.append_link(&mut l, "db/link", "/etc/passwd").unwrap();
        let t = b.into_inner().unwrap();
        let seen = collect(&gz(&t), &ArchiveLimits::default());
        assert_eq!(seen, vec!["member db/values.yaml 5", "link db/link"]);
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_ratio_cap() {
        let bomb = gz(&vec![0u8; 8 * 1024 * 1024]);
        let seen = collect(&bomb, &ArchiveLimits::default());
        assert_eq!(seen, vec!["limit None"]);
        // Within the ratio it opens.
        let ok = gz(&vec![b'a'; 1000]);
        assert_eq!(
            collect(&ok, &ArchiveLimits::default()),
            vec!["member x.tar 1000"]
        );
    }

    #[test]
    fn members_over_the_count_cap_are_refused() {
        let files: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("f{i}"), vec![b'x'])).collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let limits = ArchiveLimits {
            max_members: 5,
            ..ArchiveLimits::default()
        };
        let seen = collect(&tar_of(&refs), &limits);
        assert_eq!(seen.len(), 6);
        assert_eq!(seen[5], "limit None");
    }

    #[test]
    fn corrupt_and_truncated_archives_are_refused_not_panicked_on() {
        let t = gz(&tar_of(&[("a.yaml", &[b'k'; 4000])]));
        for cut in [12, t.len() / 2, t.len() - 3] {
            let seen = collect(&t[..cut], &ArchiveLimits::default());
            assert!(
                seen.iter().any(|s| s.starts_with("corrupt")),
                "{cut}: {seen:?}"
            );
        }
        let seen = collect(b"PK\x03\x04garbage", &ArchiveLimits::default());
        assert_eq!(seen, vec!["corrupt None"]);
    }

    fn zip_of(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, data) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_members_stored_or_deflated_are_read_and_a_deflate_bomb_is_refused() {
        use zip::CompressionMethod::{Deflated, Stored};
        let z = zip_of(&[("a/b.yaml", b"k: v\n"), ("c.txt", b"hello")], Stored);
        assert_eq!(
            collect(&z, &ArchiveLimits::default()),
            vec!["member a/b.yaml 5", "member c.txt 5"]
        );
        let zeros = vec![0u8; 4 << 20];
        let z = zip_of(&[("ok.txt", b"fine"), ("zeros", &zeros)], Deflated);
        let limits = ArchiveLimits::default();
        // 4 MiB of zeros deflate over 1000-fold: past the 1 MiB floor and 100:1.
        assert_eq!(
            collect(&z, &limits),
            vec!["member ok.txt 4", "limit Some(\"zeros\")"]
        );
        // A member over the size limit is not read at all.
        let mut budget = Budget { left: 1 << 30 };
        let mut seen = Vec::new();
        open(
            Kind::Zip,
            "z.zip",
            &z,
            &limits,
            1000,
            &mut budget,
            &mut |e, _| {
                if let Event::TooLarge(p, n) = e {
                    seen.push(format!("{p} {n}"));
                }
            },
        );
        assert_eq!(seen, vec![format!("zeros {}", 4 << 20)]);
    }

    #[test]
    fn a_bare_gzip_stream_is_one_member_named_from_its_header_or_file_name() {
        let mut e = flate2::GzBuilder::new()
            .filename("app.env")
            .write(Vec::new(), flate2::Compression::default());
        e.write_all(b"A=1\n").unwrap();
        let named = e.finish().unwrap();
        assert_eq!(
            collect(&named, &ArchiveLimits::default()),
            vec!["member app.env 4"]
        );
        let mut budget = Budget { left: 1 << 30 };
        let mut seen = Vec::new();
        let plain = gz(b"A=1\n");
        open(
            Kind::Gzip,
            "dir/values.yaml.gz",
            &plain,
            &ArchiveLimits::default(),
            1 << 20,
            &mut budget,
            &mut |e, _| {
                if let Event::Member(p, _) = e {
                    seen.push(p);
                }
            },
        );
        assert_eq!(seen, vec!["values.yaml"]);
    }

    #[test]
    fn mutated_archives_never_panic() {
        // Every archive kind, each byte position overwritten in turn with a
        // pseudo-random value: opening returns (refusing or not), never panics.
        let inner = zip_of(
            &[("v.yaml", b"password: hunter2\n" as &[u8])],
            zip::CompressionMethod::Deflated,
        );
        let t = tar_of(&[("db/values.yaml", b"a: 1\n"), ("db/x.zip", &inner)]);
        let samples = [gz(&t), t.clone(), inner.clone()];
        let mut state = 0x2545_f491_u32;
        for sample in samples {
            for at in 0..sample.len() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let mut m = sample.clone();
                m[at] = state as u8;
                if let Some(k) = kind(&m) {
                    let mut budget = Budget { left: 1 << 24 };
                    open(
                        k,
                        "m",
                        &m,
                        &ArchiveLimits::default(),
                        1 << 20,
                        &mut budget,
                        &mut |_, _| {},
                    );
                }
            }
        }
    }

    #[test]
    fn member_names_lose_control_characters() {
        assert_eq!(clean_name("./a\x1b[31m.yaml"), "a?[31m.yaml");
    }
}
