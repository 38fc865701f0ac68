//! The Git hooks, end to end: a real bare repository with the real
//! `pre-receive` hook installed, real `git push`es from a clone (the pushed
//! objects sit in git's quarantine while the hook runs), and a real
//! `git commit` with the installed `pre-commit` hook.

mod common;

use common::{assert_redacted, bin, gg, git, github_token, skipped, write_tree};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A bare server repository and a clone of it.
struct Setup {
    _dir: TempDir,
    server: PathBuf,
    client: PathBuf,
}

impl Setup {
    /// An empty server with one commit on `main` (pushed before any hook).
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (server, client) = common::server_and_client(dir.path());
        Setup {
            _dir: dir,
            server,
            client,
        }
    }

    /// Install `gitops-guard hook pre-receive ARGS` as the server's hook.
    fn install_hook(&self, args: &str) {
        let hook = self.server.join("hooks/pre-receive");
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

    fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        write_tree(&self.client, files);
        git(&self.client, &["add", "-A"]);
        git(&self.client, &["commit", "--quiet", "-m", message]);
        git(&self.client, &["rev-parse", "HEAD"])
    }

    fn push(&self, args: &[&str]) -> (bool, String) {
        self.push_env(args, &[])
    }

    fn push_env(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut a = vec!["push", "origin"];
        a.extend_from_slice(args);
        common::git_try(&self.client, &a, env)
    }

    fn server_has_ref(&self, name: &str) -> bool {
        common::git_try(
            &self.server,
            &["rev-parse", "--verify", "--quiet", name],
            &[],
        )
        .0
    }

    fn server_has_object(&self, oid: &str) -> bool {
        common::git_try(&self.server, &["cat-file", "-e", oid], &[]).0
    }
}

fn env_file(token: &str) -> String {
    format!("GITHUB_TOKEN={token}\n")
}

#[test]
fn a_secret_on_a_new_branch_is_rejected_with_a_useful_message() {
    let s = Setup::new();
    s.install_hook("");
    git(&s.client, &["checkout", "--quiet", "-b", "feature"]);
    let token = github_token("hook-new-branch");
    s.commit(&[("apps/web/app.env", &env_file(&token))], "add web config");
    let commit = git(&s.client, &["rev-parse", "HEAD"]);
    let blob = git(&s.client, &["rev-parse", "HEAD:apps/web/app.env"]);
    let (ok, out) = s.push(&["feature"]);
    assert!(!ok, "the push must be rejected:\n{out}");
    assert!(out.contains("pre-receive hook declined"), "{out}");
    assert!(out.contains("refs/heads/feature"), "names the ref:\n{out}");
    assert!(out.contains(&commit[..12]), "names the commit:\n{out}");
    assert!(out.contains("apps/web/app.env:1:"), "path:line:\n{out}");
    assert!(out.contains("github-pat-classic"), "names the rule:\n{out}");
    assert!(out.contains("ghp_…"), "shows the secret redacted:\n{out}");
    assert!(out.contains("How to fix"), "{out}");
    assert!(
        out.contains("gitops-guard:allow"),
        "says how to suppress:\n{out}"
    );
    assert_redacted(&out, &[&token]);
    assert!(!s.server_has_ref("refs/heads/feature"));
    // The blob only ever existed in the quarantine, which git dropped.
    assert!(
        !s.server_has_object(&blob),
        "the rejected object must not stay on the server"
    );
}

#[test]
fn a_clean_push_is_accepted() {
    let s = Setup::new();
    s.install_hook("--verbose");
    s.commit(
        &[(
            "apps/web/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  LOG_LEVEL: info\n",
        )],
        "add web configmap",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "a clean push must be accepted:\n{out}");
    assert!(out.contains("1 new commit(s)"), "{out}");
    // On top of a ref's tip, the quarantine alone tells what is new.
    assert!(out.contains("found by the quarantine walk"), "{out}");
    assert_eq!(
        git(&s.server, &["rev-parse", "main"]),
        git(&s.client, &["rev-parse", "HEAD"])
    );
}

/// Seed the server with a branch carrying a secret before the hook exists.
fn seed_secret_branch(s: &Setup, branch: &str, seed: &str) -> (String, String) {
    git(&s.client, &["checkout", "--quiet", "-b", branch, "main"]);
    let token = github_token(seed);
    let commit = s.commit(&[("legacy.env", &env_file(&token))], "legacy secret");
    git(&s.client, &["push", "--quiet", "origin", branch]);
    git(&s.client, &["checkout", "--quiet", "main"]);
    (commit, token)
}

