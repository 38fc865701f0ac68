//! `[rule.verify]`: how to ask a provider whether a secret works, as data
//! beside the rule, so most providers need no code.
//!
//! ```toml
//! [rule.verify]
//! url = "https://api.github.com/user"           # https only; host fixed here
//! headers = { Authorization = "token {secret}" }
//! live = { status = [200] }                    # all given conditions must hold
//! invalid = { status = [401] }                 # default: 401 or 403
//! identity = { user = "/login" }               # JSON pointer, or `<Tag>` in XML
//! ```
//!
//! Placeholders: `{secret}` is the value found; `capture` is a regex applied
//! to the value whose named groups become placeholders too (`{id}`,
//! `{key}`), for values that pack several parts. `module` names a code
//! verifier for signature schemes (`aws-sts`).
//!
//! A credential that needs a second value (an e-mail, an account SID, the
//! shop it belongs to) takes it from the same file or blob:
//!
//! ```toml
//! [rule.verify]
//! url = "https://{shop}.myshopify.com/admin/oauth/access_scopes.json"
//! [rule.verify.context]
//! shop = '(?i)\b([a-z0-9][a-z0-9-]{0,62})\.myshopify\.com\b'
//! ```
//!
//! Each `context` regex is searched in the blob the secret was found in
//! (by the scan, while it has the blob); its first capture group that took
//! part is the value (a regex without groups: the whole match). `{secret}`
//! inside one stands for the secret, regex-escaped, so the value can be
//! tied to the secret's own entry. The [`MAX_VALUES`] distinct values per
//! name nearest to the secret are tried; with none found nothing is sent
//! (`unknown`).
//!
//! The host is literal, with two exceptions that cannot move a secret
//! off the provider: `https://{name}.fixed.suffix/…`, where `{name}` is a
//! capture group or context value that must be one DNS label (checked in
//! code: `[a-z0-9-]`, no dot, so only the label under the provider's own
//! suffix varies), and `https://{host}/…` with `self_hosted`, which is
//! sent only to the hosts the config allow-lists for that kind.

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    #[serde(default = "default_method")]
    pub method: String,
    /// `https://host/path?query`; placeholders only after the host.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// HTTP basic authentication, `[user, password]` (placeholders allowed).
    #[serde(default)]
    pub basic_auth: Option<[String; 2]>,
    #[serde(default)]
    pub body: Option<String>,
    /// Regex over the secret; its named groups are placeholders.
    #[serde(default)]
    pub capture: Option<String>,
    #[serde(default)]
    pub live: Matcher,
    #[serde(default)]
    pub invalid: Option<Matcher>,
    /// Name -> where in the response: `/json/pointer` or `<XmlTag>`.
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
    /// A code verifier instead of a request template (`aws-sts`).
    #[serde(default)]
    pub module: Option<String>,
    /// The provider also runs self-hosted (`gitlab`): the same request is
    /// sent to the hosts the config allow-lists for this kind
    /// (`[verification.self-hosted] gitlab = [...]`), never to a host
    /// found in a scanned file. With `https://{host}/…` as the url there
    /// is no default host: only the allow-listed ones are asked.
    #[serde(default)]
    pub self_hosted: Option<String>,
    /// Name -> regex searched in the secret's blob: second values the
    /// request needs (see the module documentation).
    #[serde(default)]
    pub context: BTreeMap<String, String>,
}

/// Distinct values of one `context` name tried, in the order found.
pub const MAX_VALUES: usize = 3;

/// Where a spec's requests go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostSpec<'a> {
    /// Written in the spec.
    Literal(&'a str),
    /// `{name}.suffix`: one validated DNS label under a fixed suffix.
    Label { name: &'a str, suffix: &'a str },
    /// `{host}`: only the hosts the config allow-lists (`self_hosted`).
    AllowListed,
}

impl std::fmt::Display for HostSpec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostSpec::Literal(h) => f.write_str(h),
            HostSpec::Label { suffix, .. } => write!(f, "*.{suffix}"),
            HostSpec::AllowListed => f.write_str("allow-listed hosts"),
        }
    }
}

/// One DNS label, as a host template's `{name}` must be: lowercase letters,
/// digits and inner hyphens, 1 to 63 characters. No dot, so the value
/// cannot reach out of the spec's suffix; no `/`, `@`, `:` or `%`, so it
/// cannot become a path, userinfo or port.
pub fn is_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && !v.starts_with('-')
        && !v.ends_with('-')
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A `context` regex with `{secret}` standing for the (escaped) secret.
pub fn context_regex(template: &str, secret: &str) -> Result<regex::bytes::Regex, String> {
    let re = template.replace("{secret}", &regex::escape(secret));
    regex::bytes::RegexBuilder::new(&re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("verify: context: {e}"))
}

