//! `scan --history --cache`: incremental rescans on real repositories built
//! with the `git` CLI. A cached scan reports exactly what a fresh one does;
//! a rule, config or option change, or a damaged or foreign cache file,
//! makes the cache be ignored (with a note) and rebuilt; the cache file
//! holds no secret and no unkeyed hash of one; an object a scan could not
//! read is never entered, so a later rescan reads it (fail closed).
//!
//! Tokens are generated at test time and never printed.

mod common;

use common::{gg, git, github_token, write_tree};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A repository with a secret in a file and in a commit message, clean
/// files, a plaintext Kubernetes Secret and a workload with policy findings.
fn repo(dir: &Path) -> String {
    let tok = github_token("cache-1");
    git(dir, &["init", "-q", "-b", "main"]);
    write_tree(
        dir,
        &[
            ("README.md", "# demo\n"),
            // A clean file whose facts a repo-level check joins with the
            // kustomization: replayed from the cache, never lost.
            (
                "apps/kustomization.yaml",
                "secretGenerator:\n- name: db\n  envs: [db.env]\n",
            ),
            ("apps/db.env", "LOG_LEVEL=debug\n"),
            ("app/config.env", &format!("GITHUB_TOKEN={tok}\n")),
            (
                "deploy/web.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:latest\n          env:\n            - name: API_URL\n              value: http://api.example.com/v1\n",
            ),
            (
                "deploy/secret.yaml",
                &format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {}\n",
                    ["hunter2", "but-much-longer-Zq8"].join("-")
                ),
            ),
        ],
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    for i in 0..3 {
        write_tree(dir, &[("notes.txt", &format!("note {i}\n"))]);
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", &format!("note {i}")]);
    }
    tok
}

/// The user's HMAC key the scans run with: a cache keeps the findings of a
/// blob with a secret only under it (without one such blobs are read again,
/// see `replayed_secrets_keep_fingerprints_allowlist_and_merging`).
const USER_KEY: &str = "cache-test-key-0123456789abcdef";

fn scan(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = std::process::Command::new(common::bin())
        .args(["scan", "--history", "--format", "json"])
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITOPS_GUARD_CONFIG")
        .env("GITOPS_GUARD_HMAC_KEY", USER_KEY)
        .output()
        .expect("run gitops-guard");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        code == 0 || code == 1 || code == 3,
        "unexpected exit {code}: {stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    (code, v, stderr)
}

fn findings(v: &Value) -> &Value {
    &v["findings"]
}

fn hits(v: &Value) -> u64 {
    v["stats"]["cache"]["hits"].as_u64().expect("cache stats")
}

fn cache_arg(dir: &Path) -> String {
    format!("--cache={}", dir.display())
}

fn cache_file(dir: &Path) -> PathBuf {
    dir.join(gitops_guard::cache::FILE_NAME)
}

#[test]
fn cached_and_fresh_scans_report_the_same_findings() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    repo(r);
    for extra in [&[][..], &["--all-categories"][..]] {
        let c = cache_arg(&cache_dir.path().join(extra.len().to_string()));
        fn with<'a>(extra: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
            let mut v = extra.to_vec();
            v.extend_from_slice(more);
            v
        }
        let (code, fresh, _) = scan(r, extra);
        assert_eq!(code, 1);
        let rules: Vec<&str> = findings(&fresh)
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(rules.contains(&"kustomize-secret-file"), "{rules:?}");
        let (_, first, _) = scan(r, &with(extra, &[&c]));
        assert_eq!(hits(&first), 0, "a new cache knows nothing");
        assert_eq!(findings(&first), findings(&fresh));
        let (code, second, _) = scan(r, &with(extra, &[&c]));
        assert_eq!(code, 1, "findings still fail the rescan");
        assert!(hits(&second) > 0, "the rescan skips what it knows clean");
        assert_eq!(findings(&second), findings(&fresh));
        assert!(
            second["stats"]["blobs_scanned"].as_u64() < first["stats"]["blobs_scanned"].as_u64()
        );

        // New commits: a new secret among them is found, with the old ones.
        let tok2 = github_token(&format!("cache-new-{}", extra.len()));
        write_tree(
            r,
            &[(&format!("late{}.env", extra.len()), &format!("T={tok2}\n"))],
        );
        git(r, &["add", "-A"]);
        git(r, &["commit", "-q", "-m", "late"]);
        let (_, fresh, _) = scan(r, extra);
        let (_, cached, _) = scan(r, &with(extra, &[&c]));
        assert_eq!(findings(&cached), findings(&fresh));
        assert!(hits(&cached) > 0);
        let paths: Vec<&str> = findings(&cached)
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["path"].as_str())
            .collect();
        assert!(paths.iter().any(|p| p.starts_with("late")), "{paths:?}");
    }
}

