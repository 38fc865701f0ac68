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
    /// found in a scanned file.
    #[serde(default)]
    pub self_hosted: Option<String>,
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
    /// The host the spec's URL names. Checked by [`VerifySpec::validate`].
    pub fn host(&self) -> Option<&str> {
        let rest = self.url.strip_prefix("https://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = &rest[..end];
        (!host.is_empty() && !host.contains(['{', '}', '@'])).then_some(host)
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
        if self.host().is_none() {
            return Err(
                "verify: the url's host must be literal (no placeholders or userinfo)".into(),
            );
        }
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
            Some(c) => Regex::new(c)
                .map_err(|e| format!("verify: capture: {e}"))?
                .capture_names()
                .flatten()
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        let mut texts: Vec<&str> = vec![&self.url];
        texts.extend(self.headers.values().map(String::as_str));
        texts.extend(self.body.as_deref());
        if let Some([u, p]) = &self.basic_auth {
            texts.push(u);
            texts.push(p);
        }
        for t in texts {
            for name in placeholders(t) {
                if name != "secret" && !groups.iter().any(|g| g == name) {
                    return Err(format!(
                        "verify: placeholder `{{{name}}}` is neither `secret` nor a named group of `capture`"
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
