//! Issue 11, items 2–6 and the pre-push `at_head` bug: ways past the guard
//! through what it is pointed at. Refs to blobs and trees, `refs/replace`,
//! broken refs, a git directory given as the path, and standard input /
//! FIFOs. Every case runs the real binary on repositories made here with
//! the real `git`; each test failed on the code before the fix.

mod common;

use common::{assert_redacted, bin, gg, git, github_token, json, write_tree};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

fn env_file(token: &str) -> String {
    format!("GITHUB_TOKEN={token}\n")
}

/// A work repository with one clean commit on `main`.
fn work_repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(dir.path(), &[("README.md", "# fleet\n")]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "initial"]);
    dir
}

/// Write `contents` as a blob object (not in any tree); returns its id.
fn blob(repo: &Path, contents: &str) -> String {
    let tmp = repo.join(".blob-tmp");
    std::fs::write(&tmp, contents).unwrap();
    let id = git(repo, &["hash-object", "-w", tmp.to_str().unwrap()]);
    std::fs::remove_file(&tmp).unwrap();
    id
}

/// Write a tree holding `files` (without committing it); returns its id.
fn tree(repo: &Path, files: &[(&str, &str)]) -> String {
    let index = repo.join(".git/tmp-index");
    let env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    for (path, contents) in files {
        let id = blob(repo, contents);
        let (ok, out) = common::git_try(
            repo,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("100644,{id},{path}"),
            ],
            &env,
        );
        assert!(ok, "{out}");
    }
    let (ok, out) = common::git_try(repo, &["write-tree"], &env);
    assert!(ok, "{out}");
    std::fs::remove_file(&index).unwrap();
    out.trim().to_string()
}

fn history_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scan", "--history", "--format", "json", "-q"];
    args.extend_from_slice(extra);
    let out = gg(dir, &args);
    let v = if out.stdout.trim().is_empty() {
        serde_json::Value::Null
    } else {
        json(&out)
    };
    (out.code, v, out.stderr)
}

