//! Secret-like key names: `DB_PASSWORD`, `apiKey`, `client-secret`,
//! `auth.token` — but not `PASSWORD_FILE`, `secretName`, `TOKEN_TTL`,
//! `existingSecret` or `AUTH_ENABLED`, which *configure* a secret rather than
//! hold one.
//!
//! A name is split into lower-case words at `_`, `-`, `.`, spaces and
//! camelCase boundaries (`dbPassword` → `db password`, `APIKey` → `api key`).
//! It is secret-like when some word (or adjacent pair, such as `api key`) is a
//! secret word, and it is *not* when:
//!
//! - its last word names a property of the secret rather than the secret
//!   (`file`, `path`, `name`, `url`, `enabled`, `ttl`, `type`, `id`, `user`,
//!   `ref`, `key` after `password`/`token` as in `passwordKey`, …), or
//! - some word marks a reference (`existing`, `ref`, `from`).
//!
//! Used by `secret-env-var` (env names), `helm-values-secret` (values keys,
//! Argo CD parameter names) and the exemptions of `plaintext-secret-manifest`.

/// Words that make a name secret-like on their own.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "secret",
    "apikey",
    "privatekey",
    "credential",
    "credentials",
    "creds",
    "accesskey",
    "secretkey",
    "clientsecret",
    "auth",
    "authkey",
    "authtoken",
    "authorization",
    "bearer",
    "jwt",
];

/// First words of two-word secret names: `api key`, `private key`, …
const KEY_PREFIXES: &[&str] = &[
    "api",
    "private",
    "access",
    "secret",
    "signing",
    "encryption",
    "master",
    "license",
    "account",
    "shared",
    "hmac",
    "session",
    "client",
    "service",
];

/// Last words that describe a secret instead of holding it.
const NON_SECRET_LAST: &[&str] = &[
    "file",
    "files",
    "filename",
    "path",
    "paths",
    "dir",
    "directory",
    "name",
    "names",
    "url",
    "uri",
    "urls",
    "endpoint",
    "host",
    "hosts",
    "port",
    "network",
    "networks",
    "cidr",
    "cidrs",
    "ip",
    "ips",
    "addr",
    "address",
    "addresses",
    "domain",
    "domains",
    "realm",
    "server",
    "servers",
    "enabled",
    "enable",
    "disabled",
    "disable",
    "ttl",
    "timeout",
    "expiry",
    "expires",
    "expiration",
    "lifetime",
    "duration",
    "age",
    "length",
    "len",
    "size",
    "bits",
    "type",
    "kind",
    "mode",
    "method",
    "methods",
    "header",
    "id",
    "ids",
    "user",
    "username",
    "login",
    "ref",
    "refs",
    "provider",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "format",
    "policy",
    "version",
    "count",
    "max",
    "min",
    "limit",
    "prefix",
    "suffix",
    "field",
    "location",
    "mount",
    "source",
    "namespace",
    "class",
    "rotation",
    "interval",
    "period",
    "hash",
    "algorithm",
    "algo",
    "alg",
    "config",
    "configuration",
    "settings",
    "options",
    "spec",
    "encoding",
    "regex",
    "pattern",
    "template",
    "strategy",
    "backend",
    "store",
    "manager",
    "annotations",
    "labels",
    "required",
    "generator",
    "create",
    "annotation",
    "label",
    "selector",
    "mountpath",
    "volume",
    "arn",
    "role",
    "tokens",
];

/// Words anywhere in the name that mark a reference to a secret kept
/// elsewhere (`existingSecret`, `secretKeyRef`, `passwordFrom`).
const REFERENCE_WORDS: &[&str] = &["existing", "ref", "from", "secretref", "keyref"];

