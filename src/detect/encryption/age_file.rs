//! `age-file-not-encrypted` and `age-file-malformed`: a file that should be
//! an age-encrypted file and is not.
//!
//! ## What it does
//!
//! Checks every blob named `*.age` and every blob that starts like an age
//! file (`age-encryption.org/v1`, or `-----BEGIN AGE ENCRYPTED FILE-----`
//! after optional whitespace). Without any key, it parses the file the way
//! `age` does before decrypting, using the `age` crate's own reader:
//!
//! - the ASCII armor, if any (strict PEM: 64-column canonical base64, no
//!   headers, nothing but whitespace around it);
//! - the header: the version line, the recipient stanzas (`-> X25519 …`,
//!   `scrypt`, ML-KEM hybrids, plugins) with canonical base64 bodies, the
//!   `---` MAC line, and the structural rules (an `scrypt` stanza stands
//!   alone);
//! - the 16-byte payload nonce and the STREAM framing of the payload
//!   (64 KiB + 16-byte chunks, a final chunk that holds at least its tag and
//!   is empty only when the whole payload is).
//!
//! A `*.age` file that does not even start like an age file is
//! `age-file-not-encrypted` (high); one that starts like an age file and
//! fails to parse is `age-file-malformed` (medium).
//!
//! Only what is checkable without a key is checked: a header MAC that does
//! not verify, a stanza that unwraps with no identity, or a corrupt
//! ciphertext chunk need the key and are out of reach (and out of scope for
//! a repository scan).
//!
//! Real age files are binary; the pipeline, which skips binary blobs,
//! hands these to the detectors anyway (see [`super::wants_binary`]).
//!
//! ## Why it matters
//!
//! `secrets.env.age` that holds the plain `.env` (an editor saved the
//! decrypted buffer, a script's `age -d` wrote over its input) is a leak with
//! a name that promises the opposite.
//!
//! ## Example
//!
//! ```text
//! $ cat prod.env.age
//! DB_PASSWORD=hunter2
//! ```
//!
//! ## Use instead
//!
//! Encrypt with `age -r <recipient> -o file.age file` (or `-a` for
//! armor), commit only the output, and rotate anything that was committed
//! in clear.

use super::Rule;
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Severity};
use base64::Engine;
use std::io::Read;

pub const NOT_ENCRYPTED: Rule = Rule {
    id: "age-file-not-encrypted",
    name: "age file that is not encrypted",
    category: Category::UnencryptedAge,
    severity: Severity::High,
    description: "A file named *.age does not start like an age-encrypted file (binary `age-encryption.org/v1` header or `-----BEGIN AGE ENCRYPTED FILE-----` armor): its content is most likely the plaintext it was meant to protect.",
    remediation: "Encrypt the file with `age -r <recipient>` and commit only the output; rotate anything that was committed in clear.",
};

pub const MALFORMED: Rule = Rule {
    id: "age-file-malformed",
    name: "Malformed age file",
    category: Category::UnencryptedAge,
    severity: Severity::Medium,
    description: "A file starts like an age-encrypted file but its armor, header (version line, recipient stanzas, MAC line), nonce or STREAM framing does not parse: it cannot be decrypted and may have been edited or truncated.",
    remediation: "Re-encrypt the original with `age` and commit the output unmodified.",
};

const HEADER: &[u8] = b"age-encryption.org/";
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// A STREAM chunk: 64 KiB of plaintext plus a 16-byte Poly1305 tag.
const CHUNK: u64 = 64 * 1024 + 16;
const TAG: u64 = 16;

/// Whether the blob starts like an age file.
pub fn starts_like_age(bytes: &[u8]) -> bool {
    let trimmed = trim_start(bytes);
    bytes.starts_with(HEADER) || trimmed.starts_with(ARMOR_BEGIN)
}

/// Whether the blob is this check's business (named `*.age` or starting like one).
pub fn is_age_candidate(path: &str, bytes: &[u8]) -> bool {
    path.to_ascii_lowercase().ends_with(".age") || starts_like_age(bytes)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[n..]
}

