//! Values that look like a secret's slot, not a secret: template variables,
//! documentation keys, `changeme`. Every rule's matches pass through
//! [`is_placeholder`]; the generic secret-named-key rule also passes through
//! the stricter [`is_generic_non_secret`], since its regex can only see shape.

/// Words that only stand in for a value, whatever its length: too long to
/// occur by chance in random text.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "replace_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "yourtoken",
    "yourpassword",
    "yoursecret",
    "yourkey",
    "redacted",
    "xxxxxxxx",
    "********",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
];

/// Short markers that a long random value (a PEM body, a 100-character
/// token) contains by chance; looked for only in short values.
const SHORT_PLACEHOLDER_WORDS: &[&str] = &[
    "your_",
    "your-",
    "dummy",
    "xxxx",
    "****",
    "••••",
    "...",
    "…",
    "insert_",
    "insert-",
    "todo",
    "fixme",
    "###",
];

/// Keys that vendors publish in their documentation and SDK samples, copied
/// into countless repositories: public by design or never valid. Matched
/// anywhere in a value (a prefix is enough where docs vary the tail). Split
/// so this file holds no key-shaped literal.
const DOCUMENTED_SAMPLE_KEYS: &[&str] = &[
    // Firebase SDK docs' "Example value" of a web API key, and variants
    concat!("AIza", "SyDOCAbC123dEf456GhI789jKl0"),
    // the Google Maps JavaScript API samples' public demo key
    concat!("AIza", "SyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg"),
    // Stripe API reference test keys
    concat!("sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"),
    concat!("pk_test_", "TYooMQauvdEDq54NiTphI7jx"),
];

/// Values longer than this are not checked for placeholder words.
const PLACEHOLDER_WORD_MAX_LEN: usize = 64;

/// Template and variable syntaxes whose value is filled in elsewhere.
const TEMPLATE_MARKERS: &[&str] = &[
    "${", "{{", "}}", "$(", "%(", "%{", "#{", "<%", "@@", "[[", "]]",
];

/// True when `secret` is a placeholder rather than a value.
pub fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    // In a long random value (a PEM body, a 100-character token) a word such
    // as `todo` or `xxxx` occurs by chance; placeholders are short.
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
        || secret.len() <= PLACEHOLDER_WORD_MAX_LEN
            && SHORT_PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
    {
        return true;
    }
    if TEMPLATE_MARKERS.iter().any(|m| secret.contains(m))
        || DOCUMENTED_SAMPLE_KEYS.iter().any(|k| secret.contains(k))
    {
        return true;
    }
    // <your-token>, <PASSWORD>
    if let (Some(a), Some(b)) = (secret.find('<'), secret.rfind('>'))
        && a < b
    {
        return true;
    }
    // $VAR, $env:VAR, %VAR%
    if let Some(rest) = secret.strip_prefix('$')
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    {
        return true;
    }
    if secret.len() > 2
        && secret.starts_with('%')
        && secret.ends_with('%')
        && secret[1..secret.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return true;
    }
    if masked(secret) {
        return true;
    }
    low_variety(secret) || is_sequence(secret)
}

/// A masked value: `[PASSWORD]`, `user:[redacted token]`, or parts that are each
/// one character repeated (`***`, `xxx:yyy`, `aaaa-bbbb`): what
/// documentation and log excerpts print instead of a secret.
fn masked(secret: &str) -> bool {
    // a bracketed word that ends the value (`[PASSWORD]`, `user:[TOKEN]`);
    // a generated password may hold brackets, but rarely ends with a word
    if let (Some(a), Some(b)) = (secret.rfind('['), secret.rfind(']'))
        && a + 3 < b
        && b + 1 == secret.len()
        && secret[a + 1..b]
            .bytes()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'-' | b' ' | b':'))
    {
        return true;
    }
    let parts: Vec<&str> = secret
        .split([':', '@', '-', '/', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    !parts.is_empty()
        && secret.len() >= 3
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            (b.len() >= 3 || parts.len() > 1 && b.len() >= 2) && b.iter().all(|&c| c == b[0])
        })
}

