//! Argo CD and Flux: `scan` of a repository URL, `sources` over a fleet
//! repository, and the ready manifests in deploy/ (they pass gitops-guard's
//! own checks; their scripts run for real against bare repositories built
//! here, reached through `file://` URLs).

mod common;

use common::{assert_redacted, bin, gg, git, github_token, json, write_tree};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A bare repository at `dir/name.git` whose one commit holds `files`.
fn bare_repo(dir: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let work = dir.join(format!("{name}-work"));
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "--quiet", "-b", "main"]);
    write_tree(&work, files);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "--quiet", "-m", "content"]);
    let bare = dir.join(format!("{name}.git"));
    git(
        dir,
        &[
            "clone",
            "--quiet",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    format!("file://{}", bare.display())
}

fn secret_env(seed: &str) -> (String, String) {
    let t = github_token(seed);
    (format!("GITHUB_TOKEN={t}\n"), t)
}

#[test]
fn deploy_manifests_pass_gitops_guards_own_checks() {
    let out = gg(&root(), &["scan", "deploy", "--format", "json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        0,
        "deploy/ must be clean: {}",
        out.stdout
    );
    // Whatever is suppressed says why.
    let all = gg(
        &root(),
        &["scan", "deploy", "--format", "json", "--show-suppressed"],
    );
    for f in json(&all)["findings"].as_array().unwrap() {
        let reason = f["suppressed"]["reason"].as_str().unwrap_or("");
        assert!(reason.len() > 20, "a suppression without a reason: {f}");
    }
}

#[test]
fn scan_accepts_a_repository_url_and_cleans_up() {
    let dir = TempDir::new().unwrap();
    let (env, token) = secret_env("deploy-url");
    let url = bare_repo(dir.path(), "app", &[("app.env", &env)]);
    let tmp = TempDir::new().unwrap();
    let out = Command::new(bin())
        .args(["scan", &url, "--format", "json"])
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["path"], "app.env");
    assert!(f["commit"].as_str().is_some_and(|c| c.len() == 40), "{f}");
    assert_redacted(&stdout, &[&token]);
    // The temporary clone is gone.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary clone left behind: {left:?}");
}

#[test]
fn a_failing_clone_never_shows_the_urls_password() {
    let password = format!("pw-{}", github_token("deploy-clone-pw"));
    let url = format!("https://deploy:{password}@127.0.0.1:9/org/repo.git");
    let out = gg(Path::new("."), &["scan", &url]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("git clone https://deploy:"),
        "{}",
        out.stderr
    );
    assert_redacted(&format!("{}{}", out.stdout, out.stderr), &[&password]);
}

/// A fleet repository declaring sources of every kind.
fn fleet(dir: &Path, app_url: &str, infra_url: &str, password: &str) -> PathBuf {
    let fleet = dir.join("fleet");
    write_tree(
        &fleet,
        &[
            (
                "clusters/prod/flux-system/sources.yaml",
                &format!(
                    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: {app_url}\n  ref:\n    branch: main\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: legacy\n  namespace: flux-system\nspec:\n  url: http://git.internal.example/legacy.git\n  ref:\n    tag: v1.2.0\n"
                ),
            ),
            (
                "argocd/apps.yaml",
                &format!(
                    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: infra\n  namespace: argocd\nspec:\n  project: default\n  sources:\n    - repoURL: {infra_url}\n      targetRevision: main\n      path: infra\n    - repoURL: https://charts.example.com\n      chart: ingress-nginx\n      targetRevision: 4.11.0\n  destination:\n    server: https://kubernetes.default.svc\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: with-creds\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://deploy:{password}@git.example.com/org/private.git\n    targetRevision: HEAD\n"
                ),
            ),
            (
                "argocd/appset.yaml",
                &format!(
                    "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: clusters\n  namespace: argocd\nspec:\n  generators:\n    - matrix:\n        generators:\n          - git:\n              repoURL: {app_url}\n              revision: main\n              directories:\n                - path: apps/*\n          - clusters: {{}}\n  template:\n    metadata:\n      name: '{{{{path.basename}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: 'https://github.com/example-org/{{{{path.basename}}}}.git'\n        targetRevision: main\n      destination:\n        server: '{{{{server}}}}'\n"
                ),
            ),
            ("README.md", "# fleet\n"),
        ],
    );
    fleet
}

#[test]
fn sources_lists_flags_and_scans_the_declared_repositories() {
    let dir = TempDir::new().unwrap();
    let (env, token) = secret_env("deploy-sources");
    let app_url = "https://github.com/example-org/apps.git";
    let app_bare = bare_repo(dir.path(), "apps", &[("apps/web/app.env", &env)]);
    let infra_bare = bare_repo(
        dir.path(),
        "infra",
        &[(
            "infra/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n",
        )],
    );
    let password = format!("pw{}", &github_token("deploy-url-pw")[4..24]);
    let fleet = fleet(dir.path(), app_url, &infra_bare, &password);

    // Listing.
    let out = gg(&fleet, &["sources", "--format", "json"]);
    assert_eq!(
        out.code, 1,
        "flagged sources make it exit 1:\n{}{}",
        out.stdout, out.stderr
    );
    assert_redacted(&out.stdout, &[&password]);
    let v = json(&out);
    let sources = v["sources"].as_array().unwrap();
    let find = |object: &str| -> Vec<&serde_json::Value> {
        sources.iter().filter(|s| s["object"] == object).collect()
    };
    let flux = find("GitRepository/flux-system/apps");
    assert_eq!(flux.len(), 1);
    assert_eq!(flux[0]["url"], app_url);
    assert_eq!(flux[0]["revision"], "branch main");
    assert_eq!(flux[0]["kind"], "flux-git-repository");
    assert_eq!(flux[0]["line"], 8);
    assert!(flux[0]["issues"].as_array().unwrap().is_empty());
    let legacy = find("GitRepository/flux-system/legacy");
    assert_eq!(legacy[0]["issues"], serde_json::json!(["plain-http"]));
    let infra = find("Application/argocd/infra");
    assert_eq!(infra.len(), 2, "{infra:?}");
    assert!(
        infra
            .iter()
            .any(|s| s["helm"] == true && s["url"] == "https://charts.example.com")
    );
    let creds = find("Application/argocd/with-creds");
    assert_eq!(
        creds[0]["issues"],
        serde_json::json!(["embedded-credentials"])
    );
    assert!(
        creds[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://deploy:")
    );
    let appset = find("ApplicationSet/argocd/clusters");
    assert!(
        appset
            .iter()
            .any(|s| s["kind"] == "argo-application-set-generator" && s["url"] == app_url)
    );
    assert!(appset.iter().any(|s| s["templated"] == true));

    let text = gg(&fleet, &["sources"]);
    assert!(
        text.stdout.contains("fetched over plain HTTP"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("credentials in the URL"),
        "{}",
        text.stdout
    );
    assert_redacted(&text.stdout, &[&password]);

    // Scanning them, through a local mirror of the https URL. The URL with
    // credentials cannot be cloned here: it is a scan error, never its password.
    let app_mirror_base = app_bare.trim_end_matches("apps.git").to_string();
    let out = gg(
        &fleet,
        &[
            "sources",
            "--scan-sources",
            "--format",
            "json",
            "--url-map",
            &format!("https://github.com/example-org/={app_mirror_base}"),
        ],
    );
    assert_redacted(&out.stdout, &[&token, &password]);
    let v = json(&out);
    let scans = v["scans"].as_array().unwrap();
    let by_url = |u: &str| {
        scans
            .iter()
            .find(|s| s["url"] == u)
            .unwrap_or_else(|| panic!("no scan of {u}: {scans:?}"))
    };
    let apps = by_url(app_url);
    assert_eq!(
        apps["report"]["findings"][0]["path"], "apps/web/app.env",
        "{apps}"
    );
    let infra = by_url(&infra_bare);
    assert_eq!(
        infra["report"]["findings"].as_array().unwrap().len(),
        0,
        "{infra}"
    );
    // Helm and templated sources are not cloned.
    assert!(
        !scans
            .iter()
            .any(|s| s["url"] == "https://charts.example.com")
    );
    assert!(
        !scans
            .iter()
            .any(|s| s["url"].as_str().unwrap().contains("{{"))
    );
    assert_eq!(
        out.code, 3,
        "a source that cannot be cloned makes the run incomplete"
    );
}

#[test]
fn the_scan_jobs_script_shards_the_list_by_completion_index() {
    let dir = TempDir::new().unwrap();
    let (env, token) = secret_env("deploy-shard");
    let clean = |n: &str| bare_repo(dir.path(), n, &[("README.md", "# clean\n")]);
    let r0 = clean("r0");
    let r1 = bare_repo(dir.path(), "r1", &[("deploy/app.env", &env)]);
    let r2 = clean("r2");
    let r3 = clean("r3");
    let list = dir.path().join("repos.txt");
    std::fs::write(
        &list,
        format!("# fleet\n{r0}\n\n{r1}   # has a secret\n{r2}\n{r3}\n"),
    )
    .unwrap();
    let script = root().join("deploy/scan-jobs/scan-repos.sh");
    let run = |index: Option<&str>, shards: &str| {
        let results = dir
            .path()
            .join(format!("results-{}", index.unwrap_or("all")));
        let mut c = Command::new("sh");
        c.arg(&script)
            .env("REPOS_FILE", &list)
            .env("RESULTS_DIR", &results)
            .env("GITOPS_GUARD", bin())
            .env("SHARD_COUNT", shards)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1");
        match index {
            Some(i) => c.env("JOB_COMPLETION_INDEX", i),
            None => c.env_remove("JOB_COMPLETION_INDEX"),
        };
        let o = c.output().unwrap();
        let mut files: Vec<String> = std::fs::read_dir(&results)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut log = String::from_utf8_lossy(&o.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&o.stderr));
        (o.status.code(), files, log)
    };
    // Shard 0 of 2: positions 0 and 2, both clean.
    let (code, files, log) = run(Some("0"), "2");
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(files, vec!["0-r0.json", "2-r2.json"], "{log}");
    // Shard 1 of 2: positions 1 (the secret) and 3: the pod fails.
    let (code, files, log) = run(Some("1"), "2");
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(files, vec!["1-r1.json", "3-r3.json"], "{log}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results-1/1-r1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["findings"][0]["path"], "deploy/app.env");
    assert_redacted(&log, &[&token]);
    // No index (the CronJob): everything.
    let (code, files, log) = run(None, "1");
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(files.len(), 4, "{log}");
    // A misconfigured shard count is an error, not a silent gap.
    let (code, _, log) = run(Some("5"), "2");
    assert_eq!(code, Some(2), "{log}");
}

#[test]
fn the_scan_jobs_keep_one_cache_per_repository_when_cache_dir_is_set() {
    let dir = TempDir::new().unwrap();
    let (env, token) = secret_env("deploy-cache");
    let clean = bare_repo(dir.path(), "clean", &[("README.md", "# clean\n")]);
    let leaky = bare_repo(dir.path(), "leaky", &[("deploy/app.env", &env)]);
    let list = dir.path().join("repos.txt");
    std::fs::write(&list, format!("{clean}\n{leaky}\n")).unwrap();
    let cache = dir.path().join("cache");
    let run = |cache_dir: Option<&Path>| {
        let mut c = Command::new("sh");
        c.arg(root().join("deploy/scan-jobs/scan-repos.sh"))
            .env("REPOS_FILE", &list)
            .env("RESULTS_DIR", dir.path().join("results"))
            .env("GITOPS_GUARD", bin())
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .env_remove("JOB_COMPLETION_INDEX");
        match cache_dir {
            Some(d) => c.env("CACHE_DIR", d),
            None => c.env_remove("CACHE_DIR"),
        };
        let o = c.output().unwrap();
        let mut log = String::from_utf8_lossy(&o.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&o.stderr));
        (o.status.code(), log)
    };
    let (code, log) = run(None);
    assert_eq!(code, Some(1), "{log}");
    assert!(!cache.exists(), "no CACHE_DIR, no cache");
    for round in 0..2 {
        let (code, log) = run(Some(&cache));
        assert_eq!(
            code,
            Some(1),
            "round {round}: the secret still fails the run\n{log}"
        );
        assert_redacted(&log, &[&token]);
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("results/1-leaky.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["findings"][0]["path"], "deploy/app.env");
        let hits = report["stats"]["cache"]["hits"].as_u64().unwrap();
        assert_eq!(hits > 0, round == 1, "round {round}: {hits} hits");
    }
    for name in ["clean", "leaky"] {
        let f = cache.join(name).join(gitops_guard::cache::FILE_NAME);
        assert!(f.is_file(), "{}", f.display());
    }
}

#[test]
fn the_scan_jobs_log_hides_url_credentials() {
    let dir = TempDir::new().unwrap();
    let list = dir.path().join("repos.txt");
    let password = format!("pw{}", &github_token("deploy-log-pw")[4..24]);
    std::fs::write(
        &list,
        format!("https://bot:{password}@127.0.0.1:9/org/r.git\n"),
    )
    .unwrap();
    let o = Command::new("sh")
        .arg(root().join("deploy/scan-jobs/scan-repos.sh"))
        .env("REPOS_FILE", &list)
        .env("RESULTS_DIR", dir.path().join("results"))
        .env("GITOPS_GUARD", bin())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(3), "{log}");
    assert!(log.contains("//***@127.0.0.1"), "{log}");
    assert_redacted(&log, &[&password]);
}

/// The `generate` script of deploy/argocd-cmp/plugin.yaml.
fn cmp_generate_script() -> String {
    let text = std::fs::read_to_string(root().join("deploy/argocd-cmp/plugin.yaml")).unwrap();
    let input = gitops_guard::detect::Input::new("plugin.yaml", text.as_bytes());
    let docs = input.documents().expect("plugin.yaml is YAML");
    let objs = gitops_guard::manifest::objects(docs);
    let plugin = objs
        .iter()
        .find(|o| o.kind == Some("ConfigManagementPlugin"))
        .expect("a ConfigManagementPlugin");
    let generate = plugin
        .node
        .get("spec")
        .and_then(|s| s.get("generate"))
        .unwrap();
    let cmd: Vec<&str> = generate
        .get("command")
        .and_then(|c| c.as_seq())
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(cmd, vec!["sh", "-c"]);
    generate.get("args").and_then(|a| a.as_seq()).unwrap()[0]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_argo_cd_plugin_fails_generation_on_findings_and_renders_otherwise() {
    let script = cmp_generate_script();
    let dir = TempDir::new().unwrap();
    // A stand-in for kustomize (not installed here): prints one manifest.
    let tools = dir.path().join("bin");
    write_tree(
        &tools,
        &[(
            "kustomize",
            "#!/bin/sh\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: rendered\\n'\n",
        )],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tools.join("kustomize"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let path = format!(
        "{}:{}:{}",
        tools.display(),
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let app = dir.path().join("app");
    let generate = |app: &Path, env: &[(&str, &str)]| {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&script).current_dir(app).env("PATH", &path);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let password = format!("{}Q9", &github_token("cmp-pw")[4..20]);
    write_tree(
        &app,
        &[
            ("kustomization.yaml", "resources:\n  - secret.yaml\n"),
            (
                "secret.yaml",
                &format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: \"{password}\"\n"
                ),
            ),
        ],
    );
    let (code, stdout, stderr) = generate(&app, &[]);
    assert_ne!(code, Some(0), "findings must fail generation:\n{stderr}");
    assert!(
        stdout.is_empty(),
        "no manifests may reach Argo CD: {stdout}"
    );
    assert!(stderr.contains("secret.yaml:6:"), "{stderr}");
    assert_redacted(&format!("{stdout}{stderr}"), &[&password]);
    // Clean: the rendered manifests, and only they, on stdout.
    write_tree(
        &app,
        &[(
            "secret.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  mode: prod\n",
        )],
    );
    let (code, stdout, stderr) = generate(&app, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\n"
    );
    // Per-application settings come in as ARGOCD_ENV_*.
    write_tree(
        &app,
        &[(
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n",
        )],
    );
    let (code, _, stderr) = generate(&app, &[("ARGOCD_ENV_GITOPS_GUARD_FAIL_ON", "low")]);
    assert_ne!(
        code,
        Some(0),
        "fail-on low catches the pod's low findings:\n{stderr}"
    );
    let (code, _, stderr) = generate(&app, &[]);
    assert_eq!(
        code,
        Some(0),
        "the default (high) lets them through:\n{stderr}"
    );
}

#[test]
fn every_manifest_in_deploy_is_valid_yaml() {
    // A syntax error would make the "scans clean" test pass for nothing.
    let mut n = 0;
    for dir in ["deploy/argocd-cmp", "deploy/scan-jobs"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let docs =
                    gitops_guard::manifest::yaml::parse_documents(&text, &Default::default())
                        .unwrap_or_else(|err| panic!("{}: {err}", p.display()));
                assert!(!docs.is_empty(), "{}", p.display());
                n += 1;
            }
        }
    }
    assert!(n >= 8, "only {n} manifests found");
    for f in [".pre-commit-hooks.yaml", "action.yml"] {
        let text = std::fs::read_to_string(root().join(f)).unwrap();
        gitops_guard::manifest::yaml::parse_documents(&text, &Default::default())
            .unwrap_or_else(|err| panic!("{f}: {err}"));
    }
}

/// The scheduled scans take their config and baseline from the ConfigMap
/// (`CONFIG_FILE`, `BASELINE_FILE`, shipped in kustomization.yaml): a
/// repository whose findings the baseline holds passes, a new finding fails.
#[test]
fn the_scan_jobs_fail_only_on_findings_the_baseline_does_not_hold() {
    let dir = TempDir::new().unwrap();
    let (env, token) = secret_env("deploy-baseline");
    let known = bare_repo(dir.path(), "known", &[("deploy/app.env", &env)]);
    let (env2, token2) = secret_env("deploy-baseline-new");
    let fresh = bare_repo(dir.path(), "fresh", &[("deploy/other.env", &env2)]);
    let list = dir.path().join("repos.txt");
    std::fs::write(&list, format!("{known}\n")).unwrap();
    let config = dir.path().join("gitops-guard.toml");
    std::fs::write(&config, "[rules]\ndisable = []\n").unwrap();
    let baseline = dir.path().join("baseline.json");
    let script = root().join("deploy/scan-jobs/scan-repos.sh");
    let run = |baseline_file: &Path| {
        let o = Command::new("sh")
            .arg(&script)
            .env("REPOS_FILE", &list)
            .env("RESULTS_DIR", dir.path().join("results"))
            .env("GITOPS_GUARD", bin())
            .env("CONFIG_FILE", &config)
            .env("BASELINE_FILE", baseline_file)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code(), log)
    };
    // No baseline file: the finding fails the Job.
    let (code, log) = run(&baseline);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("config: "), "{log}");
    assert!(!log.contains("baseline: "), "{log}");
    // The triaged report as the baseline: the same finding passes.
    std::fs::copy(dir.path().join("results/0-known.json"), &baseline).unwrap();
    let (code, log) = run(&baseline);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("baseline: "), "{log}");
    // A repository with a finding the baseline does not hold still fails.
    std::fs::write(&list, format!("{known}\n{fresh}\n")).unwrap();
    let (code, log) = run(&baseline);
    assert_eq!(code, Some(1), "{log}");
    assert_redacted(&log, &[&token, &token2]);
    // The shipped ConfigMap carries both files, and the Jobs point at them.
    let kustomization =
        std::fs::read_to_string(root().join("deploy/scan-jobs/kustomization.yaml")).unwrap();
    for f in ["gitops-guard.toml", "baseline.json"] {
        assert!(kustomization.contains(&format!("- {f}")), "{f}");
        assert!(root().join("deploy/scan-jobs").join(f).is_file(), "{f}");
    }
    for job in ["cronjob.yaml", "indexed-job.yaml"] {
        let text = std::fs::read_to_string(root().join("deploy/scan-jobs").join(job)).unwrap();
        assert!(text.contains("value: /config/baseline.json"), "{job}");
        assert!(text.contains("value: /config/gitops-guard.toml"), "{job}");
    }
}

