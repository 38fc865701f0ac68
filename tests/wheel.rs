//! The Python route: maturin packs the binary into a wheel
//! (`python/pyproject.toml`, `bindings = "bin"`), pip installs it into a fresh
//! venv, and the real pre-commit framework installs the repository's
//! `language: python` hook (the root `pyproject.toml`, which only depends on
//! that wheel) and runs it on a repository built here: a staged token blocks
//! the commit, a clean change passes.
//!
//! The tools (maturin, pre-commit) come from `scripts/ci/py-tools.sh`, which
//! needs PyPI once; without it the pre-commit test says so and is skipped.
//! The wheel is built with the dev profile, reusing `cargo test`'s build.

mod common;

use common::{git, github_token, write_tree};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    s
}

/// The tools venv, or `None` with a visible note saying why.
fn py_tools() -> Option<PathBuf> {
    let o = Command::new("bash")
        .arg(root().join("scripts/ci/py-tools.sh"))
        .output();
    match o {
        Ok(o) if o.status.success() => Some(PathBuf::from(
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        )),
        Ok(o) => {
            eprintln!(
                "NOTE: skipped: scripts/ci/py-tools.sh could not install maturin and pre-commit (no PyPI?):\n{}",
                text(&o)
            );
            None
        }
        Err(e) => {
            eprintln!("NOTE: skipped: cannot run bash scripts/ci/py-tools.sh: {e}");
            None
        }
    }
}

fn cargo_version() -> String {
    std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap()
}

#[test]
fn hook_shim_pins_the_wheel_of_the_same_version() {
    // The root pyproject.toml (what pre-commit installs) must pull the wheel
    // built from this very source, and claim the same version.
    let v = cargo_version();
    let shim = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    let shim: toml::Table = toml::from_str(&shim).unwrap();
    assert_eq!(shim["project"]["version"].as_str(), Some(v.as_str()));
    assert_eq!(
        shim["project"]["dependencies"].as_array().unwrap()[0].as_str(),
        Some(format!("gitops-guard=={v}").as_str())
    );
    let wheel = std::fs::read_to_string(root().join("python/pyproject.toml")).unwrap();
    let wheel: toml::Table = toml::from_str(&wheel).unwrap();
    assert_eq!(wheel["project"]["name"].as_str(), Some("gitops-guard"));
    assert_eq!(wheel["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("- id: gitops-guard-python") && hooks.contains("language: python"));
}

#[test]
fn wheel_installs_the_binary_and_the_python_pre_commit_hook_blocks_a_staged_token() {
    let Some(tools) = py_tools() else { return };
    let tmp = TempDir::new().unwrap();
    let wheels = tmp.path().join("wheels");

    // 1. The wheel, from the dev build `cargo test` already made.
    let o = Command::new(tools.join("bin/maturin"))
        .args(["build", "--profile", "dev", "--quiet", "--out"])
        .arg(&wheels)
        .current_dir(root().join("python"))
        .output()
        .expect("run maturin");
    assert!(o.status.success(), "maturin build: {}", text(&o));
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("a wheel");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("gitops_guard-{}-py3-none-", cargo_version())),
        "{name}"
    );

    // 2. A fresh venv gets `gitops-guard` on its PATH from the wheel alone.
    let venv = tmp.path().join("venv");
    let o = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--quiet", "--no-index"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(o.status.success(), "pip install: {}", text(&o));
    let o = Command::new(venv.join("bin/gitops-guard"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("gitops-guard {}", cargo_version())
    );

    // 3. The hook repository: this checkout's hook metadata, committed.
    let hook_repo = tmp.path().join("hook-repo");
    std::fs::create_dir(&hook_repo).unwrap();
    for f in ["pyproject.toml", ".pre-commit-hooks.yaml"] {
        std::fs::copy(root().join(f), hook_repo.join(f)).unwrap();
    }
    git(&hook_repo, &["init", "--quiet", "-b", "main"]);
    git(&hook_repo, &["add", "-A"]);
    git(&hook_repo, &["commit", "--quiet", "-m", "hooks"]);
    let rev = git(&hook_repo, &["rev-parse", "HEAD"]);

    // 4. A project that uses the python hook.
    let project = tmp.path().join("project");
    std::fs::create_dir(&project).unwrap();
    git(&project, &["init", "--quiet", "-b", "main"]);
    write_tree(
        &project,
        &[
            (
                ".pre-commit-config.yaml",
                &format!(
                    "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: gitops-guard-python\n",
                    hook_repo.display()
                ),
            ),
            ("README.md", "# fleet\n"),
        ],
    );
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "--quiet", "-m", "initial"]);

    // pip inside pre-commit's hook env: only the wheel built above and the
    // setuptools wheel the shim's build needs, never an index.
    let find_links = format!(
        "{} {}",
        wheels.display(),
        tools.join("wheelhouse").display()
    );
    let pre_commit = |project: &Path| {
        Command::new(tools.join("bin/pre-commit"))
            .args(["run", "gitops-guard-python", "--color", "never"])
            .current_dir(project)
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &find_links)
            .env("HOME", tmp.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("VIRTUAL_ENV")
            .output()
            .expect("run pre-commit")
    };

    // A staged token blocks.
    let token = github_token("wheel-hook");
    write_tree(
        &project,
        &[("apps/web/prod.env", &format!("GITHUB_TOKEN={token}\n"))],
    );
    git(&project, &["add", "apps/web/prod.env"]);
    let o = pre_commit(&project);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "the hook fails: {out}");
    assert!(out.contains("apps/web/prod.env"), "{out}");
    common::assert_redacted(&out, &[&token]);

    // A clean change passes.
    git(
        &project,
        &["rm", "--cached", "--quiet", "apps/web/prod.env"],
    );
    std::fs::remove_file(project.join("apps/web/prod.env")).unwrap();
    write_tree(&project, &[("apps/web/values.yaml", "replicas: 2\n")]);
    git(&project, &["add", "apps/web/values.yaml"]);
    let o = pre_commit(&project);
    assert_eq!(o.status.code(), Some(0), "the hook passes: {}", text(&o));
}
