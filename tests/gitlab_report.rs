//! `--format gitlab`: GitLab's Secret Detection report, validated against
//! GitLab's schema (tests/schemas/secret-detection-report-format.json, see
//! tests/schemas/README.md), on real repositories, working tree and history.

mod common;

use common::*;
use std::path::Path;
use tempfile::TempDir;

const PLAIN_HTTP: &str = "url: http://example.internal/api\n";

fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main", "."]);
    write_tree(dir.path(), files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/secret-detection-report-format.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn schema_errors(v: &serde_json::Value) -> Vec<String> {
    validator()
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn assert_valid(v: &serde_json::Value) {
    let errors = schema_errors(v);
    assert!(
        errors.is_empty(),
        "GitLab schema errors:\n{}",
        errors.join("\n")
    );
}

#[test]
fn gitlab_report_of_a_working_tree_validates_and_names_head() {
    let tok = github_token("gitlab-wt");
    let dir = repo(&[
        ("app/.env", &format!("GITHUB_TOKEN={tok}\n")),
        ("cfg.yaml", PLAIN_HTTP),
    ]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let out = gg(dir.path(), &["scan", ".", "-f", "gitlab"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_redacted(&out.stdout, &[&tok]);
    assert!(!out.stdout.contains(&tok), "the secret is in the report");
    let v = json(&out);
    assert_valid(&v);
    assert_eq!(v["version"], "15.2.4");
    assert_eq!(v["scan"]["type"], "secret_detection");
    assert_eq!(v["scan"]["status"], "success");
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert!(!vulns.is_empty());
    // Secret material only: the plain-HTTP finding is not a vulnerability here.
    assert!(
        vulns.iter().all(|x| x["location"]["file"] == "app/.env"),
        "{v:#}"
    );
    let x = &vulns[0];
    assert_eq!(x["location"]["commit"]["sha"], head.as_str());
    assert_eq!(x["location"]["start_line"], 1);
    assert_eq!(x["identifiers"][0]["type"], "gitops_guard_rule_id");
    assert!(x.get("raw_source_code_extract").is_none());
    assert!(
        ["Critical", "High", "Medium", "Low", "Info"].contains(&x["severity"].as_str().unwrap())
    );
    // Ids are stable across runs (GitLab tracks a vulnerability by them).
    let again = json(&gg(dir.path(), &["scan", ".", "-f", "gitlab"]));
    assert_eq!(again["vulnerabilities"][0]["id"], x["id"]);
    // --show-secrets does not put the secret into a report GitLab stores.
    let shown = gg(dir.path(), &["scan", ".", "-f", "gitlab", "--show-secrets"]);
    assert!(
        !shown.stdout.contains(&tok),
        "--show-secrets leaked into -f gitlab"
    );
}

#[test]
fn gitlab_report_of_history_names_the_introducing_commit() {
    let tok = github_token("gitlab-hist");
    let dir = repo(&[("ci/.env", &format!("GITHUB_TOKEN={tok}\n"))]);
    let introduced = git(dir.path(), &["rev-parse", "HEAD"]);
    std::fs::remove_file(dir.path().join("ci/.env")).unwrap();
    std::fs::write(dir.path().join("ok.txt"), "ok\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "remove the token"]);
    let out = gg(dir.path(), &["scan", ".", "--history", "-f", "gitlab"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains(&tok), "the secret is in the report");
    assert_redacted(&out.stdout, &[&tok]);
    let v = json(&out);
    assert_valid(&v);
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert!(!vulns.is_empty(), "{v:#}");
    assert!(
        vulns
            .iter()
            .any(|x| x["location"]["commit"]["sha"] == introduced.as_str()
                && x["location"]["file"] == "ci/.env"),
        "{v:#}"
    );
}

#[test]
fn gitlab_report_outside_a_repository_uses_the_placeholder_commit() {
    let tok = github_token("gitlab-nogit");
    let dir = TempDir::new().unwrap();
    write_tree(dir.path(), &[(".env", &format!("GITHUB_TOKEN={tok}\n"))]);
    let out = gg(dir.path(), &["scan", ".", "-f", "gitlab"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains(&tok));
    let v = json(&out);
    assert_valid(&v);
    assert_eq!(
        v["vulnerabilities"][0]["location"]["commit"]["sha"],
        "0000000"
    );
}

#[test]
fn clean_scan_is_a_valid_empty_gitlab_report() {
    let dir = repo(&[("ok.txt", "ok\n"), ("cfg.yaml", PLAIN_HTTP)]);
    let out = gg(dir.path(), &["scan", ".", "-f", "gitlab"]);
    let v = json(&out);
    assert_valid(&v);
    assert_eq!(v["vulnerabilities"].as_array().unwrap().len(), 0, "{v:#}");
}

/// The validator is not vacuous: reports missing what the schema requires,
/// or with a time in a shape GitLab refuses, fail validation.
#[test]
fn broken_gitlab_reports_fail_the_schema() {
    let tok = github_token("gitlab-broken");
    let dir = repo(&[(".env", &format!("GITHUB_TOKEN={tok}\n"))]);
    let good = json(&gg(dir.path(), &["scan", ".", "-f", "gitlab"]));
    assert_valid(&good);
    let mut no_commit = good.clone();
    no_commit["vulnerabilities"][0]["location"]
        .as_object_mut()
        .unwrap()
        .remove("commit");
    assert!(!schema_errors(&no_commit).is_empty());
    let mut zoned = good.clone();
    zoned["scan"]["end_time"] = "2026-01-02T03:04:05Z".into();
    assert!(!schema_errors(&zoned).is_empty());
    let mut bad_severity = good.clone();
    bad_severity["vulnerabilities"][0]["severity"] = "critical".into();
    assert!(!schema_errors(&bad_severity).is_empty());
    let mut no_version = good;
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!schema_errors(&no_version).is_empty());
}

/// An incomplete scan is a failed one in GitLab's eyes too (GitLab must not
/// read missing findings as fixed): `status` is `failure`, each error a
/// `warn` message, and the exit code stays 3.
#[test]
fn incomplete_scan_reports_gitlab_status_failure() {
    let dir = repo(&[("a.txt", "hello\n"), ("b.yaml", "x: 1\n")]);
    let blob = git(dir.path(), &["rev-parse", "HEAD:a.txt"]);
    std::fs::remove_file(
        dir.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let out = gg(dir.path(), &["scan", ".", "--history", "-f", "gitlab"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let v = json(&out);
    assert_valid(&v);
    assert_eq!(v["scan"]["status"], "failure");
    let messages = v["scan"]["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["level"] == "warn" && m["value"].as_str().unwrap().contains("a.txt")),
        "{v:#}"
    );
}
