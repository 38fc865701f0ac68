//! CLI conventions a new user expects (issue 14, items 4-8): completions and
//! a man page, exit codes in `--help`, usage errors, colour rules, "did you
//! mean", config discovery, repository-relative paths, capped annotations,
//! the history scan's HEAD checks and the default `--fail-on`.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

/// A Deployment with no securityContext: medium and low policy findings, no
/// high one, and no secret material.
const PLAIN_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web, owner: team, env: prod}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";

fn secret_manifest(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  password: hunter2hunter2\n"
    )
}

/// A repository (with `.git`) holding `files`, committed.
fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main", "."]);
    write_tree(dir.path(), files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

fn gg_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("GITOPS_GUARD_CONFIG")
        .env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

// ---- item 4 ----------------------------------------------------------------

#[test]
fn completions_and_man_page_are_generated() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = gg(dir.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("gitops-guard"), "{shell}");
        assert!(
            out.stdout.contains("min-severity"),
            "{shell}: flags completed"
        );
    }
    let out = gg(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.code, 2, "an unknown shell is a usage error");
    let man = gg(dir.path(), &["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH gitops-guard"));
    assert!(
        man.stdout.contains("Exit codes"),
        "exit codes in the man page"
    );
}

#[test]
fn help_lists_the_exit_codes() {
    let dir = TempDir::new().unwrap();
    for args in [
        &["--help"][..],
        &["scan", "--help"][..],
        &["help", "scan"][..],
    ] {
        let out = gg(dir.path(), args);
        assert_eq!(out.code, 0);
        assert!(
            out.stdout.contains("Exit codes:"),
            "{args:?}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("3  scan error"), "{args:?}");
    }
    // Not under every subcommand: `rules list --help` is about listing.
    let out = gg(dir.path(), &["rules", "list", "--help"]);
    assert!(!out.stdout.contains("Exit codes:"));
}

#[test]
fn a_missing_path_is_a_usage_error_not_a_scan_error() {
    let dir = TempDir::new().unwrap();
    let out = gg(dir.path(), &["scan", "no/such/dir"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no such file or directory"),
        "{}",
        out.stderr
    );
    // An existing empty directory is a clean scan.
    assert_eq!(gg(dir.path(), &["scan", "."]).code, 0);
}

#[test]
fn quiet_silences_the_summary_but_not_the_findings() {
    let dir = repo(&[("s.yaml", &secret_manifest("db"))]);
    let loud = gg(dir.path(), &["scan", "."]);
    assert_eq!(loud.code, 1);
    assert!(loud.stdout.contains("finding(s) ("), "{}", loud.stdout);
    let quiet = gg(dir.path(), &["scan", ".", "-q"]);
    assert_eq!(quiet.code, 1);
    assert!(quiet.stdout.contains("plaintext-secret-manifest"));
    assert!(!quiet.stdout.contains("finding(s) ("), "{}", quiet.stdout);
    // With -o FILE the summary goes to stderr, unless quiet.
    let out = gg(dir.path(), &["scan", ".", "-o", "r.txt"]);
    assert!(out.stderr.contains("finding(s) ("), "{}", out.stderr);
    let out = gg(dir.path(), &["scan", ".", "-o", "r.txt", "-q"]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

// ---- item 5 ----------------------------------------------------------------

#[test]
fn colour_follows_no_color_clicolor_force_and_term() {
    let dir = repo(&[("s.yaml", &secret_manifest("db"))]);
    let painted = |env: &[(&str, &str)]| {
        gg_env(dir.path(), &["scan", "."], env)
            .stdout
            .contains("\x1b[")
    };
    // Not a terminal: no colour by default.
    assert!(!painted(&[]));
    assert!(painted(&[("CLICOLOR_FORCE", "1")]));
    // NO_COLOR counts only when non-empty (no-color.org).
    assert!(!painted(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(painted(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]));
    // --color wins over the environment.
    let out = gg_env(
        dir.path(),
        &["scan", ".", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!out.stdout.contains("\x1b["));
    let out = gg_env(
        dir.path(),
        &["scan", ".", "--color", "always"],
        &[("NO_COLOR", "1")],
    );
    assert!(out.stdout.contains("\x1b["));
}

#[test]
fn a_transposed_rule_id_gets_a_suggestion() {
    let dir = TempDir::new().unwrap();
    let out = gg(
        dir.path(),
        &["rules", "explain", "plaintext-secert-manifest"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("did you mean: plaintext-secret-manifest"),
        "{}",
        out.stderr
    );
    let out = gg(dir.path(), &["rules", "explain", "zzzz-qqqq"]);
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

// ---- item 6 ----------------------------------------------------------------

#[test]
fn config_at_the_repository_root_applies_to_a_subdirectory_scan() {
    let dir = repo(&[
        (
            ".gitops-guard.toml",
            "[rules]\ndisable = [\"plaintext-secret-manifest\"]\n",
        ),
        ("apps/api/s.yaml", &secret_manifest("db")),
    ]);
    let out = gg(dir.path(), &["scan", "apps/api", "--only", "secrets"]);
    assert_eq!(out.code, 0, "root config obeyed: {}", out.stdout);
    // A nearer config wins over the root one.
    write_tree(
        dir.path(),
        &[("apps/.gitops-guard.toml", "fail-on = \"high\"\n")],
    );
    let out = gg(dir.path(), &["scan", "apps/api", "--only", "secrets"]);
    assert_eq!(
        out.code, 1,
        "the nearest config, not the root one: {}",
        out.stdout
    );
}

#[test]
fn config_above_a_directory_outside_any_repository_is_not_used() {
    let dir = TempDir::new().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                ".gitops-guard.toml",
                "[rules]\ndisable = [\"plaintext-secret-manifest\"]\n",
            ),
            ("apps/s.yaml", &secret_manifest("db")),
        ],
    );
    let out = gg(dir.path(), &["scan", "apps", "--only", "secrets"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn gitops_guard_config_env_points_at_a_config_and_config_flag_wins() {
    let dir = repo(&[
        (
            "cfg/off.toml",
            "[rules]\ndisable = [\"plaintext-secret-manifest\"]\n",
        ),
        ("cfg/on.toml", "fail-on = \"high\"\n"),
        ("s.yaml", &secret_manifest("db")),
    ]);
    let args = ["scan", "s.yaml", "--only", "secrets"];
    assert_eq!(gg_env(dir.path(), &args, &[]).code, 1);
    let env = [("GITOPS_GUARD_CONFIG", "cfg/off.toml")];
    assert_eq!(gg_env(dir.path(), &args, &env).code, 0);
    let mut explicit = args.to_vec();
    explicit.extend(["--config", "cfg/on.toml"]);
    assert_eq!(gg_env(dir.path(), &explicit, &env).code, 1, "--config wins");
    // Empty means unset.
    assert_eq!(
        gg_env(dir.path(), &args, &[("GITOPS_GUARD_CONFIG", "")]).code,
        1
    );
}

#[test]
fn unknown_rule_ids_in_the_config_warn_with_a_suggestion() {
    let dir = repo(&[
        (
            ".gitops-guard.toml",
            "[rules]\ndisable = [\"plaintext-secert-manifest\", \"image-digest-pinned\"]\nseverity = { \"jwtt\" = \"low\", \"jwt\" = \"low\" }\n",
        ),
        ("ok.txt", "nothing\n"),
    ]);
    let out = gg(dir.path(), &["scan", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("[rules] disable: no rule or check `plaintext-secert-manifest` (did you mean `plaintext-secret-manifest`?)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("[rules] severity: no rule or check `jwtt`"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr
            .contains("no rule or check `image-digest-pinned`"),
        "a known (and disabled) check is not warned about: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("no rule or check `jwt`"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_explain_knows_custom_rules() {
    let dir = repo(&[(
        ".gitops-guard.toml",
        "[[rule]]\nid = \"acme-token\"\nname = \"Acme API token\"\nkeywords = [\"acme_\"]\nregex = '(acme_[a-z]{12})'\n",
    )]);
    let out = gg(dir.path(), &["rules", "explain", "acme-token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Acme API token"));
    let out = gg(dir.path(), &["rules", "explain", "acme-tokne"]);
    assert!(
        out.stderr.contains("did you mean: acme-token"),
        "{}",
        out.stderr
    );
}

// ---- item 7 ----------------------------------------------------------------

#[test]
fn subdirectory_scans_report_repository_relative_paths_in_every_format() {
    let dir = repo(&[("apps/api/s.yaml", &secret_manifest("db"))]);
    let v = json(&gg(dir.path(), &["scan", "apps/api", "-f", "json"]));
    for p in field_of_findings(&v, "path") {
        assert_eq!(p, "apps/api/s.yaml");
        assert!(dir.path().join(p).is_file());
    }
    let sarif = json(&gg(dir.path(), &["scan", "apps/api", "-f", "sarif"]));
    validate_sarif(&sarif);
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "apps/api/s.yaml");
    let gh = gg(dir.path(), &["scan", "apps/api", "-f", "github"]);
    assert!(gh.stdout.contains("file=apps/api/s.yaml,"), "{}", gh.stdout);
    // A single file, from inside the subdirectory.
    let v = json(&gg(
        &dir.path().join("apps/api"),
        &["scan", "s.yaml", "-f", "json"],
    ));
    assert_eq!(field_of_findings(&v, "path")[0], "apps/api/s.yaml");
    // Outside a repository: relative to the path named, as before.
    let plain = TempDir::new().unwrap();
    write_tree(plain.path(), &[("apps/api/s.yaml", &secret_manifest("db"))]);
    let v = json(&gg(plain.path(), &["scan", "apps/api", "-f", "json"]));
    assert_eq!(field_of_findings(&v, "path")[0], "s.yaml");
}

#[test]
fn sarif_rules_carry_a_help_uri() {
    let dir = repo(&[
        ("s.yaml", &secret_manifest("db")),
        ("d.yaml", PLAIN_DEPLOYMENT),
    ]);
    let sarif = json(&gg(dir.path(), &["scan", ".", "-f", "sarif"]));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(!rules.is_empty());
    for r in rules {
        let uri = r["helpUri"]
            .as_str()
            .unwrap_or_else(|| panic!("no helpUri: {r}"));
        assert!(uri.starts_with("https://github.com/gitops-guard/gitops-guard/blob/main/docs/"));
        let doc = uri.rsplit_once("/main/").unwrap().1;
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(doc).is_file(),
            "{doc} exists in the repository"
        );
    }
}

#[test]
fn github_annotations_most_severe_first_and_capped_per_level() {
    let files: Vec<(String, String)> = (0..12)
        .map(|i| (format!("s{i:02}.yaml"), secret_manifest(&format!("db{i}"))))
        .chain([("d.yaml".to_string(), PLAIN_DEPLOYMENT.to_string())])
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = repo(&refs);
    let out = gg(dir.path(), &["scan", ".", "-f", "github"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let errors = lines
        .iter()
        .filter(|l| l.starts_with("::error file="))
        .count();
    assert_eq!(errors, 10, "{}", out.stdout);
    let first_warning = lines.iter().position(|l| l.starts_with("::warning file="));
    let last_error = lines.iter().rposition(|l| l.starts_with("::error file="));
    assert!(
        last_error < first_warning,
        "errors before warnings: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 more finding(s) not annotated"),
        "{}",
        out.stdout
    );
    // Under the cap: no summary line.
    let small = repo(&[("s.yaml", &secret_manifest("db"))]);
    let out = gg(small.path(), &["scan", ".", "-f", "github"]);
    assert!(!out.stdout.contains("not annotated"));
}

// ---- item 8 ----------------------------------------------------------------

#[test]
fn history_scan_adds_heads_configuration_checks_to_historys_secrets() {
    let ip_cfg = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  url: http://10.1.2.3/api\n";
    let dir = repo(&[
        ("old/s.yaml", &secret_manifest("db")),
        ("old/c.yaml", ip_cfg),
    ]);
    // The secret and the old ConfigMap leave HEAD; a new one stays.
    std::fs::remove_dir_all(dir.path().join("old")).unwrap();
    write_tree(dir.path(), &[("now/c.yaml", ip_cfg)]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "move"]);
    let v = json(&gg(dir.path(), &["scan", "--history", ".", "-f", "json"]));
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        found.contains(&("plaintext-secret-manifest".into(), "old/s.yaml".into())),
        "history's secret: {found:?}"
    );
    assert!(
        found.contains(&("hardcoded-ip".into(), "now/c.yaml".into())),
        "HEAD's configuration checks: {found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(r, p)| r == "hardcoded-ip" && p == "old/c.yaml"),
        "configuration checks only at HEAD: {found:?}"
    );
    // HEAD's pass obeys the config's excludes like the history pass.
    write_tree(
        dir.path(),
        &[
            ("vendor/c.yaml", ip_cfg),
            (".gitops-guard.toml", "exclude = [\"vendor/**\"]\n"),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "vendor"]);
    let v = json(&gg(dir.path(), &["scan", "--history", ".", "-f", "json"]));
    let paths = field_of_findings(&v, "path");
    assert!(paths.contains(&"now/c.yaml"), "{paths:?}");
    assert!(
        !paths.contains(&"vendor/c.yaml"),
        "excluded at HEAD: {paths:?}"
    );
    // Asking for one category keeps it to that category.
    let v = json(&gg(
        dir.path(),
        &["scan", "--history", ".", "--only", "secrets", "-f", "json"],
    ));
    assert!(!field_of_findings(&v, "rule").contains(&"hardcoded-ip"));
}

#[test]
fn text_output_is_sorted_by_severity_then_path() {
    let dir = repo(&[
        ("a.yaml", PLAIN_DEPLOYMENT),
        ("z.yaml", &secret_manifest("db")),
    ]);
    let out = gg(dir.path(), &["scan", "."]);
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("z.yaml:") && first.contains(" high "),
        "{}",
        out.stdout
    );
    // JSON keeps the path order.
    let v = json(&gg(dir.path(), &["scan", ".", "-f", "json"]));
    assert_eq!(field_of_findings(&v, "path")[0], "a.yaml");
}

#[test]
fn min_severity_narrows_the_view_but_not_the_exit_code() {
    let dir = repo(&[("d.yaml", PLAIN_DEPLOYMENT)]);
    let all = gg(dir.path(), &["scan", ".", "--fail-on", "medium"]);
    assert_eq!(all.code, 1);
    assert!(all.stdout.contains(" medium "));
    let high = gg(
        dir.path(),
        &["scan", ".", "--fail-on", "medium", "--min-severity", "high"],
    );
    assert_eq!(high.code, 1, "hidden findings still fail the run");
    assert!(!high.stdout.contains(" medium ["), "{}", high.stdout);
    assert!(
        high.stdout.contains("below --min-severity not shown"),
        "{}",
        high.stdout
    );
    let v = json(&gg(
        dir.path(),
        &["scan", ".", "-f", "json", "--min-severity", "high"],
    ));
    assert!(v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn default_fail_on_passes_advisory_policy_and_fails_secrets_from_medium() {
    let dir = repo(&[("d.yaml", PLAIN_DEPLOYMENT)]);
    let out = gg(dir.path(), &["scan", "."]);
    assert!(
        out.stdout.contains(" medium "),
        "medium policy findings are shown"
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    // Secret material fails from medium under the default, below the
    // policy threshold (high) …
    write_tree(
        dir.path(),
        &[
            ("s.yaml", &secret_manifest("db")),
            (
                ".gitops-guard.toml",
                "[rules]\nseverity = { \"plaintext-secret-manifest\" = \"medium\" }\n",
            ),
        ],
    );
    assert_eq!(gg(dir.path(), &["scan", "."]).code, 1);
    // … while low secret material (password hashes) stays advisory.
    write_tree(
        dir.path(),
        &[(
            ".gitops-guard.toml",
            "[rules]\nseverity = { \"plaintext-secret-manifest\" = \"low\" }\n",
        )],
    );
    assert_eq!(gg(dir.path(), &["scan", "."]).code, 0);
    // … and an explicit threshold is taken literally.
    assert_eq!(
        gg(dir.path(), &["scan", ".", "--fail-on", "medium"]).code,
        1,
        "policy medium"
    );
    assert_eq!(gg(dir.path(), &["scan", ".", "--fail-on", "high"]).code, 0);
}

#[test]
fn several_paths_are_scanned_as_one_files_mode_run() {
    let dir = repo(&[
        ("apps/a/s.yaml", &secret_manifest("a")),
        ("apps/b/s.yaml", &secret_manifest("b")),
        ("apps/c/d.yaml", PLAIN_DEPLOYMENT),
    ]);
    // What pre-commit's files mode runs: `gitops-guard scan FILE…`.
    let out = gg(
        dir.path(),
        &["scan", "apps/a/s.yaml", "apps/c/d.yaml", "-f", "json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let paths = field_of_findings(&v, "path");
    assert!(paths.contains(&"apps/a/s.yaml"), "{paths:?}");
    assert!(paths.contains(&"apps/c/d.yaml"), "{paths:?}");
    assert!(
        !paths.contains(&"apps/b/s.yaml"),
        "only the files given: {paths:?}"
    );
    let rules = field_of_findings(&v, "rule");
    assert!(
        !rules.contains(&"network-policy-coverage"),
        "absence checks need the whole repository: {rules:?}"
    );
    // A missing one is a usage error; history options do not mix with files.
    assert_eq!(
        gg(dir.path(), &["scan", "apps/a/s.yaml", "nope.yaml"]).code,
        2
    );
    assert_eq!(
        gg(
            dir.path(),
            &["scan", "--history", "apps/a/s.yaml", "apps/c/d.yaml"]
        )
        .code,
        2
    );
    // A clean file alone passes.
    assert_eq!(
        gg(dir.path(), &["scan", "apps/c/d.yaml", "apps/c/d.yaml"]).code,
        0
    );
}

#[test]
fn pre_commit_all_files_runs_the_files_hook_on_every_file() {
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
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let hooks = repo(&[(".pre-commit-hooks.yaml", &manifest)]);
    // Committed already (nothing staged): the index hook would see nothing,
    // the files hook sees every file with --all-files.
    let dir = repo(&[("apps/s.yaml", &secret_manifest("db")), ("ok.txt", "ok\n")]);
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = TempDir::new().unwrap();
    let o = Command::new("pre-commit")
        .args([
            "try-repo",
            hooks.path().to_str().unwrap(),
            "gitops-guard-files-system",
            "--all-files",
            "--verbose",
        ])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("PRE_COMMIT_HOME", home.path())
        .env("HOME", dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("apps/s.yaml:6:"), "{text}");
}

/// `docs/schema/findings.schema.json` describes real output: a working-tree
/// scan (suppressed findings, a stale baseline, a non-UTF-8 file name), a
/// history scan and a baseline file all validate, and a report with an
/// unknown field or a wrong severity does not.
#[test]
fn json_output_matches_the_shipped_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/findings.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let check = |v: &serde_json::Value, what: &str| {
        let errors: Vec<String> = validator
            .iter_errors(v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
    };
    let tok = github_token("schema");
    let dir = repo(&[
        ("s.yaml", &secret_manifest("db")),
        ("d.yaml", PLAIN_DEPLOYMENT),
        ("app.env", &format!("GITHUB_TOKEN={tok}\n")),
        (
            "ok.env",
            &format!("GITHUB_TOKEN={tok} # gitops-guard:allow test\n"),
        ),
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff.env");
        std::fs::write(dir.path().join(name), format!("GITHUB_TOKEN={tok}\n")).unwrap();
    }
    let base = gg(dir.path(), &["baseline", ".", "-o", "base.json"]);
    assert_eq!(base.code, 0, "{}", base.stderr);
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("base.json")).unwrap())
            .unwrap();
    check(&b, "baseline");
    std::fs::remove_file(dir.path().join("s.yaml")).unwrap();
    let out = gg(
        dir.path(),
        &[
            "scan",
            ".",
            "-f",
            "json",
            "--show-suppressed",
            "--baseline",
            "base.json",
        ],
    );
    let v = json(&out);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["suppressed"].is_object())
    );
    assert!(v["stats"]["baseline_stale"].as_u64() > Some(0));
    check(&v, "working tree");
    let h = json(&gg(dir.path(), &["scan", "--history", ".", "-f", "json"]));
    assert!(h["findings"][0]["commit"].is_string());
    check(&h, "history");
    assert_redacted(&out.stdout, &[&tok]);
    // The schema is strict enough to catch drift.
    let mut bad = v.clone();
    bad["findings"][0]["severity"] = "severe".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = v.clone();
    bad["stats"]["new_counter"] = 1.into();
    assert!(!validator.is_valid(&bad));
    // Every category the tool knows is in the schema's list.
    let listed = &schema["$defs"]["category"]["enum"];
    for c in gitops_guard::finding::Category::ALL {
        assert!(
            listed.as_array().unwrap().contains(&c.as_str().into()),
            "{c:?}"
        );
    }
}

/// `--format junit` is valid against the Apache Ant JUnit schema (kept in
/// tests/schemas/ with its source and licence): findings that fail the run
/// are `<failure>`s, advisory ones `<skipped>`, XML metacharacters in paths
/// and messages are escaped, and no secret appears in full.
#[test]
fn junit_output_validates_against_the_junit_schema() {
    let tok = github_token("junit");
    let dir = repo(&[
        ("s.yaml", &secret_manifest("db")),
        ("d.yaml", PLAIN_DEPLOYMENT),
        ("a&<b>\".env", &format!("GITHUB_TOKEN={tok}\n")),
    ]);
    let out = gg(dir.path(), &["scan", ".", "-f", "junit"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_redacted(&out.stdout, &[&tok]);
    assert!(
        out.stdout.contains("a&amp;&lt;b&gt;&quot;.env:1:"),
        "{}",
        out.stdout
    );
    let failures = out.stdout.matches("<failure ").count();
    let advisory = out.stdout.matches("<skipped ").count();
    assert_eq!(failures, 2, "the Secret and the token fail: {}", out.stdout);
    assert!(advisory > 0, "advisory policy findings are skipped cases");
    assert!(out.stdout.contains(&format!("failures=\"{failures}\"")));
    let xml = dir.path().join("report.xml");
    std::fs::write(&xml, &out.stdout).unwrap();
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/JUnit.xsd");
    match Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&xml)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "JUnit schema: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => skipped(
            "xmllint is absent (apt-get install libxml2-utils); JUnit XML not validated against tests/schemas/JUnit.xsd",
        ),
    }
    // A clean scan is a valid, empty suite.
    let clean = repo(&[("ok.txt", "ok\n")]);
    let out = gg(clean.path(), &["scan", ".", "-f", "junit"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("tests=\"0\" failures=\"0\""),
        "{}",
        out.stdout
    );
}
