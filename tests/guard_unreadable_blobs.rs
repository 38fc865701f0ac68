//! Issue 11, items 1, 13 and 14: blobs the scanner used to judge unreadable
//! (a NUL byte at the start, UTF-16, over the size limit) must not pass the
//! hooks unjudged; many findings in one file stay linear and all redacted;
//! `--threads` is bounded. Every case runs the real binary on real git
//! repositories (bare server with the installed pre-receive hook, real
//! pushes; real staged changes for pre-commit).

mod common;

use common::{assert_redacted, bin, gg, git, github_token, json, write_tree};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

use common::Server;

impl Server {
    /// Commit raw `files` in the clone and push `main`: (accepted, output).
    fn push_files(&self, files: &[(&str, &[u8])]) -> (bool, String) {
        for (rel, bytes) in files {
            let p = self.client.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        git(&self.client, &["add", "-A"]);
        git(&self.client, &["commit", "--quiet", "-m", "change"]);
        common::git_try(&self.client, &["push", "origin", "main"], &[])
    }

    fn main_is(&self, client_rev: &str) -> bool {
        git(&self.server, &["rev-parse", "main"]) == git(&self.client, &["rev-parse", client_rev])
    }
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    v
}

fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// `size` bytes of filler text with `token` on its last line.
fn big_text(size: usize, token: &str) -> Vec<u8> {
    let mut v = b"# generated\n".to_vec();
    while v.len() < size {
        v.extend_from_slice(b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n");
    }
    v.extend_from_slice(format!("TOKEN={token}\n").as_bytes());
    v
}

// ---------------------------------------------------------------------------
// pre-receive

#[test]
fn pre_receive_blocks_token_in_blob_starting_with_nul() {
    let s = Server::new("");
    let token = github_token("nul-first-byte");
    let blob = [
        b"\0".as_slice(),
        format!("GITHUB_TOKEN={token}\n").as_bytes(),
    ]
    .concat();
    let (ok, out) = s.push_files(&[(".env", &blob)]);
    assert!(!ok, "a token behind a NUL byte must be rejected:\n{out}");
    assert!(out.contains(".env:1:"), "{out}");
    assert!(out.contains("github-pat-classic"), "{out}");
    assert_redacted(&out, &[&token]);
    assert!(!out.contains('\0'), "no raw NUL in the frame:\n{out:?}");
    assert!(!s.main_is("HEAD"));
}

#[test]
fn pre_receive_blocks_token_in_utf16_file_with_bom() {
    let s = Server::new("");
    let token = github_token("utf16-bom");
    let blob = utf16le_with_bom(&format!("# settings\r\nGITHUB_TOKEN={token}\r\n"));
    let (ok, out) = s.push_files(&[("config/app.env", &blob)]);
    assert!(!ok, "a token in UTF-16 must be rejected:\n{out}");
    // Positions are in the decoded text: line 2, after `GITHUB_TOKEN=`.
    assert!(out.contains("config/app.env:2:14"), "{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.main_is("HEAD"));
}

#[test]
fn pre_receive_blocks_blob_over_size_limit_naming_path_size_and_limit() {
    let s = Server::new("--max-file-size 64K");
    let token = github_token("big-pushed");
    let blob = big_text(100 * 1024, &token);
    let size = blob.len();
    let (ok, out) = s.push_files(&[("vendor/dump.sql", &blob)]);
    assert!(!ok, "an unread blob must not pass:\n{out}");
    assert!(out.contains("vendor/dump.sql"), "names the path:\n{out}");
    assert!(
        out.contains(&format!("{size} bytes")),
        "names the size:\n{out}"
    );
    assert!(out.contains("65536 bytes"), "names the limit:\n{out}");
    assert!(out.contains("large-files"), "says how to allow it:\n{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.main_is("HEAD"));
}

#[test]
fn pre_receive_accepts_allow_listed_large_file_and_lists_the_skip() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.toml");
    std::fs::write(&config, "[limits]\nlarge-files = [\"charts/*.tgz\"]\n").unwrap();
    let s = Server::new(&format!(
        "--max-file-size 64K --config '{}'",
        config.display()
    ));
    let blob = big_text(100 * 1024, "not-a-token");
    let (ok, out) = s.push_files(&[("charts/app-1.0.0.tgz", &blob)]);
    assert!(ok, "an allow-listed large file passes:\n{out}");
    assert!(out.contains("charts/app-1.0.0.tgz [too_large]"), "{out}");
    assert!(out.contains("allowed by [limits] large-files"), "{out}");
    assert!(s.main_is("HEAD"));
    // The allow-list is by path: a large blob elsewhere still blocks.
    let other = big_text(100 * 1024, "still-not-a-token");
    let (ok, out) = s.push_files(&[("charts/app-1.0.0.tar", &other)]);
    assert!(!ok, "{out}");
    assert!(out.contains("charts/app-1.0.0.tar"), "{out}");
}

#[test]
fn pre_receive_accepts_clean_binary_and_utf16_files() {
    let s = Server::new("");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
    let notes = utf16le_with_bom("release notes\r\nnothing secret here\r\n");
    let (ok, out) = s.push_files(&[("logo.png", png), ("notes.txt", &notes)]);
    assert!(ok, "clean files pass:\n{out}");
    assert!(s.main_is("HEAD"));
}

#[test]
fn pre_push_blocks_token_in_blob_starting_with_nul_and_oversized_blob() {
    // The server has no hook here: the client's pre-push hook judges.
    let s = Server::new("");
    std::fs::remove_file(s.server.join("hooks/pre-receive")).unwrap();
    let out = gg(&s.client, &["hook", "install", "--hook", "pre-push"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let push = |files: &[(&str, &[u8])]| {
        for (rel, bytes) in files {
            std::fs::write(s.client.join(rel), bytes).unwrap();
        }
        git(&s.client, &["add", "-A"]);
        git(&s.client, &["commit", "--quiet", "-m", "change"]);
        let o = Command::new("git")
            .args(["push", "origin", "main"])
            .current_dir(&s.client)
            .env("PATH", &path)
            .env("HOME", &s.client)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.success(), text)
    };
    let token = github_token("pre-push-nul");
    let (ok, out) = push(&[(
        ".env",
        &[b"\0".as_slice(), format!("TOKEN={token}\n").as_bytes()].concat(),
    )]);
    assert!(!ok, "{out}");
    assert!(out.contains(".env:1:"), "{out}");
    assert_redacted(&out, &[&token]);
    git(&s.client, &["reset", "--quiet", "--hard", "HEAD~1"]);
    let (ok, out) = push(&[("huge.sql", &big_text(11 << 20, "nothing"))]);
    assert!(!ok, "{out}");
    assert!(out.contains("huge.sql: 11.0 MiB"), "{out}");
    assert!(out.contains("push stopped"), "{out}");
}

// ---------------------------------------------------------------------------
// pre-commit

fn work_repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(dir.path(), &[("README.md", "# repo\n")]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "initial"]);
    dir
}

fn stage(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    git(dir, &["add", rel]);
}

#[test]
fn pre_commit_blocks_token_in_blob_starting_with_nul() {
    let dir = work_repo();
    let token = github_token("pre-commit-nul");
    stage(
        dir.path(),
        ".env",
        &[b"\0\x01".as_slice(), format!("TOKEN={token}\n").as_bytes()].concat(),
    );
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(".env:1:"), "{}", out.stdout);
    assert!(!out.stdout.contains('\0') && !out.stdout.contains('\x01'));
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn pre_commit_blocks_token_in_utf16_files_with_and_without_bom() {
    for (name, bytes) in [
        ("bom.env", utf16le_with_bom as fn(&str) -> Vec<u8>),
        ("le.env", utf16le),
        ("be.env", utf16be),
    ] {
        let dir = work_repo();
        let token = github_token(name);
        stage(dir.path(), name, &bytes(&format!("A=1\nTOKEN={token}\n")));
        let out = gg(dir.path(), &["hook", "pre-commit", "--format", "json"]);
        assert_eq!(out.code, 1, "{name}: {}{}", out.stdout, out.stderr);
        let v = json(&out);
        let f = &v["findings"][0];
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(2), Some(7))
        );
        assert_eq!(v["stats"]["utf16_decoded"], 1);
        assert_redacted(&out.stdout, &[&token]);
    }
}