#[test]
fn deleting_a_branch_is_accepted() {
    let s = Setup::new();
    seed_secret_branch(&s, "legacy", "hook-delete");
    s.install_hook("");
    let (ok, out) = s.push(&["--delete", "legacy"]);
    assert!(ok, "a deletion must be accepted:\n{out}");
    assert!(!s.server_has_ref("refs/heads/legacy"));
}

#[test]
fn pushing_commits_the_server_already_has_is_accepted() {
    let s = Setup::new();
    let (commit, token) = seed_secret_branch(&s, "legacy", "hook-known");
    s.install_hook("");
    // A new ref at a commit the server has: nothing new, nothing scanned.
    let (ok, out) = s.push(&[
        &format!("{commit}:refs/heads/copy"),
        &format!("{commit}:refs/tags/v1"),
    ]);
    assert!(ok, "known commits must be accepted:\n{out}");
    assert!(!out.contains("github-pat-classic"), "{out}");
    assert_redacted(&out, &[&token]);
    assert!(s.server_has_ref("refs/heads/copy"));
    assert!(s.server_has_ref("refs/tags/v1"));
}

#[test]
fn a_multi_ref_push_with_one_bad_ref_is_rejected_whole() {
    let s = Setup::new();
    s.install_hook("");
    git(&s.client, &["checkout", "--quiet", "-b", "good", "main"]);
    s.commit(&[("docs/notes.md", "nothing secret here\n")], "notes");
    git(&s.client, &["checkout", "--quiet", "-b", "bad", "main"]);
    let token = github_token("hook-multi");
    s.commit(&[("bad.env", &env_file(&token))], "oops");
    git(
        &s.client,
        &["checkout", "--quiet", "-b", "also-good", "main"],
    );
    s.commit(&[("docs/more.md", "more notes\n")], "more notes");
    let (ok, out) = s.push(&["good", "bad", "also-good"]);
    assert!(!ok, "one bad ref rejects the push:\n{out}");
    assert!(out.contains("refs/heads/bad"), "{out}");
    assert!(out.contains("bad.env:1:"), "{out}");
    assert_redacted(&out, &[&token]);
    for r in ["good", "bad", "also-good"] {
        assert!(
            !s.server_has_ref(&format!("refs/heads/{r}")),
            "{r} must not be created"
        );
    }
}

#[test]
fn a_force_push_is_judged_on_its_new_commits_only() {
    let s = Setup::new();
    // main on the server: initial -> secret (before the hook existed).
    let token = github_token("hook-force-old");
    s.commit(&[("old.env", &env_file(&token))], "old secret");
    git(&s.client, &["push", "--quiet", "origin", "main"]);
    s.install_hook("");
    // Rewrite main without the secret: only the new commit is judged.
    git(&s.client, &["reset", "--quiet", "--hard", "HEAD~1"]);
    s.commit(&[("docs/clean.md", "clean\n")], "clean rewrite");
    let (ok, out) = s.push(&["--force", "main"]);
    assert!(
        ok,
        "a clean force push is accepted even though the old history had a secret:\n{out}"
    );
    assert!(out.contains("1 new commit(s)"), "{out}");
    assert_redacted(&out, &[&token]);
    // A force push whose new commit adds a secret is rejected, naming that commit only.
    git(&s.client, &["reset", "--quiet", "--hard", "HEAD~1"]);
    let new_token = github_token("hook-force-new");
    let bad = s.commit(&[("new.env", &env_file(&new_token))], "new secret");
    let (ok, out) = s.push(&["--force", "main"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&bad[..12]), "{out}");
    assert!(out.contains("new.env:1:"), "{out}");
    assert!(
        !out.contains("old.env"),
        "old commits are not judged again:\n{out}"
    );
    assert_redacted(&out, &[&token, &new_token]);
}

