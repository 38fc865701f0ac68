//! Encoded secrets: runs of base64, base64url, hex, percent-encoding and
//! `\uXXXX` escapes are decoded and the decoded text is scanned by the same
//! rules, recursively up to a depth. A token base64-encoded into a ConfigMap
//! value or a Helm value is still a leaked token: whoever reads the file
//! decodes it in one command.
//!
//! The cost is bounded, because most long runs of letters and digits are not
//! encoded secrets (digests, certificates, images, identifiers):
//! - a run must be long enough (16 characters of base64, 32 of hex) and in
//!   one alphabet (`+/` or `-_`, never both; hex in one letter case);
//! - the first 48 decoded bytes are checked before the rest is decoded: a
//!   run that decodes to binary (a certificate, an image) costs one short
//!   decode;
//! - decoded bytes must be text (valid UTF-8, almost no control characters);
//! - a blob decodes at most [`BLOB_BUDGET`] bytes in all, at every depth.
//!
//! A finding made here points at the encoded span (mapped back through every
//! layer) and carries the decoded secret; its message says how it was
//! decoded. It yields to any finding made on the plain text over the same
//! span (`Scanner::drop_shadowed_fallbacks`), so a `kind: Secret` `data:`
//! value stays reported once, by the plaintext-Secret check.

use super::keyword_cache::{self, KeywordCache};
use super::secrets::find_secrets_with;
use crate::rules::RuleSet;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::ops::Range;

/// How deep encodings are undone by default: base64 of base64 is found,
/// three layers are not (no one writes them by accident).
pub const DEFAULT_DEPTH: u8 = 2;
/// The deepest `decode-depth` accepted: each layer multiplies the work.
pub const MAX_DEPTH: u8 = 4;
/// Bytes decoded per blob, over every run and depth: a file of a thousand
/// base64-encoded config files is decoded only this far.
pub const BLOB_BUDGET: usize = 256 * 1024;
/// Shortest base64 run decoded (12 bytes: shorter decodes hold no token).
const MIN_BASE64: usize = 16;
/// Shortest hex run decoded (16 bytes).
const MIN_HEX: usize = 32;
/// Shortest percent- or `\u`-escaped run decoded.
const MIN_ESCAPED: usize = 12;
/// Encoded characters decoded first to tell text from binary.
const PROBE: usize = 64;
/// Longest percent- or `\u`-escaped run looked at (a JSON string, a URL).
const MAX_ESCAPED: usize = 8 * 1024;

/// An encoding undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Base64Url,
    Hex,
    Percent,
    UnicodeEscape,
}

impl Encoding {
    /// As the finding message names it: "(base64-decoded)".
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::UnicodeEscape => "\\u-escape",
        }
    }
}

/// The message suffix for a chain of encodings, outermost first:
/// "(base64-decoded)", "(base64-decoded, then hex-decoded)".
pub fn describe(chain: &[Encoding]) -> String {
    let parts: Vec<String> = chain
        .iter()
        .map(|e| format!("{}-decoded", e.label()))
        .collect();
    format!("({})", parts.join(", then "))
}

/// One secret found in decoded text. Its `Debug` redacts the secret and
/// leaves out the line (which holds it): a panic or a debug log must not
/// print a decoded token in full.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodedMatch {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// The encoded span in the scanned bytes.
    pub span: Range<usize>,
    /// The decoded secret.
    pub secret: String,
    /// The decoded text of the secret's line, for `severity_when`.
    pub line: String,
    /// The encodings undone, outermost first.
    pub chain: Vec<Encoding>,
}

impl std::fmt::Debug for DecodedMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedMatch")
            .field("rule", &self.rule)
            .field("span", &self.span)
            .field("secret", &crate::finding::redact(&self.secret))
            .field("line_len", &self.line.len())
            .field("chain", &self.chain)
            .finish()
    }
}