/// The lower-case words of a key name.
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // fooBar → foo|Bar; APIKey → API|Key; but API stays whole.
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a key name says its value is a secret (see the module doc).
pub fn is_secret_name(name: &str) -> bool {
    let w = words(name);
    let Some(last) = w.last() else {
        return false;
    };
    if NON_SECRET_LAST.contains(&last.as_str()) {
        return false;
    }
    if w.iter().any(|x| REFERENCE_WORDS.contains(&x.as_str())) {
        return false;
    }
    // `passwordKey`, `tokenKey`: the name of the key that holds the secret.
    if last == "key"
        && w.len() >= 2
        && matches!(
            w[w.len() - 2].as_str(),
            "password" | "passwd" | "token" | "credentials" | "auth"
        )
    {
        return false;
    }
    // `pass` alone is too ambiguous except as the last word (`DB_PASS`).
    if last == "pass" && w.len() >= 2 {
        return true;
    }
    if w.iter().any(|x| SECRET_WORDS.contains(&x.as_str())) {
        return true;
    }
    w.windows(2)
        .any(|p| p[1] == "key" && KEY_PREFIXES.contains(&p[0].as_str()))
}

/// Whether a key name is URL-like (`DATABASE_URL`, `redisDsn`), i.e. its
/// value is worth a look for `user:password@`.
pub fn is_url_name(name: &str) -> bool {
    words(name)
        .last()
        .is_some_and(|l| matches!(l.as_str(), "url" | "uri" | "dsn" | "connection" | "string"))
}

/// Words without which no key is secret-named (see `is_secret_name`) and
/// no `kind: Secret` is written; matched ASCII case-insensitively, with the
/// secret rules' keyword index (cheaper per byte than a DFA). Every word is
/// made of key bytes, so all the hits inside one key decide alike and
/// overlapping hits change no answer.
static KEY_WORDS: std::sync::LazyLock<crate::rules::keywords::KeywordIndex> =
    std::sync::LazyLock::new(|| {
        let words: Vec<String> =
            "pass pwd secret token cred auth bearer jwt hmac apikey api_key api-key \
                 privatekey private_key private-key accesskey access_key access-key signingkey \
                 signing_key encryptionkey encryption_key masterkey master_key licensekey \
                 license_key accountkey account_key sharedkey shared_key sessionkey session_key \
                 clientkey client_key servicekey service_key"
                .split_whitespace()
                .map(String::from)
                .collect();
        crate::rules::keywords::KeywordIndex::new(&words)
    });

/// Whether the text may hold secret material a parse would find besides a
/// `kind: Secret` (checked apart): a secret word inside a key given a scalar
/// (`db_password: x`, `"apiKey" : "x"`, `TOKEN=x`: the word, more key
/// characters, the closing quote a JSON key needs, blanks, `:` or `=`, and
/// then not `{`, `[` or the end of the line). A word in prose or in a value
/// (`"title": "Secrets"`, Grafana dashboards, CRD descriptions, a JSON
/// schema's `"password": {…}`, a search index's text) is not enough to parse
/// a multi-MB file.
pub fn text_keys_a_secret(bytes: &[u8], json: bool) -> bool {
    let key_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    KEY_WORDS.find_all(bytes).into_iter().any(|m| {
        // The whole key around the word must be secret-named, as the checks
        // that parse decide it (`existingSecret:`, `passwordFile:` are not).
        let start = bytes[..m.start]
            .iter()
            .rposition(|b| !key_byte(b))
            .map_or(0, |i| i + 1);
        let end = bytes[m.end..]
            .iter()
            .position(|b| !key_byte(b))
            .map_or(bytes.len(), |i| m.end + i);
        if !std::str::from_utf8(&bytes[start..end]).is_ok_and(is_secret_name) {
            return false;
        }
        let mut rest = bytes[end..].iter().peekable();
        let quoted = rest.next_if(|b| matches!(b, b'"' | b'\'')).is_some();
        if json && !quoted {
            return false;
        }
        while rest.next_if(|b| matches!(b, b' ' | b'\t')).is_some() {}
        if rest
            .next_if(|b| **b == b':' || (!json && **b == b'='))
            .is_none()
        {
            return false;
        }
        while rest.next_if(|b| matches!(b, b' ' | b'\t')).is_some() {}
        let at = bytes.len() - rest.len();
        if matches!(bytes.get(at), None | Some(b'{' | b'[' | b'\n' | b'\r')) {
            return false;
        }
        // A value every check rejects as a placeholder (`changeme`,
        // `${VAR}`, `{{ .Values.x }}`) asks for no parse either.
        !scalar_on_line(bytes, at)
            .is_some_and(|v| crate::detect::placeholder::is_placeholder(v.trim()))
    })
}

