//! Issue 11, "Leaks": the guard must never print what it protects. Each
//! test runs the real binary on a real tree or repository (built here with
//! the real `git`) and asserts that a generated token's full text appears
//! nowhere: not in stdout or stderr of any format (text, json, sarif,
//! github), not in output files, not in the pre-receive rejection, not in
//! the audit log, and not as an unkeyed SHA-256 either.

mod common;

use common::{bin, gg, git, github_token, write_tree};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const FORMATS: [&str; 4] = ["text", "json", "sarif", "github"];

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Neither the token nor its unkeyed SHA-256 appears in `text`.
fn assert_never_printed(what: &str, text: &str, token: &str) {
    assert!(
        !text.contains(token),
        "{what}: the token appears in full (redacted: {})",
        gitops_guard::finding::redact(token)
    );
    assert!(
        !text.contains(&sha256_hex(token)),
        "{what}: an unkeyed SHA-256 of the token appears"
    );
}

/// Run `scan` over `target` in every format; assert the token never shows,
/// and return the JSON report.
fn scan_every_format(dir: &Path, args: &[&str], token: &str) -> serde_json::Value {
    let mut json = serde_json::Value::Null;
    for format in FORMATS {
        let mut a = vec!["scan", "--format", format];
        a.extend_from_slice(args);
        let out = gg(dir, &a);
        assert!(
            out.code == 1,
            "{format}: expected findings (exit 1), got {}: {}",
            out.code,
            out.stderr
        );
        assert_never_printed(
            &format!("scan --format {format} (stdout)"),
            &out.stdout,
            token,
        );
        assert_never_printed(
            &format!("scan --format {format} (stderr)"),
            &out.stderr,
            token,
        );
        if format == "json" {
            json = serde_json::from_str(&out.stdout).expect("JSON report");
        }
        // And through --output, into a file.
        let file = dir.join(format!("report.{format}"));
        let mut a = vec![
            "scan",
            "--format",
            format,
            "--output",
            file.to_str().unwrap(),
        ];
        a.extend_from_slice(args);
        let out = gg(dir, &a);
        assert_eq!(out.code, 1, "{format} --output: {}", out.stderr);
        let written = std::fs::read_to_string(&file).expect("report file");
        assert_never_printed(&format!("scan --format {format} --output"), &written, token);
        assert_never_printed(
            &format!("scan --format {format} --output (stderr)"),
            &out.stderr,
            token,
        );
        std::fs::remove_file(&file).unwrap();
    }
    json
}

use common::Server;

impl Server {
    fn commit(&self, files: &[(&str, &str)], env: &[(&str, &str)]) {
        write_tree(&self.client, files);
        git(&self.client, &["add", "-A"]);
        let (ok, out) = common::git_try(&self.client, &["commit", "--quiet", "-m", "change"], env);
        assert!(ok, "{out}");
    }

    fn push(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut a = vec!["push", "origin"];
        a.extend_from_slice(args);
        common::git_try(&self.client, &a, env)
    }
}

fn secret_with_token_key(token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  {token}: enabled\n"
    )
}

fn sops_with_token_key(token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  {token}: hunter2-plain\nsops:\n  kms: []\n  age:\n    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2026-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:aGVsbG8=,iv:aGVsbG8gd29ybGQhIQ==,tag:aGVsbG8gd29ybGQhIQ==,type:str]\n  version: 3.8.1\n"
    )
}

#[test]
fn token_used_as_secret_data_key_is_redacted_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-key-secret");
    let sops_token = github_token("leak-key-sops");
    write_tree(
        dir.path(),
        &[
            ("apps/secret.yaml", &secret_with_token_key(&token)),
            ("apps/app.enc.yaml", &sops_with_token_key(&sops_token)),
        ],
    );
    let report = scan_every_format(dir.path(), &["."], &token);
    scan_every_format(dir.path(), &["."], &sops_token);
    // The manifest detector still reports the plaintext Secret (it fires,
    // only redacted), and the token itself is a finding.
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"plaintext-secret-manifest"),
        "the plaintext Secret must still be reported: {rules:?}"
    );
    assert!(rules.contains(&"github-pat-classic"), "{rules:?}");
    // A key shaped like a credential that no rule knows is masked too, in
    // the message (the key path) and in the frame of its line.
    let unknown =
        gitops_guard::rules::examples::expand("x<<alnum:31>>9", "leak-key-shape").unwrap();
    write_tree(
        dir.path(),
        &[("apps/shape.yaml", &secret_with_token_key(&unknown))],
    );
    scan_every_format(dir.path(), &["."], &unknown);
    std::fs::remove_file(dir.path().join("apps/shape.yaml")).unwrap();
    // A message that quotes a key that is no secret keeps it readable.
    let value = gitops_guard::rules::examples::expand("<<alnum:16>>", "leak-key-plain").unwrap();
    write_tree(
        dir.path(),
        &[(
            "apps/secret.yaml",
            &format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  db-password: {value}\n"
            ),
        )],
    );
    std::fs::remove_file(dir.path().join("apps/app.enc.yaml")).unwrap();
    let out = gg(dir.path(), &["scan", "--format", "json", "."]);
    assert!(
        out.stdout.contains("stringData.db-password"),
        "{}",
        out.stdout
    );
}

