//! The secrets engine: keyword prefilter, regex confirmation near the hits,
//! then structural and statistical validation of group 1.

use super::keyword_cache::{self, Hit, KeywordCache};
use super::placeholder::{is_generic_non_secret, is_placeholder};
use super::{Context, Detector, Input, Output};
use crate::finding::{Category, Finding};
use crate::rules::{RuleSet, shannon_entropy};
use std::ops::Range;

/// How far either side of a keyword hit a regex may look on a long line
/// (minified JSON, base64 blobs), so one hit never costs a megabyte scan.
const LINE_CLIP: usize = 1024;

/// One validated match of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretMatch {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Byte range of the secret (capture group 1).
    pub secret: Range<usize>,
}

/// Find every validated secret in `bytes`, path unknown (a value another
/// detector hands over): every rule runs but the path-scoped ones.
pub fn find_secrets(rules: &RuleSet, bytes: &[u8]) -> Vec<SecretMatch> {
    find_secrets_with(rules, None, bytes, None)
}

/// [`find_secrets`] for the file at `path` (rules with `paths` run only
/// where they match), taking the keyword hits of big blobs' unchanged
/// segments from `cache` (history scans: see [`KeywordCache`]). The result
/// is the same with or without the cache.
pub fn find_secrets_with(
    rules: &RuleSet,
    path: Option<&str>,
    bytes: &[u8],
    cache: Option<&KeywordCache>,
) -> Vec<SecretMatch> {
    match cache {
        Some(c)
            if bytes.len() >= keyword_cache::MIN_BLOB
                && u32::try_from(bytes.len()).is_ok()
                && rules.keywords_within_lines() =>
        {
            let hits = c.hits(rules, bytes);
            secrets_at_hits(rules, path, bytes, hits.into_iter(), Some(c))
        }
        _ => secrets_at_hits(
            rules,
            path,
            bytes,
            keyword_cache::direct_hits(rules, bytes),
            cache,
        ),
    }
}

fn secrets_at_hits(
    rules: &RuleSet,
    path: Option<&str>,
    bytes: &[u8],
    hits: impl Iterator<Item = Hit>,
    cache: Option<&KeywordCache>,
) -> Vec<SecretMatch> {
    // Per blob, only the rules a keyword hit names are touched: with 800+
    // rules, a per-blob pass over all of them (a `Vec` per rule, a glob match
    // per path-scoped rule) cost 5% of a history scan of 100k small blobs.
    // `slot[r]` is rule r's index in `regions`, u32::MAX until its first hit.
    let mut slot: Vec<u32> = vec![u32::MAX; rules.rules.len()];
    let mut regions: Vec<(usize, Vec<Range<usize>>)> = Vec::new();
    // Path-scoped rules (a handful) that do not apply here, decided on their
    // first hit in this blob.
    let mut skip_memo: Vec<(usize, bool)> = Vec::new();
    let mut skip = |r: usize| -> bool {
        let rule = &rules.rules[r];
        if rule.paths.is_none() {
            return false;
        }
        if let Some(&(_, s)) = skip_memo.iter().find(|m| m.0 == r) {
            return s;
        }
        let s = !rule.applies_to(path);
        skip_memo.push((r, s));
        s
    };
    // A region is the hit's line clipped to LINE_CLIP either side, so the
    // line ends are looked for only that far: a minified file is one long
    // line with thousands of hits, and searching it whole for each hit
    // would be quadratic. Rules with a window need the true line end; it is
    // found once per line (hits come in the order of their ends).
    let mut full_line_end: Option<(usize, usize)> = None;
    for hit in hits {
        let owners = rules.rules_for_keyword(hit.pattern as usize);
        // a keyword only path-scoped rules own (`password` of a `.pypirc`
        // rule, `://` of `.git-credentials`) costs no line search elsewhere
        if owners.iter().all(|&r| skip(r)) {
            continue;
        }
        let lo = hit.start.saturating_sub(LINE_CLIP);
        let start = memchr::memrchr(b'\n', &bytes[lo..hit.start]).map_or(lo, |i| lo + i + 1);
        let hi = (hit.end + LINE_CLIP).min(bytes.len());
        let near_end = memchr::memchr(b'\n', &bytes[hit.end..hi]).map(|i| hit.end + i);
        for &r in owners {
            if skip(r) {
                continue;
            }
            let window = rules.rules[r].spec.window;
            let end = if window == 0 {
                near_end.unwrap_or(hi)
            } else {
                let line_end = near_end.unwrap_or_else(|| match full_line_end {
                    Some((from, end)) if (from..=end).contains(&hit.end) => end,
                    _ => {
                        let end =
                            memchr::memchr(b'\n', &bytes[hi..]).map_or(bytes.len(), |i| hi + i);
                        full_line_end = Some((hit.end, end));
                        end
                    }
                });
                (line_end + window).min(bytes.len())
            };
            if slot[r] == u32::MAX {
                slot[r] = regions.len() as u32;
                regions.push((r, Vec::new()));
            }
            push_region(&mut regions[slot[r] as usize].1, start..end);
        }
    }
    if regions.is_empty() {
        return Vec::new();
    }
    regions.sort_unstable_by_key(|x| x.0);
    let mut out = Vec::new();
    for &(r, ref spans) in &regions {
        for span in merge(spans) {
            let hay = &bytes[span.clone()];
            let found = match cache {
                Some(c) => c.region_secrets(r, hay, || confirm(rules, r, hay)),
                None => confirm(rules, r, hay),
            };
            out.extend(found.into_iter().map(|g| SecretMatch {
                rule: r,
                secret: span.start + g.start..span.start + g.end,
            }));
        }
    }
    // A specific rule's match wins over a fallback's on the same value: one
    // finding per secret, named after what it is.
    // Specific matches sorted by start with the running maximum of their
    // ends: one binary search per fallback match, not a scan of all of them.
    let mut specific: Vec<(usize, usize)> = out
        .iter()
        .filter(|m| !rules.rules[m.rule].is_fallback())
        .map(|m| (m.secret.start, m.secret.end))
        .collect();
    specific.sort_unstable();
    let mut max_end = 0;
    let max_ends: Vec<usize> = specific
        .iter()
        .map(|s| {
            max_end = max_end.max(s.1);
            max_end
        })
        .collect();
    out.retain(|m| {
        if !rules.rules[m.rule].is_fallback() {
            return true;
        }
        let before = specific.partition_point(|s| s.0 < m.secret.end);
        !(before > 0 && max_ends[before - 1] > m.secret.start)
    });
    out.sort_by_key(|m| (m.secret.start, m.rule));
    out
}

