//! Helpers for integration tests that run the real binary on trees and
//! repositories built in the test. Token-shaped test secrets are generated
//! here at test time (valid checksums included), never committed.
#![allow(dead_code)]

use gitops_guard::rules::examples::expand;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gitops-guard"))
}

/// Run `gitops-guard args…` in `dir`, with no colour and no inherited config.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITOPS_GUARD_CONFIG")
        .output()
        .expect("run gitops-guard")
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn gg(dir: &Path, args: &[&str]) -> Out {
    let o = run(dir, args);
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A GitHub classic PAT with a valid CRC32 checksum, different per seed.
pub fn github_token(seed: &str) -> String {
    expand("<<github:ghp_>>", seed).unwrap()
}

/// An AWS access key id shape (`AKIA` + 16 of A-Z2-7), different per seed.
pub fn aws_key_id(seed: &str) -> String {
    let body: String = expand("<<upper:40>>", seed)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_uppercase() || ('2'..='7').contains(c))
        .take(16)
        .collect();
    format!("{}{body}", "AK".to_string() + "IA")
}

/// Write `files` (relative path, contents) under `root`.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (rel, contents) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
}

/// Assert that none of `secrets` appears in full in `text`.
pub fn assert_redacted(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !text.contains(s),
            "a secret appears in full in the output (redacted: {})",
            gitops_guard::finding::redact(s)
        );
    }
}

pub fn json(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

/// Say that a test skipped something, visibly: written straight to the
/// process's stderr, which the test harness does not capture (it captures
/// only `print!`/`eprint!`), so `cargo test` shows every skip, not just the
/// failing tests' output.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

/// Path of the shared corpus (beside the checkout), if present.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        skipped("../shared/corpus is absent; a corpus test is skipped");
        None
    }
}

/// Run `git args…` in `dir` with a fixed identity and dates; panic on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Validate a SARIF document against the OASIS schema in ../shared/schemas
/// (prints a note and returns when the schema is absent).
pub fn validate_sarif(v: &serde_json::Value) {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&schema_path) else {
        skipped(&format!(
            "{} is absent; SARIF schema validation skipped",
            schema_path.display()
        ));
        return;
    };
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
}

/// One string field (`path`, `rule`, …) of every finding of a JSON report, in order.
pub fn field_of_findings<'a>(v: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f[field].as_str().expect("string field"))
        .collect()
}

/// `git args…` with the fixed test identity and extra `env`, never failing
/// the test itself: (success, stdout+stderr). Pushes into a repository with
/// a hook use it to read the hook's verdict.
pub fn git_try(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut c = Command::new("git");
    c.args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env_remove("GL_ID")
        .env_remove("GIT_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run git");
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.success(), text)
}

/// Under `root`: a bare `server.git` and a `client` clone of it whose first
/// commit (`README.md` on `main`) is already pushed, before any hook.
/// Returns (server, client).
pub fn server_and_client(root: &Path) -> (PathBuf, PathBuf) {
    let server = root.join("server.git");
    let client = root.join("client");
    git(root, &["init", "--quiet", "--bare", "server.git"]);
    git(root, &["init", "--quiet", "-b", "main", "client"]);
    git(
        &client,
        &["remote", "add", "origin", server.to_str().unwrap()],
    );
    write_tree(&client, &[("README.md", "# fleet\n")]);
    git(&client, &["add", "-A"]);
    git(&client, &["commit", "--quiet", "-m", "initial"]);
    git(&client, &["push", "--quiet", "origin", "main"]);
    (server, client)
}

/// Install `gitops-guard hook pre-receive ARGS` as `server`'s hook.
pub fn install_pre_receive(server: &Path, args: &str) {
    let hook = server.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec '{}' hook pre-receive {args}\n",
            bin().display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A bare server with the pre-receive hook (`hook_args`) and a clone of it
/// with one pushed commit; the temporary directory lives as long as it does.
/// Test files add their own push helpers in an `impl Server` of their own.
pub struct Server {
    pub _dir: tempfile::TempDir,
    pub server: PathBuf,
    pub client: PathBuf,
}

impl Server {
    pub fn new(hook_args: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (server, client) = server_and_client(dir.path());
        install_pre_receive(&server, hook_args);
        Server {
            _dir: dir,
            server,
            client,
        }
    }
}
