//! `.gitops-guard.toml`: resolved once, before the scan.
//!
//! ```toml
//! fail-on = "medium"                 # lowest severity that fails the run
//! exclude = ["fixtures/**"]          # paths never scanned
//!
//! [allowlist]
//! paths = ["docs/**"]                # scanned, but findings there are suppressed
//! regexes = ['''^dev-only-''']        # findings whose secret matches are suppressed
//! fingerprints = ["p1:3f2a…"]        # findings with these fingerprints are suppressed
//!
//! [rules]
//! disable = ["generic-secret-assignment"]
//! severity = { "jwt" = "low" }
//!
//! [secrets]
//! decode-depth = 2                   # layers of base64/hex/… undone (0: off)
//!
//! [limits]
//! large-files = ["charts/*.tgz"]     # blobs over the size limit that may pass unscanned
//! archive-depth = 2                  # archive layers opened (0: none)
//! archive-max-bytes = 268435456      # inflated bytes per archive, all layers
//! archive-max-ratio = 100            # inflated/compressed cap per stream (above 1 MiB)
//! archive-max-members = 10000        # members per archive
//!
//! verify = false                     # `scan` checks found secrets with their provider (--verify)
//!
//! [verification]
//! concurrency = 8                    # requests in flight
//! per-host-interval-ms = 100         # least time between requests to one host
//! timeout-secs = 10                  # per request
//! retries = 2                        # after 429/503 or a network error
//! cache = ".gitops-guard-verify-cache.json"  # keyed by HMAC (needs GITOPS_GUARD_HMAC_KEY)
//! cache-ttl-hours = 24
//! self-hosted = { gitlab = ["gitlab.example.com"] }  # also ask these instances
//! # Okta and Auth0 tenants are asked only when listed here:
//! # self-hosted = { okta = ["corp.okta.com"], auth0 = ["corp.eu.auth0.com"] }
//!
//! [[rule]]                            # extra rules, in the patterns/*.toml format
//! id = "acme-token"
//! …
//! ```

use crate::error::Error;
use crate::finding::Severity;
use crate::rules::RuleSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".gitops-guard.toml";

/// Environment variable naming a config file (`--config` wins over it).
pub const ENV_VAR: &str = "GITOPS_GUARD_CONFIG";

/// The nearest `.gitops-guard.toml` from `root` up to its repository root
/// (the first ancestor holding `.git`); without a repository, `root` only.
fn find_upwards(root: &Path) -> Option<PathBuf> {
    let dir = if root.is_dir() {
        root
    } else {
        root.parent().filter(|p| !p.as_os_str().is_empty())?
    };
    let candidate = dir.join(FILE_NAME);
    if candidate.is_file() {
        return Some(candidate);
    }
    let top = repo_root(dir)?;
    let abs = std::fs::canonicalize(dir).ok()?;
    for a in abs.ancestors().skip(1) {
        if !a.starts_with(&top) {
            break;
        }
        let candidate = a.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    None
}

/// The work tree root of the repository `path` lies in: the nearest
/// ancestor (itself included) with a `.git` directory or file, canonical.
pub fn repo_root(path: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(path).ok()?;
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The closest of `candidates` to `word` by Jaro-Winkler similarity, when
/// close enough to be a typo (a transposition, a missing letter) rather
/// than another word: `plaintext-secert-manifest` finds
/// `plaintext-secret-manifest`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub fail_on: Option<Severity>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub allowlist: Allowlist,
    #[serde(default)]
    pub rules: RulesConfig,
    /// Extra secret rules, in the patterns format.
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// `scan` verifies found secrets as with `--verify`. The hooks never
    /// verify.
    #[serde(default)]
    pub verify: bool,
    #[serde(default)]
    pub verification: VerificationConfig,
    /// Rendering of Helm charts (and Kustomize roots) before the policy
    /// checks; `--no-render` turns it off.
    #[serde(default)]
    pub render: RenderConfig,
    /// Where the config was read from, for messages (`None`: defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule and check ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity overrides by rule or check id.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

/// `[render]`: rendering Kustomize roots before the policy checks.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RenderConfig {
    /// Render at all (default true; `--no-render` turns it off for one run).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Wall-time limit of one build, in seconds (default 60).
    #[serde(default = "sixty")]
    pub timeout_seconds: u64,
    /// Extra `kustomize build` options for every root, as Argo CD's
    /// `kustomize.buildOptions` writes them (`--load-restrictor
    /// LoadRestrictionsNone`; nothing else is passed).
    #[serde(default)]
    pub kustomize_build_options: Option<String>,
}

fn yes() -> bool {
    true
}

fn sixty() -> u64 {
    60
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            enabled: true,
            timeout_seconds: 60,
            kustomize_build_options: None,
        }
    }
}

