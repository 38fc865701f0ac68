//! Render before judging (issue 15): what Argo CD and Flux deploy is the
//! output of `helm template` (and `kustomize build`), not the files one by
//! one. A renderer builds each root with the tool on `PATH`, judges the
//! rendered objects with the policy checks, and maps every finding back to
//! the file and line that wrote the offending value, naming the renders.
//!
//! This module keeps only what the renderers share: the options, and the
//! bounded run of an external tool ([`run_tool`]). `helm` is the Helm
//! renderer.
//!
//! Layering: a renderer reads files and runs tools, like a source; it sits
//! beside `source`, above `scan` (it hands rendered text to
//! `Scanner::scan_rendered`) and below the library's `scan` entry point.
//! Nothing below (detect, manifest, finding) names it.

pub mod helm;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How rendering runs (`[render]` in the config, `--no-render`).
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Render at all (`--no-render`, `[render] enabled = false`: no).
    pub enabled: bool,
    /// Wall-time limit of one render; past it the tool is killed and the
    /// render is a note (its files judged file by file).
    pub timeout: Duration,
    /// Most bytes of output one render may write; past it, a note.
    pub max_output: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            enabled: true,
            timeout: Duration::from_secs(60),
            max_output: 64 * 1024 * 1024,
        }
    }
}

impl RenderOptions {
    /// The options the config asks for.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let mut o = RenderOptions::default();
        if let Some(enabled) = config.render.enabled {
            o.enabled = enabled;
        }
        if let Some(secs) = config.render.timeout_secs {
            o.timeout = Duration::from_secs(secs.max(1));
        }
        o
    }
}

/// What one run of an external tool gave.
#[derive(Debug)]
pub enum ToolRun {
    Ok(Vec<u8>),
    /// Exit status not 0: its standard error (capped).
    Failed(String),
    TimedOut,
    TooLarge,
    /// Could not start it.
    NotStarted(String),
}

/// Run `program args` in `dir` with standard input closed and `env` set,
/// reading at most `max_output` bytes of output and waiting at most
/// `timeout` (then the process is killed): a render never hangs a scan and
/// never fills memory.
pub fn run_tool(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(&str, PathBuf)],
    timeout: Duration,
    max_output: usize,
) -> ToolRun {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ToolRun::NotStarted(e.to_string()),
    };
    fn drain(
        mut r: impl Read + Send + 'static,
        cap: usize,
    ) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            let mut over = false;
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    // Past the cap, keep reading (and dropping) so the
                    // child never blocks on a full pipe before it is killed.
                    Ok(n) if buf.len() + n > cap => over = true,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            (buf, over)
        })
    }
    let out = drain(child.stdout.take().expect("piped"), max_output);
    let err = drain(child.stderr.take().expect("piped"), 64 * 1024);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let Some(status) = status else {
        // The readers end when the killed child's pipes close (a grandchild
        // holding them open is not waited for).
        return ToolRun::TimedOut;
    };
    let (stdout, over) = out.join().unwrap_or_default();
    let (stderr, _) = err.join().unwrap_or_default();
    if over {
        return ToolRun::TooLarge;
    }
    if !status.success() {
        return ToolRun::Failed(String::from_utf8_lossy(&stderr).into_owned());
    }
    ToolRun::Ok(stdout)
}

/// The first of `names` found as an executable file on `PATH`.
pub fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Unix only: it drives /bin/sh.
    #[cfg(unix)]
    #[test]
    fn tool_runs_are_bounded_in_time_and_output() {
        let sh = Path::new("/bin/sh");
        let dir = std::env::temp_dir();
        let run = |script: &str, max: usize| {
            run_tool(
                sh,
                &["-c".to_string(), script.to_string()],
                &dir,
                &[],
                Duration::from_millis(300),
                max,
            )
        };
        let started = Instant::now();
        assert!(matches!(run("exec sleep 5", 1024), ToolRun::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(4));
        assert!(matches!(
            run("yes | head -c 100000", 1024),
            ToolRun::TooLarge
        ));
        assert!(
            matches!(run("echo boom >&2; exit 3", 1024), ToolRun::Failed(e) if e.contains("boom"))
        );
        assert!(matches!(run("printf ok", 1024), ToolRun::Ok(o) if o == b"ok"));
    }
}
