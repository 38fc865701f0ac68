//! The GitHub Action's script (`scripts/action/run.sh`), run as the runner
//! would: a recorded event payload in `GITHUB_EVENT_PATH`, the `GITHUB_*`
//! files it writes to, against a real repository built here. Checks the
//! SARIF (schema-valid), the annotations, the job summary, the outputs and
//! the exit code.

mod common;

use common::{assert_redacted, bin, git, github_token, validate_sarif, write_tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

const ZERO: &str = "0000000000000000000000000000000000000000";

fn have_jq() -> bool {
    let ok = Command::new("jq").arg("--version").output().is_ok();
    if !ok {
        eprintln!(
            "NOTE: jq is absent; the action's script needs it (GitHub's runners have it); skipped"
        );
    }
    ok
}

struct Run {
    code: i32,
    stdout: String,
    summary: String,
    outputs: BTreeMap<String, String>,
    sarif: Option<serde_json::Value>,
}

/// Run the action's script in `repo` for `event` with `payload`.
fn run_action(
    repo: &Path,
    event: &str,
    payload: &serde_json::Value,
    inputs: &[(&str, &str)],
) -> Run {
    let runner = TempDir::new().unwrap();
    let event_path = runner.path().join("event.json");
    std::fs::write(&event_path, serde_json::to_string_pretty(payload).unwrap()).unwrap();
    let output = runner.path().join("github_output");
    let summary = runner.path().join("step_summary");
    let sarif = runner.path().join("results/gitops-guard.sarif");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/run.sh");
    let mut c = Command::new("bash");
    c.arg(&script)
        .current_dir(repo)
        .env("GG", bin())
        .env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", repo)
        .env("RUNNER_TEMP", runner.path())
        .env("INPUT_PATH", ".")
        .env("INPUT_SARIF_FILE", &sarif)
        .env("HOME", repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1");
    for (k, v) in inputs {
        c.env(k, v);
    }
    let o = c.output().expect("run bash");
    let mut stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    stdout.push_str(&String::from_utf8_lossy(&o.stderr));
    let outputs = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs,
        sarif: std::fs::read_to_string(&sarif)
            .ok()
            .map(|t| serde_json::from_str(&t).expect("SARIF is JSON")),
    }
}

/// The recorded pull_request payload with this repository's commits.
fn pr_payload(base: &str, head: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/action/pull_request.json"),
    )
    .unwrap();
    let text = text
        .replace("BASE_SHA", base)
        .replace("HEAD_SHA", head)
        .replace("BEFORE_SHA", base)
        .replace("MERGE_SHA", ZERO);
    serde_json::from_str(&text).unwrap()
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n  containers:\n    - name: shell\n      image: registry.example.com/tools/shell:1.2.3\n      securityContext:\n        privileged: true\n";

/// main: a README and an old secret (before the PR); branch web-prod: two
/// commits, one adding a token, one a privileged pod.
struct Repo {
    _dir: TempDir,
    path: PathBuf,
    base: String,
    head: String,
    old_token: String,
    new_token: String,
}

fn repo() -> Repo {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("fleet");
    std::fs::create_dir(&path).unwrap();
    git(&path, &["init", "--quiet", "-b", "main"]);
    let old_token = github_token("action-old");
    write_tree(
        &path,
        &[
            ("README.md", "# fleet\n"),
            ("legacy/old.env", &format!("GITHUB_TOKEN={old_token}\n")),
        ],
    );
    git(&path, &["add", "-A"]);
    git(&path, &["commit", "--quiet", "-m", "initial"]);
    let base = git(&path, &["rev-parse", "HEAD"]);
    git(&path, &["checkout", "--quiet", "-b", "web-prod"]);
    let new_token = github_token("action-new");
    write_tree(
        &path,
        &[("apps/web/prod.env", &format!("GITHUB_TOKEN={new_token}\n"))],
    );
    git(&path, &["add", "-A"]);
    git(&path, &["commit", "--quiet", "-m", "web: prod env"]);
    write_tree(&path, &[("apps/web/debug-pod.yaml", PRIVILEGED_POD)]);
    git(&path, &["add", "-A"]);
    git(&path, &["commit", "--quiet", "-m", "web: debug pod"]);
    let head = git(&path, &["rev-parse", "HEAD"]);
    Repo {
        _dir: dir,
        path,
        base,
        head,
        old_token,
        new_token,
    }
}

#[test]
fn pull_request_findings_become_sarif_annotations_summary_and_a_failed_job() {
    if !have_jq() {
        return;
    }
    let r = repo();
    let run = run_action(&r.path, "pull_request", &pr_payload(&r.base, &r.head), &[]);
    assert_eq!(
        run.code, 1,
        "findings at or above medium fail the job:\n{}",
        run.stdout
    );

    // SARIF: schema-valid, what the PR adds and nothing from before it.
    let sarif = run.sarif.as_ref().expect("a SARIF file");
    validate_sarif(sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"apps/web/prod.env"), "{uris:?}");
    assert!(uris.contains(&"apps/web/debug-pod.yaml"), "{uris:?}");
    assert!(
        !uris.iter().any(|u| u.starts_with("legacy/")),
        "the range excludes older commits: {uris:?}"
    );
    assert!(results.iter().any(|r| r["ruleId"] == "github-pat-classic"));
    // A range sees part of the repository: no "nothing selects this pod" guesses.
    assert!(
        !results
            .iter()
            .any(|r| r["ruleId"] == "network-policy-coverage"),
        "{results:?}"
    );

    // Annotations on stdout, as workflow commands.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("::error file=apps/web/prod.env,line=1,")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("file=apps/web/debug-pod.yaml"),
        "{}",
        run.stdout
    );

    // Summary table and outputs.
    assert!(run.summary.contains("### gitops-guard"), "{}", run.summary);
    assert!(run.summary.contains("pull request #42"), "{}", run.summary);
    assert!(
        run.summary
            .contains("| severity | rule | where | commit | what |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| critical | `github-pat-classic` | `apps/web/prod.env:1` |"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("`no-privileged`"), "{}", run.summary);
    assert_eq!(
        run.outputs["findings"],
        results.len().to_string(),
        "{:?}",
        run.outputs
    );
    assert!(
        run.outputs["blocking"].parse::<usize>().unwrap() >= 2,
        "{:?}",
        run.outputs
    );
    assert_eq!(run.outputs["exit-code"], "1");
    assert!(run.outputs["sarif-file"].ends_with("gitops-guard.sarif"));
    assert_eq!(
        PathBuf::from(&run.outputs["checkout-path"]),
        r.path.canonicalize().unwrap()
    );

    // Never a secret in full, anywhere.
    let all = format!("{}{}{}", run.stdout, run.summary, sarif);
    assert_redacted(&all, &[&r.new_token, &r.old_token]);
}