#[test]
fn pre_commit_blocks_staged_blob_over_size_limit() {
    let dir = work_repo();
    let token = github_token("pre-commit-big");
    stage(dir.path(), "data/big.txt", &big_text(40 * 1024, &token));
    let out = gg(
        dir.path(),
        &["hook", "pre-commit", "--max-file-size", "32K"],
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("data/big.txt"), "{all}");
    assert!(all.contains("32.0 KiB (32768 bytes)"), "{all}");
    assert!(all.contains("commit stopped"), "{all}");
    assert_redacted(&all, &[&token]);
    // Allowed by the config: listed, not blocking.
    write_tree(
        dir.path(),
        &[(
            ".gitops-guard.toml",
            "[limits]\nlarge-files = [\"data/*.txt\"]\n",
        )],
    );
    let out = gg(
        dir.path(),
        &["hook", "pre-commit", "--max-file-size", "32K"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("data/big.txt [too_large]"),
        "{}",
        out.stderr
    );
    // Under the limit it is read, and its token found.
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
}

// ---------------------------------------------------------------------------
// history and ranges

/// A repository whose history holds a blob over `limit` (with a delta of it
/// in a later commit), packed, and a token in a small file beside it.
fn history_with_big_blob(token: &str) -> TempDir {
    let dir = work_repo();
    let mut big = big_text(96 * 1024, "nothing");
    write_tree(dir.path(), &[("small.env", &format!("TOKEN={token}\n"))]);
    std::fs::write(dir.path().join("assets.bin"), &big).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "add assets"]);
    big.extend_from_slice(b"one more line\n");
    std::fs::write(dir.path().join("assets.bin"), &big).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "grow assets"]);
    git(dir.path(), &["repack", "-adf", "--quiet"]);
    dir
}

