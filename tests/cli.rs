//! The working-tree scan end to end: the built binary on directories made in
//! the test, in every format, checking exit codes, locations, redaction and
//! SARIF validity.

mod common;

use common::*;
use tempfile::TempDir;

fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    write_tree(dir.path(), files);
    dir
}

#[test]
fn finds_a_token_with_its_exact_location_and_exits_1() {
    let tok = github_token("loc");
    let dir = tree(&[(
        "deploy/values.yaml",
        &format!("image: nginx\nauth:\n  token: \"{tok}\"\n"),
    )]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "github-pat-classic");
    assert_eq!(f["category"], "secret");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["path"], "deploy/values.yaml");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(11))
    );
    assert_eq!(f["end_column"].as_u64(), Some(11 + tok.len() as u64));
    assert_eq!(f["commit"], serde_json::Value::Null);
    assert_eq!(v["stats"]["blobs_scanned"], 1);
    assert_redacted(&out.stdout, &[&tok]);
}

#[test]
fn clean_tree_exits_0() {
    let dir = tree(&[("a.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: y\n")]);
    let out = gg(dir.path(), &["scan", "."]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("no findings"));
}

#[test]
fn no_format_prints_the_secret_in_full() {
    let tok = github_token("redact");
    let aws = aws_key_id("redact");
    // two secrets on one line: each frame must hide both
    let dir = tree(&[(".env", &format!("GH={tok} AWS_ACCESS_KEY_ID={aws}\n"))]);
    for format in ["text", "json", "sarif", "github"] {
        let out = gg(dir.path(), &["scan", ".", "--format", format]);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(out.stdout.contains(&tok[..4]), "{format}: no finding shown");
        assert_redacted(&out.stdout, &[&tok, &aws]);
        assert_redacted(&out.stderr, &[&tok, &aws]);
    }
    // --show-secrets is the explicit opt-in
    let out = gg(dir.path(), &["scan", ".", "--show-secrets"]);
    assert!(out.stdout.contains(&tok));
}

#[test]
fn text_frame_has_path_line_col_and_caret_under_the_redacted_match() {
    let tok = github_token("frame");
    let dir = tree(&[("app.yaml", &format!("x: 1\ntoken: {tok}\n"))]);
    let out = gg(dir.path(), &["scan", "."]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("app.yaml:2:8: critical [secret] github-pat-classic"),
        "{}",
        out.stdout
    );
    let code = lines
        .iter()
        .position(|l| l.starts_with("2 | "))
        .expect("code line");
    let caret_line = lines[code + 1];
    let col = caret_line.find('^').unwrap();
    let shown = &lines[code][col..];
    assert!(
        shown.starts_with(&gitops_guard::finding::redact(&tok)),
        "{}",
        out.stdout
    );
}

#[test]
fn scans_dot_files_honours_gitignore_and_counts_skips() {
    let tok = github_token("dot");
    let dir = tree(&[
        (".env", &format!("TOKEN={}\n", github_token("env"))),
        (".github/workflows/ci.yml", &format!("env:\n  T: {tok}\n")),
        (".gitignore", "ignored.txt\n"),
        ("ignored.txt", &format!("T={}\n", github_token("ignored"))),
        (
            "big.txt",
            &format!("{}\nT={}\n", "a".repeat(5000), github_token("big")),
        ),
    ]);
    std::fs::write(
        dir.path().join("bin.dat"),
        [b"T=", github_token("bin").as_bytes(), b"\0\0"].concat(),
    )
    .unwrap();
    let out = gg(
        dir.path(),
        &["scan", ".", "--format", "json", "--max-file-size", "4K"],
    );
    let v = json(&out);
    let paths = field_of_findings(&v, "path");
    // A binary file's bytes are scanned too (issue 11): counted as such, not skipped.
    assert_eq!(paths, vec![".env", ".github/workflows/ci.yml", "bin.dat"]);
    assert_eq!(v["stats"]["binary_scanned"], 1);
    assert_eq!(v["stats"]["skipped"]["too_large"], 1);
    assert_eq!(v["stats"]["skipped_blobs"][0]["path"], "big.txt");
}