/// The scalar that starts at `at` and ends on its line, when the bytes alone
/// say what it is: plain (up to a ` #` comment), or quoted without escapes,
/// and not continued on a more indented next line. `None` for anything a
/// parser would have to decide (block scalars, anchors, aliases, tags, flow
/// collections, escapes, multi-line scalars).
fn scalar_on_line(bytes: &[u8], at: usize) -> Option<&str> {
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    let line = &bytes[at..line_end];
    let value = match line.first()? {
        q @ (b'"' | b'\'') => {
            let close = line[1..].iter().position(|b| b == q)? + 1;
            let inner = &line[1..close];
            let after = &line[close + 1..];
            if inner.contains(&b'\\') || after.first() == Some(q) {
                return None;
            }
            inner
        }
        b'|' | b'>' | b'&' | b'*' | b'!' | b'{' | b'[' | b'%' | b'@' | b'`' => return None,
        _ => {
            // A comment starts at a `#` after a blank.
            let cut = line
                .windows(2)
                .position(|w| matches!(w[0], b' ' | b'\t') && w[1] == b'#')
                .unwrap_or(line.len());
            let plain = &line[..cut];
            // Inside a flow collection a plain scalar ends at `,` (or a
            // closing bracket): which part is the value only a parser
            // knows. A `,` in the text, or a collection opened before the
            // key on this line, may mean one.
            let opened = bytes[line_start..at]
                .iter()
                .any(|b| matches!(b, b'{' | b'['));
            if opened || plain.contains(&b',') {
                return None;
            }
            plain
        }
    };
    // A next line indented past the key continues the scalar (or nests).
    let indent = |l: &[u8]| l.iter().take_while(|&&b| b == b' ').count();
    let prefix = &bytes[line_start..at];
    let mut key_col = indent(prefix);
    while prefix.get(key_col) == Some(&b'-') && prefix.get(key_col + 1) == Some(&b' ') {
        key_col += 1 + prefix[key_col + 1..]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
    }
    let next = bytes[line_end..]
        .split(|&b| b == b'\n')
        .skip(1)
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()));
    if next.is_some_and(|n| indent(n) > key_col) {
        return None;
    }
    std::str::from_utf8(value)
        .ok()
        .map(|v| v.trim_end_matches('\r'))
}

/// Whether some `name:` key in the text is given a secret-named value
/// (`- name: DB_PASSWORD`, `"name": "API_TOKEN"`, `{name: token, value: x}`):
/// the env vars and name/value pairs the checks read, found without parsing.
/// A value the bytes cannot tell (an anchor, alias, tag or block scalar)
/// counts as maybe.
pub fn text_names_a_secret(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"name").any(|i| {
        if i > 0
            && !matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'{' | b',' | b'-'
            )
        {
            return false;
        }
        let mut j = i + 4;
        let blank = |j: &mut usize| {
            while matches!(bytes.get(*j), Some(b' ' | b'\t')) {
                *j += 1;
            }
        };
        if matches!(bytes.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        blank(&mut j);
        if bytes.get(j) != Some(&b':') {
            return false;
        }
        j += 1;
        blank(&mut j);
        match bytes.get(j) {
            Some(b'&' | b'!' | b'*' | b'|' | b'>') => return true,
            Some(b'"' | b'\'') => j += 1,
            _ => {}
        }
        let end = bytes[j..]
            .iter()
            .position(|b| matches!(b, b'"' | b'\'' | b'\n' | b'\r' | b',' | b'}' | b'#'))
            .map_or(bytes.len(), |p| j + p);
        if !std::str::from_utf8(&bytes[j..end]).is_ok_and(|v| is_secret_name(v.trim())) {
            return false;
        }
        // In a block list item, what matters is the item's `value:`.
        match block_item_value(bytes, i) {
            ItemValue::Absent => false,
            ItemValue::Unknown => true,
            ItemValue::At(at) => !scalar_on_line(bytes, at)
                .is_some_and(|v| crate::detect::placeholder::is_placeholder(v.trim())),
        }
    })
}