/// An armored file without the whitespace around the armor, which the age
/// specification and the Go implementation allow (CCTV `armor_whitespace_outside`)
/// and the `age` crate's reader does not. Whitespace *inside* the armor is
/// left for the reader to reject.
fn outside_whitespace_trimmed(bytes: &[u8]) -> &[u8] {
    let start = bytes.len() - trim_start(bytes).len();
    if !bytes[start..].starts_with(ARMOR_BEGIN) {
        return bytes;
    }
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Parse an age file without decrypting it. `Err` says why it is not one.
pub fn parse(bytes: &[u8]) -> Result<(), String> {
    // The armor first (all of it, so errors deep in the payload show), then
    // the header and nonce with the `age` crate, then what the crate leaves
    // to the identities: the arguments and bodies of the known stanza types.
    let mut decoded = Vec::new();
    age::armor::ArmoredReader::new(outside_whitespace_trimmed(bytes))
        .read_to_end(&mut decoded)
        .map_err(|e| io_reason(&e, "armor"))?;
    let mut rest: &[u8] = &decoded;
    match age::Decryptor::new_buffered(&mut rest) {
        Ok(_) => {}
        Err(age::DecryptError::InvalidHeader) => {
            return Err("its header is not a valid age header".into());
        }
        Err(age::DecryptError::UnknownFormat) => {
            return Err("it is not an age v1 file (unknown version line)".into());
        }
        Err(age::DecryptError::Io(e)) => return Err(io_reason(&e, "header")),
        Err(_) => return Err("its header does not parse".into()),
    }
    let payload = rest.len() as u64;
    stanzas(&decoded)?;
    stream_framing(payload)
}

/// One recipient stanza of the header.
struct Stanza<'a> {
    kind: &'a str,
    args: Vec<&'a str>,
    lines: Vec<&'a str>,
}

/// The stanzas of a header the `age` crate accepted.
fn parse_stanzas(decoded: &[u8]) -> Vec<Stanza<'_>> {
    let end = memchr::memmem::find(decoded, b"\n--- ").map_or(decoded.len(), |i| i + 1);
    let header = String::from_utf8_lossy(&decoded[..end]);
    let header: &str = match header {
        std::borrow::Cow::Borrowed(h) => h,
        std::borrow::Cow::Owned(_) => return Vec::new(),
    };
    let mut out: Vec<Stanza<'_>> = Vec::new();
    let header = header.strip_suffix('\n').unwrap_or(header);
    for line in header.split('\n').skip(1) {
        if let Some(rest) = line.strip_prefix("-> ") {
            let mut parts = rest.split(' ');
            out.push(Stanza {
                kind: parts.next().unwrap_or(""),
                args: parts.collect(),
                lines: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.lines.push(line);
        }
    }
    out
}

/// Canonical unpadded base64.
fn decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(s)
        .ok()
}

/// Canonical unpadded base64 of exactly `n` bytes.
fn b64_len(s: &str, n: usize) -> bool {
    decode(s).is_some_and(|d| d.len() == n)
}

/// The X25519 u-coordinates of small order (and their non-canonical
/// encodings), for which every shared secret is all-zero: a share like this
/// is never produced by an honest encryptor, whatever the recipient.
fn is_low_order(share: &[u8]) -> bool {
    const LOW_ORDER: [[u8; 32]; 4] = [
        [0; 32],
        [
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ],
        [
            0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
            0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
            0x5f, 0x49, 0xb8, 0x00,
        ],
        [
            0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83,
            0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd,
            0xd0, 0x9f, 0x11, 0x57,
        ],
    ];
    if share.len() != 32 {
        return false;
    }
    let mut u = [0u8; 32];
    u.copy_from_slice(share);
    u[31] &= 0x7f; // X25519 ignores the top bit
    // p - 1, p, p + 1 (p = 2^255 - 19): 0xec/0xed/0xee, 30 × 0xff, 0x7f
    let near_p =
        (0xec..=0xee).contains(&u[0]) && u[1..31].iter().all(|&b| b == 0xff) && u[31] == 0x7f;
    near_p || LOW_ORDER.contains(&u)
}