#[test]
fn a_branch_from_an_older_commit_is_judged_on_its_own_commits() {
    // The parent of the new commit is no ref's tip: the exact `--not --all` walk.
    let s = Setup::new();
    let token = github_token("hook-old-base");
    s.commit(&[("old.env", &env_file(&token))], "secret, long ago");
    s.commit(&[("docs/a.md", "a\n")], "a");
    let middle = git(&s.client, &["rev-parse", "HEAD"]);
    s.commit(&[("docs/b.md", "b\n")], "b");
    git(&s.client, &["push", "--quiet", "origin", "main"]);
    s.install_hook("--verbose");
    git(&s.client, &["checkout", "--quiet", "-b", "topic", &middle]);
    s.commit(&[("docs/topic.md", "topic\n")], "topic work");
    let (ok, out) = s.push(&["topic"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 new commit(s)"),
        "only the topic commit is new:\n{out}"
    );
    assert!(
        out.contains("found by the quarantine walk and an ancestry check"),
        "{out}"
    );
    let token2 = github_token("hook-old-base-2");
    s.commit(&[("docs/topic.env", &env_file(&token2))], "topic secret");
    let (ok, out) = s.push(&["topic"]);
    assert!(!ok, "{out}");
    assert!(out.contains("docs/topic.env:1:"), "{out}");
    assert!(!out.contains("old.env"), "{out}");
}

#[test]
fn objects_in_a_quarantined_pack_are_found() {
    // Above receive.unpackLimit the push stays a pack in the quarantine
    // (below it, loose objects): both must be read.
    let s = Setup::new();
    git(&s.server, &["config", "receive.unpackLimit", "1"]);
    s.install_hook("");
    let mut files: Vec<(String, String)> = (0..30)
        .map(|i| {
            (
                format!("apps/app{i}/values.yaml"),
                format!("replicas: {i}\n"),
            )
        })
        .collect();
    let token = github_token("hook-pack");
    files.push(("apps/app7/secret.env".into(), env_file(&token)));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    s.commit(&refs, "many apps");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("apps/app7/secret.env:1:"), "{out}");
    let quarantine_pack = std::fs::read_dir(s.server.join("objects/pack"))
        .map(|d| d.count())
        .unwrap_or(0);
    // Nothing of the rejected push stayed (the initial push was unpacked loose).
    assert_eq!(quarantine_pack, 0, "the quarantined pack must be gone");
}

#[test]
fn a_secret_in_a_commit_message_is_rejected() {
    let s = Setup::new();
    s.install_hook("");
    let token = github_token("hook-message");
    s.commit(
        &[("docs/x.md", "x\n")],
        &format!("debugging, token was {token}"),
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("<commit-message>"), "{out}");
    assert_redacted(&out, &[&token]);
}

#[test]
fn gitlab_gets_its_prefix_on_every_line() {
    let s = Setup::new();
    s.install_hook("");
    let token = github_token("hook-gitlab");
    s.commit(&[("x.env", &env_file(&token))], "x");
    let (ok, out) = s.push_env(&["main"], &[("GL_ID", "user-1"), ("GL_USERNAME", "alice")]);
    assert!(!ok, "{out}");
    let remote: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("remote: "))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!remote.is_empty(), "{out}");
    for l in &remote {
        assert!(
            l.starts_with("GL-HOOK-ERR: "),
            "line without the GitLab prefix: {l:?}"
        );
    }
}

#[test]
fn only_secret_material_blocks_by_default_and_the_policy_is_configurable() {
    let s = Setup::new();
    s.install_hook("");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: root\nspec:\n  containers:\n    - name: app\n      image: busybox\n      securityContext:\n        privileged: true\n";
    s.commit(&[("pods/root.yaml", pod)], "a privileged pod");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "policy findings are advisory by default:\n{out}");
    assert!(out.contains("advisory finding(s), not blocking"), "{out}");
    assert!(
        out.contains("no-privileged") || out.contains("privileged"),
        "{out}"
    );
    // The server's git config makes every category block.
    git(&s.server, &["config", "gitops-guard.block", "all"]);
    s.commit(
        &[("pods/root2.yaml", &pod.replace("name: root", "name: root2"))],
        "another one",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(
        !ok,
        "with gitops-guard.block=all a policy finding blocks:\n{out}"
    );
    assert!(out.contains("pods/root2.yaml"), "{out}");
}

#[test]
fn the_deadline_rejects_by_default_and_can_allow() {
    let s = Setup::new();
    s.install_hook("--timeout 1ms");
    s.commit(&[("docs/x.md", "x\n")], "x");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "a scan that cannot finish fails closed:\n{out}");
    assert!(out.contains("did not finish within"), "{out}");
    let audit = s.server.join("audit.log");
    s.install_hook(&format!(
        "--timeout 1ms --on-timeout allow --audit-log '{}'",
        audit.display()
    ));
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "--on-timeout allow lets it through:\n{out}");
    let log = std::fs::read_to_string(&audit).expect("an unscanned push is logged");
    assert!(log.contains("\"event\":\"timeout-allowed\""), "{log}");
}