/// [`context_regex`], compiled once per run for a template that does not
/// name the secret (most): a history scan may meet thousands of blobs with
/// a finding of the same rule.
fn cached_context_regex(
    template: &str,
    secret: &str,
) -> Result<std::sync::Arc<regex::bytes::Regex>, String> {
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<BTreeMap<String, Arc<regex::bytes::Regex>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    if template.contains("{secret}") {
        return context_regex(template, secret).map(Arc::new);
    }
    // Shared, not cloned: a clone of a `Regex` starts with empty search
    // caches, and rebuilding them per blob costs more than the search.
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().ok().and_then(|m| m.get(template).cloned()) {
        return Ok(re);
    }
    let re = Arc::new(context_regex(template, secret)?);
    if let Ok(mut m) = cache.lock() {
        m.insert(template.to_string(), re.clone());
    }
    Ok(re)
}

/// A spec's `capture` regex, compiled once per run: every request of a
/// verification run is built (and its spec validated) with it.
pub fn capture_regex(pattern: &str) -> Result<std::sync::Arc<Regex>, String> {
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<BTreeMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().ok().and_then(|m| m.get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Arc::new(Regex::new(pattern).map_err(|e| format!("verify: capture: {e}"))?);
    if let Ok(mut m) = cache.lock() {
        m.insert(pattern.to_string(), re.clone());
    }
    Ok(re)
}

/// Where each `context` regex matched in a blob: name -> (offset, value),
/// in blob order, at most [`MAX_MATCHES`] per name. Values that are not
/// plain text (control characters, quotes, backslashes, spaces) are
/// skipped: they are going into headers, URLs and bodies.
pub type ContextMatches = Vec<(String, Vec<(usize, String)>)>;

/// Matches of one context regex looked at in a blob.
pub const MAX_MATCHES: usize = 1024;

pub fn context_matches(spec: &VerifySpec, secret: &str, blob: &[u8]) -> ContextMatches {
    let mut out = Vec::new();
    for (name, template) in &spec.context {
        let mut found: Vec<(usize, String)> = Vec::new();
        if let Ok(re) = cached_context_regex(template, secret) {
            for caps in re.captures_iter(blob).take(MAX_MATCHES) {
                let m = (1..caps.len())
                    .find_map(|i| caps.get(i))
                    .or_else(|| caps.get(0));
                let Some(m) = m else { continue };
                let Ok(v) = std::str::from_utf8(m.as_bytes()) else {
                    continue;
                };
                if v.is_empty()
                    || v.len() > 256
                    || v.chars()
                        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\\'))
                {
                    continue;
                }
                found.push((m.start(), v.to_string()));
            }
        }
        out.push((name.clone(), found));
    }
    out
}

/// Up to [`MAX_VALUES`] distinct values per name, nearest to the secret
/// (at byte `at` of the blob) first: in a file with many e-mails, the one
/// next to the key is the likely pair. Never the secret itself.
pub fn nearest(matches: &ContextMatches, at: usize, secret: &str) -> Vec<(String, Vec<String>)> {
    matches
        .iter()
        .map(|(name, found)| {
            let mut best: Vec<(usize, &str)> = Vec::new();
            for (off, v) in found {
                if v == secret {
                    continue;
                }
                let d = off.abs_diff(at);
                match best.iter_mut().find(|(_, x)| *x == v.as_str()) {
                    Some(e) => e.0 = e.0.min(d),
                    None => best.push((d, v)),
                }
            }
            best.sort_by_key(|(d, _)| *d);
            (
                name.clone(),
                best.iter()
                    .take(MAX_VALUES)
                    .map(|(_, v)| v.to_string())
                    .collect(),
            )
        })
        .collect()
}

/// The values each `context` regex finds in `blob` for `secret` found at
/// byte `at`: [`context_matches`], then the [`nearest`] ones.
pub fn context_values(
    spec: &VerifySpec,
    secret: &str,
    blob: &[u8],
    at: usize,
) -> Vec<(String, Vec<String>)> {
    nearest(&context_matches(spec, secret, blob), at, secret)
}

fn default_method() -> String {
    "GET".into()
}

/// Conditions on a response; every one given must hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    #[serde(default)]
    pub status: Vec<u16>,
    /// The body contains this text.
    #[serde(default)]
    pub body: Option<String>,
    /// The body does not contain this text.
    #[serde(default)]
    pub body_lacks: Option<String>,
}

