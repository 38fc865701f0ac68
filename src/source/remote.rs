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

/// The URL with any password (and a bare token as user name) redacted.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..auth_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, pass)) => format!("{user}:{}", redact(pass)),
        // A lone user name may be a token (`https://<token>@github.com/…`);
        // short plain names (`git@`) stay readable.
        None if userinfo.len() > 12 => redact(userinfo),
        None => userinfo.to_string(),
    };
    format!("{}{shown}{}", &url[..scheme_end + 3], &rest[at..])
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
        // git may echo the URL; never let its credentials through.
        let mut msg = stderr.trim().replace(url, &redact_url(url));
        if let Some(cred) = url_credentials(url) {
            msg = msg.replace(&cred, &redact(&cred));
        }
        return Err(Error::Scan(format!(
            "git clone {} failed: {msg}",
            redact_url(url)
        )));
    }
    Ok(BareClone { dir, path })
}

fn url_credentials(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..auth_end].rfind('@')?;
    let userinfo = &rest[..at];
    Some(
        userinfo
            .split_once(':')
            .map_or(userinfo, |(_, p)| p)
            .to_string(),
    )
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
    }
}
