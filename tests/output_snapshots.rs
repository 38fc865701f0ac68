//! Snapshots of what a user sees: the text code frames and the SARIF of a
//! representative tree. Tokens are generated with fixed seeds, so the
//! redacted forms in the snapshots are stable; the elapsed time is masked.

mod common;

use common::*;
use tempfile::TempDir;

fn representative_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let gh = github_token("snapshot-gh");
    let aws = aws_key_id("snapshot-aws");
    write_tree(
        dir.path(),
        &[
            (
                "apps/api/values.yaml",
                &format!("image:\n  tag: \"1.4.2\"\nauth:\n  githubToken: {gh}\n  note: fine\n"),
            ),
            (".env", &format!("AWS_ACCESS_KEY_ID={aws}\nDEBUG=true\n")),
            (
                "docs/setup.md",
                "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            ),
            ("ok.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
        ],
    );
    dir
}

fn mask_elapsed(s: &str) -> String {
    let re = regex::Regex::new(r" in \d+\.\d\ds").unwrap();
    re.replace_all(s, " in <elapsed>").into_owned()
}

#[test]
fn text_code_frames() {
    let dir = representative_tree();
    let out = gg(dir.path(), &["scan", ".", "--only", "secrets"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!(mask_elapsed(&out.stdout));
}

#[test]
fn sarif_document() {
    let dir = representative_tree();
    let out = gg(
        dir.path(),
        &["scan", ".", "--only", "secrets", "--format", "sarif"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let mut v = json(&out);
    // the version changes with every release; the shape must not
    v["runs"][0]["tool"]["driver"]["version"] = "<version>".into();
    v["runs"][0]["tool"]["driver"]["semanticVersion"] = "<version>".into();
    insta::assert_json_snapshot!(v);
}