/// A documentation sequence rather than a random value: letters and digits
/// that each run through the alphabet or a keyboard row, however they are
/// interleaved or cased (`AbCdEfGh`, `abcdef0123456789`, `12345678`,
/// `aB1cD2eF3`, `qwertyuiop`), or a unit of up to 8 repeated 3 times or more
/// (`abc123abc123abc123`).
/// Random values never have this shape; only values of letters and digits
/// are judged.
fn is_sequence(secret: &str) -> bool {
    let b = secret.as_bytes();
    if b.len() < 8 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let letters: Vec<u8> = b
        .iter()
        .filter(|c| c.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    let digits: Vec<u8> = b.iter().copied().filter(u8::is_ascii_digit).collect();
    // each character followed by its successor, a doubled one (`aabbcc`),
    // or a restart after a run of at least 3 (`abcdefgabcdefg`)
    let runs = |s: &[u8], first: u8, last: u8| {
        let mut run = 1;
        for w in s.windows(2) {
            if w[1] == w[0] + 1 || (w[0] == last && w[1] == first) {
                run += 1;
            } else if w[1] != w[0] {
                if run < 3 {
                    return false;
                }
                run = 1;
            }
        }
        run >= 3 || s.len() < 3
    };
    const ROWS: &[u8] = b"qwertyuiopasdfghjklzxcvbnm";
    let letters_ok = letters.is_empty()
        || runs(&letters, b'a', b'z')
        || letters.len() >= 4 && ROWS.windows(letters.len()).any(|w| w == letters.as_slice());
    let digits_ok = digits.is_empty() || runs(&digits, b'0', b'9');
    if letters_ok && digits_ok {
        return true;
    }
    // a unit of at most 8 characters repeated (case-insensitively)
    let lower: Vec<u8> = b.iter().map(u8::to_ascii_lowercase).collect();
    (1..=8)
        .any(|p| lower.len() >= 3 * p && lower.iter().enumerate().all(|(i, &c)| c == lower[i % p]))
}

/// Whether a decoded `user:password` pair is a documentation stand-in
/// (`username:password`, `user:xxx`, `admin:<password>`) rather than a
/// credential: used by the `base64-userpass` checksum, whose value is only
/// seen decoded.
pub fn is_placeholder_userpass(user: &str, pass: &str) -> bool {
    const WORDS: &[&str] = &[
        "password", "pass", "passwd", "pwd", "secret", "token", "apikey", "api_key", "test", "pw",
        "p", "foo", "bar", "x",
    ];
    let lower = pass.to_ascii_lowercase();
    // the RFC 7617 / RFC 2617 examples, copied into many docs and tests
    let rfc_sample = user.eq_ignore_ascii_case("aladdin")
        && matches!(lower.as_str(), "opensesame" | "open sesame");
    rfc_sample
        || pass.len() < 3
        || is_placeholder(pass)
        || masked(&format!("{user}:{pass}"))
        || WORDS.contains(&lower.as_str())
        || lower.starts_with("my")
            && WORDS
                .iter()
                .any(|w| lower[2..].trim_start_matches(['_', '-']) == *w)
}

/// One or two distinct characters repeated (`aaaaaaaa`, `abababab`), or a
/// run of the keyboard/alphabet (`123456789`, `abcdefgh`).
fn low_variety(secret: &str) -> bool {
    let bytes = secret.as_bytes();
    if bytes.len() < 6 {
        return false;
    }
    let mut distinct = [false; 256];
    let mut n = 0;
    for &b in bytes {
        if !distinct[b as usize] {
            distinct[b as usize] = true;
            n += 1;
        }
    }
    if n <= 2 || (bytes.len() >= 12 && n <= 3) {
        return true;
    }
    // the longest run of a character followed by its successor
    let mut run = 1;
    let mut best = 1;
    for w in bytes.windows(2) {
        if w[1] == w[0].wrapping_add(1) {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    best * 2 >= bytes.len() && best >= 6
}

/// Stricter filter for the generic rule: values that are references, names
/// or well-known non-secret formats.
pub fn is_generic_non_secret(value: &str) -> bool {
    generic_non_secret(value, true)
}

fn generic_non_secret(value: &str, decode: bool) -> bool {
    let v = value.trim_matches(|c| c == '"' || c == '\'');
    let lower = v.to_ascii_lowercase();
    if is_placeholder(v) {
        return true;
    }
    // padded base64 (a TSIG key, a wrapped key) may start with `+` or `/`;
    // it is neither code nor a path
    let padded_b64 = v.len() >= 16
        && v.len().is_multiple_of(4)
        && v.ends_with('=')
        && v.trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    // code, not a value: `"TOKEN=" + socksPasswd`, `+nonOidcToken)`
    if v.starts_with('+') && !padded_b64 || v.ends_with('(') || v.ends_with(')') && !v.contains('(')
    {
        return true;
    }
    // an identifier in code (`goodSecret`, `nonOidcToken`, `jwtTokens0`),
    // not a value
    let unnumbered = v.trim_end_matches(|c: char| c.is_ascii_digit());
    // (numbered only when camelCase: `Welcome12` may be a password)
    let camel = unnumbered.bytes().skip(1).any(|b| b.is_ascii_uppercase());
    if v.len() <= 32
        && (unnumbered.len() == v.len() || camel && v.len() - unnumbered.len() <= 2)
        && is_identifier_words(unnumbered)
    {
        return true;
    }
    // a JWT header (and payload) without a signature: not a credential
    if decode && jwt_without_signature(v) {
        return true;
    }
    // a relative path (`--token=foo/bar` in documentation): lower-case
    // word segments; a base64 value has upper-case letters among its `/`s
    if v.contains('/')
        && v.split('/').all(|seg| {
            !seg.is_empty()
                && seg.len() <= 40
                && seg.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
                })
        })
    {
        return true;
    }
    // base64 of a placeholder or a word (`cGFzc3dvcmQ=` is "password"):
    // judge the decoded text
    if decode
        && let Some(text) = decoded_text(v)
        && (text.len() < 6 || generic_non_secret(&text, false))
    {
        return true;
    }
    // booleans, nulls, numbers
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "none" | "nil" | "yes" | "no" | "on" | "off"
    ) || v.parse::<f64>().is_ok()
    {
        return true;
    }
    // well-known non-secret literals
    const WORDS: &[&str] = &[
        "password",
        "secret",
        "token",
        "required",
        "optional",
        "string",
        "undefined",
        "default",
        "disabled",
        "enabled",
        "empty",
        "sample",
        "testing",
        "password123",
        "p@ssw0rd",
        "passw0rd",
        "admin",
        "root",
        "guest",
        "secretkey",
        "mysecret",
        "supersecret",
        "letmein",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // an environment variable's name: DB_PASSWORD, SECRET_KEY
    if v.len() >= 3
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && v.bytes().any(|b| b == b'_')
    {
        return true;
    }
    // a path or a URL without credentials
    if v.starts_with('/') && !padded_b64
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
    {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://")
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        && !rest.split('/').next().unwrap_or("").contains('@')
    {
        return true;
    }
    // hashes with a scheme, digests
    const HASH_PREFIXES: &[&str] = &[
        "$2a$",
        "$2b$",
        "$2y$",
        "$argon2",
        "$pbkdf2",
        "$scrypt$",
        "$5$",
        "$6$",
        "$1$",
        "{ssha}",
        "{sha}",
        "{bcrypt}",
        "{noop}",
        "sha256:",
        "sha512:",
        "sha1:",
        "md5:",
        "pbkdf2:",
        "pbkdf2_sha256$",
    ];
    if HASH_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    if is_uuid(v) {
        return true;
    }
    // a kebab-case or dotted reference (`my-db-secret`, `vault.kv.app`): all
    // lower-case words, at least two, no digits-only noise
    let is_wordy = |sep: u8| {
        v.bytes().any(|b| b == sep)
            && v.split(sep as char)
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
    };
    if is_wordy(b'-') || is_wordy(b'.') || is_wordy(b'_') {
        return true;
    }
    // a function call or expression in code: os.getenv("X"), process.env.X
    if v.contains('(') && v.ends_with(')') {
        return true;
    }
    if lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("env.")
    {
        return true;
    }
    // Kubernetes-style references: secretKeyRef, vault:/path, ref+...
    if lower.starts_with("vault:") || lower.starts_with("ref+") || lower.starts_with("secretref") {
        return true;
    }
    false
}

/// Letters only, as words: `lowercase`, `camelCase`, `PascalCase`, each
/// word at least two lower-case letters after its capital. Random
/// letters-only strings almost never have this shape (so a generated
/// password without digits is still reported).
fn is_identifier_words(v: &str) -> bool {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let b = v.as_bytes();
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        if b[i].is_ascii_uppercase() {
            i += 1;
        } else if !first {
            return false;
        }
        let lower_start = i;
        while i < b.len() && b[i].is_ascii_lowercase() {
            i += 1;
        }
        let lowers = i - lower_start;
        if lowers < 2 {
            return false;
        }
        first = false;
    }
    true
}

/// Standard padded base64 that decodes to printable UTF-8.
fn decoded_text(v: &str) -> Option<String> {
    use base64::Engine;
    // padding or a `+`/`/` says base64; bare letters and digits are more
    // likely a token, unless they decode to plain ASCII text, which random
    // characters do with a chance of about 0.37 per byte
    let marked = v.ends_with('=') || v.contains(['+', '/']);
    if v.len() < 8 || !v.len().is_multiple_of(4) || !marked && v.len() < 12 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    if !marked && !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c == '\n')
        .then(|| text.trim().to_string())
}

