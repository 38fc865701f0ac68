//! Filters run after detection, so `--show-suppressed` and baseline updates
//! see everything. Inline comments are applied by the scan pipeline (it has
//! the line); here: config allowlist, severity overrides, baseline.

use crate::config::Config;
use crate::error::Error;
use crate::finding::{Finding, Suppression, is_current_fingerprint};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use std::collections::HashSet;
use std::path::Path;

/// Build a glob set where a pattern without `/` matches at any depth, as in
/// `.gitignore`.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./");
        let mut add = |pat: &str| -> Result<(), Error> {
            b.add(Glob::new(pat).map_err(|e| Error::Config(format!("bad glob `{pat}`: {e}")))?);
            Ok(())
        };
        add(p)?;
        if !p.contains('/') {
            add(&format!("**/{p}"))?;
        }
        // `dir/` or `dir` also excludes what is under it
        let trimmed = p.trim_end_matches('/');
        if !trimmed.contains('*') {
            add(&format!("{trimmed}/**"))?;
        }
    }
    b.build().map_err(|e| Error::Config(e.to_string()))
}

/// The config's allowlist, compiled.
pub struct Allowlist {
    paths: GlobSet,
    regexes: Vec<Regex>,
    fingerprints: HashSet<String>,
}

impl Allowlist {
    pub fn new(config: &Config) -> Result<Allowlist, Error> {
        let regexes = config
            .allowlist
            .regexes
            .iter()
            .map(|r| {
                Regex::new(r).map_err(|e| Error::Config(format!("allowlist regex `{r}`: {e}")))
            })
            .collect::<Result<_, _>>()?;
        if let Some(old) = config
            .allowlist
            .fingerprints
            .iter()
            .find(|f| !is_current_fingerprint(f))
        {
            // The entry is an unkeyed hash of a secret: the error (read in
            // CI logs) names it by a short prefix only.
            let shown: String = old.chars().take(8).collect();
            return Err(Error::Config(format!(
                "allowlist fingerprint `{shown}…` has the old format (an unkeyed hash of the secret): \
                 take the new fingerprint from `scan --format json` and replace it"
            )));
        }
        Ok(Allowlist {
            paths: glob_set(&config.allowlist.paths)?,
            regexes,
            fingerprints: config.allowlist.fingerprints.iter().cloned().collect(),
        })
    }

    /// Whether a `regexes` entry matches a secret value.
    pub fn matches_value(&self, value: &str) -> bool {
        self.regexes.iter().any(|r| r.is_match(value))
    }

    fn reason(&self, f: &Finding) -> Option<String> {
        if self.paths.is_match(&f.location.path) {
            return Some("allowlisted path".into());
        }
        if let Some(s) = &f.secret
            && match s.kept() {
                // Replayed from the history cache: judged when it was found
                // (the allowlist is part of the cache's fingerprint).
                Some(k) => k.allowlisted_regex,
                None => self.matches_value(s.expose()),
            }
        {
            return Some("allowlisted regex".into());
        }
        if f.fingerprints()
            .iter()
            .any(|fp| self.fingerprints.contains(fp))
        {
            return Some("allowlisted fingerprint".into());
        }
        None
    }
}

/// Apply severity overrides and the allowlist.
pub fn apply_config(config: &Config, findings: &mut Vec<Finding>) -> Result<(), Error> {
    let allow = Allowlist::new(config)?;
    findings.retain(|f| !config.rules.disable.contains(&f.rule));
    for f in findings.iter_mut() {
        if let Some(sev) = config.rules.severity.get(&f.rule) {
            f.severity = *sev;
        }
        if f.suppressed.is_none()
            && let Some(reason) = allow.reason(f)
        {
            f.suppressed = Some(Suppression::Config { reason });
        }
    }
    Ok(())
}

