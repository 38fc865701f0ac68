//! Suppressions and redacted code frames of one blob's findings: the
//! inline allow comments, the `gitops-guard.io/ignore` annotation (and the
//! kube-linter/kubeaudit overrides), and the binary test.
//!
//! Lives in `detect/`, below `scan`, because detectors apply it too (the
//! policy pod facts carry ready-made findings) and data flows one way:
//! sources -> scan -> detect -> finding -> filter -> report.

use crate::detect::{self, Input};
use crate::finding::{Finding, Snippet, Suppression, redact};

/// Inline comments that suppress a finding on their line. The peers'
/// tokens are honoured so teams can migrate.
pub const INLINE_ALLOW: &[&str] = &[
    "gitops-guard:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "trufflehog:ignore",
];
/// Comments that suppress findings on the next line.
pub const INLINE_ALLOW_NEXT: &[&str] = &[
    "gitops-guard:allow-next-line",
    "pragma: allowlist nextline secret",
];

/// Annotation on a Kubernetes object that suppresses findings inside it:
/// `gitops-guard.io/ignore: "rule-id[=reason][,rule-id[=reason]…]"` (a
/// category id, or `all`, works too).
pub const IGNORE_ANNOTATION: &str = "gitops-guard.io/ignore";
/// kube-linter's per-check annotation prefix, honoured where the meaning is
/// the same (see `detect::policy::KUBE_LINTER_EQUIVALENTS`).
pub const KUBE_LINTER_IGNORE_PREFIX: &str = "ignore-check.kube-linter.io/";