fn web(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {image}\n          securityContext:\n            privileged: true\n          env:\n            - name: API_URL\n              value: http://api.example.com/v1\n"
    )
}

/// Findings are replayed from the cache (a secret's without its value): a
/// rescan reads only new blobs, and reports exactly what a fresh scan does,
/// across a secret removed later, a moved file and a new ref.
#[test]
fn findings_are_replayed_and_match_a_fresh_scan() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    let tok = github_token("cache-replay");
    git(r, &["init", "-q", "-b", "main"]);
    write_tree(
        r,
        &[
            ("deploy/web.yaml", &web("nginx:1.0")),
            (
                "deploy/svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  externalIPs: [203.0.113.7]\n",
            ),
            ("app/config.env", &format!("GITHUB_TOKEN={tok}\n")),
        ],
    );
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "first"]);
    // The secret removed later; another version of the workload.
    write_tree(
        r,
        &[
            ("app/config.env", "GITHUB_TOKEN=\n"),
            ("deploy/web.yaml", &web("nginx:1.1")),
        ],
    );
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "rotate"]);
    // A moved file: the same blob under a new path.
    std::fs::create_dir_all(r.join("apps")).unwrap();
    git(r, &["mv", "deploy/web.yaml", "apps/web.yaml"]);
    git(r, &["commit", "-q", "-m", "move"]);

    for all in [false, true] {
        replay(r, &cache_dir.path().join(all.to_string()), &tok, all);
    }
}

/// Scans of `r` with and without the cache in `cache_dir`, compared; with
/// `all` (`--all-categories`) blobs whose facts a record cannot replay (a
/// workload's pod template for the repo checks) are read again.
fn replay(r: &Path, cache_dir: &Path, tok: &str, all: bool) {
    let args: Vec<&str> = if all {
        vec!["--all-categories"]
    } else {
        vec![]
    };
    let c = cache_arg(cache_dir);
    let mut with_cache = args.clone();
    with_cache.push(&c);
    let (code, fresh, _) = scan(r, &args);
    assert_eq!(code, 1);
    let rules: Vec<&str> = findings(&fresh)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"github-pat-classic"), "{rules:?}");
    if all {
        assert!(rules.contains(&"no-privileged"), "{rules:?}");
    }
    let (_, first, _) = scan(r, &with_cache);
    assert_eq!(findings(&first), findings(&fresh));
    let (code, second, _) = scan(r, &with_cache);
    assert_eq!(code, 1);
    assert_eq!(findings(&second), findings(&fresh));
    // Nothing is read again: clean blobs and blobs with findings (the
    // secret's too) are known; with every category, the workload's versions
    // (pod facts) are.
    assert_eq!(
        second["stats"]["blobs_scanned"].as_u64(),
        Some(if all { 3 } else { 0 }),
        "{}",
        second["stats"]
    );
    let bytes = std::fs::read(cache_file(cache_dir)).unwrap();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(tok.as_bytes()), "a secret in the cache");
    let sha256 = Sha256::digest(tok.as_bytes());
    assert!(!contains(&sha256[..8]) && !contains(hex(&sha256).as_bytes()));

    // A new ref with a new version of the workload and a new secret.
    let tok2 = github_token(&format!("cache-replay-{all}"));
    let branch = format!("feature-{all}");
    git(r, &["checkout", "-q", "-b", &branch]);
    write_tree(
        r,
        &[
            ("apps/web.yaml", &web(&format!("nginx:2.{}", u8::from(all)))),
            (&format!("apps/more-{all}.env"), &format!("T={tok2}\n")),
        ],
    );
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "feature"]);
    git(r, &["checkout", "-q", "main"]);
    let (_, fresh, _) = scan(r, &args);
    let (_, cached, _) = scan(r, &with_cache);
    assert_eq!(findings(&cached), findings(&fresh));
    assert_eq!(
        cached["stats"]["blobs_scanned"].as_u64(),
        Some(if all { 6 } else { 3 }),
        "only the two new blobs and the new commit's message (and the workload's versions): {}",
        cached["stats"]
    );
}

