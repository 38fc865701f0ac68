//! Archives in a tree or in history (issue 12 item 4): Helm chart packages
//! and zip/tar/tar.gz blobs are opened, their members scanned and reported
//! as `outer!inner:line`; bombs, deep nesting and corrupt archives are
//! refused quickly and counted, and block the hooks. Every archive is built
//! here with the crates, never committed.

mod common;

use common::{assert_redacted, gg, git, github_token, json, write_tree};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A values.yaml whose line 12 holds `token`.
fn values_with(token: &str) -> String {
    let mut s = String::new();
    for i in 1..=11 {
        s.push_str(&format!("key{i}: value{i}\n"));
    }
    s.push_str(&format!("githubToken: {token}\n"));
    s.push_str("replicas: 2\n");
    s
}

/// A Helm chart package `db-1.2.0.tgz` with `values` as db/values.yaml.
fn chart(values: &str) -> Vec<u8> {
    gz(&tar_of(&[
        (
            "db/Chart.yaml",
            b"apiVersion: v2\nname: db\nversion: 1.2.0\n",
        ),
        ("db/values.yaml", values.as_bytes()),
    ]))
}

fn write_bytes(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn paths(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect()
}

fn skipped(v: &serde_json::Value, reason: &str) -> Vec<String> {
    v["stats"]["skipped_blobs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["reason"] == reason)
                .map(|s| s["path"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_token_in_a_chart_package_is_reported_at_its_member_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("chart-values");
    write_bytes(
        dir.path(),
        "charts/db-1.2.0.tgz",
        &chart(&values_with(&token)),
    );
    let out = gg(dir.path(), &["scan", "."]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("charts/db-1.2.0.tgz!db/values.yaml:12:"),
        "{}",
        out.stdout
    );
    // The code frame is the member's line 12, redacted.
    assert!(out.stdout.contains("githubToken:"), "{}", out.stdout);
    assert_redacted(&out.stdout, &[&token]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    let v = json(&out);
    assert!(
        paths(&v).contains(&"charts/db-1.2.0.tgz!db/values.yaml:12".to_string()),
        "{:?}",
        paths(&v)
    );
    assert_eq!(v["stats"]["archive_members_scanned"], 2);
    assert_redacted(&out.stdout, &[&token]);
    let out = gg(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert!(
        out.stdout.contains("charts/db-1.2.0.tgz!db/values.yaml"),
        "{}",
        out.stdout
    );
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn a_clean_chart_package_gives_no_finding_and_its_members_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    write_bytes(
        dir.path(),
        "charts/db-1.2.0.tgz",
        &chart("replicas: 2\nimage: postgres:16\n"),
    );
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["stats"]["archive_members_scanned"], 2);
    assert_eq!(v["stats"]["skipped"], serde_json::json!({}));
}

/// A repository on `main` with one commit (`README.md`), for the pre-commit
/// and history cases that add an archive on top.
fn repo_with_initial_commit() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    write_tree(dir.path(), &[("README.md", "# repo\n")]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "--quiet", "-m", "initial"]);
    dir
}

#[test]
fn a_chart_package_is_scanned_in_history_and_stops_a_pre_commit() {
    let dir = repo_with_initial_commit();
    let token = github_token("chart-history");
    write_bytes(
        dir.path(),
        "charts/db-1.2.0.tgz",
        &chart(&values_with(&token)),
    );
    git(dir.path(), &["add", "-A"]);

    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("charts/db-1.2.0.tgz!db/values.yaml:12:"),
        "{}",
        out.stdout
    );
    assert_redacted(&out.stdout, &[&token]);

    git(
        dir.path(),
        &["commit", "--quiet", "--no-verify", "-m", "vendor chart"],
    );
    let out = gg(dir.path(), &["scan", "--history", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert!(
        paths(&v).contains(&"charts/db-1.2.0.tgz!db/values.yaml:12".to_string()),
        "{:?}",
        paths(&v)
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "charts/db-1.2.0.tgz!db/values.yaml")
        .unwrap();
    assert!(f["commit"].is_string(), "{f}");
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn a_zip_in_a_tgz_is_opened_and_a_third_layer_is_counted_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let t2 = github_token("depth-two");
    let t3 = github_token("depth-three");
    let inner_zip = zip_of(&[("conf/app.env", format!("GITHUB_TOKEN={t2}\n").as_bytes())]);
    // Depth 3: a tgz inside a zip inside a tgz.
    let deepest = gz(&tar_of(&[(
        "deep.env",
        format!("GITHUB_TOKEN={t3}\n").as_bytes(),
    )]));
    let zip_with_tgz = zip_of(&[("nested/deep.tgz", &deepest)]);
    let outer = gz(&tar_of(&[
        ("bundle/inner.zip", &inner_zip),
        ("bundle/more.zip", &zip_with_tgz),
    ]));
    write_bytes(dir.path(), "vendor/bundle.tar.gz", &outer);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    let found = paths(&v);
    assert!(
        found.contains(&"vendor/bundle.tar.gz!bundle/inner.zip!conf/app.env:1".to_string()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| p.contains("deep.env")),
        "a third layer was opened: {found:?}"
    );
    assert_eq!(
        skipped(&v, "archive_limit"),
        vec!["vendor/bundle.tar.gz!bundle/more.zip!nested/deep.tgz"]
    );
    assert_redacted(&out.stdout, &[&t2, &t3]);

    // With archive-depth = 3 the third layer opens.
    write_tree(
        dir.path(),
        &[(".gitops-guard.toml", "[limits]\narchive-depth = 3\n")],
    );
    let v = json(&gg(dir.path(), &["scan", ".", "--format", "json"]));
    assert!(
        paths(&v).contains(
            &"vendor/bundle.tar.gz!bundle/more.zip!nested/deep.tgz!deep.env:1".to_string()
        ),
        "{:?}",
        paths(&v)
    );
    // archive-depth = 0 turns opening off: the tgz is one binary blob again.
    write_tree(
        dir.path(),
        &[(".gitops-guard.toml", "[limits]\narchive-depth = 0\n")],
    );
    let v = json(&gg(dir.path(), &["scan", ".", "--format", "json"]));
    assert!(
        !paths(&v).iter().any(|p| p.contains('!')),
        "{:?}",
        paths(&v)
    );
}

#[test]
fn a_gzip_bomb_and_a_member_count_bomb_are_refused_quickly_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of zeros in a tar, about 64 KiB compressed (about 1000:1).
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros.bin").unwrap();
    h.set_size(64 << 20);
    h.set_cksum();
    e.write_all(h.as_bytes()).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&block).unwrap();
    }
    write_bytes(dir.path(), "charts/bomb.tgz", &e.finish().unwrap());
    // 3,000 empty members against archive-max-members = 1000.
    let names: Vec<String> = (0..3000).map(|i| format!("many/f{i}.yaml")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    write_bytes(dir.path(), "charts/many.tgz", &gz(&tar_of(&files)));
    write_tree(
        dir.path(),
        &[(
            ".gitops-guard.toml",
            "[limits]\narchive-max-members = 1000\n",
        )],
    );
    let started = Instant::now();
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    let mut refused = skipped(&v, "archive_limit");
    refused.sort();
    assert_eq!(refused, vec!["charts/bomb.tgz", "charts/many.tgz"]);
    assert_eq!(v["stats"]["skipped"]["archive_limit"], 2);
    // A generous bound for a debug build on a loaded machine: inflating the
    // whole bomb would take far longer (and the refusal reads about a tenth).
    assert!(took < Duration::from_secs(60), "{took:?}");
    let details: Vec<&str> = v["stats"]["skipped_blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("archive-max-ratio")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("archive-max-members")),
        "{details:?}"
    );
}

#[test]
fn a_corrupt_chart_package_is_a_counted_skip_and_its_bytes_are_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("corrupt-raw");
    // A truncated tgz, then the token in plain bytes after it.
    let good = chart("replicas: 2\n");
    let mut bad = good[..good.len() / 2].to_vec();
    bad.extend_from_slice(format!("\nGITHUB_TOKEN={token}\n").as_bytes());
    write_bytes(dir.path(), "charts/broken.tgz", &bad);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(skipped(&v, "archive_corrupt"), vec!["charts/broken.tgz"]);
    assert!(
        paths(&v)
            .iter()
            .any(|p| p.starts_with("charts/broken.tgz:")),
        "{:?}",
        paths(&v)
    );
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn an_archive_that_cannot_be_opened_blocks_pre_commit_unless_allowed() {
    let dir = repo_with_initial_commit();
    let good = chart("replicas: 2\n");
    write_bytes(dir.path(), "charts/broken.tgz", &good[..good.len() / 2]);
    git(dir.path(), &["add", "-A"]);
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("charts/broken.tgz"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // A whole, clean chart passes.
    write_bytes(dir.path(), "charts/broken.tgz", &good);
    git(dir.path(), &["add", "-A"]);
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Allowed by [limits] large-files: listed, not blocking.
    write_bytes(dir.path(), "charts/broken.tgz", &good[..good.len() / 2]);
    write_tree(
        dir.path(),
        &[(
            ".gitops-guard.toml",
            "[limits]\nlarge-files = [\"charts/*.tgz\"]\n",
        )],
    );
    git(dir.path(), &["add", "-A"]);
    let out = gg(dir.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("archive_corrupt"), "{}", out.stderr);
}

#[test]
fn a_text_file_named_tgz_is_scanned_as_text() {
    // By magic bytes, not by name: a YAML file called .tgz is plain text.
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("named-tgz");
    write_tree(dir.path(), &[("charts/fake.tgz", &values_with(&token))]);
    let v = json(&gg(dir.path(), &["scan", ".", "--format", "json"]));
    assert!(
        paths(&v).contains(&"charts/fake.tgz:12".to_string()),
        "{:?}",
        paths(&v)
    );
    assert!(v["stats"]["skipped_blobs"].is_null());
}

#[test]
fn an_archive_blob_is_still_judged_whole_and_a_stored_token_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    // A whole, valid gzip named like an age file: not encrypted.
    write_bytes(dir.path(), "keys/backup.age", &gz(b"plain backup\n"));
    // A zip that stores (does not compress) its member: the token is in the
    // raw bytes too, but is reported once, at the member.
    let token = github_token("stored-zip");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("app.env", opts).unwrap();
    w.write_all(format!("GITHUB_TOKEN={token}\n").as_bytes())
        .unwrap();
    write_bytes(
        dir.path(),
        "dist/bundle.zip",
        &w.finish().unwrap().into_inner(),
    );
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    let v = json(&out);
    let rules: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        rules.contains(&("age-file-not-encrypted".into(), "keys/backup.age".into())),
        "{rules:?}"
    );
    let zip_findings: Vec<_> = rules
        .iter()
        .filter(|(_, p)| p.starts_with("dist/"))
        .collect();
    assert_eq!(zip_findings.len(), 1, "{rules:?}");
    assert_eq!(zip_findings[0].1, "dist/bundle.zip!app.env");
    assert_redacted(&out.stdout, &[&token]);
}
