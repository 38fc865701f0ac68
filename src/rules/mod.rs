//! Secret rules as data: the built-in `patterns/*.toml` files plus user rules
//! from `.gitops-guard.toml`, compiled once into a [`RuleSet`] with one
//! keyword index over every keyword ([`keywords::KeywordIndex`]).

pub mod checksum;
pub mod examples;
pub mod keywords;

use crate::finding::Severity;
use checksum::Checksum;
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/patterns.rs"));

/// A rule as written in TOML.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub severity: Severity,
    pub keywords: Vec<String>,
    pub regex: String,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub window: usize,
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Report only where no specific rule reports an overlapping secret
    /// (generic rules: `generic-*` ids are fallbacks implicitly).
    #[serde(default)]
    pub fallback: bool,
    /// Run only on files whose path matches one of these globs (a glob
    /// without `/` matches the file name at any depth): for formats that
    /// only the file name identifies (`.netrc`'s `password x`, `*.tfvars`).
    /// Empty: every file.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Lower (or raise) the severity of a match whose line, up to the end of
    /// the secret, matches `regex`: test and sandbox keys of a provider are
    /// worth less than live ones, and the key name often says which it is.
    /// The first match wins.
    #[serde(default)]
    pub severity_when: Vec<SeverityWhen>,
    /// Apply the generic rules' non-secret filter (references, identifiers,
    /// environment-variable names, paths, numbers…) to group 1, for rules
    /// whose value has no shape of its own (a `.tfvars` or `.pypirc`
    /// password). Implied for `generic-*` ids.
    #[serde(default)]
    pub strict: bool,
    /// The match must begin a word: the byte before it is not a letter, or
    /// the match starts a camelCase word (`myOktaToken`, `MY_OKTA`). For
    /// rules that begin with a provider's name, so `okta` in `rookTable` is
    /// not Okta. Checked by the engine rather than written into the regex:
    /// a leading `(?:^|[^A-Za-z])` costs the regex its literal prefix.
    #[serde(default)]
    pub word_start: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub counter_examples: Vec<String>,
    /// How `scan --verify` asks the provider whether a value works
    /// (`[rule.verify]`, see [`crate::verify::spec`]).
    #[serde(default)]
    pub verify: Option<crate::verify::spec::VerifySpec>,
    /// Set by [`builtin_specs`]: the rule ships in `patterns/`, whose regexes
    /// `tests/patterns.rs` compiles, so [`RuleSet::build`] defers compiling
    /// it to the first keyword hit (startup cost grows with the rule count;
    /// most rules never hit in a given repository).
    #[serde(skip)]
    pub builtin: bool,
}