/// Every secret the rules find in the encoded runs of `bytes`, decoded up to
/// `depth` layers (0: none).
pub fn find_encoded_secrets(
    rules: &RuleSet,
    path: Option<&str>,
    bytes: &[u8],
    depth: u8,
    cache: Option<&KeywordCache>,
) -> Vec<DecodedMatch> {
    let mut out = Vec::new();
    if depth == 0 {
        return out;
    }
    let mut budget = BLOB_BUDGET;
    let mut chain = Vec::new();
    // In a history scan, the candidate runs of a large blob are looked for
    // segment by segment, and a segment already seen to hold none is not
    // read again: runs end at line ends and segments are cut at line ends,
    // so the candidates (in order) are the same as those of the whole text.
    let cands = match cache {
        Some(cache) if bytes.len() >= keyword_cache::MIN_BLOB => {
            let mut all = Vec::new();
            for seg in keyword_cache::segments(bytes) {
                let part = &bytes[seg.clone()];
                let digest = xxhash_rust::xxh3::xxh3_128(part);
                if cache.known_undecodable(digest) {
                    continue;
                }
                let found = candidates(part);
                if found.is_empty() {
                    cache.keep_undecodable(digest);
                }
                all.extend(found.into_iter().map(|c| Candidate {
                    span: c.span.start + seg.start..c.span.end + seg.start,
                    encoding: c.encoding,
                }));
            }
            all
        }
        _ => candidates(bytes),
    };
    walk_candidates(
        rules,
        path,
        bytes,
        cands,
        depth,
        &mut chain,
        &|r| r,
        &mut budget,
        &mut out,
    );
    // The same secret reached two ways (a percent-escaped base64 run) is
    // reported once, by the shorter chain.
    out.sort_by(|a, b| {
        (a.span.start, a.rule, a.chain.len()).cmp(&(b.span.start, b.rule, b.chain.len()))
    });
    let mut kept: Vec<DecodedMatch> = Vec::with_capacity(out.len());
    for m in out {
        let dup = kept
            .iter()
            .rev()
            .take_while(|k| k.span.end > m.span.start || k.span.start == m.span.start)
            .any(|k| k.rule == m.rule && k.span.start < m.span.end && m.span.start < k.span.end);
        if !dup {
            kept.push(m);
        }
    }
    kept
}

#[allow(clippy::too_many_arguments)]
fn walk(
    rules: &RuleSet,
    path: Option<&str>,
    text: &[u8],
    depth: u8,
    chain: &mut Vec<Encoding>,
    to_root: &dyn Fn(Range<usize>) -> Range<usize>,
    budget: &mut usize,
    out: &mut Vec<DecodedMatch>,
) {
    walk_candidates(
        rules,
        path,
        text,
        candidates(text),
        depth,
        chain,
        to_root,
        budget,
        out,
    );
}

/// [`walk`] over candidate runs already found in `text`.
#[allow(clippy::too_many_arguments)]
fn walk_candidates(
    rules: &RuleSet,
    path: Option<&str>,
    text: &[u8],
    cands: Vec<Candidate>,
    depth: u8,
    chain: &mut Vec<Encoding>,
    to_root: &dyn Fn(Range<usize>) -> Range<usize>,
    budget: &mut usize,
    out: &mut Vec<DecodedMatch>,
) {
    for cand in cands {
        if *budget == 0 {
            return;
        }
        let Some(layer) = decode(&text[cand.span.clone()], cand.encoding, budget) else {
            continue;
        };
        chain.push(cand.encoding);
        let base = cand.span.start;
        let map = &layer.map;
        let (decoded_len, run_len) = (layer.text.len(), cand.span.len());
        let to_here = |r: Range<usize>| {
            let mut local = map.span(r.clone());
            // a secret that ends the decoded text ends the run (padding
            // too), unless the budget cut the decoding short
            if r.end == decoded_len && map.span(0..decoded_len).end + 3 >= run_len {
                local.end = run_len;
            }
            to_root(base + local.start..base + local.end)
        };
        for m in find_secrets_with(rules, path, &layer.text, None) {
            let d = &layer.text;
            let ls = memchr::memrchr(b'\n', &d[..m.secret.start]).map_or(0, |i| i + 1);
            out.push(DecodedMatch {
                rule: m.rule,
                span: to_here(m.secret.clone()),
                secret: String::from_utf8_lossy(&d[m.secret.clone()]).into_owned(),
                line: String::from_utf8_lossy(&d[ls..m.secret.end]).into_owned(),
                chain: chain.clone(),
            });
        }
        if depth > 1 {
            walk(
                rules,
                path,
                &layer.text,
                depth - 1,
                chain,
                &to_here,
                budget,
                out,
            );
        }
        chain.pop();
    }
}