#[test]
fn full_history_lists_packed_oversized_blobs_and_still_scans_the_rest() {
    let token = github_token("history-big");
    let dir = history_with_big_blob(&token);
    let out = gg(
        dir.path(),
        &[
            "scan",
            "--history",
            "--max-file-size",
            "64K",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    let paths = common::field_of_findings(&v, "path");
    assert_eq!(paths, vec!["small.env"], "{v}");
    assert_eq!(v["stats"]["skipped"]["too_large"], 2, "{}", v["stats"]);
    let listed: Vec<&str> = v["stats"]["skipped_blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec!["assets.bin", "assets.bin"]);
    assert_eq!(v["stats"]["errors"], 0);
    // Without the limit the same history is read whole: same finding.
    let out = gg(dir.path(), &["scan", "--history", "--format", "json"]);
    assert_eq!(
        common::field_of_findings(&json(&out), "path"),
        vec!["small.env"]
    );
}

#[test]
fn range_scan_blocks_oversized_blob() {
    let token = github_token("range-big");
    let dir = history_with_big_blob(&token);
    let out = gg(
        dir.path(),
        &["scan", "--range", "HEAD~1..HEAD", "--max-file-size", "64K"],
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("assets.bin"), "{all}");
    assert!(all.contains("64.0 KiB (65536 bytes)"), "{all}");
}

// ---------------------------------------------------------------------------
// working tree: binary and UTF-16 content

#[test]
fn binary_blobs_are_scanned_as_bytes_but_never_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("binary-bytes");
    // A binary file that also looks like a plaintext Secret manifest: the
    // token is found, the manifest detectors do not run on it.
    let pass = ["hunter2", "but", "longer"].join("-");
    let yaml = format!(
        "\0\0\u{1b}[2J\napiVersion: v1\nkind: Secret\nmetadata: {{name: x}}\nstringData:\n  password: {pass}\n  token: {token}\n"
    );
    std::fs::write(dir.path().join("blob.yaml"), yaml.as_bytes()).unwrap();
    std::fs::write(dir.path().join("clean.bin"), b"\0\x01\x02 no token here").unwrap();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    let rules: Vec<&str> = common::field_of_findings(&v, "rule");
    assert!(rules.contains(&"github-pat-classic"), "{v}");
    let categories = common::field_of_findings(&v, "category");
    assert!(
        categories.iter().all(|c| *c == "secret"),
        "nothing parsed: {v}"
    );
    assert_eq!(v["stats"]["blobs_scanned"], 2);
    assert_eq!(v["stats"]["binary_scanned"], 2);
    let snippet = v["findings"][0]["snippet"].as_str().unwrap();
    assert!(
        !snippet.chars().any(|c| c.is_control() && c != '\t'),
        "{snippet:?}"
    );
    assert_redacted(&out.stdout, &[&token]);
}

// ---------------------------------------------------------------------------
// item 13: many findings in one file

/// No token appears in full in `text` (one pass over the words of the
/// text, not one search per token: the output holds 30,000 findings).
fn assert_none_printed(text: &str, tokens: &[String]) {
    let set: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
    let leaked = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| set.contains(w))
        .count();
    assert_eq!(leaked, 0, "tokens printed in full");
}

/// `n` distinct tokens, each of which the scanner reports on its own (a
/// few generated ones fail its placeholder or entropy checks): the oracle
/// for "all of them, together in one file".
fn tokens(n: usize, prefix: &str) -> Vec<String> {
    use gitops_guard::scan::{ScanOptions, Scanner};
    let scanner = Scanner::new(Default::default(), ScanOptions::default()).unwrap();
    (0..)
        .map(|i| github_token(&format!("{prefix}-{i}")))
        .filter(|t| {
            !scanner
                .scan_blob("one.env", format!("T={t}\n").as_bytes())
                .findings
                .is_empty()
        })
        .take(n)
        .collect()
}

#[test]
fn thirty_thousand_tokens_in_one_file_are_all_reported_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens(30_000, "many");
    let text: String = tokens.iter().map(|t| format!("T={t}\n")).collect();
    std::fs::write(dir.path().join("many.env"), text).unwrap();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 30_000);
    assert_none_printed(&out.stdout, &tokens);
}

