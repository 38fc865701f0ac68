//! `scan --history` on real repositories built with the `git` CLI in temp
//! dirs: branches, a merge, a tag-only commit, a rename, a secret added then
//! deleted, a secret in a commit message, the same blob at two paths, a
//! shallow clone, a submodule, an LFS pointer, a missing object, a corrupt
//! pack, ranges. Every expected occurrence count is computed independently
//! with `git rev-list` + `git ls-tree`, never copied from our own output.
//!
//! Tokens are generated at test time (`rules::examples::expand`), matched
//! back through `secret_hmac` (the scans run with a test HMAC key: without
//! one a report carries no value hash at all), and never printed.

use assert_cmd::Command;
use gitops_guard::rules::examples::expand;
use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::path::Path;
use std::process::Command as Proc;

/// Run git in `dir` with a fixed identity and clock (`tick` seconds after a
/// fixed epoch), so commits are reproducible.
fn git_at(dir: &Path, tick: u64, args: &[&str]) -> String {
    let date = format!("{} +0000", 1_700_000_000 + tick * 60);
    let out = Proc::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Alice")
        .env("GIT_AUTHOR_EMAIL", "alice@example.test")
        .env("GIT_COMMITTER_NAME", "Alice")
        .env("GIT_COMMITTER_EMAIL", "alice@example.test")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn token(seed: &str) -> String {
    expand("<<github:ghp_>>", seed).expect("generator")
}

/// The key the scans below run with ([`gitops_guard::finding::HMAC_KEY_ENV`]).
const HMAC_KEY: &str = "history-test-key";

/// `secret_hmac` of `s` under [`HMAC_KEY`], as the report computes it.
fn keyed(s: &str) -> String {
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(HMAC_KEY.as_bytes()).expect("key");
    for part in [&b"gitops-guard/value/v1"[..], s.as_bytes()] {
        m.update(part);
        m.update(&[0]);
    }
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Run the scanner; returns (exit code, report).
fn scan(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("gitops-guard")
        .expect("binary")
        .arg("scan")
        .args(extra)
        .args(["--format", "json", "--quiet"])
        .arg(dir)
        .env(gitops_guard::finding::HMAC_KEY_ENV, HMAC_KEY)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Run the scanner when no report is expected; returns (exit code, stderr).
fn scan_err(dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("gitops-guard")
        .expect("binary")
        .arg("scan")
        .args(extra)
        .args(["--format", "json", "--quiet"])
        .arg(dir)
        .env(gitops_guard::finding::HMAC_KEY_ENV, HMAC_KEY)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The findings of `report` whose secret is `tok` (matched by hash).
fn findings_of<'a>(report: &'a Value, tok: &str) -> Vec<&'a Value> {
    let h = keyed(tok);
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["secret_hmac"].as_str() == Some(h.as_str()))
        .collect()
}

fn one<'a>(report: &'a Value, tok: &str, what: &str) -> &'a Value {
    let f = findings_of(report, tok);
    assert_eq!(
        f.len(),
        1,
        "{what}: expected exactly one finding, got {}",
        f.len()
    );
    f[0]
}

/// `(commit, path)` places of a blob over every commit of `git rev-list
/// <revs>`, computed with git itself.
fn places(dir: &Path, blob: &str, revs: &[&str]) -> u64 {
    let mut args = vec!["rev-list"];
    args.extend_from_slice(revs);
    let commits = git_at(dir, 0, &args);
    let mut n = 0;
    for c in commits.lines() {
        let tree = git_at(dir, 0, &["ls-tree", "-r", c]);
        n += tree.lines().filter(|l| l.contains(blob)).count() as u64;
    }
    n
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    t_deleted: String,
    t_branch: String,
    t_two_paths: String,
    t_renamed: String,
    t_tag_only: String,
    t_message: String,
    c_deleted: String,
    c_branch: String,
    c_two_paths: String,
    c_renamed: String,
    c_tag_only: String,
    c_message: String,
    c_base_range: String,
}