/// One entry of [`RuleSpec::severity_when`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityWhen {
    pub regex: String,
    pub severity: Severity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    /// The file it came from (`aws.toml`, or `.gitops-guard.toml`).
    pub origin: String,
    /// Compiled on first use for built-in rules, at load for user rules.
    regex: OnceLock<Regex>,
    /// [`RuleSpec::allowlist`], compiled; like `regex`, on first use for
    /// built-in rules (40 regexes cost a pre-commit hook ~3 ms).
    allowlist: OnceLock<Vec<Regex>>,
    /// [`RuleSpec::paths`], compiled (`None`: every file).
    pub paths: Option<globset::GlobSet>,
    /// [`RuleSpec::severity_when`], compiled.
    severity_when: OnceLock<Vec<(Regex, Severity)>>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The rule's regex, compiled on first use. Only built-in rules are
    /// deferred, and `tests/patterns.rs` compiles every one of them, so a
    /// failure here is a bug in a shipped rule file, not bad input.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            compile(&self.spec.regex).unwrap_or_else(|e| {
                panic!("built-in rule `{}` ({}): {e}", self.spec.id, self.origin)
            })
        })
    }

    /// Whether a specific rule's overlapping match replaces this one's.
    pub fn is_fallback(&self) -> bool {
        self.spec.fallback || self.spec.id.starts_with("generic-")
    }

    /// Whether the generic non-secret filter applies to this rule's values.
    pub fn is_strict(&self) -> bool {
        self.spec.strict || self.spec.id.starts_with("generic-")
    }

    /// Whether the rule runs on a file at `path`. A path-scoped rule needs
    /// the path: with `None` (a value handed over by another detector, not
    /// a file) it does not run.
    pub fn applies_to(&self, path: Option<&str>) -> bool {
        match (&self.paths, path) {
            (None, _) => true,
            (Some(globs), Some(p)) => globs.is_match(p.trim_start_matches("./")),
            (Some(_), None) => false,
        }
    }

    /// [`RuleSpec::allowlist`], compiled.
    pub fn allowlist(&self) -> &[Regex] {
        self.allowlist.get_or_init(|| {
            compile_allowlist(&self.spec)
                .expect("built-in allowlist regexes compile (tests/patterns.rs)")
        })
    }

    /// The severity of a match, given its line up to the end of the secret.
    pub fn severity_for(&self, line: &[u8]) -> Severity {
        self.severity_when
            .get_or_init(|| {
                compile_severity_when(&self.spec)
                    .expect("built-in severity_when regexes compile (tests/patterns.rs)")
            })
            .iter()
            .find(|(re, _)| re.is_match(line))
            .map_or(self.spec.severity, |&(_, s)| s)
    }
}

/// Why a rule could not be loaded. Always names the file and rule.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: rule `{id}`: {message}")]
pub struct RuleError {
    pub origin: String,
    pub id: String,
    pub message: String,
}

/// Every enabled rule, and the keyword index that decides which run.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// The keywords, lowercased and distinct, in pattern order.
    keywords: Vec<String>,
    /// The search over them (built at load: well under a millisecond).
    index: keywords::KeywordIndex,
    /// Keyword pattern index -> indices of the rules that own the keyword.
    keyword_rules: Vec<Vec<usize>>,
    /// Longest `window` over all rules: how far past a hit a regex may read.
    pub max_window: usize,
    /// Rule id -> index into `rules`.
    by_id: std::collections::HashMap<String, usize>,
    keywords_within_lines: bool,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::build(builtin_specs()?, &[])
    }

    /// Compile specs, skipping `disabled` ids. Fails on a duplicate id, a
    /// regex without a capture group, an empty keyword list or a bad regex.
    pub fn build(
        specs: Vec<(String, RuleSpec)>,
        disabled: &[String],
    ) -> Result<RuleSet, RuleError> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(specs.len());
        for (origin, spec) in specs {
            let err = |message: String| RuleError {
                origin: origin.clone(),
                id: spec.id.clone(),
                message,
            };
            if !seen.insert(spec.id.clone()) {
                return Err(err("duplicate rule id".into()));
            }
            if let Some(v) = &spec.verify {
                v.validate().map_err(err)?;
            }
            if disabled.iter().any(|d| d == &spec.id) {
                continue;
            }
            if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.is_empty()) {
                return Err(err("needs at least one non-empty keyword".into()));
            }
            let regex = OnceLock::new();
            if !spec.builtin {
                let compiled = compile(&spec.regex)
                    .map_err(|e| err(format!("bad regex: {}", first_line(&e.to_string()))))?;
                if compiled.captures_len() < 2 {
                    return Err(err(
                        "regex has no capture group (group 1 must be the secret)".into(),
                    ));
                }
                let _ = regex.set(compiled);
            }
            let allowlist = OnceLock::new();
            let severity_when = OnceLock::new();
            if !spec.builtin {
                let _ = allowlist.set(compile_allowlist(&spec).map_err(err)?);
                let _ = severity_when.set(compile_severity_when(&spec).map_err(err)?);
            }
            let paths = if spec.paths.is_empty() {
                None
            } else {
                Some(
                    crate::filter::glob_set(&spec.paths)
                        .map_err(|e| err(format!("bad paths: {e}")))?,
                )
            };
            rules.push(Rule {
                spec,
                origin,
                regex,
                allowlist,
                paths,
                severity_when,
            });
        }
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        // Keyword -> its automaton index: with 800+ rules a linear search of
        // `keywords` per keyword made building the set quadratic.
        let mut keyword_index: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            for k in &rule.spec.keywords {
                let k = k.to_ascii_lowercase();
                match keyword_index.get(&k) {
                    Some(&p) => {
                        if !keyword_rules[p].contains(&i) {
                            keyword_rules[p].push(i)
                        }
                    }
                    None => {
                        keyword_index.insert(k.clone(), keywords.len());
                        keywords.push(k);
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let index = keywords::KeywordIndex::new(&keywords);
        let max_window = rules.iter().map(|r| r.spec.window).max().unwrap_or(0);
        let keywords_within_lines = keywords.iter().all(|k| !k.contains('\n'));
        let by_id = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.spec.id.clone(), i))
            .collect();
        Ok(RuleSet {
            rules,
            keywords,
            index,
            keyword_rules,
            max_window,
            by_id,
            keywords_within_lines,
        })
    }

    /// Whether no keyword contains a line end, so keyword hits never cross
    /// one (what `detect::keyword_cache` relies on).
    pub fn keywords_within_lines(&self) -> bool {
        self.keywords_within_lines
    }

    /// Every keyword occurrence in `text` (overlapping, ASCII
    /// case-insensitive), ordered by start.
    pub fn keyword_hits(&self, text: &[u8]) -> Vec<keywords::KeywordHit> {
        self.index.find_all(text)
    }

    /// The keywords, lowercased, in pattern order.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    pub fn rules_for_keyword(&self, pattern: usize) -> &[usize] {
        &self.keyword_rules[pattern]
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }
}