/// The `value:` of the block-style list item whose `name:` key is at `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ItemValue {
    /// The value's first byte.
    At(usize),
    /// The item has no `value:` key (`valueFrom:` instead, or nothing).
    Absent,
    /// Not a block item the bytes can read (flow style, JSON, odd layout).
    Unknown,
}

fn block_item_value(bytes: &[u8], at: usize) -> ItemValue {
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let prefix = &bytes[line_start..at];
    let spaces = prefix.iter().take_while(|&&b| b == b' ').count();
    let dashed = match &prefix[spaces..] {
        [] => false,
        [b'-', rest @ ..] if !rest.is_empty() && rest.iter().all(|&b| b == b' ') => true,
        _ => return ItemValue::Unknown,
    };
    let col = at - line_start;
    let indent = |l: &[u8]| l.iter().take_while(|&&b| b == b' ').count();
    // `value:` at the item's key column: where its value starts.
    let value_key = |l: &[u8], from: usize| -> Option<usize> {
        let rest = l.get(from..)?.strip_prefix(b"value")?;
        let n = rest.iter().take_while(|&&b| b == b' ').count();
        (rest.get(n) == Some(&b':')).then(|| {
            let after = &rest[n + 1..];
            from + 5 + n + 1 + after.iter().take_while(|&&b| b == b' ').count()
        })
    };
    let line_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| from + i)
    };
    // Later keys of the item.
    let mut pos = line_end(at);
    while pos < bytes.len() {
        let start = pos + 1;
        let end = line_end(start);
        let line = &bytes[start..end];
        pos = end;
        let t = line.iter().position(|b| !b.is_ascii_whitespace());
        let Some(t) = t else { continue };
        if line[t] == b'#' {
            continue;
        }
        let ind = indent(line);
        if ind < col {
            break;
        }
        if ind == col
            && let Some(v) = value_key(line, col)
        {
            return ItemValue::At(start + v);
        }
    }
    // Earlier keys of the item, back to its dash.
    if !dashed {
        let mut end = line_start;
        while end > 0 {
            let start = bytes[..end - 1]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line = &bytes[start..end - 1];
            end = start;
            let Some(t) = line.iter().position(|b| !b.is_ascii_whitespace()) else {
                continue;
            };
            if line[t] == b'#' {
                continue;
            }
            let ind = indent(line);
            if ind == col {
                if let Some(v) = value_key(line, col) {
                    return ItemValue::At(start + v);
                }
                continue;
            }
            if ind + 2 == col && line.get(ind) == Some(&b'-') {
                return value_key(line, col)
                    .map_or(ItemValue::Absent, |v| ItemValue::At(start + v));
            }
            if ind < col {
                return ItemValue::Unknown;
            }
        }
        return ItemValue::Unknown;
    }
    ItemValue::Absent
}

pub fn url_has_password(value: &str) -> bool {
    url_password(value).is_some()
}