/// The validated secrets (capture group 1) rule `r` finds in a region, as
/// ranges of the region.
fn confirm(rules: &RuleSet, r: usize, hay: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let word_start = rules.rules[r].spec.word_start;
    for caps in rules.rules[r].regex().captures_iter(hay) {
        let Some(g) = caps.get(1) else { continue };
        if g.is_empty() {
            continue;
        }
        if word_start && !starts_word(hay, caps.get(0).map_or(0, |m| m.start())) {
            continue;
        }
        // Regions of one rule are disjoint after `merge`, and
        // `captures_iter` never repeats a match: no dedupe needed.
        let value = String::from_utf8_lossy(&hay[g.range()]);
        if accept(rules, r, &value) {
            out.push(g.range());
        }
    }
    out
}

/// Whether a match at `at` begins a word: at the start of the region (a
/// line start, or an unknown byte on a clipped long line), after a byte
/// that is not a letter, or as the capital of a camelCase word (`myOkta`)
/// or an all-caps run (`MYOKTA`, where the words cannot be told apart).
fn starts_word(hay: &[u8], at: usize) -> bool {
    let Some(&prev) = at.checked_sub(1).and_then(|i| hay.get(i)) else {
        return true;
    };
    let first = hay.get(at).copied().unwrap_or(b' ');
    let second = hay.get(at + 1).copied().unwrap_or(b' ');
    !prev.is_ascii_alphabetic()
        || first.is_ascii_uppercase() && (prev.is_ascii_lowercase() || second.is_ascii_uppercase())
}

/// The validation every match passes: placeholder, entropy, checksum, allowlist.
fn accept(rules: &RuleSet, r: usize, value: &str) -> bool {
    let rule = &rules.rules[r];
    if is_placeholder(value) {
        return false;
    }
    if rule.is_strict() && is_generic_non_secret(value) {
        return false;
    }
    if let Some(min) = rule.spec.entropy
        && shannon_entropy(value.as_bytes()) < min
    {
        return false;
    }
    if let Some(c) = rule.spec.checksum
        && !c.validate(value)
    {
        return false;
    }
    !rule
        .allowlist()
        .iter()
        .any(|a| a.is_match(value.as_bytes()))
}