/// What may pass without being read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsConfig {
    /// Globs of paths whose blobs may be larger than the size limit. A blob
    /// over the limit is never read; in the hooks and in range scans it
    /// blocks (its content was not judged), unless its path matches one of
    /// these (a vendored chart archive, a test fixture). It is then listed
    /// as skipped, never silently.
    #[serde(default)]
    pub large_files: Vec<String>,
    /// Archive layers opened and scanned member by member (default 2: a
    /// zip inside a chart .tgz; 0 turns archive opening off). See
    /// [`crate::archive`] for all four limits and their defaults.
    #[serde(default)]
    pub archive_depth: Option<usize>,
    /// Inflated bytes allowed per outermost archive blob.
    #[serde(default)]
    pub archive_max_bytes: Option<u64>,
    /// Largest inflated/compressed ratio of one stream.
    #[serde(default)]
    pub archive_max_ratio: Option<u64>,
    /// Members allowed per archive.
    #[serde(default)]
    pub archive_max_members: Option<usize>,
}

/// Settings of `scan --verify` (defaults: [`crate::verify::VerifyOptions`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VerificationConfig {
    #[serde(default)]
    pub concurrency: Option<usize>,
    #[serde(default)]
    pub per_host_interval_ms: Option<u64>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub retries: Option<u32>,
    /// File of results kept across runs, keyed by an HMAC under
    /// `GITOPS_GUARD_HMAC_KEY` (no key: no cache).
    #[serde(default)]
    pub cache: Option<PathBuf>,
    #[serde(default)]
    pub cache_ttl_hours: Option<u64>,
    /// Self-hosted instances a verifier may also ask, per kind:
    /// `gitlab = ["gitlab.example.com"]`; for tenant-only kinds (`okta`,
    /// `auth0`) the only hosts asked. The only way a secret goes to a
    /// host not written in the built-in verifier (besides one validated
    /// label under a verifier's fixed suffix).
    #[serde(default)]
    pub self_hosted: BTreeMap<String, Vec<String>>,
}

impl VerificationConfig {
    pub fn options(&self) -> crate::verify::VerifyOptions {
        let d = crate::verify::VerifyOptions::default();
        crate::verify::VerifyOptions {
            concurrency: self.concurrency.unwrap_or(d.concurrency).clamp(1, 64),
            per_host_interval: self
                .per_host_interval_ms
                .map_or(d.per_host_interval, std::time::Duration::from_millis),
            timeout: self.timeout_secs.map_or(d.timeout, |s| {
                std::time::Duration::from_secs(s.clamp(1, 120))
            }),
            retries: self.retries.unwrap_or(d.retries).min(5),
            self_hosted: self.self_hosted.clone(),
            ..d
        }
    }
}

/// Settings of the secrets engine.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsConfig {
    /// How many layers of encoding (base64, base64url, hex, percent, `\u`
    /// escapes) are undone to look for secrets; 0 turns decoding off
    /// (default: `detect::decode::DEFAULT_DEPTH`).
    #[serde(default)]
    pub decode_depth: Option<u8>,
}

impl SecretsConfig {
    /// The depth in effect; an error past `detect::decode::MAX_DEPTH`.
    pub fn depth(&self) -> Result<u8, String> {
        use crate::detect::decode::{DEFAULT_DEPTH, MAX_DEPTH};
        match self.decode_depth {
            None => Ok(DEFAULT_DEPTH),
            Some(d) if d <= MAX_DEPTH => Ok(d),
            Some(d) => Err(format!(
                "[secrets] decode-depth = {d}: at most {MAX_DEPTH} (0 turns decoding off)"
            )),
        }
    }
}