/// A rule's allowlist regexes, or the message of the first bad one.
fn compile_allowlist(spec: &RuleSpec) -> Result<Vec<Regex>, String> {
    spec.allowlist
        .iter()
        .map(|a| {
            Regex::new(a)
                .map_err(|e| format!("bad allowlist regex: {}", first_line(&e.to_string())))
        })
        .collect()
}

/// A rule's `severity_when` regexes, or the message of the first bad one.
fn compile_severity_when(spec: &RuleSpec) -> Result<Vec<(Regex, Severity)>, String> {
    spec.severity_when
        .iter()
        .map(|w| {
            Regex::new(&w.regex)
                .map(|re| (re, w.severity))
                .map_err(|e| format!("bad severity_when regex: {}", first_line(&e.to_string())))
        })
        .collect()
}

/// Parse every built-in rule file (from the JSON build.rs made of it; the
/// result is that of [`parse_rule_file`] on the TOML, which a test checks).
pub fn builtin_specs() -> Result<Vec<(String, RuleSpec)>, RuleError> {
    let mut out = Vec::new();
    for (name, json) in BUILTIN_PATTERNS_JSON {
        let file: RuleFile = serde_json::from_str(json).map_err(|e| RuleError {
            origin: name.to_string(),
            id: "*".into(),
            message: first_line(&e.to_string()).to_string(),
        })?;
        out.extend(file.rule.into_iter().map(|mut s| {
            s.builtin = true;
            (name.to_string(), s)
        }));
    }
    Ok(out)
}

/// Compile a rule regex with the engine's size limit.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .build()
}