#[test]
fn fail_on_decides_the_exit_code_not_the_count() {
    if !have_jq() {
        return;
    }
    let r = repo();
    // Only the pod commit: a high policy finding, no secret.
    let pod_commit = r.head.clone();
    let parent = git(&r.path, &["rev-parse", "HEAD~1"]);
    let run = run_action(
        &r.path,
        "pull_request",
        &pr_payload(&parent, &pod_commit),
        &[("INPUT_FAIL_ON", "critical")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.outputs["findings"].parse::<usize>().unwrap() >= 1,
        "{:?}",
        run.outputs
    );
    assert_eq!(run.outputs["blocking"], "0");
    assert!(
        run.summary.contains("none at or above `critical`"),
        "{}",
        run.summary
    );
}

#[test]
fn a_clean_pull_request_passes() {
    if !have_jq() {
        return;
    }
    let r = repo();
    git(&r.path, &["checkout", "--quiet", "-b", "docs", &r.base]);
    write_tree(
        &r.path,
        &[(
            "docs/runbook.md",
            "Restart the web pods with kubectl rollout restart.\n",
        )],
    );
    git(&r.path, &["add", "-A"]);
    git(&r.path, &["commit", "--quiet", "-m", "docs"]);
    let head = git(&r.path, &["rev-parse", "HEAD"]);
    let run = run_action(&r.path, "pull_request", &pr_payload(&r.base, &head), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.outputs["findings"], "0");
    assert!(run.summary.contains("No findings"), "{}", run.summary);
    let sarif = run.sarif.expect("SARIF even when clean");
    validate_sarif(&sarif);
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
}

fn push_payload(before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({
        "ref": "refs/heads/web-prod",
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": after == ZERO,
        "forced": false,
        "repository": { "full_name": "example-org/fleet", "default_branch": "main" },
        "pusher": { "name": "dev-alice" },
        "sender": { "login": "dev-alice" }
    })
}

#[test]
fn push_events_scan_before_after_or_the_whole_new_branch() {
    if !have_jq() {
        return;
    }
    let r = repo();
    let paths = |run: &Run| -> Vec<String> {
        run.sarif.as_ref().unwrap()["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    // before..after: only what the push adds.
    let run = run_action(&r.path, "push", &push_payload(&r.base, &r.head), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let p = paths(&run);
    assert!(
        p.iter().any(|x| x == "apps/web/prod.env") && !p.iter().any(|x| x.starts_with("legacy/")),
        "{p:?}"
    );
    // A new branch (before all zeros): its whole history, the old secret too.
    let run = run_action(&r.path, "push", &push_payload(ZERO, &r.head), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        paths(&run).iter().any(|x| x == "legacy/old.env"),
        "{:?}",
        paths(&run)
    );
    assert!(run.summary.contains("whole history"), "{}", run.summary);
    // A force push whose old tip is gone: the branch's whole history.
    let gone = "1234567890123456789012345678901234567890";
    let run = run_action(&r.path, "push", &push_payload(gone, &r.head), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.summary.contains("whole history"), "{}", run.summary);
    // A deleted branch: nothing to scan.
    let run = run_action(&r.path, "push", &push_payload(&r.head, ZERO), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.outputs["findings"], "0");
    assert_redacted(&run.stdout, &[&r.new_token, &r.old_token]);
}

#[test]
fn a_missing_base_commit_says_to_fetch_the_history() {
    if !have_jq() {
        return;
    }
    let r = repo();
    let bogus = "1234567890123456789012345678901234567890";
    let run = run_action(&r.path, "pull_request", &pr_payload(bogus, &r.head), &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("fetch-depth: 0"), "{}", run.stdout);
    assert!(run.stdout.contains("::error"), "{}", run.stdout);
}

#[test]
fn action_yml_wires_the_scripts_and_the_sarif_upload() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    for needle in [
        "using: composite",
        "scripts/action/install.sh",
        "scripts/action/run.sh",
        "github/codeql-action/upload-sarif@",
        "upload-sarif:",
        "category:",
        "fail-on:",
        "findings:",
    ] {
        assert!(text.contains(needle), "action.yml lacks {needle}");
    }
    // Valid YAML with the steps in order.
    let input = gitops_guard::detect::Input::new("action.yml", text.as_bytes());
    let docs = input.documents().expect("action.yml is YAML");
    let runs = docs[0].root.get("runs").expect("runs");
    assert_eq!(
        runs.get("using").and_then(|n| n.as_str()),
        Some("composite")
    );
    let steps: Vec<&str> = runs
        .get("steps")
        .and_then(|s| s.as_seq())
        .unwrap()
        .iter()
        .map(|st| st.get("name").and_then(|n| n.as_str()).unwrap())
        .collect();
    assert_eq!(
        steps,
        vec![
            "Install gitops-guard",
            "Restore the gitops-guard build cache",
            "Build gitops-guard",
            "Save the gitops-guard build cache",
            "Scan",
            "Upload SARIF to code scanning"
        ]
    );
    // The cache is saved by its own step right after the build, before the
    // scan: a scan that fails on findings no longer keeps the cache cold
    // (`actions/cache` saved only when the whole job succeeded).
    let step = |name: &str| {
        runs.get("steps")
            .and_then(|s| s.as_seq())
            .unwrap()
            .iter()
            .find(|st| st.get("name").and_then(|n| n.as_str()) == Some(name))
            .unwrap()
    };
    let save = step("Save the gitops-guard build cache");
    let uses = save.get("uses").and_then(|u| u.as_str()).unwrap();
    assert!(uses.starts_with("actions/cache/save@"), "{uses}");
    let restore = step("Restore the gitops-guard build cache");
    let uses = restore.get("uses").and_then(|u| u.as_str()).unwrap();
    assert!(uses.starts_with("actions/cache/restore@"), "{uses}");
    assert!(
        !text.contains("uses: actions/cache@"),
        "no combined restore+save-on-success"
    );
    // Both scripts are executable and valid bash.
    for s in ["scripts/action/run.sh", "scripts/action/install.sh"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(s);
        let o = Command::new("bash").arg("-n").arg(&p).output().unwrap();
        assert!(
            o.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o111 != 0,
                "{s} is not executable"
            );
        }
    }
}
