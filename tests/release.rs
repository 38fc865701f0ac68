//! The release path end to end, offline: `scripts/release/build.sh` packs the
//! binary under test into a release directory with `SHA256SUMS`, and the
//! GitHub Action's installer (`scripts/action/install.sh`) downloads from that
//! directory through `file://` as it would from a GitHub release: it uses a
//! binary whose checksum matches, refuses a tampered one, and builds from
//! source only when no release matches.

mod common;

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tempfile::TempDir;

const TAG: &str = "v9.9.9";
/// A Linux target name as the release workflow builds it; the installer is
/// told to look for it, whatever this machine is.
const TARGET: &str = "x86_64-unknown-linux-musl";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        eprintln!("NOTE: `{tool}` is absent; the release scripts need it; skipped");
    }
    ok
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `SHA256SUMS` as name -> hash, checking the `sha256sum` line format.
fn read_sums(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    text.lines()
        .map(|l| {
            let (hash, name) = l.split_once("  ").expect("`<hash>  <name>` line");
            assert_eq!(hash.len(), 64, "{l}");
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{l}");
            (name.to_string(), hash.to_string())
        })
        .collect()
}

/// Run `scripts/release/build.sh` on the binary under test (no cargo build).
fn build_release(out: &Path, tag: &str, target: &str) -> std::process::Output {
    Command::new("bash")
        .arg(root().join("scripts/release/build.sh"))
        .args(["--binary", common::bin().to_str().unwrap()])
        .args(["--tag", tag, "--target", target, "--out"])
        .arg(out)
        .output()
        .expect("run build.sh")
}

/// A release directory laid out like `https://github.com/<repo>/releases/download/`:
/// `<base>/v9.9.9/{archive, SHA256SUMS, SOURCE_COMMIT}`. Built once; tests
/// that tamper with it copy it first.
fn release_base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-fixture");
        let _ = std::fs::remove_dir_all(&base);
        let o = build_release(&base.join(TAG), TAG, TARGET);
        assert!(
            o.status.success(),
            "build.sh failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        base
    })
}

/// A copy of the release directory that a test may change.
fn release_copy() -> TempDir {
    let dir = TempDir::new().unwrap();
    let src = release_base().join(TAG);
    std::fs::create_dir(dir.path().join(TAG)).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(TAG).join(e.file_name())).unwrap();
    }
    dir
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

struct Install {
    code: i32,
    log: String,
    outputs: BTreeMap<String, String>,
}

/// Run the action's install step as the runner would.
fn install(base: &str, version: &str, action_ref: &str, extra: &[&str]) -> Install {
    let runner = TempDir::new().unwrap();
    let output = runner.path().join("github_output");
    let o = Command::new("bash")
        .arg(root().join("scripts/action/install.sh"))
        .args(extra)
        .env("ACTION_PATH", root())
        .env("INPUT_VERSION", version)
        .env("GITHUB_ACTION_REF", action_ref)
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_TEMP", runner.path())
        .env("GITOPS_GUARD_RELEASE_BASE", base)
        .env("GITOPS_GUARD_TARGET", TARGET)
        .output()
        .expect("run install.sh");
    let mut log = String::from_utf8_lossy(&o.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&o.stderr));
    let outputs: BTreeMap<String, String> = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // The binary lives under RUNNER_TEMP: check it runs before the dir goes.
    if let Some(bin) = outputs.get("binary") {
        let v = Command::new(bin).arg("--version").output().unwrap();
        assert!(v.status.success(), "installed binary runs");
        assert!(String::from_utf8_lossy(&v.stdout).starts_with("gitops-guard "));
    }
    Install {
        code: o.status.code().unwrap_or(-1),
        log,
        outputs,
    }
}

fn tools() -> bool {
    have("curl") && have("tar") && have("gzip")
}

