//! Keeping what the guard protects out of what it prints.
//!
//! Code frames are redacted with every secret of their blob (see
//! `detect::suppress::prepare_findings`), but a finding carries other text that quotes
//! scanned content: its message (key paths such as `stringData.<key>`, env
//! var names, hosts), its identity, the author of its commit. And some text
//! the guard prints is not a finding at all: a URL from a fleet manifest, the
//! reason of a break-glass push, git's own error output. Everything here is
//! about making those safe to print:
//!
//! - [`Masker`]: hide every occurrence of known secrets (all secrets of a
//!   blob, or of a whole scan) in any text, with the same [`redact`] form
//!   the frames use, in one pass whatever the number of secrets;
//! - [`scrub_free_text`]: run the secret rules over text nobody scanned
//!   (a break-glass reason) and hide what they find, plus any word that
//!   looks like a credential;
//! - [`looks_like_token`]: the credential-shape heuristic for map keys, URL
//!   path segments and free text, where no rule may know the format;
//! - [`escape_control`]: make control characters visible so scanned bytes
//!   and file names cannot drive the terminal (retitle, clear, split lines).

use crate::finding::{Finding, redact};
use crate::rules::RuleSet;
use aho_corasick::{AhoCorasick, MatchKind};
use std::borrow::Cow;

/// Secrets shorter than this are not searched for in other text: a
/// three-letter value would mask unrelated words everywhere, and a frame
/// already shows at most one character of it. The code frames use the same
/// bound.
pub const MIN_MASKED_LEN: usize = 4;

/// Replaces every occurrence of a set of secrets in text with its redacted
/// form. Built once per blob (or per scan): one Aho-Corasick pass per text,
/// so the cost is linear in the text whatever the number of secrets.
pub struct Masker {
    secrets: Vec<String>,
    ac: Option<AhoCorasick>,
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_MASKED_LEN)
            .map(str::to_string)
            .collect();
        secrets.sort_unstable();
        secrets.dedup();
        let ac = if secrets.is_empty() {
            None
        } else {
            // Leftmost-longest: a secret that contains another is hidden whole.
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&secrets)
                .ok()
        };
        Masker { secrets, ac }
    }

    /// A masker for every secret the given findings hold: what the per-blob
    /// and the whole-scan passes both hide.
    pub fn for_findings(findings: &[Finding]) -> Masker {
        Masker::new(
            findings
                .iter()
                .filter_map(|f| f.secret.as_ref().map(|s| s.expose())),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.ac.is_none()
    }

    /// `text` with every known secret redacted.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(ac) = &self.ac else {
            return Cow::Borrowed(text);
        };
        let mut out = String::new();
        let mut last = 0;
        for m in ac.find_iter(text) {
            // Patterns are whole strings, so matches fall on char boundaries.
            out.push_str(&text[last..m.start()]);
            out.push_str(&redact(&self.secrets[m.pattern().as_usize()]));
            last = m.end();
        }
        if last == 0 {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Mask `text` in place; returns whether anything was hidden.
    pub fn mask_in_place(&self, text: &mut String) -> bool {
        match self.mask(text) {
            Cow::Borrowed(_) => false,
            Cow::Owned(s) => {
                *text = s;
                true
            }
        }
    }
}

/// Redact, in the message and identity of each finding of one blob, every
/// secret any finding of that blob holds: the same knowledge the code
/// frames are masked with. A token used as a Secret's data key is a finding
/// of the secret rules, so the plaintext-Secret message that names the key
/// (`stringData.<token> is committed in plaintext`) hides it too.
pub fn scrub_findings(findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        if let Some(s) = f.snippet.as_mut() {
            mask_token_keys(s);
        }
    }
    let masker = Masker::for_findings(findings);
    if masker.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        masker.mask_in_place(&mut f.message);
        if let Some(id) = f.identity.as_mut() {
            masker.mask_in_place(id);
        }
    }
}