/// The main recipe.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let d = dir.as_path();
    let t_deleted = token("history-deleted");
    let t_branch = token("history-branch");
    let t_two_paths = token("history-two-paths");
    let t_renamed = token("history-renamed");
    let t_tag_only = token("history-tag-only");
    let t_message = token("history-message");

    git_at(d, 0, &["init", "-q"]);
    // c1: a secret in a file that is renamed later.
    write(
        d,
        "apps/base/config.yaml",
        &format!("name: demo\ntoken: {t_renamed}\n"),
    );
    write(d, "README.md", "demo\n");
    git_at(d, 1, &["add", "-A"]);
    git_at(d, 1, &["commit", "-qm", "c1: base"]);
    let c_renamed = git_at(d, 1, &["rev-parse", "HEAD"]);
    // c2: a secret added ...
    write(
        d,
        "apps/api/values.yaml",
        &format!("# api\nreplicas: 2\napiToken: {t_deleted}\n"),
    );
    git_at(d, 2, &["add", "-A"]);
    git_at(d, 2, &["commit", "-qm", "c2: api values"]);
    let c_deleted = git_at(d, 2, &["rev-parse", "HEAD"]);
    // c3: ... and deleted again.
    git_at(d, 3, &["rm", "-q", "apps/api/values.yaml"]);
    git_at(d, 3, &["commit", "-qm", "c3: remove api values"]);
    let c_base_range = git_at(d, 3, &["rev-parse", "HEAD"]);
    // c4 on a branch.
    git_at(d, 4, &["checkout", "-qb", "feature"]);
    write(
        d,
        "feat/creds.env",
        &format!("USER=ci\nGITHUB_TOKEN={t_branch}\n"),
    );
    git_at(d, 4, &["add", "-A"]);
    git_at(d, 4, &["commit", "-qm", "c4: feature creds"]);
    let c_branch = git_at(d, 4, &["rev-parse", "HEAD"]);
    // c5 on main: a rename, the same blob at two paths, an LFS pointer, a gitlink.
    git_at(d, 5, &["checkout", "-q", "main"]);
    git_at(d, 5, &["mv", "apps/base/config.yaml", "apps/base/cfg.yaml"]);
    let same = format!("kind: ConfigMap\n\n\nx: {t_two_paths}\n");
    write(d, "keep/a.yaml", &same);
    write(d, "keep/b.yaml", &same);
    write(
        d,
        "assets/big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    git_at(d, 5, &["add", "-A"]);
    git_at(
        d,
        5,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{c_branch},vendor/sub"),
        ],
    );
    git_at(
        d,
        5,
        &["commit", "-qm", "c5: rename, copies, lfs, submodule"],
    );
    let c_two_paths = git_at(d, 5, &["rev-parse", "HEAD"]);
    // c6: merge the branch.
    git_at(
        d,
        6,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "c6: merge feature",
            "feature",
        ],
    );
    // c7: a commit only a tag reaches (its branch is deleted).
    git_at(d, 7, &["checkout", "-qb", "tmp"]);
    write(d, "tagged/secret.txt", &format!("{t_tag_only}\n"));
    git_at(d, 7, &["add", "-A"]);
    git_at(d, 7, &["commit", "-qm", "c7: only tagged"]);
    let c_tag_only = git_at(d, 7, &["rev-parse", "HEAD"]);
    git_at(d, 7, &["tag", "-a", "-m", "release", "v-tagged"]);
    git_at(d, 7, &["checkout", "-q", "main"]);
    git_at(d, 7, &["branch", "-qD", "tmp"]);
    // c8: a token pasted into a commit message.
    git_at(
        d,
        8,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            &format!("c8: deploy\n\nused {t_message} for the rollout"),
        ],
    );
    let c_message = git_at(d, 8, &["rev-parse", "HEAD"]);
    Fixture {
        _tmp: tmp,
        dir,
        t_deleted,
        t_branch,
        t_two_paths,
        t_renamed,
        t_tag_only,
        t_message,
        c_deleted,
        c_branch,
        c_two_paths,
        c_renamed,
        c_tag_only,
        c_message,
        c_base_range,
    }
}

fn blob_of(dir: &Path, rev_path: &str) -> String {
    git_at(dir, 0, &["rev-parse", rev_path])
}

