//! Repositories named by URL (`https://…`, `ssh://…`, `git@host:path`,
//! `file://…`): cloned bare into a temporary directory with the `git` CLI,
//! scanned like any local repository, and removed when the scan is done. So a
//! scheduled job can scan the repositories Argo CD and Flux deploy from
//! without keeping checkouts around.
//!
//! Credentials embedded in a URL are never printed: every message shows the
//! URL through [`redact_url`]. `git` never prompts (`GIT_TERMINAL_PROMPT=0`):
//! a job must fail, not hang, when a repository needs a password.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::finding::redact;

/// Whether `target` names a remote repository rather than a local path.
pub fn is_remote(target: &Path) -> bool {
    let Some(s) = target.to_str() else {
        return false;
    };
    if [
        "https://",
        "http://",
        "ssh://",
        "git://",
        "file://",
        "git+ssh://",
    ]
    .iter()
    .any(|p| s.starts_with(p))
    {
        return true;
    }
    // scp-like `user@host:path` (git's rule: a colon before any slash).
    match (s.find(':'), s.find('/')) {
        (Some(c), slash) => {
            s[..c].contains('@') && slash.is_none_or(|sl| c < sl) && !Path::new(s).exists()
        }
        _ => false,
    }
}

/// The URL with every credential in it redacted: the password of the user
/// info (and a bare token used as user name), the value of each query
/// parameter whose name says credential (`access_token`, `key`, `sig`, …) or
/// whose value looks like a token, the fragment likewise, and any path
/// segment shaped like a token (`/…/<token>/repo.git`).
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    // Longest first, so a piece inside another is never left half-masked.
    let mut pieces = url_secrets(url);
    pieces.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in pieces {
        out = out.replace(&p, &redact(&p));
    }
    out
}

/// Query parameter names that carry credentials whatever their value looks like.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "private_token",
    "auth",
    "key",
    "api_key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "sig",
    "signature",
    "credential",
    "credentials",
    "code",
    "session",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// The credential pieces of `url` (what [`redact_url`] hides), raw. Used to