/// Mask, in a code frame, every mapping key shaped like a credential
/// (`  <token>: value`, `"<token>": …`): a key no rule recognises is still
/// printed by the frame of its own line otherwise, while the message names
/// it masked (see `KeyPath`'s display). The caret moves with the text.
pub fn mask_token_keys(snippet: &mut crate::finding::Snippet) {
    let chars: Vec<char> = snippet.text.chars().collect();
    let is_word = is_token_char;
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_word(chars[i]) {
            i += 1;
        }
        let mut j = i;
        if j < chars.len() && (chars[j] == '"' || chars[j] == '\'') {
            j += 1;
        }
        let is_key = j < chars.len()
            && chars[j] == ':'
            && chars.get(j + 1).is_none_or(|c| c.is_whitespace());
        if is_key && looks_like_token(&chars[start..i].iter().collect::<String>()) {
            ranges.push((start, i));
        }
    }
    if ranges.is_empty() {
        return;
    }
    let mut text = String::with_capacity(snippet.text.len());
    let (cs, ce) = (snippet.caret_start, snippet.caret_start + snippet.caret_len);
    let (mut new_cs, mut new_ce) = (None, None);
    let mut out_len = 0usize;
    let mut pos = 0usize;
    let place = |orig: usize, at: usize, new_cs: &mut Option<usize>, new_ce: &mut Option<usize>| {
        if orig == cs {
            new_cs.get_or_insert(at);
        }
        if orig == ce {
            new_ce.get_or_insert(at);
        }
    };
    for &(s, e) in &ranges {
        while pos < s {
            place(pos, out_len, &mut new_cs, &mut new_ce);
            text.push(chars[pos]);
            out_len += 1;
            pos += 1;
        }
        let masked = redact(&chars[s..e].iter().collect::<String>());
        let mlen = masked.chars().count();
        // A caret that starts inside the key starts at its mask; one that
        // ends inside it ends after the mask.
        if (s..e).contains(&cs) {
            new_cs.get_or_insert(out_len);
        }
        if (s + 1..=e).contains(&ce) {
            new_ce.get_or_insert(out_len + mlen);
        }
        text.push_str(&masked);
        out_len += mlen;
        pos = e;
    }
    while pos < chars.len() {
        place(pos, out_len, &mut new_cs, &mut new_ce);
        text.push(chars[pos]);
        out_len += 1;
        pos += 1;
    }
    let start = new_cs.unwrap_or(out_len);
    let end = new_ce.unwrap_or(out_len).max(start + 1);
    snippet.text = text;
    snippet.caret_start = start;
    snippet.caret_len = end - start;
}

/// The whole-scan pass: text that is not from one blob (a commit's author
/// and committer, the pushed ref's name, the scan errors) is redacted with every secret the scan
/// found anywhere. A token in an author name is found by the identity scan
/// of its commit and then hidden in the provenance of every finding.
pub fn scrub_report(findings: &mut [Finding], errors: &mut [crate::scan::ScanError]) {
    let masker = Masker::for_findings(findings);
    if masker.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        if let Some(p) = f.provenance.as_mut() {
            masker.mask_in_place(&mut p.author);
            if let Some(r) = p.git_ref.as_mut() {
                masker.mask_in_place(r);
            }
        }
    }
    for e in errors.iter_mut() {
        masker.mask_in_place(&mut e.message);
    }
}

/// The characters a credential is made of: where a token word starts and
/// ends in a frame or free text, and what [`looks_like_token`] accepts.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-+/=.~".contains(c)
}

/// Whether `s` has the shape of a credential: long, made only of the
/// characters tokens use, with letters and digits mixed and high entropy.
/// Used where no rule decides (a Secret's data key, a URL path segment, a
/// word of free text), so it errs on the side of hiding; git object ids are
/// kept readable (they name commits in break-glass reasons and URLs).
pub fn looks_like_token(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || b.len() > 4096 {
        return false;
    }
    if !s.chars().all(is_token_char) {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if digits == 0 || letters == 0 {
        return false;
    }
    let is_object_id = (b.len() == 40 || b.len() == 64)
        && b.iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    if is_object_id {
        return false;
    }
    // Words joined by separators (`spring.datasource.password-2`) are names.
    let longest_run = s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::len)
        .max()
        .unwrap_or(0);
    longest_run >= 16 && crate::rules::shannon_entropy(b) >= 3.5
}