#[cfg(unix)]
#[test]
fn never_follows_a_symlink_out_of_the_root() {
    let outside = tree(&[("secret.env", &format!("T={}\n", github_token("outside")))]);
    let dir = tree(&[("ok.yaml", "a: b\n")]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.env"),
        dir.path().join("link.env"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap();
    // a loop, too
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(json(&out)["stats"]["skipped"]["symlink"], 3);
}

#[test]
fn excludes_from_flags_and_config() {
    let dir = tree(&[
        ("vendor/a.env", &format!("T={}\n", github_token("v"))),
        ("test/b.env", &format!("T={}\n", github_token("t"))),
        ("app/c.env", &format!("T={}\n", github_token("c"))),
        (".gitops-guard.toml", "exclude = [\"test/**\"]\n"),
    ]);
    let out = gg(
        dir.path(),
        &["scan", ".", "--format", "json", "--exclude", "vendor"],
    );
    let v = json(&out);
    let paths = field_of_findings(&v, "path");
    assert_eq!(paths, vec!["app/c.env"]);
    assert!(v["stats"]["skipped"]["excluded"].as_u64().unwrap() >= 2);
}

#[test]
fn inline_suppressions_including_peer_tokens() {
    let dir = tree(&[(
        "a.env",
        &format!(
            "A={} # gitops-guard:allow\nB={} # gitleaks:allow\nC={} # pragma: allowlist secret\n# gitops-guard:allow-next-line\nD={}\nE={}\n",
            github_token("a"),
            github_token("b"),
            github_token("c"),
            github_token("d"),
            github_token("e")
        ),
    )]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["line"], 6);
    assert_eq!(v["stats"]["suppressed"], 4);
    let out = gg(
        dir.path(),
        &["scan", ".", "--format", "json", "--show-suppressed"],
    );
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 5);
    assert_eq!(v["findings"][0]["suppressed"]["kind"], "inline");
    assert_eq!(out.code, 1);
}

#[test]
fn config_allowlist_disable_extra_rules_and_fail_on() {
    let tok = github_token("cfg");
    let dir = tree(&[
        ("a.env", &format!("T={tok}\nACME=acme_qwertyuiopas\n")),
        (
            ".gitops-guard.toml",
            r#"
fail-on = "critical"
[rules]
disable = ["github-pat-classic"]
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
keywords = ["acme_"]
regex = '''\b(acme_[a-z]{12})\b'''
"#,
        ),
    ]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    let v = json(&out);
    let rules = field_of_findings(&v, "rule");
    assert_eq!(rules, vec!["acme-token"]);
    assert_eq!(out.code, 0, "high is below fail-on = critical");
    let out = gg(dir.path(), &["scan", ".", "--fail-on", "high"]);
    assert_eq!(out.code, 1);
}

#[test]
fn config_and_usage_errors_are_one_line_and_exit_2() {
    let dir = tree(&[(".gitops-guard.toml", "fail-on = \"high\"\nexclud = []\n")]);
    let out = gg(dir.path(), &["scan", "."]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);

    let dir = tree(&[(
        ".gitops-guard.toml",
        "[[rule]]\nid = \"bad\"\nname = \"b\"\nkeywords = [\"x\"]\nregex = '(unclosed'\n",
    )]);
    let out = gg(dir.path(), &["scan", "."]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("rule `bad`: bad regex"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);

    let out = gg(dir.path(), &["scan", "--format", "yaml"]);
    assert_eq!(out.code, 2);
    let out = gg(dir.path(), &["scan", "--fail-on", "severe"]);
    assert_eq!(out.code, 2);
}

#[test]
fn a_missing_path_is_a_clear_error_not_a_clean_scan() {
    let dir = TempDir::new().unwrap();
    let out = gg(dir.path(), &["scan", "does-not-exist"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("does-not-exist"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn baseline_suppresses_known_findings_and_counts_stale_entries() {
    let t1 = github_token("base1");
    let t2 = github_token("base2");
    let dir = tree(&[("a.env", &format!("A={t1}\nB={t2}\n"))]);
    let out = gg(dir.path(), &["baseline", ".", "-o", "base.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let base = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    assert_redacted(&base, &[&t1, &t2]);
    // moving lines around does not break the baseline
    std::fs::write(
        dir.path().join("a.env"),
        format!("# moved\nB={t2}\n\nA={t1}\n"),
    )
    .unwrap();
    let out = gg(
        dir.path(),
        &["scan", ".", "--baseline", "base.json", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    // a new secret fails; a removed one is a stale entry
    let t3 = github_token("base3");
    std::fs::write(dir.path().join("a.env"), format!("A={t1}\nC={t3}\n")).unwrap();
    let out = gg(
        dir.path(),
        &["scan", ".", "--baseline", "base.json", "--format", "json"],
    );
    assert_eq!(out.code, 1);
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["stats"]["baseline_stale"], 1);
    // a broken baseline is a config error
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    assert_eq!(
        gg(dir.path(), &["scan", ".", "--baseline", "bad.json"]).code,
        2
    );
}

#[test]
fn sarif_is_schema_valid_with_fingerprints_and_security_severity() {
    let tok = github_token("sarif");
    let dir = tree(&[("my app/values.yaml", &format!("token: {tok}\n"))]);
    let out = gg(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(out.code, 1);
    let v = json(&out);
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "github-pat-classic");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20app/values.yaml"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert!(result["partialFingerprints"]["gitopsGuard/v2"].is_string());
    let rule = &v["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(rule["help"]["text"].as_str().unwrap().len() > 20);
    validate_sarif(&v);
}

#[test]
fn github_annotations_are_escaped() {
    let dir = tree(&[("we,ird:name.env", &format!("T={}\n", github_token("gh")))]);
    let out = gg(dir.path(), &["scan", ".", "--format", "github"]);
    assert_eq!(out.code, 1);
    let line = out.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=we%2Cird%3Aname.env,line=1,"),
        "{line}"
    );
    assert!(
        line.contains("title=gitops-guard github-pat-classic::"),
        "{line}"
    );
}

#[test]
fn output_file_gets_the_report_and_stderr_the_summary() {
    let dir = tree(&[("a.env", &format!("T={}\n", github_token("out")))]);
    let out = gg(
        dir.path(),
        &["scan", ".", "--format", "json", "--output", "r.json"],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("1 finding(s)"), "{}", out.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
}

#[test]
fn invalid_utf8_and_long_lines_are_scanned_not_fatal() {
    let tok = github_token("utf8");
    let mut bytes = b"caf\xe9 \xff\xfe token: ".to_vec();
    bytes.extend_from_slice(tok.as_bytes());
    bytes.push(b'\n');
    let dir = tree(&[]);
    std::fs::write(dir.path().join("latin1.txt"), &bytes).unwrap();
    let long = format!(
        "{{\"a\":\"{}\",\"t\":\"{tok}\",\"b\":\"{}\"}}",
        "x".repeat(200_000),
        "y".repeat(200_000)
    );
    std::fs::write(dir.path().join("min.json"), &long).unwrap();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    // the frame of a minified line is clipped around the match
    let snippet = v["findings"][1]["snippet"].as_str().unwrap();
    assert!(snippet.chars().count() < 200, "{}", snippet.len());
    assert_redacted(&out.stdout, &[&tok]);
}

#[test]
fn frames_of_minified_lines_mask_every_secret_near_the_match() {
    // Two tokens 40 characters apart in the middle of a 300 KB line, and an
    // inline allow far from them at the end of another such line.
    let (a, b) = (github_token("min-a"), github_token("min-b"));
    let filler = "z".repeat(150_000);
    let line1 = format!(
        "{{\"x\":\"{filler}\",\"t1\":\"{a}\",\"pad\":\"0123456789\",\"t2\":\"{b}\",\"y\":\"{filler}\"}}"
    );
    let c = github_token("min-c");
    let line2 = format!("{{\"t3\":\"{c}\",\"y\":\"{filler}\"}} // gitops-guard:allow");
    let dir = tree(&[("bundle.min.js", &format!("{line1}\n{line2}\n"))]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{}", out.stdout);
    for f in findings {
        let snippet = f["snippet"].as_str().unwrap();
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(snippet.chars().count() < 200, "{}", snippet.len());
        assert!(
            snippet.contains("t1") && snippet.contains("t2"),
            "{snippet}"
        );
    }
    assert_eq!(findings[0]["column"], 150_015);
    // The third token is allowed by a comment 150 KB after it.
    let all = gg(
        dir.path(),
        &["scan", ".", "--format", "json", "--show-suppressed"],
    );
    assert_redacted(&all.stdout, &[&a, &b, &c]);
    let all = json(&all);
    let suppressed: Vec<_> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppressed"].is_null())
        .collect();
    assert_eq!(suppressed.len(), 1, "{all}");
    assert_eq!(suppressed[0]["line"], 2);
    assert_redacted(&out.stdout, &[&a, &b, &c]);
}

#[test]
fn placeholders_and_documentation_keys_do_not_fire() {
    let dir = tree(&[(
        "values.yaml",
        concat!(
            "aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n",
            "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "password: changeme\n",
            "token: ${GITHUB_TOKEN}\n",
            "apiKey: \"{{ .Values.apiKey }}\"\n",
            "secret: <your-secret-here>\n",
            "github: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            "image: nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
            "id: 123e4567-e89b-12d3-a456-426614174000\n",
            "password: REPLACE_ME\n",
        ),
    )]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn rules_list_and_explain() {
    let dir = TempDir::new().unwrap();
    let out = gg(dir.path(), &["rules", "list", "--format", "json"]);
    assert_eq!(out.code, 0);
    let v = json(&out);
    let n = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == "secret")
        .count();
    assert!(n >= 120, "{n} secret rules");
    let out = gg(dir.path(), &["rules", "explain", "github-pat-classic"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("How to fix:"), "{}", out.stdout);
    let out = gg(dir.path(), &["rules", "explain", "github-pat"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("did you mean"), "{}", out.stderr);
}

#[test]
fn categories_filter_what_is_reported() {
    let dir = tree(&[("a.env", &format!("T={}\n", github_token("cat")))]);
    let out = gg(dir.path(), &["scan", ".", "--category", "policy"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = gg(dir.path(), &["scan", ".", "--only", "secrets"]);
    assert_eq!(out.code, 1);
}

/// The README's first command, and redaction across every detector family:
/// none of the demo's made-up secret values may appear in any format.
#[test]
fn demo_fixture_findings_never_show_a_secret() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let secrets = [
        "Vq3#kLm9!xTz2Rw8",
        "VnEzI2tMbTkheFR6MlJ3OA==",
        "Vq3kLm9xTz2Rw8pQ",
        "Zr7pQ2vXk9LmW4tB",
        "Kp8vN2qXr5Tz9LmW",
        "Hx4!qPz8Lm2Vr7Tk",
        "Wn6@tRq3Xz8!pLk5",
    ];
    for format in ["text", "json", "sarif", "github"] {
        let out = gg(&demo, &["scan", ".", "--format", format]);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert_redacted(&out.stdout, &secrets);
        assert_redacted(&out.stderr, &secrets);
    }
    let v = json(&gg(&demo, &["scan", ".", "--format", "json"]));
    let categories: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    for c in [
        "secret",
        "plaintext-secret-manifest",
        "secret-env-var",
        "kustomize-secret-literal",
        "hardcoded-ip",
        "plain-http",
        "unencrypted-sops",
        "policy",
    ] {
        assert!(categories.contains(c), "the demo shows no {c} finding");
    }
}