fn rules_at(v: &serde_json::Value, path: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["path"] == path)
                .map(|f| f["rule"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// 2. Refs that point at blobs and trees

#[test]
fn history_scans_blob_reachable_only_from_tag() {
    let d = work_repo();
    let dir = d.path();
    let token = github_token("refs-blob-light");
    let light = blob(dir, &env_file(&token));
    git(dir, &["tag", "leak", &light]);
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(code, 1, "a blob only a lightweight tag reaches: {v}\n{err}");
    assert!(
        rules_at(&v, "refs/tags/leak").contains(&"github-pat-classic".to_string()),
        "reported under the ref's name: {v}"
    );
    assert_redacted(&v.to_string(), &[&token]);

    // An annotated tag of a blob, and the same through --ref.
    let d = work_repo();
    let dir = d.path();
    let token = github_token("refs-blob-annotated");
    let id = blob(dir, &env_file(&token));
    git(dir, &["tag", "-a", "-m", "a blob", "annotated", &id]);
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(code, 1, "a blob an annotated tag reaches: {v}\n{err}");
    let (code, v, err) = history_json(dir, &["--ref", "annotated"]);
    assert_eq!(code, 1, "--ref to a tag of a blob: {v}\n{err}");

    // Must still fire: a tree only a tag reaches (the walk saw those before).
    let d = work_repo();
    let dir = d.path();
    let token = github_token("refs-tree");
    let t = tree(dir, &[("deep/app.env", &env_file(&token))]);
    git(dir, &["tag", "tree-tag", &t]);
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(code, 1, "a tree only a tag reaches: {v}\n{err}");
    assert!(!rules_at(&v, "deep/app.env").is_empty(), "{v}");

    // Must not fire: a clean blob under a tag is scanned and clean.
    let d = work_repo();
    let clean = blob(d.path(), "just some notes\n");
    git(d.path(), &["tag", "notes", &clean]);
    let (code, v, err) = history_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let blobs = v["stats"]["blobs_scanned"].as_u64();
    assert_eq!(
        blobs,
        Some(4),
        "README, the commit message, the commit's identity, the tagged blob: {v}"
    );
}

#[test]
fn history_scans_annotated_tag_message() {
    let d = work_repo();
    let dir = d.path();
    let token = github_token("history-tag-message");
    git(dir, &["tag", "-a", "-m", &env_file(&token), "v1", "HEAD"]);
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(
        code, 1,
        "the tag object a ref points at is content: {v}\n{err}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "<tag-message>")
        .unwrap_or_else(|| panic!("a finding in the tag message: {v}"));
    assert_eq!(f["ref"], "refs/tags/v1", "{f}");
    assert_redacted(&v.to_string(), &[&token]);
    // Must not fire: a plain annotated tag.
    let d = work_repo();
    git(d.path(), &["tag", "-a", "-m", "release 1", "v1", "HEAD"]);
    let (code, v, err) = history_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(
        v["stats"]["commits_scanned"], 1,
        "tags are not commits: {v}"
    );
}

/// A bare server with the `pre-receive` hook and a clone with one commit pushed.
struct Server {
    _dir: TempDir,
    server: PathBuf,
    client: PathBuf,
}

impl Server {
    fn new(hook: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (server, client) = common::server_and_client(dir.path());
        if hook {
            common::install_pre_receive(&server, "");
        }
        Server {
            _dir: dir,
            server,
            client,
        }
    }

    fn push(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut a = vec!["push", "origin"];
        a.extend_from_slice(args);
        common::git_try(&self.client, &a, env)
    }

    fn has_ref(&self, name: &str) -> bool {
        common::git_try(
            &self.server,
            &["rev-parse", "--verify", "--quiet", name],
            &[],
        )
        .0
    }
}

#[test]
fn pre_receive_blocks_blob_pushed_as_tag() {
    let s = Server::new(true);
    let token = github_token("pre-receive-blob");
    let id = blob(&s.client, &env_file(&token));
    let (ok, out) = s.push(&[&format!("{id}:refs/tags/x")], &[]);
    assert!(!ok, "a blob pushed as a tag must be rejected:\n{out}");
    assert!(out.contains("refs/tags/x"), "{out}");
    assert!(out.contains("github-pat-classic"), "{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.has_ref("refs/tags/x"));
    // Must not fire: a clean blob as a tag is accepted.
    let clean = blob(&s.client, "release notes\n");
    let (ok, out) = s.push(&[&format!("{clean}:refs/tags/notes")], &[]);
    assert!(ok, "{out}");
}

#[test]
fn pre_receive_blocks_tree_and_annotated_tag_of_blob() {
    let s = Server::new(true);
    let token = github_token("pre-receive-tree");
    let t = tree(&s.client, &[("apps/app.env", &env_file(&token))]);
    let (ok, out) = s.push(&[&format!("{t}:refs/tags/t")], &[]);
    assert!(!ok, "a tree pushed as a tag must be rejected:\n{out}");
    assert!(out.contains("apps/app.env"), "{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.has_ref("refs/tags/t"));

    let token = github_token("pre-receive-annotated");
    let id = blob(&s.client, &env_file(&token));
    git(&s.client, &["tag", "-a", "-m", "notes", "annotated", &id]);
    let (ok, out) = s.push(&["refs/tags/annotated"], &[]);
    assert!(!ok, "an annotated tag of a blob must be rejected:\n{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.has_ref("refs/tags/annotated"));
}

fn pre_push_path() -> String {
    format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn pre_push_blocks_blob_and_tree_pushed_as_tags() {
    let s = Server::new(false);
    let out = gg(&s.client, &["hook", "install", "--hook", "pre-push"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = pre_push_path();
    let env = [("PATH", path.as_str())];
    let token = github_token("pre-push-blob");
    let id = blob(&s.client, &env_file(&token));
    let (ok, out) = s.push(&[&format!("{id}:refs/tags/x")], &env);
    assert!(!ok, "pre-push must stop a blob pushed as a tag:\n{out}");
    assert_redacted(&out, &[&token]);
    assert!(!s.has_ref("refs/tags/x"));

    let token = github_token("pre-push-tree");
    let t = tree(&s.client, &[("k/app.env", &env_file(&token))]);
    let (ok, out) = s.push(&[&format!("{t}:refs/tags/t")], &env);
    assert!(!ok, "pre-push must stop a tree pushed as a tag:\n{out}");
    assert!(out.contains("k/app.env"), "{out}");
    assert_redacted(&out, &[&token]);

    // Must not fire: a clean blob.
    let clean = blob(&s.client, "release notes\n");
    let (ok, out) = s.push(&[&format!("{clean}:refs/tags/notes")], &env);
    assert!(ok, "{out}");
}

#[test]
fn pre_push_scans_annotated_tag_message() {
    let s = Server::new(false);
    let out = gg(&s.client, &["hook", "install", "--hook", "pre-push"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = pre_push_path();
    let env = [("PATH", path.as_str())];
    let token = github_token("pre-push-tag-message");
    git(
        &s.client,
        &["tag", "-a", "-m", &env_file(&token), "v1", "HEAD"],
    );
    let (ok, out) = s.push(&["refs/tags/v1"], &env);
    assert!(
        !ok,
        "a token in a pushed tag's message stops the push:\n{out}"
    );
    assert!(out.contains("<tag-message>"), "{out}");
    assert_redacted(&out, &[&token]);
    // Must not fire: a plain annotated tag.
    git(&s.client, &["tag", "-a", "-m", "release 2", "v2", "HEAD"]);
    let (ok, out) = s.push(&["refs/tags/v2"], &env);
    assert!(ok, "{out}");
}

// ---------------------------------------------------------------------------
// pre-push: the pushed tip is at HEAD

#[test]
fn pre_push_counts_the_pushed_tip_as_at_head() {
    let s = Server::new(false);
    let out = gg(&s.client, &["hook", "install", "--hook", "pre-push"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = pre_push_path();
    let env = [("PATH", path.as_str())];
    let token = github_token("pre-push-tip");
    write_tree(&s.client, &[("apps/app.env", &env_file(&token))]);
    git(&s.client, &["add", "-A"]);
    git(&s.client, &["commit", "--quiet", "-m", "tip"]);
    let (ok, out) = s.push(&["main"], &env);
    assert!(!ok, "{out}");
    assert!(out.contains("apps/app.env:1:"), "{out}");
    assert!(
        !out.contains("not at HEAD any more"),
        "the tip being pushed is at HEAD:\n{out}"
    );
    // Must fire: added and removed again within the push.
    let token2 = github_token("pre-push-gone");
    git(&s.client, &["rm", "--quiet", "apps/app.env"]);
    write_tree(&s.client, &[("old/app.env", &env_file(&token2))]);
    git(&s.client, &["add", "-A"]);
    git(&s.client, &["commit", "--quiet", "-m", "moved"]);
    git(&s.client, &["rm", "--quiet", "old/app.env"]);
    git(&s.client, &["commit", "--quiet", "-m", "removed"]);
    let (ok, out) = s.push(&["main"], &env);
    assert!(!ok, "{out}");
    assert!(
        out.contains("not at HEAD any more"),
        "a secret removed before the tip is only in history:\n{out}"
    );
    assert_redacted(&out, &[&token, &token2]);
}

// ---------------------------------------------------------------------------
// 3. refs/replace

#[test]
fn history_reads_real_objects_under_refs_replace() {
    let d = work_repo();
    let dir = d.path();
    let clean = git(dir, &["rev-parse", "HEAD"]);
    let token = github_token("replace-hidden");
    write_tree(dir, &[("apps/app.env", &env_file(&token))]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "add config"]);
    let leaky = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["rm", "--quiet", "apps/app.env"]);
    git(dir, &["commit", "--quiet", "-m", "remove config"]);
    // The commit that added the token now looks like the clean one.
    git(dir, &["replace", &leaky, &clean]);
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(
        code, 1,
        "a replaced commit must not hide its content: {v}\n{err}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "apps/app.env")
        .unwrap_or_else(|| panic!("finding at apps/app.env: {v}"));
    assert_eq!(f["commit"], leaky.as_str(), "the real commit: {f}");
    let (code, v, _) = history_json(dir, &["--branches-only"]);
    assert_eq!(code, 1, "--branches-only too: {v}");

    // Must fire as well: the replacement objects themselves are scanned.
    let d = work_repo();
    let dir = d.path();
    let base = git(dir, &["rev-parse", "HEAD"]);
    let token2 = github_token("replace-replacement");
    let t = tree(dir, &[("swap/app.env", &env_file(&token2))]);
    let replacement = git(dir, &["commit-tree", &t, "-m", "replacement"]);
    git(dir, &["replace", &base, &replacement]);
    let (code, v, err) = history_json(dir, &["--branches-only"]);
    assert_eq!(code, 1, "the replacement object is scanned: {v}\n{err}");
    assert!(!rules_at(&v, "swap/app.env").is_empty(), "{v}");
    assert_redacted(&v.to_string(), &[&token, &token2]);
}

#[test]
fn pre_commit_reads_real_staged_blob_under_refs_replace() {
    let d = work_repo();
    let dir = d.path();
    let clean = blob(dir, "nothing to see\n");
    let token = github_token("replace-staged");
    write_tree(dir, &[("app.env", &env_file(&token))]);
    git(dir, &["add", "app.env"]);
    let staged = git(dir, &["rev-parse", ":app.env"]);
    git(dir, &["replace", &staged, &clean]);
    let out = gg(dir, &["hook", "pre-commit"]);
    assert_eq!(
        out.code, 1,
        "the staged blob, not its replacement:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("app.env:1:"), "{}", out.stdout);
    assert_redacted(&out.stdout, &[&token]);
}

// ---------------------------------------------------------------------------
// 4. Broken refs

#[test]
fn history_fails_on_ref_to_missing_object() {
    let d = work_repo();
    let dir = d.path();
    std::fs::write(
        dir.join(".git/refs/heads/ghost"),
        "1234567890123456789012345678901234567890\n",
    )
    .unwrap();
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(
        code, 3,
        "a ref to a missing object is a scan error: {v}\n{err}"
    );
    assert!(
        v.to_string().contains("refs/heads/ghost"),
        "names the ref: {v}"
    );
    // --allow-missing counts it instead.
    let (code, v, err) = history_json(dir, &["--allow-missing"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["stats"]["skipped"]["missing_object"], 1, "{v}");
}

#[test]
fn history_fails_on_garbage_ref_file() {
    let d = work_repo();
    let dir = d.path();
    std::fs::write(dir.join(".git/refs/heads/junk"), "this is not a ref\n").unwrap();
    let (code, v, err) = history_json(dir, &[]);
    assert_eq!(code, 3, "an unreadable ref is a scan error: {v}\n{err}");
    let (code, v, err) = history_json(dir, &["--allow-missing"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["stats"]["skipped"]["missing_object"], 1, "{v}");
    // Must not fire: a symbolic ref to an unborn branch is not broken.
    let d = work_repo();
    git(
        d.path(),
        &["symbolic-ref", "refs/heads/alias", "refs/heads/unborn"],
    );
    let (code, v, err) = history_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}\n{err}");
}

// ---------------------------------------------------------------------------
// 5. A git directory given as PATH

#[test]
fn bare_repository_path_scans_its_history() {
    let d = work_repo();
    let dir = d.path();
    let token = github_token("bare-path");
    write_tree(dir, &[("apps/app.env", &env_file(&token))]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "secret"]);
    let outer = tempfile::tempdir().unwrap();
    git(
        outer.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            dir.to_str().unwrap(),
            "bare.git",
        ],
    );
    for target in [outer.path().join("bare.git"), dir.join(".git")] {
        let out = gg(
            outer.path(),
            &["scan", target.to_str().unwrap(), "--format", "json", "-q"],
        );
        assert_eq!(
            out.code,
            1,
            "{}: {}\n{}",
            target.display(),
            out.stdout,
            out.stderr
        );
        let v = json(&out);
        assert!(!rules_at(&v, "apps/app.env").is_empty(), "{v}");
        assert!(v["stats"]["commits_scanned"].as_u64() >= Some(2), "{v}");
        assert_redacted(&out.stdout, &[&token]);
    }
    // A directory inside git's own: never walked, an error that says what to do.
    let out = gg(
        outer.path(),
        &["scan", dir.join(".git/refs").to_str().unwrap()],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--history"), "{}", out.stderr);
    // Must not fire: a clean bare repository passes.
    let clean = work_repo();
    let out = gg(clean.path(), &["scan", ".git", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn nested_git_directory_is_never_walked() {
    let outer = tempfile::tempdir().unwrap();
    let inner = work_repo();
    git(
        outer.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            inner.path().to_str().unwrap(),
            "vendor/inner.git",
        ],
    );
    write_tree(outer.path(), &[("README.md", "# outer\n")]);
    let out = gg(outer.path(), &["scan", ".", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(v["stats"]["blobs_scanned"], 1, "only README.md: {v}");
    assert_eq!(v["stats"]["skipped"]["git_dir"], 1, "{v}");
}

// ---------------------------------------------------------------------------
// 6. Standard input, FIFOs, character devices

fn gg_stdin(dir: &Path, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn scan_dash_reads_stdin_as_one_blob() {
    let d = tempfile::tempdir().unwrap();
    let token = github_token("stdin-dash");
    let input = env_file(&token);
    let (code, out, err) = gg_stdin(
        d.path(),
        &[
            "scan",
            "-",
            "--stdin-name",
            "apps/app.env",
            "--format",
            "json",
        ],
        input.as_bytes(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!rules_at(&v, "apps/app.env").is_empty(), "{v}");
    assert_eq!(v["stats"]["blobs_scanned"], 1, "{v}");
    assert_redacted(&out, &[&token]);
    // Without a name: `<stdin>`.
    let (code, out, _) = gg_stdin(
        d.path(),
        &["scan", "-", "--format", "json"],
        input.as_bytes(),
    );
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!rules_at(&v, "<stdin>").is_empty(), "{v}");
    // /dev/stdin names the same stream.
    let (code, out, err) = gg_stdin(d.path(), &["scan", "/dev/stdin"], input.as_bytes());
    assert_eq!(code, 1, "{out}\n{err}");
    assert_redacted(&out, &[&token]);
    // Must not fire: clean input is one clean blob.
    let (code, out, _) = gg_stdin(d.path(), &["scan", "-", "--format", "json"], b"hello\n");
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["blobs_scanned"], 1, "{v}");
    // `-` with history makes no sense.
    let (code, _, err) = gg_stdin(d.path(), &["scan", "-", "--history"], b"");
    assert_eq!(code, 2, "{err}");
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo");
}

#[test]
fn scan_reads_fifo_given_explicitly() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("pipe");
    mkfifo(&fifo);
    let token = github_token("fifo-explicit");
    let content = env_file(&token);
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&f2).unwrap();
        f.write_all(content.as_bytes()).unwrap();
    });
    let out = gg(
        d.path(),
        &["scan", fifo.to_str().unwrap(), "--format", "json"],
    );
    // If the scan never opened the FIFO, the writer still waits for a
    // reader: be one (without blocking) so the test ends either way.
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(0o4000) // O_NONBLOCK
            .open(&fifo);
        writer.join().unwrap();
    }
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert_redacted(&out.stdout, &[&token]);
    // A character device given explicitly is read, bounded by the size limit.
    let out = gg(d.path(), &["scan", "/dev/null", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(json(&out)["stats"]["blobs_scanned"], 1, "{}", out.stdout);
    let out = gg(
        d.path(),
        &[
            "scan",
            "/dev/zero",
            "--max-file-size",
            "1K",
            "--format",
            "json",
            "-q",
        ],
    );
    assert_eq!(
        json(&out)["stats"]["skipped"]["too_large"],
        1,
        "{}",
        out.stdout
    );
}

#[test]
fn fifo_inside_a_tree_is_counted_as_skip() {
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), &[("README.md", "# x\n")]);
    mkfifo(&d.path().join("pipe"));
    let out = gg(d.path(), &["scan", ".", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(v["stats"]["blobs_scanned"], 1, "{v}");
    assert_eq!(v["stats"]["skipped"]["special_file"], 1, "{v}");
}