fn check_full_history(fx: &Fixture, report: &Value) {
    let d = fx.dir.as_path();
    let all = ["--all"];

    let f = one(report, &fx.t_deleted, "added then deleted");
    assert_eq!(f["commit"], fx.c_deleted.as_str());
    assert_eq!(f["path"], "apps/api/values.yaml");
    assert_eq!(f["line"], 3);
    assert_eq!(f["at_head"], false);
    assert_eq!(f["occurrences"], 0);
    assert_eq!(f["author"], "Alice <alice@example.test>");
    assert!(f["date"].as_str().is_some_and(|s| s.ends_with('Z')));

    let f = one(report, &fx.t_branch, "branch, merged");
    assert_eq!(f["commit"], fx.c_branch.as_str());
    assert_eq!(f["path"], "feat/creds.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["at_head"], true);
    let blob = blob_of(d, &format!("{}:feat/creds.env", fx.c_branch));
    assert_eq!(f["occurrences"], places(d, &blob, &all) - 1);
    assert!(
        f["occurrences"].as_u64().expect("count") >= 3,
        "branch, merge and later commits carry it"
    );

    let f = one(report, &fx.t_two_paths, "same blob at two paths");
    assert_eq!(f["commit"], fx.c_two_paths.as_str());
    assert_eq!(f["path"], "keep/a.yaml");
    assert_eq!(f["line"], 4);
    let blob = blob_of(d, &format!("{}:keep/a.yaml", fx.c_two_paths));
    let expected = places(d, &blob, &all) - 1;
    assert_eq!(f["occurrences"], expected);
    assert!(expected >= 5, "two paths in at least three commits");

    let f = one(report, &fx.t_renamed, "renamed file: one finding");
    assert_eq!(f["commit"], fx.c_renamed.as_str());
    assert_eq!(f["path"], "apps/base/config.yaml");
    assert_eq!(f["line"], 2);
    assert_eq!(f["at_head"], true);
    let blob = blob_of(d, &format!("{}:apps/base/config.yaml", fx.c_renamed));
    assert_eq!(f["occurrences"], places(d, &blob, &all) - 1);

    let f = one(report, &fx.t_tag_only, "reachable from a tag only");
    assert_eq!(f["commit"], fx.c_tag_only.as_str());
    assert_eq!(f["path"], "tagged/secret.txt");
    assert_eq!(f["line"], 1);
    assert_eq!(f["at_head"], false);

    let f = one(report, &fx.t_message, "commit message");
    assert_eq!(f["commit"], fx.c_message.as_str());
    assert_eq!(f["path"], "<commit-message>");
    assert_eq!(f["line"], 3);

    let stats = &report["stats"];
    let commits: u64 = git_at(d, 0, &["rev-list", "--all", "--count"])
        .parse()
        .expect("count");
    assert_eq!(stats["commits_scanned"], commits);
    assert_eq!(stats["skipped"]["lfs_pointer"], 1, "{stats}");
    assert_eq!(stats["skipped"]["submodule"], 1, "{stats}");
    assert_eq!(stats["shallow"], false);
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{}",
        report["errors"]
    );
    // Never the secret in full.
    let text = report.to_string();
    for t in [&fx.t_deleted, &fx.t_branch, &fx.t_message] {
        assert!(!text.contains(t.as_str()), "a secret is printed in full");
    }
}

#[test]
fn full_history_loose_objects() {
    let fx = fixture();
    let (code, report) = scan(&fx.dir, &["--history"]);
    assert_eq!(code, 1, "findings fail the run");
    check_full_history(&fx, &report);
    assert_eq!(report["stats"]["uncommitted_changes"], false);
}

#[test]
fn full_history_packed_and_bare() {
    // The same history, packed (pack traversal path) and bare.
    let fx = fixture();
    let bare = fx.dir.parent().expect("parent").join("bare.git");
    git_at(
        fx.dir.parent().expect("parent"),
        0,
        &[
            "clone",
            "-q",
            "--mirror",
            fx.dir.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    git_at(&bare, 0, &["repack", "-qad"]);
    assert!(
        std::fs::read_dir(bare.join("objects/pack"))
            .expect("pack dir")
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "pack")),
        "the bare mirror is packed"
    );
    let (code, report) = scan(&bare, &["--history"]);
    assert_eq!(code, 1);
    // Same expectations, with the bare repository as the oracle.
    let fx2 = Fixture {
        dir: bare.clone(),
        ..fx
    };
    check_full_history(&fx2, &report);
    assert!(report["stats"]["uncommitted_changes"].is_null());
}

#[test]
fn branches_only_and_single_ref() {
    let fx = fixture();
    let (_, report) = scan(&fx.dir, &["--history", "--branches-only"]);
    assert!(
        findings_of(&report, &fx.t_tag_only).is_empty(),
        "tags are not walked"
    );
    assert_eq!(findings_of(&report, &fx.t_branch).len(), 1);

    let (_, report) = scan(&fx.dir, &["--ref", "v-tagged"]);
    assert_eq!(findings_of(&report, &fx.t_tag_only).len(), 1);
    assert!(
        findings_of(&report, &fx.t_message).is_empty(),
        "c8 is not behind the tag"
    );

    let (code, err) = scan_err(&fx.dir, &["--ref", "no-such-ref"]);
    assert_eq!(code, 2, "an unknown ref is a usage error");
    assert!(err.contains("no-such-ref"), "{err}");
}