#[test]
fn token_used_as_secret_data_key_is_redacted_in_the_pre_receive_rejection() {
    let s = Server::new("");
    let token = github_token("leak-key-hook");
    s.commit(&[("apps/secret.yaml", &secret_with_token_key(&token))], &[]);
    let (ok, out) = s.push(&["main"], &[]);
    assert!(!ok, "the push must be rejected:\n{out}");
    assert!(out.contains("plaintext"), "{out}");
    assert_never_printed("pre-receive rejection", &out, &token);
}

#[test]
fn token_in_url_query_or_path_is_redacted_by_sources_and_scan_url() {
    let dir = tempfile::tempdir().unwrap();
    let q = github_token("leak-url-query");
    let p = github_token("leak-url-path");
    let u = github_token("leak-url-user");
    let fleet = format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: a\nspec:\n  url: https://git.example.invalid/org/repo.git?access_token={q}\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: b\nspec:\n  url: https://git.example.invalid/{p}/repo.git\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: c\nspec:\n  url: https://x-access-token:{u}@git.example.invalid/org/c.git\n"
    );
    write_tree(dir.path(), &[("clusters/sources.yaml", &fleet)]);
    let missing = dir.path().join("no-such-mirror");
    let map = format!(
        "--url-map=https://git.example.invalid/=file://{}/",
        missing.display()
    );
    for args in [
        vec!["sources", "clusters"],
        vec!["sources", "--format", "json", "clusters"],
        vec!["sources", "--scan-sources", &map, "clusters"],
        vec![
            "sources",
            "--scan-sources",
            "--format",
            "json",
            &map,
            "clusters",
        ],
    ] {
        let out = gg(dir.path(), &args);
        assert!(
            out.stdout.contains("git.example.invalid"),
            "{args:?}: {}",
            out.stdout
        );
        for t in [&q, &p, &u] {
            assert_never_printed(&format!("{args:?} stdout"), &out.stdout, t);
            assert_never_printed(&format!("{args:?} stderr"), &out.stderr, t);
        }
    }
    // `scan <URL>` whose clone fails: our error and git's own stderr.
    for url in [
        format!("file://{}/org/repo.git?access_token={q}", missing.display()),
        format!("file://{}/{p}/repo.git", missing.display()),
    ] {
        for history in [false, true] {
            let mut args = vec!["scan"];
            if history {
                args.push("--history");
            }
            args.push(&url);
            let out = gg(dir.path(), &args);
            assert_eq!(out.code, 3, "{}", out.stderr);
            assert!(out.stderr.contains("no-such-mirror"), "{}", out.stderr);
            for t in [&q, &p] {
                assert_never_printed("scan <URL> stdout", &out.stdout, t);
                assert_never_printed("scan <URL> stderr", &out.stderr, t);
            }
        }
    }
}

#[test]
fn break_glass_reason_holding_a_token_is_redacted_in_output_and_audit_log() {
    let s = Server::new("");
    git(
        &s.server,
        &["config", "receive.advertisePushOptions", "true"],
    );
    git(&s.server, &["config", "gitops-guard.allowSkip", "true"]);
    let token = github_token("leak-break-glass");
    s.commit(&[("x.env", "LOG_LEVEL=info\n")], &[]);
    let reason = format!("incident 42, used {token} to fix");
    let option = format!("gitops-guard.skip={reason}");
    let (ok, out) = s.push(&["-o", &option, "main"], &[("USER", "oncall-bob")]);
    assert!(ok, "{out}");
    assert!(out.contains("SKIPPED"), "{out}");
    assert!(
        out.contains("incident 42"),
        "the reason stays readable:\n{out}"
    );
    assert_never_printed("break-glass output", &out, &token);
    let log = std::fs::read_to_string(s.server.join("gitops-guard-audit.log")).unwrap();
    assert_never_printed("audit log", &log, &token);
    let entry: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .starts_with("incident 42, used ghp_"),
        "{entry}"
    );
}