#[test]
fn a_rule_config_or_option_change_invalidates_the_cache() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cfg_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    repo(r);
    // A clean file the new rule will match.
    write_tree(r, &[("docs/acme.txt", "ACME=acme_qwertyuiopas\n")]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "acme"]);
    let c = cache_arg(cache_dir.path());
    scan(r, &[&c]);
    let (_, warm, _) = scan(r, &[&c]);
    assert!(hits(&warm) > 0);

    let cfg = cfg_dir.path().join("gg.toml");
    std::fs::write(
        &cfg,
        "[[rule]]\nid = \"acme-token\"\nname = \"Acme token\"\nseverity = \"high\"\nkeywords = [\"acme_\"]\nregex = '''\\b(acme_[a-z]{12})\\b'''\n",
    )
    .unwrap();
    let cfg_arg = cfg.to_str().unwrap();
    let (_, after, stderr) = scan(r, &["--config", cfg_arg, &c]);
    assert_eq!(hits(&after), 0, "a config change drops the cache");
    assert!(
        stderr.contains("another build, rule set, config or options"),
        "{stderr}"
    );
    let rules: Vec<&str> = findings(&after)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"acme-token"), "{rules:?}");
    let (_, fresh, _) = scan(r, &["--config", cfg_arg]);
    assert_eq!(findings(&after), findings(&fresh));
    // Rebuilt under the new config: used again.
    let (_, again, stderr) = scan(r, &["--config", cfg_arg, &c]);
    assert!(hits(&again) > 0, "{stderr}");
    assert_eq!(findings(&again), findings(&fresh));

    // Another option (more categories): not trusted either.
    let (_, all, _) = scan(r, &["--config", cfg_arg, "--all-categories", &c]);
    assert_eq!(hits(&all), 0);
    let (_, all_fresh, _) = scan(r, &["--config", cfg_arg, "--all-categories"]);
    assert_eq!(findings(&all), findings(&all_fresh));
}

#[test]
fn a_corrupt_foreign_or_truncated_cache_is_ignored_with_a_note_and_rebuilt() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    repo(r);
    let c = cache_arg(cache_dir.path());
    let (_, fresh, _) = scan(r, &[]);
    scan(r, &[&c]);
    let good = std::fs::read(cache_file(cache_dir.path())).unwrap();
    assert!(good.len() > 100);

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let damaged: [(&str, Vec<u8>, &str); 4] = [
        (
            "truncated",
            good[..good.len() - 7].to_vec(),
            "corrupt or truncated",
        ),
        ("a flipped bit", flipped, "corrupt or truncated"),
        (
            "foreign",
            b"{\"a\": \"json file\"}\n".to_vec(),
            "not a gitops-guard cache",
        ),
        ("empty", Vec::new(), "not a gitops-guard cache"),
    ];
    for (what, bytes, note) in damaged {
        std::fs::write(cache_file(cache_dir.path()), &bytes).unwrap();
        let (code, v, stderr) = scan(r, &[&c]);
        assert_eq!(code, 1, "{what}");
        assert_eq!(hits(&v), 0, "{what}: never trusted");
        assert_eq!(findings(&v), findings(&fresh), "{what}");
        assert!(stderr.contains(note), "{what}: {stderr}");
        assert!(
            v["stats"]["cache"]["note"].as_str().unwrap().contains(note),
            "{what}"
        );
        // Rebuilt: the next run uses it, without a note.
        let (_, again, stderr) = scan(r, &[&c]);
        assert!(hits(&again) > 0, "{what}: rebuilt");
        assert!(!stderr.contains("ignored"), "{what}: {stderr}");
        assert_eq!(findings(&again), findings(&fresh), "{what}");
    }
}