impl Matcher {
    pub fn matches(&self, status: u16, body: &str) -> bool {
        (self.status.is_empty() || self.status.contains(&status))
            && self.body.as_ref().is_none_or(|b| body.contains(b.as_str()))
            && self
                .body_lacks
                .as_ref()
                .is_none_or(|b| !body.contains(b.as_str()))
    }
}

pub const MODULES: &[&str] = &["aws-sts", "azure-shared-key", "gcp-jwt"];

impl VerifySpec {
    /// The host the spec's URL names, when it is literal. Checked by
    /// [`VerifySpec::validate`].
    pub fn host(&self) -> Option<&str> {
        match self.host_spec()? {
            HostSpec::Literal(h) => Some(h),
            _ => None,
        }
    }

    /// The URL's host part as written (`api.x.com`, `{shop}.myshopify.com`).
    pub fn host_template(&self) -> Option<&str> {
        let rest = self.url.strip_prefix("https://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Some(&rest[..end])
    }

    /// Where the spec sends its requests: a literal host, one label under
    /// a literal suffix, or the allow-listed self-hosted instances.
    pub fn host_spec(&self) -> Option<HostSpec<'_>> {
        let host = self.host_template()?;
        let literal = |h: &str| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
        };
        if literal(host) {
            return Some(HostSpec::Literal(host));
        }
        if host == "{host}" {
            return self.self_hosted.is_some().then_some(HostSpec::AllowListed);
        }
        let (label, suffix) = host.split_once('.')?;
        let name = label.strip_prefix('{')?.strip_suffix('}')?;
        // The suffix is the provider's own domain: at least two labels.
        (is_name(name) && name != "host" && literal(suffix) && suffix.contains('.'))
            .then_some(HostSpec::Label { name, suffix })
    }

    /// Why the spec cannot be used, if it cannot: a secret may only go over
    /// HTTPS to the host written in the spec, so the URL must be `https://`
    /// with a literal host (no placeholder, no userinfo).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(m) = &self.module {
            if !MODULES.contains(&m.as_str()) {
                return Err(format!(
                    "verify: unknown module `{m}` (known: {})",
                    MODULES.join(", ")
                ));
            }
            return Ok(());
        }
        if !self.url.starts_with("https://") {
            return Err("verify: url must start with https://".into());
        }
        let Some(host_spec) = self.host_spec() else {
            return Err(
                "verify: the url's host must be literal, `{name}.provider.suffix` or `{host}` with self_hosted (no userinfo)".into(),
            );
        };
        if !matches!(self.method.as_str(), "GET" | "POST" | "HEAD") {
            return Err(format!(
                "verify: method `{}` (GET, POST or HEAD)",
                self.method
            ));
        }
        if self.live.status.is_empty() && self.live.body.is_none() {
            return Err("verify: `live` needs a status or body condition".into());
        }
        let groups = match &self.capture {
            Some(c) => capture_regex(c)?
                .capture_names()
                .flatten()
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        for (name, re) in &self.context {
            if !is_name(name) || matches!(name.as_str(), "secret" | "host") {
                return Err(format!("verify: context name `{name}`"));
            }
            if groups.iter().any(|g| g == name) {
                return Err(format!(
                    "verify: `{name}` is both a capture group and a context value"
                ));
            }
            cached_context_regex(re, "x")?;
        }
        if let HostSpec::Label { name, .. } = host_spec
            && !groups.iter().any(|g| g == name)
            && !self.context.contains_key(name)
        {
            return Err(format!(
                "verify: the host's `{{{name}}}` is neither a named group of `capture` nor a context value"
            ));
        }
        // The host template is checked above; placeholders after it.
        let after_host = &self.url["https://".len() + self.host_template().map_or(0, str::len)..];
        let mut texts: Vec<&str> = vec![after_host];
        texts.extend(self.headers.values().map(String::as_str));
        texts.extend(self.body.as_deref());
        if let Some([u, p]) = &self.basic_auth {
            texts.push(u);
            texts.push(p);
        }
        for t in texts {
            for name in placeholders(t) {
                if name != "secret"
                    && !groups.iter().any(|g| g == name)
                    && !self.context.contains_key(name)
                {
                    return Err(format!(
                        "verify: placeholder `{{{name}}}` is neither `secret`, a named group of `capture` nor a context value"
                    ));
                }
            }
        }
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("host") {
                return Err("verify: the Host header comes from the url".into());
            }
            if v.contains(['\r', '\n']) {
                return Err(format!("verify: header `{k}` has a line break"));
            }
        }
        Ok(())
    }
}

/// Whether `{name}` is a placeholder: an identifier. Anything else in
/// braces (a JSON body, a GraphQL query) is literal text.
fn is_name(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names inside `{…}` in a template.
pub fn placeholders(t: &str) -> impl Iterator<Item = &str> {
    t.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n))
        .filter(|n| is_name(n))
}