/// hide them in other text that may quote them, such as git's own errors.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (rest, has_scheme) = match url.find("://") {
        Some(i) => (&url[i + 3..], true),
        None => (url, false),
    };
    // User info (`user:pass@host`, `token@host`).
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut path_from = 0;
    if has_scheme && let Some(at) = rest[..auth_end].rfind('@') {
        let userinfo = &rest[..at];
        match userinfo.split_once(':') {
            Some((_, pass)) if !pass.is_empty() => out.push(pass.to_string()),
            // A lone user name may be a token (`https://<token>@github.com/…`);
            // short plain names (`git@`) stay readable.
            None if userinfo.len() > 12 => out.push(userinfo.to_string()),
            _ => {}
        }
        path_from = auth_end;
    }
    let after = &rest[path_from..];
    let (path, query_and_fragment) = match after.find(['?', '#']) {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, ""),
    };
    for seg in path.split(['/', ':', '@']) {
        let decoded = percent_decode(seg);
        if crate::sanitize::looks_like_token(&decoded) {
            out.push(seg.to_string());
            if decoded != seg {
                out.push(decoded);
            }
        }
    }
    let (query, fragment) = match query_and_fragment.split_once('#') {
        Some((q, f)) => (q, f),
        None => (query_and_fragment, ""),
    };
    for pair in query
        .trim_start_matches('?')
        .split(['&', ';'])
        .chain(fragment.split('&'))
    {
        let (name, value) = pair.split_once('=').unwrap_or(("", pair));
        if value.is_empty() {
            continue;
        }
        let name = name.to_ascii_lowercase();
        let decoded = percent_decode(value);
        let named = SECRET_PARAMS.contains(&name.as_str())
            || ["token", "secret", "password", "key", "auth"]
                .iter()
                .any(|w| name.contains(w));
        if named || crate::sanitize::looks_like_token(&decoded) {
            out.push(value.to_string());
            if decoded != value {
                out.push(decoded);
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// `%XX` escapes decoded (invalid ones kept as written).
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A bare clone in a temporary directory, removed on drop.
pub struct BareClone {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl BareClone {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary directory holding the clone (for tests).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `git clone --bare URL` into a fresh temporary directory: every branch
/// and tag, without the pull-request refs a `--mirror` of GitHub would bring.
pub fn clone_bare(url: &str) -> Result<BareClone, Error> {
    let dir = tempfile::Builder::new()
        .prefix("gitops-guard-clone-")
        .tempdir()
        .map_err(|e| Error::Scan(format!("cannot create a temporary directory: {e}")))?;
    let path = dir.path().join("repo.git");
    let out = Command::new("git")
        .args(["clone", "--bare", "--quiet", "--"])
        .arg(url)
        .arg(&path)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .output()
        .map_err(|e| Error::Scan(format!("cannot run git to clone {}: {e}", redact_url(url))))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // git echoes the URL, or the path it made of it, in its own words:
        // hide every credential piece wherever it appears.
        let pieces = url_secrets(url);
        let masker = crate::sanitize::Masker::new(pieces.iter().map(String::as_str));
        let masked = masker.mask(stderr.trim());
        let msg = crate::sanitize::escape_lines(&masked);
        return Err(Error::Scan(format!(
            "git clone {} failed: {msg}",
            redact_url(url)
        )));
    }
    Ok(BareClone { dir, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_remote(Path::new("https://github.com/org/repo.git")));
        assert!(is_remote(Path::new("file:///srv/git/repo.git")));
        assert!(is_remote(Path::new("git@github.com:org/repo.git")));
        assert!(is_remote(Path::new("ssh://git@host/repo")));
        assert!(!is_remote(Path::new("./repo")));
        assert!(!is_remote(Path::new("/srv/git/repo.git")));
        assert!(!is_remote(Path::new("dir/with:colon")));
    }

    #[test]
    fn credentials_are_redacted() {
        let u = "https://deploy:s3cr3t-passw0rd-value@git.example.com/org/repo.git"; // gitops-guard:allow (made-up test value)
        let r = redact_url(u);
        assert!(!r.contains("s3cr3t-passw0rd-value"), "{r}");
        assert!(r.starts_with("https://deploy:"), "{r}");
        assert!(r.ends_with("@git.example.com/org/repo.git"), "{r}");
        let t = redact_url("https://abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r");
        assert!(!t.contains("abcdefghijklmnopqrstuvwxyz0123456789"), "{t}");
        assert_eq!(
            redact_url("https://github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(
            redact_url("ssh://git@github.com/o/r"),
            "ssh://git@github.com/o/r"
        );
        assert_eq!(
            redact_url("https://github.com/o/r.git?ref=main"),
            "https://github.com/o/r.git?ref=main"
        );
    }

    #[test]
    fn tokens_in_query_path_and_fragment_are_redacted() {
        // Built at test time: nothing live-looking is committed.
        let t = crate::rules::examples::expand("<<github:ghp_>>", "remote-tests").unwrap();
        let t = t.as_str();
        for u in [
            format!("https://h.example/o/r.git?access_token={t}"),
            format!("https://h.example/o/r.git?ref=main&x={t}"),
            format!("https://h.example/{t}/r.git"),
            format!("https://h.example/o/r.git#{t}"),
            format!("file:///srv/{t}/r.git"),
            format!("git@h.example:{t}/r.git"),
        ] {
            let r = redact_url(&u);
            assert!(!r.contains(t), "{r}");
            assert!(r.contains("ghp_…"), "{r}");
        }
        let r = redact_url("https://h.example/o/r.git?private_token=short1");
        assert!(!r.contains("short1"), "{r}");
        let r = redact_url("https://h.example/o/r.git?token=ab%2Fcdefghijklmnop0123");
        assert!(!r.contains("ab%2Fcdefghijklmnop0123"), "{r}");
    }
}