/// A run that may be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    span: Range<usize>,
    encoding: Encoding,
}

/// Byte classes for the base64 run scan.
const B64_STD: u8 = 1; // + /
const B64_URL: u8 = 2; // - _
const B64_COMMON: u8 = 4; // A-Z a-z 0-9
const HEX: u8 = 8;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphanumeric() {
            B64_COMMON | if c.is_ascii_hexdigit() { HEX } else { 0 }
        } else if c == b'+' || c == b'/' {
            B64_STD
        } else if c == b'-' || c == b'_' {
            B64_URL
        } else {
            0
        };
        i += 1;
    }
    t
}
static CLASS: [u8; 256] = classes();

/// Every candidate run of `text`, in order of their starts.
fn candidates(text: &[u8]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = text.len();
    // Runs shorter than MIN_BASE64 are never wanted: look at the last byte
    // of each window of that length first, and jump past the window when
    // it ends outside a run (most text has a space or a dot every few
    // bytes), so most bytes are never looked at. `i` is always at a byte
    // that is not in a run or right after one.
    while i + MIN_BASE64 <= n {
        let j = i + MIN_BASE64 - 1;
        if CLASS[text[j] as usize] == 0 {
            i = j + 1;
            continue;
        }
        if let Some(k) = text[i..j].iter().rposition(|&b| CLASS[b as usize] == 0) {
            i += k + 1;
            continue;
        }
        let start = i;
        i = j + 1;
        while i < n && CLASS[text[i] as usize] != 0 {
            i += 1;
        }
        let (seen, all_hex) = text[start..i].iter().fold((0u8, HEX), |(s, h), &b| {
            let c = CLASS[b as usize];
            (s | c, h & c)
        });
        let all_hex = all_hex != 0;
        let run_bytes = &text[start..i];
        let upper = run_bytes.iter().any(u8::is_ascii_uppercase);
        let lower = run_bytes.iter().any(u8::is_ascii_lowercase);
        let mut end = i;
        // padding, only at the end of a run
        while end < n && end - i < 2 && text[end] == b'=' {
            end += 1;
        }
        let run = end - start;
        let body = i - start;
        let word_after = end < n && text[end].is_ascii_alphanumeric();
        i = end;
        if word_after {
            continue;
        }
        if all_hex
            && body >= MIN_HEX
            && body % 2 == 0
            && !(upper && lower)
            && hex_of_text(run_bytes)
        {
            out.push(Candidate {
                span: start..i,
                encoding: Encoding::Hex,
            });
        } else if body >= MIN_BASE64
            && seen & (B64_STD | B64_URL) != (B64_STD | B64_URL)
            && body % 4 != 1
            && (run == body || run % 4 == 0)
            // base64 of text mixes the cases; a run of one case is a word,
            // a digest or a path
            && upper
            && lower
            && base64_of_text(run_bytes)
        {
            let encoding = if seen & B64_URL != 0 {
                Encoding::Base64Url
            } else {
                Encoding::Base64
            };
            out.push(Candidate {
                span: start..end,
                encoding,
            });
        }
    }
    escaped_runs(text, &mut out);
    out.sort_by_key(|c| c.span.start);
    out
}

/// Whether the first groups of a base64 run can encode text: the first
/// character of each 4-character group holds the top 6 bits of a byte, which
/// for printable ASCII is `I`-`Z` or `a`-`f` (tab and line breaks: `C`, `D`)
/// and for a UTF-8 lead byte `w`-`z` or `0`-`9`. An identifier
/// (`NewApplicationClient`) fails here, before anything is decoded.
fn base64_of_text(run: &[u8]) -> bool {
    run.iter()
        .step_by(4)
        .take(6)
        .all(|&c| matches!(c, b'I'..=b'Z' | b'a'..=b'f' | b'C' | b'D' | b'w'..=b'z' | b'0'..=b'9'))
}