#[test]
fn range_scans_only_what_the_range_introduces() {
    let fx = fixture();
    let d = fx.dir.as_path();
    // c3..main: the deleted secret (c2) and the renamed file's blob (c1) are
    // outside; the branch, the copies and the message are inside.
    let (code, report) = scan(d, &["--range", &format!("{}..main", fx.c_base_range)]);
    assert_eq!(code, 1);
    assert!(findings_of(&report, &fx.t_deleted).is_empty());
    assert!(
        findings_of(&report, &fx.t_renamed).is_empty(),
        "a rename introduces nothing"
    );
    assert!(
        findings_of(&report, &fx.t_tag_only).is_empty(),
        "not in the range"
    );
    let f = one(&report, &fx.t_branch, "range: branch");
    assert_eq!(f["commit"], fx.c_branch.as_str());
    let blob = blob_of(d, &format!("{}:feat/creds.env", fx.c_branch));
    let range = format!("{}..main", fx.c_base_range);
    assert_eq!(f["occurrences"], places(d, &blob, &[range.as_str()]) - 1);
    assert_eq!(
        one(&report, &fx.t_message, "range: message")["commit"],
        fx.c_message.as_str()
    );
    assert_eq!(
        one(&report, &fx.t_two_paths, "range: copies")["path"],
        "keep/a.yaml"
    );
    let commits: u64 = git_at(d, 0, &["rev-list", "--count", &range])
        .parse()
        .expect("n");
    assert_eq!(report["stats"]["commits_scanned"], commits);

    // --since-commit is the same range up to HEAD.
    let (_, since) = scan(d, &["--since-commit", &fx.c_base_range]);
    assert_eq!(findings_of(&since, &fx.t_branch).len(), 1);
    assert!(findings_of(&since, &fx.t_deleted).is_empty());

    // A range that introduces nothing is clean.
    let (code, report) = scan(d, &["--range", "main..main"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["commits_scanned"], 0);

    let (code, err) = scan_err(d, &["--range", "main...feature"]);
    assert_eq!(code, 2, "symmetric ranges are refused");
    assert!(err.contains("A..B"), "{err}");
    let (code, _) = scan_err(d, &["--range", "nonsense"]);
    assert_eq!(code, 2, "a range without `..` is refused");
}

#[test]
fn shallow_clone_scans_what_exists() {
    let fx = fixture();
    let shallow = fx.dir.parent().expect("parent").join("shallow");
    let url = format!("file://{}", fx.dir.display());
    git_at(
        fx.dir.parent().expect("parent"),
        0,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().expect("utf8"),
        ],
    );
    let (code, report) = scan(&shallow, &["--history"]);
    assert_eq!(code, 1, "{}", report["errors"]);
    assert_eq!(report["stats"]["shallow"], true);
    assert_eq!(report["stats"]["commits_scanned"], 1);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
    // HEAD's tree still has the branch's secret; the deleted one is gone.
    let f = one(&report, &fx.t_branch, "shallow");
    assert_eq!(f["path"], "feat/creds.env");
    assert_eq!(
        f["commit"],
        fx.c_message.as_str(),
        "the only commit there is"
    );
    assert!(findings_of(&report, &fx.t_deleted).is_empty());
}

#[test]
fn missing_object_fails_closed_unless_allowed() {
    let fx = fixture();
    let d = fx.dir.as_path();
    let blob = blob_of(d, &format!("{}:apps/api/values.yaml", fx.c_deleted));
    let loose = d.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    std::fs::remove_file(&loose).expect("a loose object to delete");

    let (code, report) = scan(d, &["--history"]);
    assert_eq!(code, 3, "a missing object is a scan error");
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains(&blob))
                && e["path"] == "apps/api/values.yaml"),
        "the error names the object and its path: {errors:?}"
    );
    // Everything else was still scanned.
    assert_eq!(findings_of(&report, &fx.t_branch).len(), 1);

    let (code, report) = scan(d, &["--history", "--allow-missing"]);
    assert_eq!(code, 1);
    assert_eq!(report["stats"]["skipped"]["missing_object"], 1);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn corrupt_pack_is_a_scan_error_naming_the_object() {
    let fx = fixture();
    let parent = fx.dir.parent().expect("parent");
    let bare = parent.join("corrupt.git");
    git_at(
        parent,
        0,
        &[
            "clone",
            "-q",
            "--bare",
            fx.dir.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    git_at(&bare, 0, &["repack", "-qad"]);
    // Damage the zlib stream of the blob with the branch's secret.
    let blob = blob_of(&bare, &format!("{}:feat/creds.env", fx.c_branch));
    let pack_dir = bare.join("objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let verify = git_at(
        &bare,
        0,
        &["verify-pack", "-v", idx.to_str().expect("utf8")],
    );
    let offset: u64 = verify
        .lines()
        .find(|l| l.starts_with(&blob))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("the blob's offset");
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).expect("pack");
    let mut perms = std::fs::metadata(&pack).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).expect("writable");
    for k in 3..8 {
        bytes[offset as usize + k] ^= 0x55;
    }
    std::fs::write(&pack, bytes).expect("write pack");

    let (code, report) = scan(&bare, &["--history"]);
    assert_eq!(code, 3, "corruption is a scan error");
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains(&blob))),
        "an error names the damaged object: {errors:?}"
    );
    // The rest of history is still scanned.
    assert_eq!(findings_of(&report, &fx.t_message).len(), 1);
}