/// The checks the `age` crate leaves to each identity, for the stanza
/// types the specification defines (C2SP age: X25519, scrypt, and the
/// ML-KEM-768 + X25519 hybrid). Plugin and SSH stanzas are opaque here.
fn stanzas(decoded: &[u8]) -> Result<(), String> {
    for s in parse_stanzas(decoded) {
        // Since age v1.0 every stanza ends with a short (< 64 columns) line,
        // possibly empty; old rage versions omitted it and Go age rejects that.
        match s.lines.last() {
            Some(l) if l.len() < 64 => {}
            _ => {
                return Err(format!(
                    "its `{}` stanza does not end with a short body line",
                    s.kind
                ));
            }
        }
        let body: String = s.lines.concat();
        let (args_ok, body_ok) = match s.kind {
            "X25519" => (
                s.args.len() == 1
                    && decode(s.args[0]).is_some_and(|d| d.len() == 32 && !is_low_order(&d)),
                b64_len(&body, 32),
            ),
            "scrypt" => (
                s.args.len() == 2 && b64_len(s.args[0], 16) && is_work_factor(s.args[1]),
                b64_len(&body, 32),
            ),
            "mlkem768x25519" => (
                s.args.len() == 1
                    && decode(s.args[0])
                        .is_some_and(|d| d.len() == 1088 + 32 && !is_low_order(&d[1088..])),
                b64_len(&body, 32),
            ),
            _ => (true, true),
        };
        if !args_ok {
            return Err(format!("its `{}` stanza has malformed arguments", s.kind));
        }
        if !body_ok {
            return Err(format!(
                "its `{}` stanza does not wrap a 16-byte file key",
                s.kind
            ));
        }
    }
    Ok(())
}

/// A scrypt work factor: decimal without sign or leading zero, 1 to 64.
fn is_work_factor(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('0')
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n))
}

fn io_reason(e: &std::io::Error, part: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format!("it ends inside the {part}"),
        _ => {
            let msg = e.to_string();
            let msg = msg.lines().next().unwrap_or("").trim();
            if msg.is_empty() {
                format!("its {part} does not parse")
            } else {
                format!("its {part} does not parse ({msg})")
            }
        }
    }
}

/// The STREAM framing of a payload of `len` bytes after the nonce.
fn stream_framing(len: u64) -> Result<(), String> {
    if len < TAG {
        return Err(format!(
            "its payload is {len} bytes, shorter than one authenticated chunk"
        ));
    }
    let chunks = len.div_ceil(CHUNK);
    let last = len - (chunks - 1) * CHUNK;
    if last < TAG {
        return Err("its last payload chunk is shorter than its tag".into());
    }
    if chunks > 1 && last == TAG {
        return Err("its last payload chunk is empty after a full chunk".into());
    }
    Ok(())
}

/// See the module documentation.
pub struct AgeFiles;

impl Detector for AgeFiles {
    fn name(&self) -> &'static str {
        "age-file"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![NOT_ENCRYPTED.info(), MALFORMED.info()]
    }

    fn detect(&self, input: &Input<'_>, _cx: &Context<'_>, out: &mut Output) {
        if !is_age_candidate(input.path, input.bytes) {
            return;
        }
        let at = super::point(input, 0);
        if !starts_like_age(input.bytes) {
            let what = if input.bytes.is_empty() {
                "is empty".to_string()
            } else if crate::detect::suppress::is_binary(input.bytes) {
                "is binary data that is not an age file".to_string()
            } else {
                "holds text that is not an age file".to_string()
            };
            out.findings.push(
                NOT_ENCRYPTED
                    .finding(
                        format!(
                            "`{}` is named like an age-encrypted file but {what}: it is not encrypted",
                            input.file_name()
                        ),
                        at,
                    )
                    .with_identity("age-file/not-encrypted"),
            );
            return;
        }
        if let Err(reason) = parse(input.bytes) {
            out.findings.push(
                MALFORMED
                    .finding(
                        format!("this file starts like an age file but {reason}"),
                        at,
                    )
                    .with_identity("age-file/malformed"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert!(stream_framing(16).is_ok()); // empty plaintext
        assert!(stream_framing(0).is_err());
        assert!(stream_framing(15).is_err());
        assert!(stream_framing(CHUNK).is_ok());
        assert!(stream_framing(CHUNK + 16).is_err());
        assert!(stream_framing(CHUNK + 17).is_ok());
        assert!(stream_framing(CHUNK + 3).is_err());
    }

    #[test]
    fn starts() {
        assert!(starts_like_age(b"age-encryption.org/v1\n-> X25519"));
        assert!(starts_like_age(b"\n  -----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(!starts_like_age(b"DB_PASSWORD=x"));
        assert!(is_age_candidate("a/b.AGE", b"x"));
        assert!(!is_age_candidate("a/b.yaml", b"x"));
        assert!(parse(b"age-encryption.org/v1\n").is_err());
        assert!(parse(b"").is_err());
    }
}