/// Fingerprints of a previous JSON report (`--baseline`).
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read baseline {}: {e}", path.display())))?;
        Baseline::parse(&text)
            .map_err(|e| Error::Config(format!("baseline {} {e}", path.display())))
    }

    /// Read a baseline from its JSON text. Public so that the fuzz target
    /// (`fuzz/fuzz_targets/baseline_json.rs`) reaches the parser without a file;
    /// the error completes "baseline <path> …".
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("is not JSON: {e}"))?;
        let list = v
            .get("findings")
            .and_then(|f| f.as_array())
            .ok_or_else(|| "has no `findings` array".to_string())?;
        let fingerprints: HashSet<String> = list
            .iter()
            .filter_map(|f| {
                f.get("fingerprint")
                    .and_then(|x| x.as_str())
                    .map(str::to_string)
            })
            .collect();
        // A baseline from before keyed fingerprints holds unkeyed hashes of
        // the secrets (`fingerprint`, `secret_sha256`). Matching them would
        // mean computing such hashes again, and the file itself is the leak:
        // stop and say how to replace it.
        let legacy = list.iter().any(|f| f.get("secret_sha256").is_some())
            || fingerprints.iter().any(|f| !is_current_fingerprint(f));
        if legacy {
            return Err(format!(
                "was written by an older gitops-guard: its fingerprints are unkeyed \
                 hashes of the secrets, which let anyone holding the file test guesses offline. \
                 Delete it and write a new one with `gitops-guard baseline` (set {} first to \
                 key the fingerprints; see the README)",
                crate::finding::HMAC_KEY_ENV
            ));
        }
        Ok(Baseline { fingerprints })
    }

    /// Suppress what the baseline lists; return how many entries matched nothing.
    pub fn apply(&self, findings: &mut [Finding]) -> u64 {
        let mut used = HashSet::new();
        for f in findings.iter_mut() {
            // The keyed form, or the keyless one of a baseline written
            // before the key was set.
            let hit = f
                .fingerprints()
                .into_iter()
                .find(|fp| self.fingerprints.contains(fp));
            if let Some(fp) = hit {
                used.insert(fp);
                if f.suppressed.is_none() {
                    f.suppressed = Some(Suppression::Baseline);
                }
            }
        }
        (self.fingerprints.len() - used.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Category, Location, Severity};

    fn finding(path: &str, secret: &str) -> Finding {
        Finding::new(
            "r",
            Category::Secret,
            Severity::High,
            "m",
            Location {
                path: path.into(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 2,
            },
        )
        .with_secret(secret)
    }

    #[test]
    fn globs_match_like_gitignore() {
        let g = glob_set(&["fixtures".into(), "*.lock".into(), "docs/**/*.md".into()]).unwrap();
        assert!(g.is_match("fixtures/a/b.yaml"));
        assert!(g.is_match("deep/x/Cargo.lock"));
        assert!(g.is_match("docs/a/b.md"));
        assert!(!g.is_match("src/fixtures.rs"));
    }

    #[test]
    fn config_allowlist_and_overrides() {
        let config = Config::parse(
            "[allowlist]\npaths = ['docs/**']\nregexes = ['^dev-']\n[rules]\nseverity = { r = 'low' }\n",
        )
        .unwrap();
        let mut v = vec![
            finding("docs/a.md", "prod-Xy7"),
            finding("a.yaml", "dev-Xy7"),
            finding("a.yaml", "prod-Xy7"),
        ];
        apply_config(&config, &mut v).unwrap();
        assert!(v[0].suppressed.is_some() && v[1].suppressed.is_some());
        assert!(v[2].suppressed.is_none());
        assert_eq!(v[2].severity, Severity::Low);
    }

    #[test]
    fn legacy_allowlist_fingerprint_is_refused_without_printing_it_whole() {
        let legacy = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let config = Config::parse(&format!("[allowlist]\nfingerprints = ['{legacy}']\n")).unwrap();
        let Err(Error::Config(msg)) = Allowlist::new(&config) else {
            panic!("a legacy fingerprint must be a config error");
        };
        assert!(msg.contains("9f86d081"), "the entry is named by its prefix");
        assert!(
            !msg.contains(legacy),
            "the whole unkeyed hash is not printed"
        );
        let current = Config::parse("[allowlist]\nfingerprints = ['p1:00ff']\n").unwrap();
        assert!(Allowlist::new(&current).is_ok());
    }
}
