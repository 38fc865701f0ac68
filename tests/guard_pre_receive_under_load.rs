//! The pre-receive hook under load (issue 11, item 15): many real `git push`
//! processes into one bare repository at once, half of them carrying a
//! token. With the hook's default settings every push must get its own
//! verdict: each clean one accepted, each dirty one rejected for its finding
//! (not for a deadline that the queue of other pushes used up), and no push
//! lost or left half-done.
//!
//! The only timing this test relies on is the queue limit, which it sets
//! generously (`gitops-guard.queueTimeout`); the scan deadline is the
//! default one, which counts the hook's own work only.

mod common;

use common::{git, git_try, github_token, install_pre_receive, server_and_client, write_tree};
use std::path::Path;
use std::process::Command;

/// Concurrent pushes (half with a secret): 20 keeps CI cheap on 2 cores;
/// `GG_LOAD_PUSHES` runs more by hand.
fn pushes() -> usize {
    std::env::var("GG_LOAD_PUSHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Files in the base every push carries: about 1 s of a debug build's CPU time
/// per scan, so 20 at once need 10 s of 2 cores (the old 4 s wall-clock
/// deadline rejected all of them) while each scan stays far inside its own
/// 4 s budget.
const MANIFESTS: usize = 600;

fn manifest(i: usize) -> (String, String) {
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  labels: {{app: app{i}}}\n\
         spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app{i}}}\n  template:\n\
         \x20   metadata:\n      labels: {{app: app{i}}}\n    spec:\n      containers:\n\
         \x20     - name: web\n        image: nginx:1.25\n        env:\n        - name: MODE\n\
         \x20         value: production\n        - name: PASSWORD_FILE\n          value: /run/secrets/pw\n\
         \x20       resources:\n          limits: {{cpu: 100m, memory: 128Mi}}\n\
         \x20       securityContext:\n          runAsNonRoot: true\n          readOnlyRootFilesystem: true\n\
         ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app{i}\nspec:\n  ports: [{{port: 80}}]\n"
    );
    (format!("fleet/app{i}.yaml"), text)
}

/// `git push <server> branch` from `client` by path, not by a remote name, so
/// concurrent pushes from one repository touch no shared client-side ref.
fn push(client: &Path, server: &Path, branch: &str) -> (bool, String) {
    git_try(
        client,
        &[
            "push",
            server.to_str().unwrap(),
            &format!("{branch}:refs/heads/{branch}"),
        ],
        &[],
    )
}

#[test]
fn concurrent_pushes_are_each_judged_on_their_content_not_on_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, seed) = server_and_client(root);

    // A shared base the server does not have yet: every push carries it, so
    // each hook has real work (the manifests of a mid-sized fleet), as when
    // many people push branches off the same unmerged work.
    git(&seed, &["checkout", "--quiet", "-b", "base"]);
    let manifests: Vec<(String, String)> = (0..MANIFESTS).map(manifest).collect();
    let files: Vec<(&str, &str)> = manifests
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    write_tree(&seed, &files);
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "--quiet", "-m", "fleet"]);
    // One branch per pusher, each with its own new commit on the base.
    let mut pushers = Vec::new();
    for i in 0..pushes() {
        let dirty = i % 2 == 0;
        let branch = format!("{}-{i}", if dirty { "dirty" } else { "clean" });
        git(&seed, &["checkout", "--quiet", "-b", &branch, "base"]);
        let body = if dirty {
            format!("GITHUB_TOKEN={}\n", github_token(&format!("load-{i}")))
        } else {
            format!("replicas: {i}\n")
        };
        write_tree(&seed, &[(&format!("apps/app{i}/values.env"), &body)]);
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "--quiet", "-m", &format!("app {i}")]);
        pushers.push((seed.clone(), branch, dirty));
    }

    // The real hook with its defaults; only the queue limit is raised, so a
    // slow CI machine waits longer instead of failing.
    install_pre_receive(&server, "");
    git(&server, &["config", "gitops-guard.queueTimeout", "600s"]);

    let results: Vec<(bool, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = pushers
            .iter()
            .map(|(client, branch, _)| s.spawn(|| push(client, &server, branch)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut wrong = Vec::new();
    for ((_, branch, dirty), (ok, out)) in pushers.iter().zip(&results) {
        let on_server = Command::new("git")
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/heads/{branch}"),
            ])
            .current_dir(&server)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
            .status
            .success();
        let judged_right = if *dirty {
            !ok && !on_server && out.contains("finding(s) block it")
        } else {
            *ok && on_server && out.contains("nothing blocks the push")
        };
        if !judged_right {
            wrong.push(format!(
                "{branch} (dirty: {dirty}, accepted: {ok}, on server: {on_server}):\n{out}"
            ));
        }
    }
    let deadline = results
        .iter()
        .filter(|(_, out)| out.contains("did not finish within"))
        .count();
    assert!(
        wrong.is_empty(),
        "{} of {} pushes were misjudged ({} clean ones rejected; {deadline} rejected on the deadline):\n{}",
        wrong.len(),
        pushes(),
        pushers
            .iter()
            .zip(&results)
            .filter(|(p, r)| !p.2 && !r.0)
            .count(),
        wrong.join("\n")
    );
    // Nothing lost: the server holds main and exactly the clean branches.
    let refs = git(&server, &["for-each-ref", "--format=%(refname)"]);
    let mut refs: Vec<&str> = refs.lines().collect();
    refs.sort();
    let mut want: Vec<String> = pushers
        .iter()
        .filter(|p| !p.2)
        .map(|p| format!("refs/heads/{}", p.1))
        .chain(["refs/heads/main".to_string()])
        .collect();
    want.sort();
    assert_eq!(refs, want);
}