/// Settings of the `policy` checks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Registries images may come from (`trusted-registries` runs only when set).
    #[serde(default)]
    pub trusted_registries: Vec<String>,
    /// Labels every workload must carry (default: app, owner, env).
    #[serde(default)]
    pub required_labels: Option<Vec<String>>,
}

impl Config {
    /// Warnings for rule ids in `[rules] disable` and `[rules] severity`
    /// that name no rule or check (a typo there silently kept a noisy rule
    /// on, or a severity unchanged), each with a suggestion when one is close.
    pub fn unknown_rule_ids(&self, known: &[&str]) -> Vec<String> {
        let origin = self
            .source
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
        let mut out = Vec::new();
        let named = self
            .rules
            .disable
            .iter()
            .map(|id| ("disable", id))
            .chain(self.rules.severity.keys().map(|id| ("severity", id)));
        for (key, id) in named {
            if known.contains(&id.as_str()) {
                continue;
            }
            let hint = did_you_mean(id, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            out.push(format!(
                "{origin}: [rules] {key}: no rule or check `{}`{hint}; see `gitops-guard rules list`",
                crate::sanitize::escape_control(id)
            ));
        }
        out
    }

    /// The config in effect, found the way ruff finds its own: `explicit`
    /// (`--config`) wins, then `$GITOPS_GUARD_CONFIG` when set and
    /// non-empty, then the nearest `.gitops-guard.toml` from `root` (a file's
    /// directory) up to the repository root, so scanning `apps/api` obeys
    /// the config at the top of the repository. Outside a repository only
    /// `root` itself is looked at: a stray config in `/tmp` or `$HOME` must
    /// not silently change a scan. None found: defaults.
    pub fn discover(explicit: Option<&Path>, root: &Path) -> Result<Config, Error> {
        let from_env = std::env::var_os(ENV_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let path = match explicit.map(Path::to_path_buf).or(from_env) {
            Some(p) => p,
            None => match find_upwards(root) {
                Some(p) => p,
                None => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let mut config =
            Config::parse(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        config.source = Some(path);
        config.secrets.depth().map_err(|e| {
            Error::Config(format!(
                "{}: {e}",
                config
                    .source
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            ))
        })?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(
            r#"
fail-on = "high"
exclude = ["fixtures/**"]
[allowlist]
paths = ["docs/**"]
regexes = ["^dev-"]
fingerprints = ["abc"]
[rules]
disable = ["jwt"]
severity = { "generic-secret-assignment" = "low" }
[policy]
trusted-registries = ["ghcr.io/acme/"]
[limits]
large-files = ["charts/*.tgz"]
archive-depth = 1
archive-max-ratio = 50
[secrets]
decode-depth = 1
[[rule]]
id = "acme"
name = "Acme token"
keywords = ["acme_"]
regex = '(acme_[a-z]{8})'
"#,
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Severity::High));
        assert_eq!(c.rule.len(), 1);
        assert_eq!(c.rules.severity["generic-secret-assignment"], Severity::Low);
        assert_eq!(c.limits.large_files, vec!["charts/*.tgz"]);
        assert_eq!(c.limits.archive_depth, Some(1));
        assert_eq!(c.limits.archive_max_ratio, Some(50));
        assert_eq!(c.limits.archive_max_bytes, None);
        assert!(Config::parse("[limits]\nlarge-file = []\n").is_err());
        assert_eq!(c.secrets.depth(), Ok(1));
        assert_eq!(Config::default().secrets.depth(), Ok(2));
        let deep = Config::parse("[secrets]\ndecode-depth = 9\n").unwrap();
        assert!(deep.secrets.depth().is_err());
        assert!(Config::parse("[secrets]\ndecode-depth = -1\n").is_err());
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let e = Config::parse("fail-on = \"high\"\nexclud = []\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(Config::parse("fail-on = \"severe\"").is_err());
    }
}