#[test]
fn the_cache_holds_no_secret_and_no_unkeyed_hash_of_one() {
    let repo_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    let tok = repo(r);
    let msg_tok = github_token("cache-message");
    write_tree(r, &[("x.txt", "x\n")]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", &format!("oops {msg_tok}")]);
    // The default place: under the git dir.
    let out = gg(r, &["scan", "--history", "--format", "json", "--cache"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let file = r
        .join(".git")
        .join(gitops_guard::cache::DEFAULT_DIR)
        .join(gitops_guard::cache::FILE_NAME);
    let bytes = std::fs::read(&file).expect("cache written under the git dir");
    let blob_id = git(r, &["rev-parse", "HEAD~4:app/config.env"]);
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for secret in [tok.as_str(), msg_tok.as_str()] {
        assert!(!contains(secret.as_bytes()), "a secret in the cache");
        let sha256 = Sha256::digest(secret.as_bytes());
        assert!(!contains(&sha256), "an unkeyed SHA-256 of a secret");
        assert!(!contains(hex(&sha256).as_bytes()));
        for prefix in [&sha256[..16], &sha256[..8]] {
            assert!(!contains(prefix), "a truncated unkeyed hash of a secret");
        }
    }
    // The git id of the blob holding the secret is an unkeyed hash of it.
    assert!(!contains(blob_id.as_bytes()));
    let raw: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&blob_id[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(!contains(&raw), "a blob id in the cache");
    assert!(!contains(&raw[..16]));
    assert!(!contains(b"config.env"), "paths are not stored");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn a_scan_error_never_caches_the_objects_it_could_not_read() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    let tok = repo(r);
    let blob_id = git(r, &["rev-parse", "HEAD~3:app/config.env"]);
    let clean_id = git(r, &["rev-parse", "HEAD~3:README.md"]);
    let c = cache_arg(cache_dir.path());
    let mut hidden = Vec::new();
    for id in [&blob_id, &clean_id] {
        let obj = r.join(".git/objects").join(&id[..2]).join(&id[2..]);
        let saved = obj.with_extension("saved");
        std::fs::rename(&obj, &saved).expect("loose object");
        hidden.push((obj, saved));
    }
    let (code, v, _) = scan(r, &[&c]);
    assert_eq!(code, 3, "a missing object is a scan error");
    assert!(
        !findings(&v)
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "app/config.env")
    );
    for (obj, saved) in &hidden {
        std::fs::rename(saved, obj).unwrap();
    }
    let (code, v, _) = scan(r, &[&c]);
    assert_eq!(code, 1, "the objects are read now");
    assert!(hits(&v) > 0, "what was read before is still known");
    let at: Vec<&str> = findings(&v)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(at.contains(&"app/config.env"), "{at:?}");
    assert!(
        v["stats"]["cache"]["added"].as_u64().unwrap() >= 1,
        "README.md read and entered now"
    );
    assert!(!v.to_string().contains(&tok));
}

#[test]
fn cache_without_a_history_scan_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = gg(dir.path(), &["scan", ".", "--cache=x"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--cache"));
}

/// `scan --history --format json --all-categories? ARGS .` in `dir` with
/// the user's HMAC key set (or unset).
fn scan_keyed(dir: &Path, key: Option<&str>, extra: &[&str]) -> Value {
    let mut cmd = std::process::Command::new(common::bin());
    cmd.args(["scan", "--history", "--format", "json"])
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITOPS_GUARD_CONFIG")
        .env_remove("GITOPS_GUARD_HMAC_KEY");
    if let Some(k) = key {
        cmd.env("GITOPS_GUARD_HMAC_KEY", k);
    }
    let out = cmd.output().expect("run gitops-guard");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// Replayed secrets keep what the report and the filters use of them: the
/// keyed fingerprint and value HMAC under the user's key (a record made
/// under another key is not used), the keyless fingerprint, an allowlist
/// regex's verdict; and they merge with fresh findings of the same value.
#[test]
fn replayed_secrets_keep_fingerprints_allowlist_and_merging() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    let tok_a = github_token("cache-allow");
    let tok_b = github_token("cache-keyed");
    git(r, &["init", "-q", "-b", "main"]);
    std::fs::write(
        r.join(".gitops-guard.toml"),
        format!("[allowlist]\nregexes = ['''^{}''']\n", &tok_a[..14]),
    )
    .unwrap();
    write_tree(
        r,
        &[
            ("a.env", &format!("A={tok_a}\n")),
            ("b.env", &format!("B={tok_b}\n")),
        ],
    );
    git(r, &["add", "a.env", "b.env"]);
    git(r, &["commit", "-q", "-m", "first"]);
    write_tree(r, &[("a.env", "A=\n")]);
    git(r, &["add", "a.env"]);
    git(r, &["commit", "-q", "-m", "drop a"]);
    std::fs::create_dir_all(r.join("moved")).unwrap();
    git(r, &["mv", "b.env", "moved/b.env"]);
    git(r, &["commit", "-q", "-m", "move b"]);
    let c = cache_arg(cache_dir.path());
    for key in [None, Some("key-one-0123456789abcdef")] {
        let fresh = scan_keyed(r, key, &[]);
        let fs = findings(&fresh).as_array().unwrap();
        assert_eq!(fs.len(), 1, "{fs:?}");
        assert_eq!(
            fresh["stats"]["suppressed"].as_u64(),
            Some(1),
            "the allowlist regex suppresses the other"
        );
        assert_eq!(
            fresh["findings"][0]["secret_hmac"].is_string(),
            key.is_some()
        );
        let _ = scan_keyed(r, key, &[&c]);
        let cached = scan_keyed(r, key, &[&c]);
        assert_eq!(findings(&cached), findings(&fresh), "key {key:?}");
        assert_eq!(cached["stats"]["suppressed"].as_u64(), Some(1));
        // Without the user's key the two blobs with secrets (a.env's first
        // version, b.env) are read again: findings are kept only as digests
        // under that key.
        assert_eq!(
            cached["stats"]["blobs_scanned"].as_u64(),
            Some(if key.is_some() { 0 } else { 2 }),
            "key {key:?}"
        );
    }
    // Another key: the records made under the first one are not used.
    let key2 = Some("key-two-0123456789abcdef");
    let fresh = scan_keyed(r, key2, &[]);
    let cached = scan_keyed(r, key2, &[&c]);
    assert_eq!(findings(&cached), findings(&fresh));
    assert!(cached["stats"]["blobs_scanned"].as_u64() >= Some(2));
    // A fresh version of a cached secret merges into the cached finding.
    write_tree(r, &[("c.env", &format!("C={tok_b}\n"))]);
    git(r, &["add", "c.env"]);
    git(r, &["commit", "-q", "-m", "copy b"]);
    let fresh = scan_keyed(r, key2, &[]);
    let cached = scan_keyed(r, key2, &[&c]);
    assert_eq!(findings(&cached), findings(&fresh));
    assert_eq!(findings(&cached).as_array().unwrap().len(), 1, "merged");
    // b.env in 2 commits, moved/b.env in 2, c.env in 1: 5 places.
    assert_eq!(findings(&cached)[0]["occurrences"].as_u64(), Some(4));
    let bytes = std::fs::read(cache_file(cache_dir.path())).unwrap();
    for t in [&tok_a, &tok_b] {
        assert!(!bytes.windows(t.len()).any(|w| w == t.as_bytes()));
        let sha = Sha256::digest(t.as_bytes());
        assert!(!bytes.windows(8).any(|w| w == &sha[..8]));
    }
}

/// A secret found in a blob is hidden wherever else the report would show
/// it (here: the author's name, which the identity scan alone does not
/// flag), also when the blob's finding is replayed without its value.
#[test]
fn a_replayed_secret_is_still_masked_in_author_names() {
    let repo_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    // Built at test time: a high-entropy value a keyword rule catches.
    let value: String = ["Qm9vbGVh", "bkZhbHNl", "MTIzNDU2", "Nzg5x"].concat();
    git(r, &["init", "-q", "-b", "main"]);
    write_tree(r, &[("app.env", &format!("DB_PASSWORD={value}\n"))]);
    git(r, &["add", "-A"]);
    let (ok, out) = common::git_try(
        r,
        &["commit", "-q", "-m", "first"],
        &[("GIT_AUTHOR_NAME", value.as_str())],
    );
    assert!(ok, "{out}");
    write_tree(r, &[("b.txt", "x\n")]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "second"]);
    let c = cache_arg(cache_dir.path());
    let (_, fresh, _) = scan(r, &[]);
    let (_, _, _) = scan(r, &[&c]);
    let (_, cached, _) = scan(r, &[&c]);
    assert_eq!(cached["stats"]["blobs_scanned"].as_u64(), Some(0));
    assert_eq!(findings(&cached), findings(&fresh));
    let text = cached.to_string();
    assert!(!text.contains(&value), "the value in the cached report");
    assert!(
        findings(&cached)[0]["author"]
            .as_str()
            .is_some_and(|a| a.contains('…')),
        "{}",
        findings(&cached)
    );
}