/// Replace `{name}` with `lookup(name)`; unknown names stay as written.
pub fn fill(t: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.split_once('}') {
            Some((name, tail)) if is_name(name) => {
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = tail;
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Percent-encode a value placed into a URL, so a value with `/`, `?`,
/// `#` or `@` cannot change where the request goes.
pub fn url_encode(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> VerifySpec {
        VerifySpec {
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::new(),
            basic_auth: None,
            body: None,
            capture: None,
            live: Matcher {
                status: vec![200],
                ..Default::default()
            },
            invalid: None,
            identity: BTreeMap::new(),
            module: None,
            self_hosted: None,
            context: BTreeMap::new(),
        }
    }

    #[test]
    fn only_https_with_a_literal_host_is_accepted() {
        assert!(spec("https://api.github.com/user").validate().is_ok());
        assert_eq!(
            spec("https://api.github.com/user").host(),
            Some("api.github.com")
        );
        assert!(spec("http://api.github.com/user").validate().is_err());
        assert!(spec("https://{host}/api").validate().is_err());
        assert!(spec("https://{secret}@evil.example/").validate().is_err());
        assert!(spec("https://api.x.com/{nope}").validate().is_err());
        assert!(
            spec("https://api.telegram.org/bot{secret}/getMe")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn a_host_is_literal_one_label_under_a_fixed_suffix_or_allow_listed() {
        let mut s = spec("https://{dc}.api.mailchimp.com/3.0/");
        assert!(s.validate().is_err(), "{{dc}} must come from somewhere");
        s.capture = Some("-(?P<dc>us[0-9]{1,2})$".into());
        s.validate().unwrap();
        assert_eq!(
            s.host_spec(),
            Some(HostSpec::Label {
                name: "dc",
                suffix: "api.mailchimp.com"
            })
        );
        assert_eq!(s.host(), None);
        for bad in [
            "https://{dc}/3.0/",
            "https://{dc}.com/",
            "https://x.{dc}.mailchimp.com/",
            "https://{dc}{dc}.api.mailchimp.com/",
            "https://{dc}.api.mailchimp.com@evil.example/",
            "https://{host}/api",
        ] {
            let mut t = spec(bad);
            t.capture = s.capture.clone();
            assert!(t.validate().is_err(), "{bad}");
        }
        let mut o = spec("https://{host}/api/v1/users/me");
        o.self_hosted = Some("okta".into());
        o.validate().unwrap();
        assert_eq!(o.host_spec(), Some(HostSpec::AllowListed));
        assert!(is_label("us21") && is_label("acme-prod") && is_label("a"));
        let long = "a".repeat(64);
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a.b",
            "a/b",
            "a:1",
            "a@b",
            long.as_str(),
        ] {
            assert!(!is_label(bad), "{bad}");
        }
    }

    #[test]
    fn context_names_are_checked() {
        let mut s = spec("https://api.cloudflare.com/client/v4/user");
        s.headers.insert("X-Auth-Email".into(), "{email}".into());
        assert!(s.validate().is_err());
        s.context
            .insert("email".into(), r"([\w.+-]+@[\w.-]+)".into());
        s.validate().unwrap();
        s.context.insert("secret".into(), "x".into());
        assert!(s.validate().is_err());
        s.context.remove("secret");
        s.context.insert("bad".into(), "(".into());
        assert!(s.validate().is_err());
    }

    #[test]
    fn values_in_urls_cannot_move_the_request() {
        assert_eq!(url_encode("a/b?c#d@e f"), "a%2Fb%3Fc%23d%40e%20f");
        assert_eq!(url_encode("123:ABC-_x"), "123:ABC-_x");
    }

    #[test]
    fn fill_replaces_known_names_only() {
        let f = |n: &str| (n == "secret").then(|| "S".to_string());
        assert_eq!(fill("a {secret} {other} {", &f), "a S {other} {");
        assert_eq!(
            fill(r#"{"q":"{ me { id } }","t":"{secret}"}"#, &f),
            r#"{"q":"{ me { id } }","t":"S"}"#
        );
        assert_eq!(
            placeholders(r#"{"query":"{ actor { user } }"} {}"#).count(),
            0
        );
    }

    #[test]
    fn matchers_need_every_condition() {
        let m = Matcher {
            status: vec![200],
            body: Some("\"ok\":true".into()),
            body_lacks: None,
        };
        assert!(m.matches(200, r#"{"ok":true}"#));
        assert!(!m.matches(200, r#"{"ok":false}"#));
        assert!(!m.matches(401, r#"{"ok":true}"#));
    }
}