#[test]
fn release_script_writes_archive_and_checksums_that_verify() {
    if !tools() {
        return;
    }
    let out = TempDir::new().unwrap();
    let o = build_release(out.path(), "v1.2.3", "x86_64-unknown-linux-gnu");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let archive = "gitops-guard-v1.2.3-x86_64-unknown-linux-gnu.tar.gz";
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        out.path().join(archive).display().to_string()
    );

    // Every file but SHA256SUMS is listed, each with its real hash.
    let sums = read_sums(out.path());
    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    files.sort();
    assert_eq!(sums.keys().cloned().collect::<Vec<_>>(), files);
    assert!(sums.contains_key(archive) && sums.contains_key("SOURCE_COMMIT"));
    for (name, hash) in &sums {
        assert_eq!(&sha256_hex(&out.path().join(name)), hash, "{name}");
    }

    // The archive holds the very binary under test, executable, in a
    // directory named like the archive.
    let x = TempDir::new().unwrap();
    let t = Command::new("tar")
        .arg("-xzf")
        .arg(out.path().join(archive))
        .arg("-C")
        .arg(x.path())
        .status()
        .unwrap();
    assert!(t.success());
    let inner = x
        .path()
        .join("gitops-guard-v1.2.3-x86_64-unknown-linux-gnu/gitops-guard");
    assert_eq!(sha256_hex(&inner), sha256_hex(&common::bin()));
    let v = Command::new(&inner).arg("--version").output().unwrap();
    assert!(v.status.success());
    for doc in ["README.md", "CHANGELOG.md"] {
        assert!(inner.with_file_name(doc).is_file(), "{doc} is packed");
    }

    // Same input, same bytes: the archive is reproducible.
    let again = TempDir::new().unwrap();
    let o = build_release(again.path(), "v1.2.3", "x86_64-unknown-linux-gnu");
    assert!(o.status.success());
    assert_eq!(read_sums(again.path())[archive], sums[archive]);
}

#[test]
fn release_script_refuses_a_missing_binary() {
    let out = TempDir::new().unwrap();
    let o = Command::new("bash")
        .arg(root().join("scripts/release/build.sh"))
        .args(["--binary", "/nonexistent/gitops-guard", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.path().join("SHA256SUMS").exists());
}

#[test]
fn action_installs_the_release_binary_whose_checksum_matches() {
    if !tools() {
        return;
    }
    let r = install(&file_url(release_base()), "auto", TAG, &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.log.contains("matches SHA256SUMS"), "{}", r.log);
    assert!(r.outputs.contains_key("binary"), "{:?}", r.outputs);
    assert!(
        !r.outputs.contains_key("build"),
        "no build when a release matches"
    );
    // An explicit version finds the same release (with or without the `v`).
    let r = install(&file_url(release_base()), "9.9.9", "main", &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.outputs.contains_key("binary"));
}

#[test]
fn action_refuses_a_tampered_archive_and_does_not_fall_back_to_building() {
    if !tools() {
        return;
    }
    let dir = release_copy();
    let archive = dir
        .path()
        .join(TAG)
        .join(format!("gitops-guard-{TAG}-{TARGET}.tar.gz"));
    let mut bytes = std::fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&archive, bytes).unwrap();
    let r = install(&file_url(dir.path()), "auto", TAG, &[]);
    assert_eq!(r.code, 3, "{}", r.log);
    assert!(r.log.contains("does not match SHA256SUMS"), "{}", r.log);
    assert!(
        r.outputs.is_empty(),
        "neither a binary nor a build: {:?}",
        r.outputs
    );
}