/// Parse one file in the patterns format.
pub fn parse_rule_file(origin: &str, text: &str) -> Result<Vec<(String, RuleSpec)>, RuleError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError {
        origin: origin.to_string(),
        id: "*".into(),
        message: first_line(&e.to_string()).to_string(),
    })?;
    Ok(file
        .rule
        .into_iter()
        .map(|r| (origin.to_string(), r))
        .collect())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, regex: &str) -> (String, RuleSpec) {
        (
            "t.toml".into(),
            toml::from_str(&format!(
                "id = {id:?}\nname = 'n'\nkeywords = ['k']\nregex = '''{regex}'''"
            ))
            .unwrap(),
        )
    }

    #[test]
    fn rejects_duplicates_missing_groups_and_bad_regexes() {
        assert!(RuleSet::build(vec![spec("a", "(k.)"), spec("a", "(k.)")], &[]).is_err());
        let e = RuleSet::build(vec![spec("a", "k.")], &[]).unwrap_err();
        assert!(e.to_string().contains("capture group"), "{e}");
        let e = RuleSet::build(vec![spec("a", "(k")], &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml: rule `a`: bad regex"),
            "{e}"
        );
        let set =
            RuleSet::build(vec![spec("a", "(k.)"), spec("b", "(k..)")], &["b".into()]).unwrap();
        assert_eq!(set.rules.len(), 1);
    }

    #[test]
    fn builtin_rules_compile_on_first_use_user_rules_at_load() {
        let (origin, mut builtin) = spec("b", "(k[0-9]+)");
        builtin.builtin = true;
        let set = RuleSet::build(vec![(origin, builtin)], &[]).unwrap();
        assert!(set.rules[0].regex.get().is_none(), "compiled at load");
        assert!(set.rules[0].regex().is_match(b"k12"));
        assert!(set.rules[0].regex.get().is_some());
        let set = RuleSet::build(vec![spec("u", "(k[0-9]+)")], &[]).unwrap();
        assert!(
            set.rules[0].regex.get().is_some(),
            "user rule not compiled at load"
        );
    }

    /// The JSON build.rs embeds says what the TOML files say.
    #[test]
    fn builtin_json_parses_like_the_toml() {
        let from_json = builtin_specs().unwrap();
        let mut from_toml = Vec::new();
        for (name, text) in BUILTIN_PATTERNS {
            from_toml.extend(parse_rule_file(name, text).unwrap());
        }
        assert_eq!(from_json.len(), from_toml.len());
        assert!(from_json.len() > 700);
        for ((o1, a), (o2, b)) in from_json.iter().zip(&from_toml) {
            assert_eq!(o1, o2);
            let mut a = a.clone();
            a.builtin = false;
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{o1}");
        }
    }

    /// Built-in rules compile their allowlist and `severity_when` regexes on
    /// first use, where a bad one would panic: every one must compile.
    #[test]
    fn builtin_allowlist_and_severity_when_regexes_compile() {
        for (origin, spec) in builtin_specs().unwrap() {
            compile_allowlist(&spec).unwrap_or_else(|e| panic!("{origin} {}: {e}", spec.id));
            compile_severity_when(&spec).unwrap_or_else(|e| panic!("{origin} {}: {e}", spec.id));
        }
        let (origin, mut builtin) = spec("b", "(k[0-9]+)");
        builtin.builtin = true;
        builtin.allowlist = vec!["^k1".into()];
        let set = RuleSet::build(vec![(origin, builtin)], &[]).unwrap();
        assert!(set.rules[0].allowlist.get().is_none(), "compiled at load");
        assert!(set.rules[0].allowlist()[0].is_match(b"k12"));
    }

    #[test]
    fn rejects_bad_paths_and_severity_when_regexes() {
        let bad_glob =
            "id = 'a'\nname = 'n'\nkeywords = ['k']\nregex = '''(k.)'''\npaths = ['a/{b']";
        let spec = toml::from_str(bad_glob).unwrap();
        let e = RuleSet::build(vec![("t.toml".into(), spec)], &[]).unwrap_err();
        assert!(e.to_string().contains("bad paths"), "{e}");
        let bad_re = "id = 'a'\nname = 'n'\nkeywords = ['k']\nregex = '''(k.)'''\nseverity_when = [{ regex = '(', severity = 'low' }]";
        let spec = toml::from_str(bad_re).unwrap();
        let e = RuleSet::build(vec![("t.toml".into(), spec)], &[]).unwrap_err();
        assert!(e.to_string().contains("bad severity_when regex"), "{e}");
    }

    #[test]
    fn entropy() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-9);
    }
}
