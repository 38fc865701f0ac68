//! `gitops-guard hook install`: write a client-side hook script into a
//! repository. A hook file that gitops-guard did not write is never
//! overwritten (it may be another tool's, or someone's own); a hook it wrote
//! is rewritten in place, so installing twice is harmless.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The line that marks a hook file as gitops-guard's own.
pub const MARKER: &str = "# installed by gitops-guard hook install";

/// Which hook to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// Scans the staged changes before each commit.
    PreCommit,
    /// Scans the commits a push sends before they leave the machine.
    PrePush,
}

impl HookKind {
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
        }
    }

    fn command(self) -> &'static str {
        match self {
            HookKind::PreCommit => "hook pre-commit",
            HookKind::PrePush => "hook pre-push",
        }
    }
}

/// What `install` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Installed {
    Created(PathBuf),
    /// Our own hook was already there; rewritten with the current content.
    Updated(PathBuf),
}

/// The hook script. `fallback` is the absolute path of the binary that
/// installed it, used when `gitops-guard` is not on `PATH` when the hook runs.
pub fn script(kind: HookKind, fallback: &Path) -> String {
    let fallback = shell_quote(&fallback.to_string_lossy());
    format!(
        "#!/bin/sh\n\
         {MARKER} ({name}); delete this file to uninstall.\n\
         # Skip once with --no-verify (git commit / git push).\n\
         gg=${{GITOPS_GUARD:-gitops-guard}}\n\
         command -v \"$gg\" >/dev/null 2>&1 || gg={fallback}\n\
         exec \"$gg\" {cmd} \"$@\"\n",
        name = kind.file_name(),
        cmd = kind.command(),
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The hooks directory of the repository at or above `path`, honouring
/// `core.hooksPath` (relative values are relative to the work tree, as git does).
pub fn hooks_dir(path: &Path) -> Result<PathBuf, Error> {
    let repo = gix::discover(path).map_err(|e| {
        Error::Usage(format!(
            "{} is not in a git repository: {e}",
            path.display()
        ))
    })?;
    if let Some(v) = repo.config_snapshot().string("core.hooksPath") {
        let p = PathBuf::from(v.to_string());
        let p = if p.is_absolute() {
            p
        } else {
            repo.workdir().unwrap_or(repo.git_dir()).join(p)
        };
        return Ok(p);
    }
    Ok(repo.common_dir().join("hooks"))
}

/// Install `kind` into the repository at or above `path`.
pub fn install(path: &Path, kind: HookKind, binary: &Path) -> Result<Installed, Error> {
    let dir = hooks_dir(path)?;
    let file = dir.join(kind.file_name());
    let existed = match std::fs::read(&file) {
        Ok(bytes) => {
            if !String::from_utf8_lossy(&bytes).contains(MARKER) {
                return Err(Error::Usage(format!(
                    "{} exists and was not installed by gitops-guard; not overwriting it. \
                     Add this line to it instead:\n  gitops-guard {} || exit 1",
                    file.display(),
                    kind.command()
                )));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::Scan(format!("cannot read {}: {e}", file.display()))),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Scan(format!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(&file, script(kind, binary))
        .map_err(|e| Error::Scan(format!("cannot write {}: {e}", file.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::Scan(format!("cannot make {} executable: {e}", file.display())))?;
    }
    Ok(if existed {
        Installed::Updated(file)
    } else {
        Installed::Created(file)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_falls_back_to_the_installing_binary() {
        let s = script(HookKind::PreCommit, Path::new("/opt/it's/gitops-guard"));
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(MARKER));
        assert!(s.contains("gg='/opt/it'\\''s/gitops-guard'"));
        assert!(s.contains("exec \"$gg\" hook pre-commit \"$@\""));
    }
}