fn push_region(v: &mut Vec<Range<usize>>, r: Range<usize>) {
    if let Some(last) = v.last_mut()
        && r.start <= last.end
        && r.start >= last.start
    {
        last.end = last.end.max(r.end);
        return;
    }
    v.push(r);
}

fn merge(spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut v = spans.to_vec();
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The `secret` category: every rule of the rule set over the raw bytes,
/// then over the decoded encoded runs (see [`super::decode`]).
pub struct SecretRules {
    /// Layers of encoding undone (0: none).
    decode_depth: u8,
}

impl SecretRules {
    /// The engine as `config` sets it (`[secrets] decode-depth`; a depth
    /// out of range was refused when the config was read).
    pub fn new(config: &crate::config::Config) -> SecretRules {
        SecretRules {
            decode_depth: config
                .secrets
                .depth()
                .unwrap_or(super::decode::DEFAULT_DEPTH),
        }
    }
}

impl Detector for SecretRules {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn reads_bytes(&self) -> bool {
        true
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        for m in find_secrets_with(cx.rules, Some(input.path), input.bytes, cx.keyword_cache) {
            let rule = &cx.rules.rules[m.rule];
            let secret = String::from_utf8_lossy(&input.bytes[m.secret.clone()]).into_owned();
            let line_start =
                memchr::memrchr(b'\n', &input.bytes[..m.secret.start]).map_or(0, |i| i + 1);
            let finding = Finding::new(
                rule.spec.id.clone(),
                Category::Secret,
                rule.severity_for(&input.bytes[line_start..m.secret.end]),
                rule.spec.name.clone(),
                input.location(m.secret.start, m.secret.end),
            )
            .with_secret(secret);
            out.findings.push(finding);
        }
        let found = super::decode::find_encoded_secrets(
            cx.rules,
            Some(input.path),
            input.bytes,
            self.decode_depth,
            cx.keyword_cache,
        );
        for m in found {
            let rule = &cx.rules.rules[m.rule];
            let mut finding = Finding::new(
                rule.spec.id.clone(),
                Category::Secret,
                rule.severity_for(m.line.as_bytes()),
                format!("{} {}", rule.spec.name, super::decode::describe(&m.chain)),
                input.location(m.span.start, m.span.end),
            )
            .with_secret(m.secret);
            finding.decoded = true;
            out.findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn set(toml: &str) -> RuleSet {
        RuleSet::build(parse_rule_file("t.toml", toml).unwrap(), &[]).unwrap()
    }

    const TOK: &str = r#"
[[rule]]
id = "tok"
name = "Token"
keywords = ["tok_"]
regex = '''\b(tok_[a-zA-Z0-9]{12})\b'''
entropy = 2.5
"#;

    #[test]
    fn finds_near_keywords_and_validates() {
        let rs = set(TOK);
        let text =
            b"a: tok_Ab3dE5fG7hJ9\nb: tok_aaaaaaaaaaaa\nc: tok_<your-token>\nd: tok_Zz9yX8wV7uT6";
        let found = find_secrets(&rs, text);
        let values: Vec<_> = found.iter().map(|m| &text[m.secret.clone()]).collect();
        assert_eq!(
            values,
            vec![&b"tok_Ab3dE5fG7hJ9"[..], &b"tok_Zz9yX8wV7uT6"[..]]
        );
    }

    #[test]
    fn keyword_matching_is_case_insensitive_but_regex_decides() {
        let rs = set(TOK);
        assert!(find_secrets(&rs, b"TOK_Ab3dE5fG7hJ9").is_empty());
        assert_eq!(find_secrets(&rs, b"x tok_Ab3dE5fG7hJ9 y").len(), 1);
    }

    #[test]
    fn long_lines_are_clipped_not_scanned_whole() {
        let rs = set(TOK);
        let mut text = vec![b'x'; 5000];
        text.extend_from_slice(b" tok_Ab3dE5fG7hJ9 ");
        text.extend(vec![b'y'; 5000]);
        assert_eq!(find_secrets(&rs, &text).len(), 1);
    }

    #[test]
    fn a_specific_rule_replaces_a_fallback_on_the_same_value() {
        let rs = set(&format!(
            "{TOK}\n[[rule]]\nid = \"generic-x\"\nname = \"G\"\nkeywords = [\"token\"]\nregex = '''token: (\\S+)'''\n"
        ));
        // made-up values for a made-up rule
        let found = find_secrets(&rs, b"token: tok_Ab3dE5fG7hJ9\ntoken: Zq8rT2mLx9vB\n"); // gitops-guard:allow
        let ids: Vec<_> = found.iter().map(|m| rs.rules[m.rule].id()).collect();
        assert_eq!(ids, vec!["tok", "generic-x"]);
    }

    #[test]
    fn windows_let_multiline_rules_span_lines() {
        let rs = set(r#"
[[rule]]
id = "pem"
name = "Key"
keywords = ["-----BEGIN KEY"]
regex = '''-----BEGIN KEY-----\n([A-Za-z0-9+/=\n]{20,})-----END KEY-----'''
window = 4096
"#);
        let text = b"-----BEGIN KEY-----\nQm9vbXZpcmFsbHlzZWNyZXQ=\nQm9vbXZpcmFsbHlzZWNyZXQ=\n-----END KEY-----\n";
        assert_eq!(find_secrets(&rs, text).len(), 1);
    }

    #[test]
    fn path_scoped_rules_run_only_on_matching_paths() {
        let rs = set(r#"
[[rule]]
id = "netrc"
name = "N"
keywords = ["password"]
paths = [".netrc", "*.tfvars"]
regex = '''password[ \t]+(\S{8,})'''
"#);
        let text = b"default login x password Zq8rT2mLx9vB\n";
        let n = |p: Option<&str>| find_secrets_with(&rs, p, text, None).len();
        assert_eq!(n(Some(".netrc")), 1);
        assert_eq!(n(Some("home/ci/.netrc")), 1);
        assert_eq!(n(Some("envs/prod.tfvars")), 1);
        assert_eq!(n(Some("docs/netrc.md")), 0);
        assert_eq!(n(Some(".netrc.bak")), 0);
        // no path: a value handed over by another detector
        assert_eq!(n(None), 0);
    }

    #[test]
    fn severity_when_picks_the_first_matching_severity() {
        use crate::finding::Severity;
        let rs = set(r#"
[[rule]]
id = "k"
name = "K"
severity = "high"
keywords = ["key="]
regex = '''key=(\S{8,})'''
severity_when = [{ regex = '''(?i)sandbox''', severity = "low" }, { regex = '''(?i)staging''', severity = "medium" }]
"#);
        let r = &rs.rules[0];
        assert_eq!(r.severity_for(b"SANDBOX_KEY=Zq8rT2mLx9vB"), Severity::Low);
        assert_eq!(
            r.severity_for(b"STAGING_KEY=Zq8rT2mLx9vB"),
            Severity::Medium
        );
        assert_eq!(r.severity_for(b"KEY=Zq8rT2mLx9vB"), Severity::High);
    }

    #[test]
    fn word_start_rules_skip_words_inside_identifiers() {
        let rs = set(r#"
[[rule]]
id = "okta"
name = "O"
keywords = ["okta"]
word_start = true
regex = "(?i:okta[a-z_]*)[ =:]+(00[a-zA-Z0-9]{8})"
"#);
        let n = |t: &[u8]| find_secrets(&rs, t).len();
        assert_eq!(n(b"okta_token = 00Zq8rT2mLx9"), 1); // gitops-guard:allow
        assert_eq!(n(b"MY_OKTA_TOKEN=00Zq8rT2mLx9"), 1); // gitops-guard:allow
        assert_eq!(n(b"myOktaToken: 00Zq8rT2mLx9"), 1); // gitops-guard:allow
        assert_eq!(n(b"MYOKTA_TOKEN=00Zq8rT2mLx9"), 1); // gitops-guard:allow
        assert_eq!(n(b"rookTable = 00Zq8rT2mLx9"), 0);
        assert_eq!(n(b"brokta: 00Zq8rT2mLx9"), 0);
    }

    #[test]
    fn strict_rules_drop_generic_non_secrets_others_keep_them() {
        let rule = |strict: bool| {
            set(&format!(
                r#"
[[rule]]
id = "tfvars-pass"
name = "P"
keywords = ["pass"]
strict = {strict}
regex = '''pass\s*=\s*"([^"]+)"'''
"#
            ))
        };
        let (strict, loose) = (rule(true), rule(false));
        let env_name = b"pass = \"DATABASE_PASSWORD_FILE\"";
        let value = b"pass = \"q7Zr2mLx9Tb4Kw\"";
        assert_eq!(find_secrets(&strict, env_name).len(), 0);
        assert_eq!(find_secrets(&loose, env_name).len(), 1);
        assert_eq!(find_secrets(&strict, value).len(), 1);
    }
}