/// A bare server with one commit on `main`, the hook installed with `args`,
/// and a client with one new commit on `main`.
fn small_setup(args: &str) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, client) = server_and_client(root);
    install_pre_receive(&server, args);
    write_tree(&client, &[("apps/a.yaml", "replicas: 1\n")]);
    git(&client, &["add", "-A"]);
    git(&client, &["commit", "--quiet", "-m", "a"]);
    (dir, server, client)
}

#[test]
fn a_push_that_waits_out_the_queue_fails_closed_with_a_clear_message() {
    let (_dir, server, client) = small_setup("--concurrency 1 --queue-timeout 300ms");
    // Hold the only slot, as a long scan of another push would.
    let slots = server.join("gitops-guard-slots");
    std::fs::create_dir_all(&slots).unwrap();
    let held = std::fs::File::create(slots.join("slot-0.lock")).unwrap();
    held.lock().unwrap();
    let (ok, out) = push(&client, &server, "main");
    assert!(!ok, "an unscanned push fails closed:\n{out}");
    assert!(out.contains("waiting for a free slot"), "{out}");
    assert!(
        out.contains("scan slot(s) stayed busy") && out.contains("gitops-guard.queueTimeout"),
        "{out}"
    );
    // The slot is free again: the same push is scanned and accepted.
    held.unlock().unwrap();
    let (ok, out) = push(&client, &server, "main");
    assert!(ok, "{out}");
    assert!(out.contains("nothing blocks the push"), "{out}");
    assert!(!out.contains("waiting for a free slot"), "{out}");
}

#[test]
fn the_queue_settings_come_from_git_config_and_on_timeout_allow_is_honoured() {
    let (_dir, server, client) = small_setup("");
    let slots = server.join("shared-slots");
    git(&server, &["config", "gitops-guard.concurrency", "1"]);
    git(&server, &["config", "gitops-guard.queueTimeout", "200ms"]);
    git(
        &server,
        &["config", "gitops-guard.slotDir", slots.to_str().unwrap()],
    );
    git(&server, &["config", "gitops-guard.onTimeout", "allow"]);
    std::fs::create_dir_all(&slots).unwrap();
    let held = std::fs::File::create(slots.join("slot-0.lock")).unwrap();
    held.lock().unwrap();
    let (ok, out) = push(&client, &server, "main");
    assert!(
        ok,
        "on-timeout = allow lets an unscanned push through:\n{out}"
    );
    assert!(out.contains("accepted unscanned"), "{out}");
    let log = std::fs::read_to_string(server.join("gitops-guard-audit.log"))
        .expect("an unscanned push is logged");
    assert!(log.contains("\"event\":\"timeout-allowed\""), "{log}");
}

#[test]
fn a_bad_queue_setting_is_a_config_error_not_a_pass() {
    let (_dir, server, client) = small_setup("");
    git(&server, &["config", "gitops-guard.concurrency", "many"]);
    let (ok, out) = push(&client, &server, "main");
    assert!(!ok, "{out}");
    assert!(out.contains("gitops-guard.concurrency"), "{out}");
}