/// Mark findings that fall inside an object whose annotations ignore their
/// rule. Done here, once, for every manifest detector; only when the blob
/// was parsed anyway (a detector asked for its documents), and then only
/// the documents that hold a finding.
pub fn apply_annotation_suppressions(input: &Input<'_>, findings: &mut [Finding]) {
    if findings.is_empty() || !input.documents_parsed() {
        return;
    }
    let lines: Vec<usize> = findings.iter().map(|f| f.location.line).collect();
    // Only documents that carry one of the annotations can suppress.
    let annotated = |doc: &[u8]| {
        memchr::memmem::find(doc, IGNORE_ANNOTATION.as_bytes()).is_some()
            || memchr::memmem::find(doc, KUBE_LINTER_IGNORE_PREFIX.as_bytes()).is_some()
            || memchr::memmem::find(doc, b"kube-linter.io/ignore-all").is_some()
            || memchr::memmem::find(doc, b"kubeaudit.io/").is_some()
    };
    let Some(docs) = input.documents_at_lines(&lines, annotated) else {
        return;
    };
    for obj in crate::manifest::objects_of(docs) {
        let mut ignored: Vec<(String, Option<String>)> = Vec::new();
        for a in obj.annotations() {
            let Some(value) = a.value_str() else { continue };
            if a.key == IGNORE_ANNOTATION {
                for item in value.split(',') {
                    let (id, reason) = match item.split_once('=') {
                        Some((id, r)) => (id.trim(), Some(r.trim().to_string())),
                        None => (item.trim(), None),
                    };
                    if !id.is_empty() {
                        ignored.push((id.to_string(), reason));
                    }
                }
            } else if let Some(check) = a.key.strip_prefix(KUBE_LINTER_IGNORE_PREFIX) {
                for (kl, ours) in detect::policy::KUBE_LINTER_EQUIVALENTS {
                    if *kl == check {
                        ignored.push((ours.to_string(), Some(format!("kube-linter: {value}"))));
                    }
                }
            } else if a.key == detect::policy::KUBE_LINTER_IGNORE_ALL {
                let reason = Some(format!("kube-linter ignore-all: {value}"));
                ignored.push(("policy".to_string(), reason.clone()));
                for (_, ours) in detect::policy::KUBE_LINTER_EQUIVALENTS {
                    ignored.push((ours.to_string(), reason.clone()));
                }
            }
        }
        // kubeaudit's overrides are labels, on the object or its pod template.
        let template_labels = crate::manifest::Object::pod_spec(&obj)
            .map(|p| p.labels().collect::<Vec<_>>())
            .unwrap_or_default();
        for l in obj.labels().chain(template_labels) {
            for ours in detect::policy::kubeaudit_override(l.key) {
                let reason = format!("kubeaudit {}: {}", l.key, l.value_str().unwrap_or(""));
                ignored.push((ours.to_string(), Some(reason)));
            }
        }
        if ignored.is_empty() {
            continue;
        }
        let span = obj.node.span;
        let (first, last) = (
            input.line_of(span.start),
            input.line_of(span.end.saturating_sub(1).max(span.start)),
        );
        for f in findings.iter_mut() {
            if f.suppressed.is_some() || f.location.line < first || f.location.line > last {
                continue;
            }
            if let Some((_, reason)) = ignored
                .iter()
                .find(|(id, _)| id == &f.rule || id == f.category.as_str() || id == "all")
            {
                f.suppressed = Some(Suppression::Annotation {
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// A NUL byte in the first 8 KiB, as git and ripgrep decide. Binary blobs
/// are still scanned by the detectors that read bytes (see `Scanner::scan_blob`).
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Inline suppressions and redacted code frames, for all findings of one blob
/// at once: a line may hold several secrets, and the frame of each must hide
/// all of them.
pub fn prepare_findings(input: &Input<'_>, findings: &mut [Finding], show_secrets: bool) {
    prepare_findings_of(input, findings, show_secrets, false);
}

/// [`prepare_findings`]; for a `binary` blob the frame's control
/// characters are shown as `.` (its "lines" are whatever lies between two
/// newline bytes).
///
/// Linear in the findings: they are visited in line order, so the
/// per-line work (inline comments, columns on a long line) is done once
/// per line, and the secrets masked in each frame are found by one
/// automaton of all of them (a file with 30,000 tokens searched every
/// frame for every token).
pub(crate) fn prepare_findings_of(
    input: &Input<'_>,
    findings: &mut [Finding],
    show_secrets: bool,
    binary: bool,
) {
    if findings.is_empty() {
        return;
    }
    let secrets = if show_secrets {
        None
    } else {
        let mut v: Vec<&str> = findings
            .iter()
            .filter_map(|f| f.secret.as_ref().map(|s| s.expose()))
            .filter(|s| s.len() >= 4)
            .collect();
        v.sort_unstable();
        v.dedup();
        (!v.is_empty())
            // a contiguous NFA: a DFA per file costs more to build than the
            // few frames it searches
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build(&v)
                    .ok()
            })
            .flatten()
            .map(|ac| {
                let lens: Vec<usize> = v.iter().map(|s| s.chars().count()).collect();
                (ac, lens)
            })
    };
    // (line, start column, end column) of every secret-bearing finding,
    // 0-based columns, sorted by line.
    let mut masked: Vec<(usize, usize, usize)> = findings
        .iter()
        // the finding's span is its secret (a base64 Secret value decodes to
        // the secret, so a text search for it would miss the encoded form)
        .filter(|f| f.secret.is_some())
        .filter(|f| f.location.line > 0)
        .map(|f| {
            let l = &f.location;
            let end = if l.end_line == l.line {
                l.end_column.saturating_sub(1)
            } else {
                usize::MAX
            };
            (l.line, l.column.saturating_sub(1), end)
        })
        .collect();
    masked.sort_unstable();
    // The largest end column among the masked spans of the same line up to
    // each one: a frame then looks only at the spans that reach into its
    // window, not at every span of a long line.
    let mut reach: Vec<usize> = Vec::with_capacity(masked.len());
    for (k, m) in masked.iter().enumerate() {
        let before = if k > 0 && masked[k - 1].0 == m.0 {
            reach[k - 1]
        } else {
            0
        };
        reach.push(before.max(m.2));
    }
    let contains = |hay: &[u8], tok: &str| memchr::memmem::find(hay, tok.as_bytes()).is_some();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (findings[i].location.line, findings[i].location.column));
    // The inline comment that suppresses findings on the last line looked at.
    let mut allowed: Option<(usize, Option<Suppression>)> = None;
    for i in order {
        let f = &mut findings[i];
        if f.location.line == 0 {
            continue;
        }
        let line_no = f.location.line;
        let (line_start, line_end) = line_range(input, line_no);
        let line = &input.bytes[line_start..line_end];
        if f.suppressed.is_none() {
            let inline = match &allowed {
                Some((l, s)) if *l == line_no => s.clone(),
                _ => {
                    let s = if let Some(tok) = INLINE_ALLOW.iter().find(|t| contains(line, t)) {
                        Some(Suppression::Inline {
                            token: tok.to_string(),
                        })
                    } else if line_no > 1 {
                        let (ps, pe) = line_range(input, line_no - 1);
                        let prev = &input.bytes[ps..pe];
                        INLINE_ALLOW_NEXT
                            .iter()
                            .find(|t| contains(prev, t))
                            .map(|tok| Suppression::Inline {
                                token: tok.to_string(),
                            })
                    } else {
                        None
                    };
                    allowed = Some((line_no, s.clone()));
                    s
                }
            };
            f.suppressed = inline;
        }
        // A long (minified) line is framed from a window around the finding:
        // the frame shows 160 characters of it, and masking or copying the
        // whole line for each of its findings would be quadratic.
        let col = f.location.column.saturating_sub(1);
        let end_col = (f.location.end_line == f.location.line)
            .then(|| f.location.end_column.saturating_sub(1));
        let (from, to) = if line.len() > LONG_LINE {
            let at = input.offset_of(line_no, col).clamp(line_start, line_end) - line_start;
            let end = end_col.map_or(line.len(), |c| {
                input.offset_of(line_no, c).clamp(line_start, line_end) - line_start
            });
            (
                char_start(line, at.saturating_sub(LONG_LINE / 4)),
                char_start(line, (end.max(at) + LONG_LINE / 2).min(line.len())),
            )
        } else {
            (0, line.len())
        };
        // Characters before the window: columns inside it are shifted by them.
        let skipped = if from == 0 {
            0
        } else {
            input.line_col(line_start + from).1 - 1
        };
        let mut raw = String::from_utf8_lossy(&line[from..to]).into_owned();
        if binary {
            raw = raw
                .chars()
                .map(|c| if c.is_control() && c != '\t' { '.' } else { c })
                .collect();
        }
        let caret = (
            col.saturating_sub(skipped),
            match end_col {
                Some(c) => c.saturating_sub(skipped),
                None => raw.chars().count(),
            },
        );
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        if !show_secrets {
            let first = masked.partition_point(|m| m.0 < line_no);
            let window_end = skipped + raw.chars().count();
            let hi = masked.partition_point(|m| (m.0, m.1) < (line_no, window_end));
            let mut lo = masked.partition_point(|m| (m.0, m.1) < (line_no, skipped));
            // Spans that start before the window and reach into it.
            while lo > first && reach[lo - 1] > skipped {
                lo -= 1;
            }
            for &(_, s, e) in &masked[lo..hi] {
                if e > skipped {
                    ranges.push((s.saturating_sub(skipped), e.saturating_sub(skipped)));
                }
            }
            if let Some((ac, lens)) = &secrets {
                let mut chars_before = (0usize, 0usize); // (byte, chars up to it)
                let mut hits: Vec<(usize, usize)> = ac
                    .find_overlapping_iter(raw.as_str())
                    .map(|m| (m.start(), lens[m.pattern().as_usize()]))
                    .collect();
                hits.sort_unstable();
                for (byte_pos, len) in hits {
                    chars_before.1 += raw[chars_before.0..byte_pos].chars().count();
                    chars_before.0 = byte_pos;
                    ranges.push((chars_before.1, chars_before.1 + len));
                }
            }
        }
        f.snippet = Some(build_snippet(&raw, caret, &mut ranges));
    }
}

/// Lines longer than this (bytes) are framed from a window around the finding.
const LONG_LINE: usize = 2048;

/// `at`, moved back to the start of its character.
fn char_start(line: &[u8], mut at: usize) -> usize {
    while at > 0 && at < line.len() && (line[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    at
}

fn line_range(input: &Input<'_>, line: usize) -> (usize, usize) {
    // find any offset on `line`: binary search through line starts via line_bounds
    let mut lo = 0usize;
    let mut hi = input.bytes.len();
    while lo < hi {
        let mid = (lo + hi) / 2;
        if input.line_of(mid) < line {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    input.line_bounds(lo)
}

/// Mask `ranges` (character ranges; end clamped to the line) of `raw`, then
/// place the caret where the original `caret` range ended up.
fn build_snippet(raw: &str, caret: (usize, usize), ranges: &mut Vec<(usize, usize)>) -> Snippet {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    ranges.iter_mut().for_each(|r| {
        r.0 = r.0.min(n);
        r.1 = r.1.min(n).max(r.0);
    });
    ranges.retain(|r| r.1 > r.0);
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for &r in ranges.iter() {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    // map an original char index to its index in the masked text
    let mut text = String::with_capacity(raw.len());
    let mut map = vec![0usize; n + 1];
    let mut i = 0;
    let mut out_len = 0;
    for &(s, e) in &merged {
        while i < s {
            map[i] = out_len;
            text.push(chars[i]);
            out_len += 1;
            i += 1;
        }
        let masked = redact(&chars[s..e].iter().collect::<String>());
        let mlen = masked.chars().count();
        for (k, slot) in map[s..e].iter_mut().enumerate() {
            *slot = out_len + (k * mlen / (e - s)).min(mlen.saturating_sub(1));
        }
        text.push_str(&masked);
        out_len += mlen;
        i = e;
    }
    while i < n {
        map[i] = out_len;
        text.push(chars[i]);
        out_len += 1;
        i += 1;
    }
    map[n] = out_len;
    let cs = map[caret.0.min(n)];
    // the caret ends after the last masked/plain char of the original range
    let ce = if caret.1 > caret.0 {
        let last = caret.1.min(n).max(1) - 1;
        let inside = merged.iter().find(|&&(s, e)| last >= s && last < e);
        match inside {
            Some(&(s, e)) => {
                map[s]
                    + redact(&chars[s..e].iter().collect::<String>())
                        .chars()
                        .count()
            }
            None => map[last] + 1,
        }
    } else {
        cs + 1
    };
    // keep frames readable on minified lines
    const MAX: usize = 160;
    let tchars: Vec<char> = text.chars().collect();
    if tchars.len() > MAX {
        let from = cs.saturating_sub(60);
        let to = (from + MAX).min(tchars.len());
        let mut t: String = tchars[from..to].iter().collect();
        let mut shift = 0;
        if from > 0 {
            t.insert(0, '…');
            shift = 1;
        }
        if to < tchars.len() {
            t.push('…');
        }
        let start = cs - from + shift;
        return Snippet {
            text: t,
            caret_start: start,
            caret_len: (ce.max(cs + 1) - cs).min(MAX - (cs - from)).max(1),
        };
    }
    Snippet {
        text,
        caret_start: cs,
        caret_len: ce.saturating_sub(cs).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_masks_every_range_and_moves_the_caret() {
        let raw = "key: abcdefghijklmnopqrstuvwxyz and AKIA1234567890ABCDEF";
        let mut ranges = vec![(5, 31), (36, 56)];
        let s = build_snippet(raw, (36, 56), &mut ranges);
        assert!(!s.text.contains("ghijklmnop"));
        assert!(!s.text.contains("1234567890"));
        let shown: String = s
            .text
            .chars()
            .skip(s.caret_start)
            .take(s.caret_len)
            .collect();
        assert_eq!(shown, redact("AKIA1234567890ABCDEF"));
    }

    #[test]
    fn snippet_without_masks_keeps_text() {
        let s = build_snippet("privileged: true", (12, 16), &mut Vec::new());
        assert_eq!(s.text, "privileged: true");
        assert_eq!((s.caret_start, s.caret_len), (12, 4));
    }
}