/// Issue 15 item 7: the plugin renders the application's path with real
/// Kustomize (a stand-in `kustomize` over `kubectl kustomize`), judges
/// what it renders, finds the problems in the bases the overlay pulls in
/// from outside its path, and applies the repository root's config.
#[test]
fn the_argo_cd_plugin_renders_the_app_path_with_the_repository_config() {
    let kubectl = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file());
    let Some(kubectl) = kubectl else {
        eprintln!("SKIPPED: no kubectl on PATH; the plugin's rendering is not tested");
        return;
    };
    let script = cmp_generate_script();
    let dir = TempDir::new().unwrap();
    let tools = dir.path().join("bin");
    write_tree(
        &tools,
        &[(
            "kustomize",
            &format!(
                "#!/bin/sh\n[ \"$1\" = build ] && shift\nexec {} kustomize \"$@\"\n",
                kubectl.display()
            ),
        )],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tools.join("kustomize"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        tools.display(),
        bin().parent().unwrap().display(),
    );
    // Argo CD's copy of the repository: no `.git`.
    let repo = dir.path().join("repo");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers:\n        - name: app\n          image: nginx:1.25\n";
    write_tree(
        &repo,
        &[
            (
                "base/kustomization.yaml",
                "resources:\n  - deploy.yaml\n  - secret.yaml\n",
            ),
            ("base/deploy.yaml", deploy),
            (
                "base/secret.yaml",
                &format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: \"{}\"\n",
                    github_token("cmp-render")
                ),
            ),
            (
                "apps/web/prod/kustomization.yaml",
                "namespace: prod\nresources:\n  - ../../../base\n",
            ),
        ],
    );
    let app = repo.join("apps/web/prod");
    let generate = |env: &[(&str, &str)]| {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(&script)
            .current_dir(&app)
            .env("PATH", &path)
            .env("ARGOCD_APP_SOURCE_PATH", "apps/web/prod")
            .env_remove("GITOPS_GUARD_CONFIG");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = generate(&[]);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    // The base's violation, rendered by the app path, at the base's line.
    assert!(
        stderr.contains("../../../base/deploy.yaml:8:") && stderr.contains("no-host-namespaces"),
        "{stderr}"
    );
    assert!(stderr.contains("rendered by: ."), "{stderr}");
    // The base's plaintext Secret: scanned although outside the app path.
    assert!(stderr.contains("../../../base/secret.yaml:6:"), "{stderr}");
    assert!(
        stderr.contains("rendered 1 of 1 root(s) (kustomizations, charts)"),
        "{stderr}"
    );
    // The repository root's config applies; Argo CD's build options pass.
    std::fs::remove_file(repo.join("base/secret.yaml")).unwrap();
    write_tree(
        &repo,
        &[
            ("base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
            (
                ".gitops-guard.toml",
                "[rules]\ndisable = [\"no-host-namespaces\"]\n",
            ),
        ],
    );
    let (code, stdout, stderr) = generate(&[(
        "ARGOCD_ENV_KUSTOMIZE_BUILD_OPTIONS",
        "--load-restrictor LoadRestrictionsNone",
    )]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("namespace: prod"), "{stdout}");
    assert!(!stderr.contains("no-host-namespaces"), "{stderr}");
    assert!(!stderr.contains("left out"), "{stderr}");
}