#[test]
fn token_in_commit_author_or_committer_is_found_and_redacted() {
    let author_token = github_token("leak-author");
    let committer_token = github_token("leak-committer");
    let env = [
        ("GIT_AUTHOR_NAME", format!("Dev {author_token}")),
        (
            "GIT_COMMITTER_EMAIL",
            format!("{committer_token}@ci.example.invalid"),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // History and range scans.
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(dir.path(), &[("a.yaml", "a: 1\n")]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "base"]);
    write_tree(
        dir.path(),
        &[(
            "apps/app.env",
            &format!("TOKEN={}\n", github_token("leak-author-blob")),
        )],
    );
    git(dir.path(), &["add", "-A"]);
    let (ok, out) = common::git_try(dir.path(), &["commit", "--quiet", "-m", "add app"], &env);
    assert!(ok, "{out}");
    for args in [
        vec!["--history", "."],
        vec!["--history", "--range", "HEAD~1..HEAD", "."],
    ] {
        for t in [&author_token, &committer_token] {
            let report = scan_every_format(dir.path(), &args, t);
            let identity_findings = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["path"] == "<commit-identity>")
                .count();
            assert_eq!(identity_findings, 2, "{args:?}: {report}");
        }
    }
    // Pushed commits.
    let s = Server::new("");
    s.commit(&[("b.yaml", "b: 2\n")], &env);
    let (ok, out) = s.push(&["main"], &[]);
    assert!(!ok, "a token in the identity blocks the push:\n{out}");
    assert!(out.contains("<commit-identity>"), "{out}");
    assert_never_printed("pre-receive (author)", &out, &author_token);
    assert_never_printed("pre-receive (committer)", &out, &committer_token);
    // A plain identity is no finding.
    let clean = tempfile::tempdir().unwrap();
    git(clean.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(clean.path(), &[("a.yaml", "a: 1\n")]);
    git(clean.path(), &["add", "-A"]);
    git(clean.path(), &["commit", "--quiet", "-m", "base"]);
    let out = gg(
        clean.path(),
        &["scan", "--history", "--format", "json", "."],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn json_report_and_baseline_hold_no_unkeyed_hash_of_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    let token = github_token("leak-hash");
    let weak = "Winter2026!";
    write_tree(
        dir.path(),
        &[
            ("apps/app.env", &format!("GITHUB_TOKEN={token}\n")),
            (
                "apps/secret.yaml",
                &format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {weak}\n"
                ),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "add"]);
    for key in [None, Some("k3y-for-the-test")] {
        let with_key = |args: &[&str]| gg_key(dir.path(), key, args);
        for format in FORMATS {
            for extra in [vec![], vec!["--history"]] {
                let mut args = vec!["scan", "--format", format];
                args.extend(extra);
                args.push(".");
                let (code, stdout, stderr) = with_key(&args);
                assert_eq!(code, 1, "{stderr}");
                for t in [token.as_str(), weak] {
                    assert_never_printed(&format!("{args:?}"), &stdout, t);
                    assert_never_printed(&format!("{args:?}"), &stderr, t);
                }
            }
        }
        let baseline = dir.path().join("baseline.json");
        let (code, _, stderr) =
            with_key(&["baseline", "--output", baseline.to_str().unwrap(), "."]);
        assert_eq!(code, 0, "{stderr}");
        let text = std::fs::read_to_string(&baseline).unwrap();
        for t in [token.as_str(), weak] {
            assert_never_printed("baseline file", &text, t);
        }
        // The baseline keeps matching on another run, and after a rebase
        // that rewrites every commit.
        let (code, out, stderr) = with_key(&[
            "scan",
            "--format",
            "json",
            "--baseline",
            baseline.to_str().unwrap(),
            ".",
        ]);
        assert_eq!(
            code, 0,
            "the baseline must suppress everything: {out}{stderr}"
        );
        git(
            dir.path(),
            &["commit", "--quiet", "--amend", "-m", "rewritten"],
        );
        let (code, out, stderr) = with_key(&[
            "scan",
            "--history",
            "--format",
            "json",
            "--baseline",
            baseline.to_str().unwrap(),
            ".",
        ]);
        assert_eq!(code, 0, "the baseline must survive a rebase: {out}{stderr}");
        std::fs::remove_file(&baseline).unwrap();
    }
}

#[test]
fn with_a_key_the_json_report_carries_a_keyed_value_hash_that_matches_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-hmac");
    write_tree(dir.path(), &[("a.env", &format!("GITHUB_TOKEN={token}\n"))]);
    let run = |key: &str| {
        let o = Command::new(bin())
            .args(["scan", "--format", "json", "."])
            .current_dir(dir.path())
            .env("GITOPS_GUARD_HMAC_KEY", key)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"][0].clone()
    };
    let (a, b, other) = (run("key-one"), run("key-one"), run("key-two"));
    assert!(a["secret_hmac"].is_string(), "{a}");
    assert_eq!(a["secret_hmac"], b["secret_hmac"]);
    assert_eq!(a["fingerprint"], b["fingerprint"]);
    assert_ne!(a["secret_hmac"], other["secret_hmac"]);
    assert!(a.get("secret_sha256").is_none(), "{a}");
    // Without a key: no value hash at all.
    let out = gg(dir.path(), &["scan", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["findings"][0].get("secret_hmac").is_none());
    assert!(v["findings"][0].get("secret_sha256").is_none());
}

#[test]
fn control_characters_in_lines_and_file_names_are_escaped_in_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-ctl");
    let hostile = format!("TOKEN={token} \x1b]0;pwned\x07\x1b[2J\r\u{9b}31m\n");
    write_tree(dir.path(), &[("app.env", &hostile)]);
    #[cfg(unix)]
    {
        let t2 = github_token("leak-ctl-name");
        std::fs::write(
            dir.path().join("evil\nname\x1b[31m.env"),
            format!("TOKEN={t2}\n"),
        )
        .unwrap();
    }
    for format in ["text", "github"] {
        let out = gg(dir.path(), &["scan", "--format", format, "."]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        for (what, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !s.chars()
                    .any(|c| (c.is_control() && c != '\n') || c == '\u{9b}'),
                "{format} {what}: raw control characters reach the terminal: {s:?}"
            );
        }
        assert!(
            out.stdout.contains("\\x1b"),
            "{format}: escaped visibly: {}",
            out.stdout
        );
        if format == "text" {
            // Each finding's header line starts with its path: a newline in
            // a file name must not split it.
            let heads = out
                .stdout
                .lines()
                .filter(|l| l.contains("[secret]"))
                .count();
            assert_eq!(heads, 2, "{}", out.stdout);
            assert!(
                out.stdout.contains("evil\\nname\\x1b[31m.env:1:"),
                "{}",
                out.stdout
            );
        }
    }
    // JSON keeps the real name, so a tool can open the file.
    let out = gg(dir.path(), &["scan", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"evil\nname\x1b[31m.env"), "{paths:?}");
}

#[cfg(unix)]
#[test]
fn invalid_utf8_file_names_stay_findable_from_json() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-bad-utf8");
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe.env");
    std::fs::write(dir.path().join(name), format!("TOKEN={token}\n")).unwrap();
    let out = gg(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let f = &v["findings"][0];
    // `path_bytes` (hex) gives the exact name back when `path` could not.
    let hex = f["path_bytes"]
        .as_str()
        .expect("path_bytes for a non-UTF-8 name");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert!(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(&bytes))
            .is_file()
    );
    // A valid name carries no such field.
    let ok = tempfile::tempdir().unwrap();
    write_tree(ok.path(), &[("a.env", &format!("TOKEN={token}\n"))]);
    let out = gg(ok.path(), &["scan", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["findings"][0].get("path_bytes").is_none());
}

/// `gitops-guard args…` in `dir` with `GITOPS_GUARD_HMAC_KEY` set or unset.
fn gg_key(dir: &Path, key: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITOPS_GUARD_HMAC_KEY");
    if let Some(k) = key {
        c.env("GITOPS_GUARD_HMAC_KEY", k);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_baseline_written_without_a_key_keeps_matching_once_a_key_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-baseline-migrate");
    write_tree(dir.path(), &[("a.env", &format!("GITHUB_TOKEN={token}\n"))]);
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().unwrap();
    let (code, _, err) = gg_key(dir.path(), None, &["baseline", "--output", b, "."]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = gg_key(dir.path(), Some("new-key"), &["scan", "--baseline", b, "."]);
    assert_eq!(code, 0, "{out}{err}");
    // A new secret beside it is not covered.
    let other = github_token("leak-baseline-new");
    write_tree(dir.path(), &[("b.env", &format!("GITHUB_TOKEN={other}\n"))]);
    let (code, out, _) = gg_key(dir.path(), Some("new-key"), &["scan", "--baseline", b, "."]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn an_old_format_baseline_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("leak-baseline-old");
    write_tree(dir.path(), &[("a.env", &format!("GITHUB_TOKEN={token}\n"))]);
    let old = serde_json::json!({
        "version": 1,
        "findings": [{
            "rule": "github-pat-classic",
            "fingerprint": "0123456789abcdef0123456789abcdef",
            "secret_sha256": "00".repeat(32),
        }],
    });
    let baseline = dir.path().join("old.json");
    std::fs::write(&baseline, old.to_string()).unwrap();
    let (code, out, err) = gg_key(
        dir.path(),
        None,
        &["scan", "--baseline", baseline.to_str().unwrap(), "."],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("older gitops-guard"), "{err}");
    assert!(err.contains("gitops-guard baseline"), "{err}");
    assert_never_printed("old baseline error", &err, &token);
}