#[test]
fn action_refuses_a_checksum_file_that_lists_another_hash() {
    if !tools() {
        return;
    }
    let dir = release_copy();
    let sums = dir.path().join(TAG).join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    let name = format!("gitops-guard-{TAG}-{TARGET}.tar.gz");
    let tampered: String = text
        .lines()
        .map(|l| {
            if l.ends_with(&name) {
                format!("{}  {name}\n", "0".repeat(64))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&sums, tampered).unwrap();
    let r = install(&file_url(dir.path()), "auto", TAG, &[]);
    assert_eq!(r.code, 3, "{}", r.log);
    assert!(r.log.contains("does not match SHA256SUMS"), "{}", r.log);
    assert!(!r.outputs.contains_key("build"));
}

#[test]
fn action_builds_from_source_only_when_no_release_matches() {
    if !tools() {
        return;
    }
    let base = file_url(release_base());
    // A tag without a release, a branch, a commit no release was built from.
    for action_ref in ["v0.0.1", "main", &"a".repeat(40)] {
        let r = install(&base, "auto", action_ref, &[]);
        assert_eq!(r.code, 0, "{action_ref}: {}", r.log);
        assert_eq!(
            r.outputs.get("build").map(String::as_str),
            Some("true"),
            "{action_ref}: {}",
            r.log
        );
        assert!(!r.outputs.contains_key("binary"), "{action_ref}");
    }
    // A release without an archive for this platform.
    let dir = release_copy();
    std::fs::remove_file(
        dir.path()
            .join(TAG)
            .join(format!("gitops-guard-{TAG}-{TARGET}.tar.gz")),
    )
    .unwrap();
    let sums = dir.path().join(TAG).join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains(TARGET))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sums, kept).unwrap();
    let r = install(&file_url(dir.path()), "auto", TAG, &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(r.outputs.get("build").map(String::as_str), Some("true"));
    // `version: build` always builds.
    let r = install(&base, "build", TAG, &[]);
    assert_eq!(r.outputs.get("build").map(String::as_str), Some("true"));
}

#[test]
fn action_uses_the_release_of_its_own_version_for_a_sha_or_a_moving_tag() {
    if !tools() {
        return;
    }
    // The action's own Cargo.toml version names the release; its
    // SOURCE_COMMIT must be the pinned commit.
    let version = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap();
    let tag = format!("v{version}");
    let dir = TempDir::new().unwrap();
    let o = build_release(&dir.path().join(&tag), &tag, TARGET);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(
        dir.path().join(&tag).join("SOURCE_COMMIT"),
        format!("{commit}\n"),
    )
    .unwrap();
    let s = Command::new("bash")
        .arg(root().join("scripts/release/sha256sums.sh"))
        .arg(dir.path().join(&tag))
        .status()
        .unwrap();
    assert!(s.success());
    let r = install(&file_url(dir.path()), "auto", commit, &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.outputs.contains_key("binary"), "{}", r.log);
    // A moving major tag (`@v0` while the action's version is 0.x.y) takes
    // the release of the action's own version; another major does not.
    let major = format!("v{}", version.split('.').next().unwrap());
    let r = install(&file_url(dir.path()), "auto", &major, &[]);
    assert!(r.outputs.contains_key("binary"), "{major}: {}", r.log);
    let r = install(&file_url(dir.path()), "auto", "v999", &[]);
    assert_eq!(r.outputs.get("build").map(String::as_str), Some("true"));
    // Another commit pinned: that release is not its build.
    let other = "fedcba9876543210fedcba9876543210fedcba98";
    let r = install(&file_url(dir.path()), "auto", other, &[]);
    assert_eq!(r.outputs.get("build").map(String::as_str), Some("true"));
}

#[test]
fn action_download_failure_is_an_error_not_a_silent_build() {
    if !tools() {
        return;
    }
    // Nothing listens on port 9 of this machine: a network failure, not
    // "no such release".
    let r = install("https://127.0.0.1:9/releases", "auto", TAG, &[]);
    assert_eq!(r.code, 3, "{}", r.log);
    assert!(!r.outputs.contains_key("build"), "{:?}", r.outputs);
}

#[test]
fn action_path_version_still_takes_a_binary_on_the_runner() {
    let bin = common::bin();
    let r = install(
        "file:///nonexistent",
        &format!("path:{}", bin.display()),
        "main",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(r.outputs["binary"], bin.display().to_string());
    let r = install("file:///nonexistent", "path:/nonexistent/gg", "main", &[]);
    assert_eq!(r.code, 2, "{}", r.log);
}

#[test]
fn release_image_is_from_scratch_non_root_and_runs_nothing_at_build() {
    // No daemon in CI to build it; what makes it minimal and read-only-root
    // friendly is in the file: no base image, no RUN, a numeric non-root user.
    let text = std::fs::read_to_string(root().join("scripts/release/Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms, [&"FROM scratch"]);
    assert!(!lines.iter().any(|l| l.starts_with("RUN ")), "{text}");
    let user = lines
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    let (uid, gid) = user.split_once(':').expect("uid:gid");
    assert!(uid.parse::<u32>().is_ok_and(|u| u != 0), "{user}");
    assert!(gid.parse::<u32>().is_ok_and(|g| g != 0), "{user}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT [\"/usr/local/bin/gitops-guard\"]"))
    );
}

#[test]
fn workflows_and_action_pin_every_action_by_commit() {
    // zizmor checks this too (scripts/ci/lint-actions.sh, when PyPI is
    // reachable); this holds without it.
    let mut files = vec![root().join("action.yml")];
    for e in std::fs::read_dir(root().join(".github/workflows")).unwrap() {
        files.push(e.unwrap().path());
    }
    let mut seen = 0;
    for f in &files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let Some(rest) = line.trim().trim_start_matches("- ").strip_prefix("uses: ") else {
                continue;
            };
            if rest.starts_with("./") {
                continue;
            }
            seen += 1;
            let (_, pin) = rest.split_once('@').expect("owner/repo@ref");
            let sha = pin.split_whitespace().next().unwrap();
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}: {line}",
                f.display()
            );
            assert!(pin.contains("# v"), "the tag in a comment: {line}");
        }
    }
    assert!(seen > 5, "found the uses: lines");
}