#[test]
fn tokens_on_one_long_line_are_all_reported_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens(3_000, "line");
    let line: String = tokens.iter().map(|t| format!("\"k\":\"{t}\",")).collect();
    std::fs::write(dir.path().join("min.json"), format!("{{{line}}}\n")).unwrap();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3_000);
    // Columns are right: the last token starts where it is.
    let last = findings.last().unwrap();
    let expect = line.rfind(tokens.last().unwrap().as_str()).unwrap() + 2;
    assert_eq!(last["column"].as_u64(), Some(expect as u64));
    for f in findings {
        let s = f["snippet"].as_str().unwrap();
        assert!(s.contains("ghp_…"), "{s}");
    }
    assert_none_printed(&out.stdout, &tokens);
}

// ---------------------------------------------------------------------------
// item 14

#[test]
fn threads_above_1024_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("a.txt", "hello\n")]);
    let out = gg(dir.path(), &["scan", ".", "--threads", "100000"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("1024"), "{}", out.stderr);
    let out = gg(dir.path(), &["scan", ".", "--threads", "1025"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = gg(dir.path(), &["scan", ".", "--threads", "2"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = gg(dir.path(), &["scan", "--help"]);
    assert!(out.stdout.contains("at most 1024"), "{}", out.stdout);
}