/// Whether the first bytes of a hex run can be text: the first digit of
/// each pair is `2`-`7` (printable ASCII), `0` (tab, line breaks) or `c`-`f`
/// (UTF-8 lead bytes); a digest fails here.
fn hex_of_text(run: &[u8]) -> bool {
    run.iter()
        .step_by(2)
        .take(8)
        .all(|&c| matches!(c, b'0' | b'2'..=b'7' | b'c'..=b'f' | b'C'..=b'F'))
}

/// Runs holding at least one escape introduced by `intro` (`%` + 2 hex
/// digits, `\u` + 4): the run is the escape's word, up to whitespace or a
/// quote, so a percent-encoded URL or a JSON string value is decoded whole.
///
/// One `memchr2` pass finds both introducers.
fn escaped_runs(text: &[u8], out: &mut Vec<Candidate>) {
    let stop = |c: u8| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`');
    // where the last run of each kind ended
    let mut done = [0usize; 2];
    for at in memchr::memchr2_iter(b'%', b'\\', text) {
        let (encoding, skip, digits, k) = if text[at] == b'%' {
            (Encoding::Percent, 1, 2, 0)
        } else if text.get(at + 1) == Some(&b'u') {
            (Encoding::UnicodeEscape, 2, 4, 1)
        } else {
            continue;
        };
        if at < done[k] {
            continue;
        }
        let hex = &text[(at + skip).min(text.len())..];
        if hex.len() < digits || !hex[..digits].iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let lo = at.saturating_sub(MAX_ESCAPED);
        let mut start = at;
        while start > lo && !stop(text[start - 1]) {
            start -= 1;
        }
        let hi = (at + MAX_ESCAPED).min(text.len());
        let mut end = at;
        while end < hi && !stop(text[end]) {
            end += 1;
        }
        done[k] = end;
        if end - start >= MIN_ESCAPED {
            out.push(Candidate {
                span: start..end,
                encoding,
            });
        }
    }
}

/// Decoded text and how its bytes map back to the encoded run.
struct Layer {
    text: Vec<u8>,
    map: Map,
}

enum Map {
    /// 4 characters per 3 bytes.
    Base64,
    /// 2 characters per byte.
    Hex,
    /// Where each decoded byte starts in the run, plus the run's length.
    Table(Vec<u32>),
}

impl Map {
    /// The encoded characters of decoded bytes `r`, relative to the run.
    fn span(&self, r: Range<usize>) -> Range<usize> {
        match self {
            Map::Base64 => r.start * 4 / 3..(r.end * 4).div_ceil(3),
            Map::Hex => r.start * 2..r.end * 2,
            Map::Table(t) => t[r.start] as usize..t[r.end] as usize,
        }
    }
}

fn engine(url: bool) -> GeneralPurpose {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if url {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config)
}

/// Decode `run`, charging `budget`; `None` unless it decodes to text.
fn decode(run: &[u8], encoding: Encoding, budget: &mut usize) -> Option<Layer> {
    let layer = match encoding {
        Encoding::Base64 | Encoding::Base64Url => {
            let e = engine(encoding == Encoding::Base64Url);
            let body = run
                .strip_suffix(b"==")
                .or(run.strip_suffix(b"="))
                .unwrap_or(run);
            // a whole 4-character group of the head first
            let probe = body.len().min(PROBE);
            let probe = if probe < body.len() {
                probe / 4 * 4
            } else {
                probe
            };
            let head = e.decode(&body[..probe]).ok()?;
            *budget = budget.saturating_sub(head.len());
            if !is_text(&head, probe < body.len()) {
                return None;
            }
            // at most the budget's worth, in whole groups
            let take = body.len().min(*budget / 3 * 4 + probe);
            let take = if take < body.len() {
                take / 4 * 4
            } else {
                take
            };
            let text = e.decode(&body[..take]).ok()?;
            Layer {
                text,
                map: Map::Base64,
            }
        }
        Encoding::Hex => {
            let probe = run.len().min(PROBE);
            let head = hex(&run[..probe]);
            *budget = budget.saturating_sub(head.len());
            if !is_text(&head, probe < run.len()) {
                return None;
            }
            let take = run.len().min(*budget * 2 + probe) / 2 * 2;
            Layer {
                text: hex(&run[..take]),
                map: Map::Hex,
            }
        }
        Encoding::Percent => unescape(run, b'%', 2)?,
        Encoding::UnicodeEscape => unescape(run, b'\\', 4)?,
    };
    *budget = budget.saturating_sub(layer.text.len());
    is_text(&layer.text, false).then_some(layer)
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.to_ascii_lowercase().wrapping_sub(b'a').wrapping_add(10),
    }
}

fn hex(run: &[u8]) -> Vec<u8> {
    run.chunks_exact(2)
        .map(|p| hex_val(p[0]) << 4 | hex_val(p[1]))
        .collect()
}

/// Undo `%XX` (`esc` = `%`, 2 digits) or `\uXXXX` and the JSON one-letter
/// escapes (`esc` = `\`, 4 digits), keeping where each byte came from.
fn unescape(run: &[u8], esc: u8, digits: usize) -> Option<Layer> {
    let mut text = Vec::with_capacity(run.len());
    let mut table = Vec::with_capacity(run.len() + 1);
    let mut i = 0;
    let mut changed = false;
    while i < run.len() {
        let c = run[i];
        if c != esc {
            text.push(c);
            table.push(i as u32);
            i += 1;
            continue;
        }
        let rest = &run[i + 1..];
        if esc == b'%' {
            if rest.len() >= 2 && rest[..2].iter().all(u8::is_ascii_hexdigit) {
                text.push(hex_val(rest[0]) << 4 | hex_val(rest[1]));
                table.push(i as u32);
                i += 3;
                changed = true;
            } else {
                text.push(c);
                table.push(i as u32);
                i += 1;
            }
            continue;
        }
        // `\`
        match rest.first() {
            Some(b'u')
                if rest.len() > digits && rest[1..=digits].iter().all(u8::is_ascii_hexdigit) =>
            {
                let v = rest[1..=digits]
                    .iter()
                    .fold(0u32, |a, &d| a << 4 | u32::from(hex_val(d)));
                let ch = char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                for &b in ch.encode_utf8(&mut buf).as_bytes() {
                    text.push(b);
                    table.push(i as u32);
                }
                i += 2 + digits;
                changed = true;
            }
            Some(&e @ (b'\\' | b'/' | b'"' | b'n' | b't' | b'r')) => {
                text.push(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    other => other,
                });
                table.push(i as u32);
                i += 2;
            }
            _ => {
                text.push(c);
                table.push(i as u32);
                i += 1;
            }
        }
    }
    table.push(run.len() as u32);
    changed.then_some(Layer {
        text,
        map: Map::Table(table),
    })
}

/// Whether decoded bytes are text: valid UTF-8 (but for a character cut at
/// the end of a `partial` probe) with at most one control character (other
/// than tab and line breaks) in 64.
fn is_text(bytes: &[u8], partial: bool) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => partial && e.error_len().is_none(),
    };
    if !valid || bytes.is_empty() {
        return false;
    }
    let control = bytes
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
        .count();
    control * 64 <= bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn set() -> RuleSet {
        RuleSet::build(
            parse_rule_file(
                "t.toml",
                r#"
[[rule]]
id = "tok"
name = "Token"
keywords = ["tok_"]
regex = '''\b(tok_[a-zA-Z0-9]{24})\b'''
entropy = 3.0
"#,
            )
            .unwrap(),
            &[],
        )
        .unwrap()
    }

    // a made-up format of a made-up rule
    const TOKEN: &str = "tok_Zq8rT2mLx9vBw3Kp7Yd4Hs6N";

    fn found(text: &str) -> Vec<(String, String, String)> {
        found_at(text, DEFAULT_DEPTH)
    }

    fn found_at(text: &str, depth: u8) -> Vec<(String, String, String)> {
        find_encoded_secrets(&set(), None, text.as_bytes(), depth, None)
            .into_iter()
            .map(|m| (text[m.span].to_string(), m.secret, describe(&m.chain)))
            .collect()
    }

    fn hex_of(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn base64_of_a_token_is_found_at_the_encoded_span() {
        let enc = STANDARD.encode(TOKEN);
        let got = found(&format!("data:\n  key: {enc}\n"));
        assert_eq!(
            got,
            vec![(enc, TOKEN.to_string(), "(base64-decoded)".into())]
        );
    }

    #[test]
    fn large_blobs_found_segment_by_segment_with_a_cache_match_the_whole_text() {
        // A large file of varied lines (so it is cut into many segments)
        // with encoded tokens in different segments; scanned twice with one
        // cache (the second time most segments are known to hold no run),
        // then once changed: every answer equals the uncached whole-text one.
        let b64 = STANDARD.encode(TOKEN);
        let hex = hex_of(TOKEN);
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!(
                "line {i}: value-{} plain words here\n",
                i * 7919 % 1013
            ));
            match i {
                5 => text.push_str(&format!("  a: {b64}\n")),
                1500 => text.push_str(&format!("  b: \"{hex}\"\n")),
                2900 => text.push_str(&format!("  c: x%41%42{}\n", "%43".repeat(5))),
                _ => {}
            }
        }
        assert!(text.len() > 4 * keyword_cache::MIN_BLOB);
        let spans =
            |t: &str, cache: Option<&KeywordCache>| -> Vec<(Range<usize>, String, String)> {
                find_encoded_secrets(&set(), None, t.as_bytes(), DEFAULT_DEPTH, cache)
                    .into_iter()
                    .map(|m| (m.span, m.secret, describe(&m.chain)))
                    .collect()
            };
        let whole = spans(&text, None);
        assert_eq!(whole.len(), 2, "{whole:?}");
        let cache = KeywordCache::new(1 << 20);
        assert_eq!(spans(&text, Some(&cache)), whole);
        assert_eq!(spans(&text, Some(&cache)), whole);
        let changed = text.replacen("line 2000:", &format!("line 2000: {b64} "), 1);
        let again = spans(&changed, None);
        assert_eq!(again.len(), 3);
        assert_eq!(spans(&changed, Some(&cache)), again);
    }

    #[test]
    fn the_span_is_the_token_part_of_a_longer_encoded_text() {
        let enc = STANDARD.encode(format!("{{\"user\":\"ci\",\"token\":\"{TOKEN}\"}}"));
        let got = found(&format!("auth: \"{enc}\""));
        assert_eq!(got.len(), 1);
        let span = &got[0].0;
        assert!(
            enc.contains(span.as_str()) && span.len() < enc.len(),
            "{span}"
        );
        // the span covers the token's characters and little else
        assert!(span.len() <= TOKEN.len() * 4 / 3 + 4);
    }

    #[test]
    fn every_encoding_is_undone() {
        let url = URL_SAFE_NO_PAD.encode(format!("??>{TOKEN}"));
        assert!(url.contains(['-', '_']), "{url}");
        let pct: String = TOKEN.bytes().map(|b| format!("%{b:02X}")).collect();
        let uesc: String = TOKEN
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        for (text, how) in [
            (url.clone(), "(base64url-decoded)"),
            (hex_of(TOKEN), "(hex-decoded)"),
            (hex_of(TOKEN).to_uppercase(), "(hex-decoded)"),
            (pct, "(percent-decoded)"),
            (uesc, "(\\u-escape-decoded)"),
        ] {
            let got = found(&format!("{{\"v\": \"{text}\"}}"));
            assert_eq!(got.len(), 1, "{text}");
            assert_eq!(got[0].1, TOKEN);
            assert_eq!(got[0].2, how);
        }
        // a half-escaped JSON value: only `_` escaped
        let half = TOKEN.replace('_', "\\u005f");
        assert_eq!(found(&format!("\"{half}\"")).len(), 1);
    }

    #[test]
    fn depth_two_by_default_and_zero_turns_it_off() {
        let once = STANDARD.encode(TOKEN);
        let twice = STANDARD.encode(&once);
        let thrice = STANDARD.encode(&twice);
        assert_eq!(found(&twice)[0].2, "(base64-decoded, then base64-decoded)");
        assert!(found(&thrice).is_empty());
        assert_eq!(found_at(&thrice, 3).len(), 1);
        assert!(found_at(&once, 0).is_empty());
        assert!(found_at(&twice, 1).is_empty());
    }

    #[test]
    fn plain_text_and_binary_give_nothing() {
        // the plain token is the plain scan's; nothing here decodes to it
        assert!(found(TOKEN).is_empty());
        let binary: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let enc = STANDARD.encode(&binary);
        let mut budget = BLOB_BUDGET;
        assert!(decode(enc.as_bytes(), Encoding::Base64, &mut budget).is_none());
        // binary costs only the probe
        assert!(BLOB_BUDGET - budget <= PROBE);
        assert!(found(&format!("cert: {enc}\n")).is_empty());
        // a placeholder, a word, a digest, a path
        for text in [
            STANDARD.encode("changeme"),
            STANDARD.encode("tok_xxxxxxxxxxxxxxxxxxxxxxxx"),
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            "/usr/local/share/ca-certificates/ExampleRootCertificate".into(),
            "KubernetesVersionInformationProvider".into(),
        ] {
            assert!(found(&text).is_empty(), "{text}");
        }
    }

    #[test]
    fn candidates_respect_alphabets_and_lengths() {
        let kinds = |t: &str| -> Vec<Encoding> {
            candidates(t.as_bytes())
                .into_iter()
                .map(|c| c.encoding)
                .collect()
        };
        assert_eq!(kinds("aGVsbG8gd29ybGQhIQ=="), vec![Encoding::Base64]);
        assert_eq!(kinds("aGVsbG8"), vec![]); // short
        assert_eq!(kinds("aGVs+bG8gd29y_bGQhIQ"), vec![]); // both alphabets
        assert_eq!(kinds("seed=aGVsbG8gd29ybGQhIQ"), vec![Encoding::Base64]);
        assert_eq!(kinds(&"6b4A".repeat(10)), vec![Encoding::Base64]); // mixed-case hex is no hex
        assert_eq!(kinds(&"6b4a".repeat(10)), vec![Encoding::Hex]);
        assert_eq!(kinds(&"6B4A".repeat(10)), vec![Encoding::Hex]);
        // a digest's first digits are not those of text; an identifier's
        // group starts are not those of base64 text
        assert_eq!(kinds(&"ab".repeat(20)), vec![]);
        assert_eq!(kinds("NewApplicationServiceClientWithContext"), vec![]);
        assert_eq!(kinds("aGVsbG8gd29ybGQhIQ"), vec![Encoding::Base64]);
        // the window skip finds runs of exactly the minimum anywhere
        let run = "aGVsbG8gd29ybGQh";
        assert_eq!(run.len(), MIN_BASE64);
        for text in [
            run.to_string(),
            format!("x {run}"),
            format!("{run}."),
            format!("ab.cd-ef {run} gh.ij"),
            format!("aaaaaaaaaaaaaaa.{run}"),
            format!("{}:{run}", "a".repeat(30)),
        ] {
            let c = candidates(text.as_bytes());
            assert_eq!(c.len(), 1, "{text}");
            assert_eq!(&text[c[0].span.clone()], run, "{text}");
        }
        assert_eq!(kinds(&run[1..]), vec![]);
        assert_eq!(kinds("a%20b%20c%20d%20e"), vec![Encoding::Percent]);
        assert_eq!(kinds("100%"), vec![]);
    }

    #[test]
    fn the_budget_bounds_the_work() {
        let enc = STANDARD.encode("x".repeat(BLOB_BUDGET * 2));
        let mut budget = BLOB_BUDGET;
        let layer = decode(enc.as_bytes(), Encoding::Base64, &mut budget).unwrap();
        assert!(layer.text.len() <= BLOB_BUDGET + PROBE);
        assert_eq!(budget, 0);
        // spent: a token after the budget's worth is not decoded (the
        // documented limit), one before it is
        let tok = STANDARD.encode(TOKEN);
        assert!(found(&format!("{enc}\n{tok}\n")).is_empty());
        assert_eq!(found(&format!("{tok}\n{enc}\n")).len(), 1);
    }

    #[test]
    fn debug_of_a_decoded_match_never_shows_the_secret() {
        let secret = format!("tok_{}", "Ab3dE5fG7hJ9kL1mN3pQ5rS7");
        let m = DecodedMatch {
            rule: 0,
            span: 0..8,
            secret: secret.clone(),
            line: format!("key: {secret}"),
            chain: vec![Encoding::Base64],
        };
        let shown = format!("{m:?}");
        assert!(!shown.contains(&secret), "{}", shown.len());
        assert!(!shown.contains("Ab3dE5fG7hJ9kL1m"));
        assert!(shown.contains("Base64"));
    }
}