/// The byte range of the password of the first `scheme://user:password@host`
/// in `value`, unless it is empty or a placeholder.
pub fn url_password(value: &str) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    while let Some(i) = value[from..].find("://") {
        let start = from + i + 3;
        let rest = &value[start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            let pw = &authority[colon + 1..at];
            if !pw.is_empty() && !crate::detect::placeholder::is_placeholder(pw) {
                return Some(start + colon + 1..start + at);
            }
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {

    #[test]
    fn names_of_secrets_are_found_in_the_bytes() {
        for text in [
            "env:\n- name: DB_PASSWORD\n  value: x\n",
            "{\"name\": \"API_TOKEN\", \"value\": \"x\"}",
            "parameters: [{name: client-secret, value: x}]",
            "- name: 'AWS_SECRET_ACCESS_KEY'\n  value: Zq8rT2mLx9vB\n",
            "- name: &n SOMETHING\n",
        ] {
            assert!(text_names_a_secret(text.as_bytes()), "{text}");
        }
        for text in [
            "metadata:\n  name: web\nspec:\n  containers:\n  - name: app\n",
            "- name: LOG_LEVEL\n  value: info\n",
            "username: admin\nsecretName: tls\n",
            "- name: PASSWORD_FILE\n",
            // what the item gives the name is a placeholder, or a reference
            "env:\n- name: API_TOKEN\n  value: \"${API_TOKEN}\"\n- name: LOG\n  value: x\n",
            "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: a, key: b}\n",
            "- value: changeme # set me\n  name: DB_PASSWORD\n",
        ] {
            assert!(!text_names_a_secret(text.as_bytes()), "{text}");
        }
        // A real value, before or after the name, or a layout the bytes
        // cannot read, asks for the parse.
        for text in [
            "env:\n- name: API_TOKEN\n  # comment\n  value: Zq8rT2mLx9vB\n",
            "- value: 'Zq8rT2mLx9vB'\n  name: DB_PASSWORD\n",
            "- name: DB_PASSWORD\n  value: |\n    Zq8rT2mLx9vB\n",
            "- name: DB_PASSWORD\n  value: changeme\n    continued\n",
        ] {
            assert!(text_names_a_secret(text.as_bytes()), "{text}");
        }
    }

    use super::*;

    #[test]
    fn splits_names_into_words() {
        assert_eq!(words("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(words("dbPassword"), ["db", "password"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("client-secret.v2"), ["client", "secret", "v2"]);
        assert_eq!(words("oauth2Token"), ["oauth2", "token"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn secret_like_names() {
        for n in [
            "PASSWORD",
            "DB_PASSWORD",
            "POSTGRES_PASSWD",
            "GITHUB_TOKEN",
            "JWT_SECRET",
            "API_KEY",
            "APIKEY",
            "apiKey",
            "PRIVATE_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "CREDENTIALS",
            "CLIENT_SECRET",
            "clientSecret",
            "REDIS_AUTH",
            "SMTP_PASS",
            "secretKey",
            "SECRET_BLAH",
            "auth.token",
            "adminPassword",
            "ENCRYPTION_KEY",
        ] {
            assert!(is_secret_name(n), "{n} should be secret-like");
        }
    }

    #[test]
    fn names_that_configure_a_secret() {
        for n in [
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "SECRET_NAME",
            "secretName",
            "AUTH_URL",
            "AUTH_ENABLED",
            "TOKEN_TTL",
            "existingSecret",
            "existingSecretPasswordKey",
            "passwordKey",
            "secretKeyRef",
            "CLIENT_ID",
            "AWS_ACCESS_KEY_ID",
            "OAUTH_PROVIDER",
            "DB_USER",
            "HOST",
            "MAX_TOKENS",
            "PASSWORD_MIN_LENGTH",
            "key",
            "PASS_THROUGH",
            "tokenSecretRef",
            "",
        ] {
            assert!(!is_secret_name(n), "{n} should not be secret-like");
        }
    }

    #[test]
    fn url_passwords() {
        // Built at run time so the literal does not trip the scanner on itself.
        let v = format!("postgres://app:{}@db:5432/app", "pw-9f3K2");
        let v = v.as_str();
        let r = url_password(v).unwrap();
        assert_eq!(&v[r], "pw-9f3K2");
        assert!(!url_has_password("https://user@github.com/x"));
        assert!(!url_has_password("https://github.com/a:b@c"));
        assert!(!url_has_password("postgres://u:${DB_PASSWORD}@db/app"));
        assert!(!url_has_password("no url here"));
        assert!(is_url_name("DATABASE_URL"));
        assert!(!is_url_name("DATABASE"));
    }
}