#[test]
fn too_many_commits_are_refused() {
    let s = Setup::new();
    s.install_hook("--max-commits 2");
    for i in 0..3 {
        s.commit(&[(&format!("docs/{i}.md"), "x\n")], &format!("c{i}"));
    }
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("more than 2 new commits"), "{out}");
}

#[test]
fn break_glass_needs_the_server_to_allow_it_and_is_logged() {
    let s = Setup::new();
    git(
        &s.server,
        &["config", "receive.advertisePushOptions", "true"],
    );
    s.install_hook("");
    let token = github_token("hook-skip");
    s.commit(&[("x.env", &env_file(&token))], "x");
    // Not enabled: the option is ignored and the push judged as usual.
    let (ok, out) = s.push(&["-o", "gitops-guard.skip=incident 42", "main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("not enabled on this server"), "{out}");
    // Enabled in the server's config: accepted, said, and logged.
    git(&s.server, &["config", "gitops-guard.allowSkip", "true"]);
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "without the option the push is still judged:\n{out}");
    let (ok, out) = s.push(&["-o", "gitops-guard.skip", "main"]);
    assert!(!ok, "a skip without a reason is refused:\n{out}");
    let (ok, out) = s.push_env(
        &["-o", "gitops-guard.skip=incident 42", "main"],
        &[("USER", "oncall-bob")],
    );
    assert!(ok, "{out}");
    assert!(out.contains("SKIPPED"), "{out}");
    let log = std::fs::read_to_string(s.server.join("gitops-guard-audit.log")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(entry["event"], "skip");
    assert_eq!(entry["reason"], "incident 42");
    assert_eq!(entry["user"], "oncall-bob");
    assert_eq!(entry["refs"][0]["ref"], "refs/heads/main");
}

#[test]
fn bad_input_is_rejected_not_waved_through() {
    let s = Setup::new();
    let out = Command::new(bin())
        .args(["hook", "pre-receive", "--git-dir"])
        .arg(&s.server)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"garbage\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected `<old-oid> <new-oid> <ref>`"));
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

#[test]
fn pre_commit_scans_what_is_staged_not_the_work_tree() {
    let dir = work_repo();
    let token = github_token("staged");
    write_tree(dir.path(), &[("app.env", &env_file(&token))]);
    git(dir.path(), &["add", "app.env"]);
    // Fixed in the work tree but not staged: the commit would still carry it.
    write_tree(dir.path(), &[("app.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")]);
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("app.env:1:"), "{}", out.stdout);
    assert_redacted(&out.stdout, &[&token]);
    // Staging the fix clears it.
    git(dir.path(), &["add", "app.env"]);
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Unchanged committed files are not rescanned: commit a secret with
    // --no-verify, then stage something else.
    write_tree(
        dir.path(),
        &[("old.env", &env_file(&github_token("committed")))],
    );
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "--quiet", "--no-verify", "-m", "old"],
    );
    write_tree(dir.path(), &[("docs/new.md", "new\n")]);
    git(dir.path(), &["add", "-A"]);
    let out = gg(dir.path(), &["hook", "pre-commit", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(common::json(&out)["stats"]["blobs_scanned"], 1);
}

#[test]
fn the_installed_pre_commit_hook_stops_a_real_commit() {
    let dir = work_repo();
    let out = gg(dir.path(), &["hook", "install"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let hook = dir.path().join(".git/hooks/pre-commit");
    assert!(hook.is_file());
    // Installing again is harmless.
    let out = gg(dir.path(), &["hook", "install"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("already installed"), "{}", out.stderr);

    let token = github_token("precommit-real");
    write_tree(dir.path(), &[("deploy/app.env", &env_file(&token))]);
    git(dir.path(), &["add", "-A"]);
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (ok, out) = common::git_try(dir.path(), &["commit", "-m", "add env"], &[("PATH", &path)]);
    assert!(!ok, "the hook must stop the commit:\n{out}");
    assert!(out.contains("deploy/app.env:1:"), "{out}");
    assert_redacted(&out, &[&token]);
    assert_eq!(git(dir.path(), &["rev-list", "--count", "HEAD"]), "1");

    // `git commit -a` runs the hook on a temporary index (GIT_INDEX_FILE).
    git(dir.path(), &["reset", "--quiet"]);
    std::fs::remove_file(dir.path().join("deploy/app.env")).unwrap();
    let token2 = github_token("precommit-all");
    std::fs::write(dir.path().join("README.md"), env_file(&token2)).unwrap();
    let (ok, out) = common::git_try(
        dir.path(),
        &["commit", "-a", "-m", "readme"],
        &[("PATH", &path)],
    );
    assert!(
        !ok,
        "commit -a must be judged on its temporary index:\n{out}"
    );
    assert!(out.contains("README.md:1:"), "{out}");

    // A clean commit goes through.
    std::fs::write(dir.path().join("README.md"), "# repo, clean\n").unwrap();
    let (ok, out) = common::git_try(
        dir.path(),
        &["commit", "-a", "-m", "clean"],
        &[("PATH", &path)],
    );
    assert!(ok, "{out}");
}

#[test]
fn install_refuses_to_overwrite_a_foreign_hook() {
    let dir = work_repo();
    let hook = dir.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nmy-linter\n").unwrap();
    let out = gg(dir.path(), &["hook", "install"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("not installed by gitops-guard"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nmy-linter\n"
    );
}

#[test]
fn a_base_reachable_only_from_a_tag_uses_the_exact_walk() {
    let s = Setup::new();
    git(&s.client, &["checkout", "--quiet", "-b", "release", "main"]);
    s.commit(&[("docs/release.md", "release notes\n")], "release");
    git(&s.client, &["tag", "-a", "-m", "v1", "v1"]);
    git(&s.client, &["push", "--quiet", "origin", "release", "v1"]);
    git(
        &s.client,
        &["push", "--quiet", "origin", "--delete", "release"],
    );
    s.install_hook("--verbose");
    s.commit(&[("docs/hotfix.md", "hotfix\n")], "hotfix on the tag");
    let (ok, out) = s.push(&["HEAD:refs/heads/hotfix"]);
    assert!(ok, "{out}");
    assert!(out.contains("found by the full --not --all walk"), "{out}");
    assert!(
        out.contains("1 new commit(s)"),
        "the tagged commit is known:\n{out}"
    );
}

#[test]
fn a_commit_no_ref_reaches_any_more_counts_as_new() {
    // `--not --all` semantics: a commit left behind by a deleted branch is
    // not reachable from any ref, so a push that brings it back is judged on it.
    let s = Setup::new();
    let (dangling, token) = seed_secret_branch(&s, "gone", "hook-dangling");
    git(
        &s.client,
        &["push", "--quiet", "origin", "--delete", "gone"],
    );
    assert!(
        s.server_has_object(&dangling),
        "the commit stays in the server's store"
    );
    s.install_hook("--verbose");
    git(
        &s.client,
        &["checkout", "--quiet", "-b", "revive", &dangling],
    );
    s.commit(&[("docs/revive.md", "revived\n")], "revive");
    let (ok, out) = s.push(&["revive"]);
    assert!(!ok, "{out}");
    assert!(out.contains("found by the full --not --all walk"), "{out}");
    assert!(out.contains(&dangling[..12]), "{out}");
    assert!(out.contains("legacy.env:1:"), "{out}");
    assert_redacted(&out, &[&token]);
}

#[test]
fn the_pre_commit_framework_runs_the_system_hook() {
    let has_pre_commit = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pre_commit {
        skipped(
            "the pre-commit framework is absent (pip install pre-commit); pre-commit test skipped",
        );
        return;
    }
    // A hooks repository holding only the project's .pre-commit-hooks.yaml.
    let hooks = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(hooks.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(hooks.path(), &[(".pre-commit-hooks.yaml", &manifest)]);
    git(hooks.path(), &["add", "-A"]);
    git(hooks.path(), &["commit", "--quiet", "-m", "hooks"]);

    let dir = work_repo();
    let token = github_token("pre-commit-framework");
    write_tree(dir.path(), &[("deploy/app.env", &env_file(&token))]);
    git(dir.path(), &["add", "-A"]);
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tempfile::tempdir().unwrap();
    let run = |dir: &Path| {
        let o = Command::new("pre-commit")
            .args([
                "try-repo",
                hooks.path().to_str().unwrap(),
                "gitops-guard-system",
                "--verbose",
            ])
            .current_dir(dir)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path())
            .env("HOME", dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&o.stderr));
        (o.status.success(), text)
    };
    let (ok, out) = run(dir.path());
    assert!(!ok, "the hook must fail on a staged secret:\n{out}");
    assert!(out.contains("deploy/app.env:1:"), "{out}");
    assert_redacted(&out, &[&token]);
    write_tree(
        dir.path(),
        &[("deploy/app.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")],
    );
    git(dir.path(), &["add", "-A"]);
    let (ok, out) = run(dir.path());
    assert!(ok, "{out}");
}

#[test]
fn pre_commit_hooks_manifest_declares_both_variants() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for needle in [
        "- id: gitops-guard\n",
        "- id: gitops-guard-system\n",
        "language: rust",
        "language: system",
        "entry: gitops-guard hook pre-commit",
        "pass_filenames: false",
    ] {
        assert!(
            text.contains(needle),
            ".pre-commit-hooks.yaml lacks {needle:?}"
        );
    }
}

#[test]
fn the_installed_pre_push_hook_judges_only_what_the_remote_lacks() {
    let s = Setup::new();
    let out = gg(&s.client, &["hook", "install", "--hook", "pre-push"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(s.client.join(".git/hooks/pre-push").is_file());
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let push = |args: &[&str]| {
        let mut a = vec!["push", "origin"];
        a.extend_from_slice(args);
        common::git_try(&s.client, &a, &[("PATH", &path)])
    };
    // A secret already on the remote (pushed past the hook) is not judged again.
    let old = github_token("pre-push-old");
    s.commit(&[("old.env", &env_file(&old))], "old secret");
    let (ok, out) = push(&["--no-verify", "main"]);
    assert!(ok, "{out}");
    s.commit(&[("docs/a.md", "a\n")], "clean");
    let (ok, out) = push(&["main"]);
    assert!(ok, "only the new clean commit is judged:\n{out}");
    // A new secret stops the push before anything leaves.
    let token = github_token("pre-push-new");
    let bad = s.commit(&[("apps/new.env", &env_file(&token))], "new secret");
    let (ok, out) = push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("apps/new.env:1:"), "{out}");
    assert!(out.contains(&bad[..12]), "{out}");
    assert!(!out.contains("old.env"), "{out}");
    assert_redacted(&out, &[&token, &old]);
    assert_ne!(git(&s.server, &["rev-parse", "main"]), bad);
    // A new branch at commits the remote has: nothing to judge.
    git(&s.client, &["reset", "--quiet", "--hard", "HEAD~1"]);
    let (ok, out) = push(&["HEAD:refs/heads/copy"]);
    assert!(ok, "{out}");
}

#[test]
fn partial_scans_drop_checks_that_need_the_whole_repository() {
    // The NetworkPolicy is committed; only the Deployment is staged. A
    // "no NetworkPolicy applies" finding would be a false alarm.
    let dir = work_repo();
    write_tree(
        dir.path(),
        &[(
            "np.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
        )],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "np"]);
    write_tree(
        dir.path(),
        &[(
            "web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n",
        )],
    );
    git(dir.path(), &["add", "-A"]);
    let out = gg(dir.path(), &["hook", "pre-commit", "--format", "json"]);
    let rules: Vec<String> = common::json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(
        rules.iter().any(|r| r == "run-as-non-root"),
        "single-file checks still run: {rules:?}"
    );
    for r in gitops_guard::source::WHOLE_REPOSITORY_RULES {
        assert!(
            !rules.iter().any(|x| x == r),
            "{r} must not run on a partial scan: {rules:?}"
        );
    }
    // The ids are real rule ids (a rename must not silently disable this).
    let listed = gg(dir.path(), &["rules", "list", "--format", "json"]);
    let ids: Vec<String> = common::json(&listed)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    for r in gitops_guard::source::WHOLE_REPOSITORY_RULES {
        assert!(ids.iter().any(|x| x == r), "{r} is not a rule id");
    }
    // The full scan keeps them (here: the pod mounts the default token).
    let full = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert!(
        full.stdout.contains("no-service-account-token"),
        "{}",
        full.stdout
    );
}

#[test]
fn a_secret_in_an_annotated_tag_message_is_rejected() {
    let s = Setup::new();
    s.install_hook("");
    let token = github_token("hook-tag-message");
    // The tagged commit is already on the server: only the tag object is new.
    git(
        &s.client,
        &[
            "tag",
            "-a",
            "v1.0.0",
            "-m",
            &format!("release, deploy key {token}"),
        ],
    );
    let (ok, out) = s.push(&["v1.0.0"]);
    assert!(!ok, "{out}");
    assert!(out.contains("<tag-message>"), "{out}");
    assert!(out.contains("refs/tags/v1.0.0"), "{out}");
    assert_redacted(&out, &[&token]);
    // A clean annotated tag goes through.
    git(&s.client, &["tag", "-a", "v1.0.1", "-m", "release 1.0.1"]);
    let (ok, out) = s.push(&["v1.0.1"]);
    assert!(ok, "{out}");
}