/// `s` redacted whole when it looks like a credential (a map key, a path
/// segment), else unchanged.
pub fn mask_if_token(s: &str) -> Cow<'_, str> {
    if looks_like_token(s) {
        Cow::Owned(redact(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Text that no scan looked at (a break-glass reason, a message of a tool
/// we run) made safe to print and log: what the secret rules find in it is
/// redacted, and so is every word that looks like a credential.
pub fn scrub_free_text(text: &str, rules: &RuleSet) -> String {
    let found = crate::detect::secrets::find_secrets(rules, text.as_bytes());
    let masker = Masker::new(
        found
            .iter()
            .filter_map(|m| text.get(m.secret.clone()))
            .collect::<Vec<_>>(),
    );
    let text = masker.mask(text);
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    let is_word = is_token_char;
    for (i, c) in text.char_indices() {
        if is_word(c) {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = word_start.take() {
            out.push_str(&mask_if_token(&text[s..i]));
        }
        out.push(c);
    }
    if let Some(s) = word_start {
        out.push_str(&mask_if_token(&text[s..]));
    }
    out
}

/// File names are bytes; reports are text. A byte of a path that is not
/// UTF-8 is carried in the path string as the private-use character
/// `U+10FF00 + byte`, so the exact name survives the pipeline (excludes,
/// merging, baselines) without a second path field everywhere. Reports turn
/// it back: `\xNN` on a terminal, U+FFFD plus an exact `path_bytes` in JSON,
/// the raw byte percent-encoded in SARIF URIs. (A real file name using
/// those plane-16 private-use characters would read as raw bytes; none is
/// known in the wild.)
const RAW_BYTE_BASE: u32 = 0x10FF00;

/// A path string for `bytes`, lossless (see [`RAW_BYTE_BASE`]).
pub fn path_from_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(raw_byte_char(b));
        }
    }
    out
}

fn raw_byte_char(b: u8) -> char {
    char::from_u32(RAW_BYTE_BASE + b as u32).expect("plane 16 is valid")
}

fn raw_byte_of(c: char) -> Option<u8> {
    let v = c as u32;
    (RAW_BYTE_BASE..=RAW_BYTE_BASE + 0xFF)
        .contains(&v)
        .then(|| (v - RAW_BYTE_BASE) as u8)
}

/// The exact bytes of a path made by [`path_from_bytes`], when they are not
/// UTF-8 (`None` for an ordinary path).
pub fn path_bytes(path: &str) -> Option<Vec<u8>> {
    if !path.chars().any(|c| raw_byte_of(c).is_some()) {
        return None;
    }
    let mut out = Vec::with_capacity(path.len());
    for c in path.chars() {
        match raw_byte_of(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Some(out)
}

/// The path as JSON shows it: raw bytes as U+FFFD (the exact name is in
/// `path_bytes`).
pub fn path_for_json(path: &str) -> Cow<'_, str> {
    if !path.chars().any(|c| raw_byte_of(c).is_some()) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(
        path.chars()
            .map(|c| {
                if raw_byte_of(c).is_some() {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// Characters that must not reach a terminal raw: C0 and C1 controls and
/// DEL (escape sequences, BEL, CR, backspace…), and the bidirectional
/// overrides that make a line read differently than it is.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || raw_byte_of(c).is_some()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if raw_byte_of(c).is_some() => {
            out.push_str(&format!("\\x{:02x}", raw_byte_of(c).unwrap_or(0)))
        }
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` with every unsafe character shown as an escape (`\x1b`, `\n`,
/// `\u{9b}`): for text output, GitHub annotations and messages that quote
/// paths or scanned lines. JSON and SARIF carry the real text (their
/// encoders escape it), so tools can still open the file.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape_control`] line by line: newlines stay (a multi-line error
/// message keeps its shape), every other unsafe character is escaped.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(escape_control).collect();
    Cow::Owned(lines.join("\n"))
}

/// A code frame's line escaped like [`escape_control`] (tabs become one
/// space, as frames always showed them), with its caret (character start and
/// length) moved to where the same characters ended up.
pub fn escape_frame(text: &str, caret_start: usize, caret_len: usize) -> (String, usize, usize) {
    let mut out = String::with_capacity(text.len());
    let mut width = 0usize; // characters written so far
    let (mut start, mut end) = (None, None);
    let caret_end = caret_start + caret_len;
    for (i, c) in text.chars().enumerate() {
        if i == caret_start {
            start = Some(width);
        }
        if i == caret_end {
            end = Some(width);
        }
        let before = out.len();
        if c == '\t' {
            out.push(' ');
        } else if is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
        width += out[before..].chars().count();
    }
    let start = start.unwrap_or(width);
    let end = end.unwrap_or(width).max(start);
    (out, start, (end - start).max(caret_len.min(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GitHub token with a valid checksum, built at test time (nothing
    /// live-looking is committed).
    fn token() -> String {
        crate::rules::examples::expand("<<github:ghp_>>", "sanitize-tests").unwrap()
    }

    #[test]
    fn masker_hides_every_known_secret_and_nothing_else() {
        let t = token();
        let m = Masker::new([t.as_str(), "abc"]);
        let line = format!("stringData.{t} is abc");
        let s = m.mask(&line);
        assert_eq!(
            s,
            format!("stringData.{} is abc", crate::finding::redact(&t))
        );
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
        assert!(Masker::new(Vec::<&str>::new()).is_empty());
    }

    #[test]
    fn token_shapes() {
        assert!(looks_like_token(&token()));
        assert!(looks_like_token("aB3dE5fG7hJ9kL1mN3pQ5rS7"));
        assert!(!looks_like_token("db-password"));
        assert!(!looks_like_token("spring.datasource.password2"));
        assert!(!looks_like_token("my-application-repository"));
        assert!(!looks_like_token(
            "0123456789abcdef0123456789abcdef01234567"
        ));
        assert!(!looks_like_token("incident"));
    }

    #[test]
    fn free_text_is_scrubbed_by_rules_and_shape() {
        let rules = RuleSet::builtin().unwrap();
        let t = token();
        let s = scrub_free_text(&format!("incident 42: rotated {t}, see INC-7"), &rules);
        assert!(!s.contains(&t), "{s}");
        assert!(s.starts_with("incident 42: rotated ghp_"), "{s}");
        assert!(s.ends_with(", see INC-7"), "{s}");
        assert_eq!(scrub_free_text("deploy freeze", &rules), "deploy freeze");
    }

    #[test]
    fn control_characters_are_visible() {
        assert_eq!(escape_control("a\x1b]0;t\x07b"), "a\\x1b]0;t\\x07b");
        assert_eq!(escape_control("x\ny\r"), "x\\ny\\r");
        assert_eq!(escape_control("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_control("\u{202e}"), "\\u{202e}");
        assert!(matches!(escape_control("plain ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn token_shaped_keys_are_masked_in_frames() {
        use crate::finding::Snippet;
        let key = "aB3dE5fG7hJ9kL1mN3pQ5rS7x";
        let mut s = Snippet {
            text: format!("  {key}: value"),
            caret_start: 2 + key.len() + 2,
            caret_len: 5,
        };
        mask_token_keys(&mut s);
        assert!(!s.text.contains(key), "{}", s.text);
        let shown: String = s
            .text
            .chars()
            .skip(s.caret_start)
            .take(s.caret_len)
            .collect();
        assert_eq!(shown, "value");
        let mut plain = Snippet {
            text: "  db-password: value".into(),
            caret_start: 15,
            caret_len: 5,
        };
        mask_token_keys(&mut plain);
        assert_eq!(plain.text, "  db-password: value");
        // A token-shaped value is no key: left to the secret rules.
        let mut v = Snippet {
            text: format!("k: {key}"),
            caret_start: 3,
            caret_len: key.len(),
        };
        mask_token_keys(&mut v);
        assert!(v.text.contains(key));
    }

    #[test]
    fn non_utf8_paths_round_trip() {
        let raw = b"dir/bad-\xff\xfe.env";
        let p = path_from_bytes(raw);
        assert_eq!(path_bytes(&p).as_deref(), Some(&raw[..]));
        assert_eq!(path_for_json(&p), "dir/bad-\u{fffd}\u{fffd}.env");
        assert_eq!(escape_control(&p), "dir/bad-\\xff\\xfe.env");
        assert_eq!(path_from_bytes(b"ok/\xc3\xbc.yaml"), "ok/ü.yaml");
        assert_eq!(path_bytes("ok/ü.yaml"), None);
    }

    #[test]
    fn frame_caret_follows_escapes() {
        let (t, s, l) = escape_frame("\x1b[2Jkey\tsecret", 8, 6);
        assert_eq!(t, "\\x1b[2Jkey secret");
        assert_eq!(&t[s..s + l], "secret");
        let (t, s, l) = escape_frame("ab", 0, 2);
        assert_eq!((t.as_str(), s, l), ("ab", 0, 2));
    }
}