#[test]
fn not_a_repository_is_a_scan_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("gitops-guard")
        .expect("binary")
        .args(["scan", "--history", "--quiet"])
        .arg(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}

#[test]
fn no_progress_line_on_a_pipe() {
    let fx = fixture();
    let out = Command::cargo_bin("gitops-guard")
        .expect("binary")
        .args(["scan", "--history", "--format", "json", "-o"])
        .arg(fx.dir.parent().expect("parent").join("r.json"))
        .arg(&fx.dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("history:"), "stderr is not a terminal: {err}");
}

#[test]
fn uncommitted_changes_are_reported() {
    let fx = fixture();
    write(&fx.dir, "README.md", "changed but not committed\n");
    let (_, report) = scan(&fx.dir, &["--history"]);
    assert_eq!(report["stats"]["uncommitted_changes"], true);
}

#[test]
fn non_utf8_paths_are_scanned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    git_at(d, 0, &["init", "-q"]);
    let tok = token("history-non-utf8");
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
        std::fs::write(d.join(name), format!("T={tok}\n")).expect("write");
    }
    #[cfg(not(unix))]
    std::fs::write(d.join("cafe.env"), format!("T={tok}\n")).expect("write");
    git_at(d, 1, &["add", "-A"]);
    git_at(d, 1, &["commit", "-qm", "odd name"]);
    let (code, report) = scan(d, &["--history"]);
    assert_eq!(code, 1);
    let f = one(&report, &tok, "non-UTF-8 path");
    assert!(
        f["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("caf") && p.ends_with(".env"))
    );
}

#[test]
fn one_finding_per_leaked_value_across_versions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    git_at(d, 0, &["init", "-q"]);
    let tok = token("history-versions");
    write(d, "a.yaml", &format!("x: 1\nkey: {tok}\nagain: {tok}\n"));
    git_at(d, 1, &["add", "-A"]);
    git_at(d, 1, &["commit", "-qm", "v1"]);
    let c1 = git_at(d, 1, &["rev-parse", "HEAD"]);
    write(d, "a.yaml", &format!("x: 2\nkey: {tok}\nagain: {tok}\n"));
    git_at(d, 2, &["commit", "-qam", "v2"]);
    write(d, "b/c.yaml", &format!("y: 0\nkey: {tok}\n"));
    write(d, "a.yaml", &format!("x: 3\nkey: {tok}\nagain: {tok}\n"));
    git_at(d, 3, &["add", "-A"]);
    git_at(d, 3, &["commit", "-qm", "v3"]);
    // An unrelated token stays its own finding.
    let other = token("history-versions-other");
    write(d, "z.env", &format!("T={other}\n"));
    git_at(d, 4, &["add", "-A"]);
    git_at(d, 4, &["commit", "-qm", "v4"]);

    let (code, report) = scan(d, &["--history"]);
    assert_eq!(code, 1);
    let f = findings_of(&report, &tok);
    assert_eq!(f.len(), 2, "the first version's two lines, nothing else");
    // Places, by git: every (commit, file) that holds the token.
    let revs = git_at(d, 0, &["rev-list", "--all"]);
    let mut args = vec!["grep", "-l", "-F", tok.as_str()];
    args.extend(revs.lines());
    let places = git_at(d, 0, &args).lines().count() as u64;
    assert_eq!(places, 6, "a.yaml in 4 commits, b/c.yaml in 2");
    let mut lines: Vec<u64> = f
        .iter()
        .map(|f| f["line"].as_u64().expect("line"))
        .collect();
    lines.sort();
    assert_eq!(lines, vec![2, 3]);
    for f in f {
        assert_eq!(f["commit"], c1.as_str());
        assert_eq!(f["path"], "a.yaml");
        assert_eq!(f["occurrences"], places - 1);
        assert_eq!(f["at_head"], true);
    }
    assert_eq!(findings_of(&report, &other).len(), 1);
}