/// One or two base64url segments (`eyJ…` or `eyJ….eyJ…`) that decode to
/// JSON objects: a JWT header, or header and payload, with no signature.
fn jwt_without_signature(v: &str) -> bool {
    use base64::Engine;
    if !v.starts_with("eyJ") || v.split('.').count() > 2 {
        return false;
    }
    v.split('.').all(|part| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|j| j.is_object())
    })
}

pub fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "changeme",
            "${DB_PASSWORD}",
            "{{ .Values.db.password }}",
            "<your-token>",
            "xxxxxxxxxxxxxxxxxxxxxxxx",
            "REPLACE_ME",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "$DB_PASSWORD",
            "%API_KEY%",
            "aaaaaaaaaaaaaaaa",
            "abababababab",
            "0123456789abcdef",
            "********",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for s in [
            "Zx9!qLm2@vR7#tY4",
            "ghp_Rk3Xw9QpLm2ZtY7vN4sB8cD1eF5gH6jK0aMn",
            "hunter2hunter",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn documentation_sequences_and_masks_are_placeholders() {
        for p in [
            "AbCdEfGhIjKlMnOp",
            "abcdef0123456789abcd",
            "1234567890",
            "aB1cD2eF3gH4iJ5k",
            "qwertyuiop123",
            "abc123abc123abc123",
            "##########",
            "[PASSWORD]",
            "[redacted token]",
            "xxx:yyy",
            "***",
            "<user:password>",
            "ABCDEFG1234567890abcdefg",
            "aabbccddeeff00112233",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        // random values of the same alphabets are not
        for s in [
            "Zq8rT2mLx9vB4nKp",
            "9f8e7d6c5b4a3f2e",
            "xLzwkiXuyzfMLPeXUc",
            "k3:Qw9-Zp",
            "[a]Zq8rT2mLx9",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn placeholder_user_pass_pairs() {
        assert!(is_placeholder_userpass("username", "password"));
        assert!(is_placeholder_userpass("xxx", "yyy"));
        assert!(is_placeholder_userpass("admin", "[PASSWORD]"));
        assert!(is_placeholder_userpass("me", "mypassword"));
        assert!(is_placeholder_userpass("Aladdin", "open sesame"));
        assert!(!is_placeholder_userpass("deploy", "Zq8rT2mLx9vB"));
    }

    #[test]
    fn generic_non_secrets() {
        for v in [
            "DB_PASSWORD",
            "/var/run/secrets/token",
            "https://vault.internal/v1/secret",
            "$2b$12$abcdefghijklmnopqrstuv",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "123e4567-e89b-12d3-a456-426614174000",
            "my-db-secret",
            "true",
            "12345678",
            "os.getenv(\"PW\")",
            "password",
            "+socksPasswd",
            "goodSecret",
            "NonOidcToken",
            "jwtTokens0",
            "cGFzc3dvcmQ=",
            "Y2hhbmdlbWU=",
            // base64 of "strong-password" without padding
            "c3Ryb25nLXBhc3N3b3Jk",
            // a JWT header alone, or header and payload without signature
            "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",
            // relative paths
            "foo/bar/token.txt",
            "creds/api-key.txt",
        ] {
            assert!(is_generic_non_secret(v), "{v}");
        }
        for v in [
            "Tr0ub4dor&3xK9",
            "q8R2mZ7vLx3nP5",
            "s3cr3t-V4lue-91x",
            "WnE4IXRScTNYejghcExrNQ==",
            // random letters-only values are still secrets
            "xLzwkiXuyzfMLPeXUc",
            "UpOdqPYrmJFv",
            "Welcome12",
            // base64 with slashes is not a path
            "q8R2/mZ7vLx3nP5+Wk==",
            "/q8R2mZ7vLx3nP5+Wk9Tz2==",
            "+q8R2mZ7vLx3nP5/Wk9Tz2==",
        ] {
            assert!(!is_generic_non_secret(v), "{v}");
        }
    }
}
