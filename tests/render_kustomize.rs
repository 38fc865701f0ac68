//! Kustomize, rendered (issue 15 items 1–3): the real binary on real
//! Kustomize trees made in the test (a base, two overlays, a component, a
//! generator), built by the `kustomize` or `kubectl` on PATH. Findings on
//! rendered objects point at the line that wrote the value and name the
//! roots; without a tool, or for a broken overlay, a note and the
//! file-by-file checks. Tests that need a tool say so and skip without one.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn have_kustomize() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .any(|d| d.join("kustomize").is_file() || d.join("kubectl").is_file())
}

macro_rules! need_kustomize {
    () => {
        if !have_kustomize() {
            eprintln!("SKIPPED: neither kustomize nor kubectl on PATH; rendering not tested");
            return;
        }
    };
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn scan_env(dir: &Path, args: &[&str], path_env: Option<&Path>) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitops-guard"));
    cmd.current_dir(dir)
        .args(["scan", ".", "-f", "json", "--color", "never"])
        .args(args)
        .env_remove("GITOPS_GUARD_CONFIG");
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scan(dir: &Path, args: &[&str]) -> Value {
    scan_env(dir, args, None)
}

fn findings<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn policy(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "policy")
        .map(|f| {
            format!(
                "{}:{}:{}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["rule"].as_str().unwrap()
            )
        })
        .collect()
}

fn roots(f: &Value) -> Vec<String> {
    f["roots"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn notes(v: &Value) -> Vec<String> {
    v["stats"]["render"]["notes"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// A base Deployment hardened in every respect but `runAsNonRoot` and
/// `readOnlyRootFilesystem` (what the overlays add), with a deny-all
/// NetworkPolicy in a sibling directory of the same build.
fn base() -> Vec<(&'static str, String)> {
    vec![
        (
            "base/kustomization.yaml",
            "resources:\n  - deploy.yaml\n  - np\n".to_string(),
        ),
        (
            "base/deploy.yaml",
            format!(
                "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web, owner: team, env: all}}
spec:
  template:
    metadata:
      labels: {{app: web, owner: team, env: all}}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: app
          image: nginx:1.25@{DIGEST}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
          resources:
            requests: {{cpu: 10m, memory: 10Mi}}
            limits: {{cpu: 10m, memory: 10Mi}}
"
            ),
        ),
        (
            "base/np/kustomization.yaml",
            "resources:\n  - deny.yaml\n".to_string(),
        ),
        (
            "base/np/deny.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n".to_string(),
        ),
        (
            "base/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\nautomountServiceAccountToken: false\n".to_string(),
        ),
    ]
}

const HARDEN: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
";

fn overlay(name: &str, extra: &str) -> (String, String) {
    (
        format!("overlays/{name}/kustomization.yaml"),
        format!(
            "namespace: {name}\nresources:\n  - ../../base\npatches:\n  - path: harden.yaml\n{extra}"
        ),
    )
}

fn tree(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, String)> = base()
        .into_iter()
        .map(|(p, t)| (p.to_string(), t))
        .collect();
    for o in ["a", "b"] {
        files.push(overlay(o, ""));
        files.push((format!("overlays/{o}/harden.yaml"), HARDEN.to_string()));
    }
    // `base/sa.yaml` is part of the base.
    files[0].1 = "resources:\n  - deploy.yaml\n  - sa.yaml\n  - np\n".to_string();
    for (p, t) in extra {
        files.retain(|(q, _)| q != p);
        files.push((p.to_string(), t.to_string()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write(dir.path(), &refs);
    dir
}

#[test]
fn a_base_hardened_by_every_overlay_is_silent_and_judged_file_by_file_it_is_not() {
    need_kustomize!();
    let dir = tree(&[]);
    let v = scan(dir.path(), &[]);
    assert_eq!(policy(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["stats"]["render"]["rendered"], 2, "{:#}", v["stats"]);
    assert_eq!(v["stats"]["render"]["roots"], 2);
    // Counter-example: file by file the base is not hardened.
    let plain = scan(dir.path(), &["--no-render"]);
    let p = policy(&plain);
    assert!(
        p.iter()
            .any(|f| f.starts_with("base/deploy.yaml:") && f.ends_with(":run-as-non-root")),
        "{p:?}"
    );
    assert!(plain["stats"]["render"].is_null());
}

const WEAK: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            privileged: true
";

#[test]
fn a_weakening_patch_is_reported_at_its_line_naming_the_root() {
    need_kustomize!();
    let dir = tree(&[("overlays/b/harden.yaml", WEAK)]);
    let v = scan(dir.path(), &[]);
    let priv_ = findings(&v, "no-privileged");
    assert_eq!(priv_.len(), 1, "{v:#}");
    assert_eq!(priv_[0]["path"], "overlays/b/harden.yaml");
    assert_eq!(priv_[0]["line"], 13);
    assert_eq!(roots(priv_[0]), ["overlays/b"]);
    assert!(
        priv_[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("privileged: true")
    );
    // Nothing else: overlay a is as hardened as before.
    assert_eq!(
        policy(&v),
        ["overlays/b/harden.yaml:13:no-privileged"],
        "{v:#}"
    );
    // The report, `roots` and `stats.render` included, is what the shipped schema says.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/findings.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut bad = v.clone();
    bad["findings"][0]["roots"] = serde_json::json!("overlays/b");
    assert!(!validator.is_valid(&bad), "roots must be a list");
}

#[test]
fn one_base_violation_rendered_by_two_overlays_is_one_finding_with_both_roots() {
    need_kustomize!();
    let d = base()[1].1.replace(
        "      automountServiceAccountToken: false\n",
        "      automountServiceAccountToken: false\n      hostPID: true\n",
    );
    let dir = tree(&[("base/deploy.yaml", &d)]);
    let v = scan(dir.path(), &[]);
    let host = findings(&v, "no-host-namespaces");
    assert_eq!(host.len(), 1, "{v:#}");
    assert_eq!(host[0]["path"], "base/deploy.yaml");
    assert_eq!(host[0]["line"], 13);
    assert_eq!(roots(host[0]), ["overlays/a", "overlays/b"]);
    // The text report says which roots rendered it.
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rendered by: overlays/a, overlays/b"),
        "{text}"
    );
}

#[test]
fn the_namespace_transformer_puts_a_workload_under_a_policy_of_that_namespace() {
    need_kustomize!();
    let dir = tempfile::tempdir().unwrap();
    let deploy = base()[1].1.clone();
    write(
        dir.path(),
        &[
            (
                "app/kustomization.yaml",
                "resources:\n  - deploy.yaml\n  - sa.yaml\n",
            ),
            ("app/deploy.yaml", &deploy),
            (
                "app/sa.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\nautomountServiceAccountToken: false\n",
            ),
            (
                "overlays/team/kustomization.yaml",
                "namespace: team\nresources:\n  - ../../app\npatches:\n  - path: harden.yaml\n",
            ),
            ("overlays/team/harden.yaml", HARDEN),
            (
                "cluster/np-team.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: team\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
            ),
        ],
    );
    let v = scan(dir.path(), &[]);
    assert!(findings(&v, "network-policy-coverage").is_empty(), "{v:#}");
    // File by file the Deployment has no namespace and is not covered.
    let plain = scan(dir.path(), &["--no-render"]);
    assert!(
        !findings(&plain, "network-policy-coverage").is_empty(),
        "{plain:#}"
    );
    // Another namespace: not covered, reported at the base, for the root.
    std::fs::write(
        dir.path().join("overlays/team/kustomization.yaml"),
        "namespace: other\nresources:\n  - ../../app\npatches:\n  - path: harden.yaml\n",
    )
    .unwrap();
    let v = scan(dir.path(), &[]);
    let np = findings(&v, "network-policy-coverage");
    assert_eq!(np.len(), 1, "{v:#}");
    assert_eq!(np[0]["path"], "app/deploy.yaml");
    assert_eq!(roots(np[0]), ["overlays/team"]);
    assert!(np[0]["message"].as_str().unwrap().contains("\"other\""));
}

#[test]
fn an_images_rewrite_to_latest_is_reported_at_the_images_entry() {
    need_kustomize!();
    let k = "namespace: b\nresources:\n  - ../../base\npatches:\n  - path: harden.yaml\nimages:\n  - name: nginx\n    newTag: latest\n";
    let dir = tree(&[("overlays/b/kustomization.yaml", k)]);
    let v = scan(dir.path(), &[]);
    let tag = findings(&v, "image-tag-pinned");
    assert_eq!(tag.len(), 1, "{v:#}");
    assert_eq!(tag[0]["path"], "overlays/b/kustomization.yaml");
    assert_eq!(tag[0]["line"], 8);
    assert_eq!(roots(tag[0]), ["overlays/b"]);
    // The base's pinned image, as written, passes file by file.
    let plain = scan(dir.path(), &["--no-render"]);
    assert!(findings(&plain, "image-tag-pinned").is_empty(), "{plain:#}");
}

#[test]
fn a_component_patch_and_a_generator_are_judged_once_at_their_source() {
    need_kustomize!();
    let comp = "apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /spec/template/spec/hostNetwork
        value: true
";
    // Built at test time: no committed credential-shaped literal.
    let value = ["Zq8", "not", "a", "real", "one", "x7Vw"].join("-");
    let k = format!(
        "namespace: b\nresources:\n  - ../../base\ncomponents:\n  - ../../components/hostnet\npatches:\n  - path: harden.yaml\nsecretGenerator:\n  - name: db\n    literals:\n      - password={value}\n"
    );
    let dir = tree(&[
        ("components/hostnet/kustomization.yaml", comp),
        ("overlays/b/kustomization.yaml", &k),
    ]);
    let v = scan(dir.path(), &[]);
    let host = findings(&v, "no-host-namespaces");
    assert_eq!(host.len(), 1, "{v:#}");
    assert_eq!(host[0]["path"], "components/hostnet/kustomization.yaml");
    assert_eq!(host[0]["line"], 9, "{:#}", host[0]);
    assert_eq!(roots(host[0]), ["overlays/b"]);
    // The generated Secret: once, at the generator, not as a rendered Secret.
    let lit = findings(&v, "kustomize-secret-literal");
    assert_eq!(lit.len(), 1, "{v:#}");
    assert_eq!(lit[0]["path"], "overlays/b/kustomization.yaml");
    assert!(
        findings(&v, "plaintext-secret-manifest").is_empty(),
        "{v:#}"
    );
    // The component is not a root of its own.
    assert_eq!(v["stats"]["render"]["roots"], 2);
    // Nor is a component no kustomization uses (Kustomize refuses to build one alone).
    write(
        dir.path(),
        &[(
            "components/unused/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs: {tier: x}\n",
        )],
    );
    let v = scan(dir.path(), &[]);
    assert_eq!(v["stats"]["render"]["roots"], 2, "{:#}", v["stats"]);
    assert_eq!(v["stats"]["render"]["failed"], 0, "{:#}", v["stats"]);
}

#[test]
fn a_broken_overlay_is_a_note_and_its_files_are_judged_one_by_one() {
    need_kustomize!();
    let k = "resources:\n  - ../../base\n  - ../../missing\npatches:\n  - path: harden.yaml\n";
    let dir = tree(&[("overlays/b/kustomization.yaml", k)]);
    let v = scan(dir.path(), &[]);
    let n = notes(&v);
    assert_eq!(v["stats"]["render"]["failed"], 1, "{v:#}");
    assert!(
        n.iter()
            .any(|n| n.starts_with("overlays/b: not rendered") && n.contains("missing")),
        "{n:?}"
    );
    // No absolute path of the machine in the note.
    let abs = dir.path().canonicalize().unwrap();
    assert!(
        !n.iter().any(|n| n.contains(abs.to_str().unwrap())),
        "{n:?}"
    );
    // overlays/b's patch is judged as written (no root); the base is still
    // rendered by overlays/a, hardened there.
    let rn = findings(&v, "run-as-non-root");
    assert!(rn.is_empty(), "{v:#}");
    let seccomp_like: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "overlays/b/harden.yaml")
        .collect();
    assert!(!seccomp_like.is_empty(), "{v:#}");
    assert!(seccomp_like.iter().all(|f| roots(f).is_empty()));
    // The text summary shows the note.
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("note: overlays/b: not rendered"), "{text}");
    assert!(
        text.contains("rendered 1 of 2 root(s) (kustomizations, charts)"),
        "{text}"
    );
}

#[test]
fn without_kustomize_on_path_a_note_and_the_file_by_file_checks() {
    // Needs no tool: PATH points at an empty directory.
    let empty = tempfile::tempdir().unwrap();
    let dir = tree(&[]);
    let v = scan_env(dir.path(), &[], Some(empty.path()));
    let n = notes(&v);
    assert!(
        n.iter()
            .any(|n| n.starts_with("2 kustomization(s) not rendered: no kustomize on PATH")),
        "{n:?}"
    );
    assert_eq!(v["stats"]["render"]["not_rendered"], 2);
    let p = policy(&v);
    assert!(
        p.iter()
            .any(|f| f.starts_with("base/deploy.yaml:") && f.ends_with(":run-as-non-root")),
        "{p:?}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| roots(f).is_empty())
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("note: 2 kustomization(s) not rendered: no kustomize on PATH"),
        "{text}"
    );
}

#[test]
fn flux_builds_without_load_restrictions_and_plain_roots_keep_them() {
    need_kustomize!();
    let dir = tempfile::tempdir().unwrap();
    let deploy = base()[1].1.replace(
        "        - name: app\n",
        "        - name: app\n          securityContext: {privileged: true}\n",
    );
    let deploy = deploy.replace(
        "          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities: {drop: [ALL]}\n",
        "",
    );
    write(
        dir.path(),
        &[
            ("shared/deploy.yaml", &deploy),
            // A file outside the root: only LoadRestrictionsNone loads it.
            (
                "clusters/prod/kustomization.yaml",
                "resources:\n  - ../../shared/deploy.yaml\n",
            ),
        ],
    );
    let v = scan(dir.path(), &[]);
    assert_eq!(v["stats"]["render"]["failed"], 1, "{v:#}");
    write(
        dir.path(),
        &[(
            "flux/ks.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: prod\nspec:\n  path: ./clusters/prod\n  sourceRef: {kind: GitRepository, name: repo}\n",
        )],
    );
    let v = scan(dir.path(), &[]);
    assert_eq!(v["stats"]["render"]["rendered"], 1, "{v:#}");
    let p = findings(&v, "no-privileged");
    assert_eq!(p.len(), 1, "{v:#}");
    assert_eq!(p[0]["path"], "shared/deploy.yaml");
    assert_eq!(roots(p[0]), ["clusters/prod"]);
}

#[test]
fn a_history_scan_renders_heads_tree() {
    need_kustomize!();
    let dir = tree(&[("overlays/b/harden.yaml", WEAK)]);
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "weak overlay"]);
    // The work tree's fix is not committed: history judges HEAD.
    std::fs::write(dir.path().join("overlays/b/harden.yaml"), HARDEN).unwrap();
    let v = scan(dir.path(), &["--history"]);
    let p = findings(&v, "no-privileged");
    assert_eq!(p.len(), 1, "{v:#}");
    assert_eq!(p[0]["path"], "overlays/b/harden.yaml");
    assert_eq!(p[0]["line"], 13);
    assert_eq!(roots(p[0]), ["overlays/b"]);
    assert!(
        p[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("privileged: true"),
        "{:#}",
        p[0]
    );
    assert_eq!(v["stats"]["render"]["rendered"], 2, "{:#}", v["stats"]);
    // The base is hardened by both overlays at HEAD too.
    assert!(findings(&v, "run-as-non-root").is_empty(), "{v:#}");
    // And the working tree, fixed, is clean.
    let w = scan(dir.path(), &[]);
    assert_eq!(policy(&w), Vec::<String>::new(), "{w:#}");
}

#[test]
fn argo_cd_applications_build_with_argocd_cm_options_and_their_kustomize_fields() {
    need_kustomize!();
    let dir = tempfile::tempdir().unwrap();
    let deploy = base()[1].1.replace(
        "            allowPrivilegeEscalation: false\n",
        "            allowPrivilegeEscalation: false\n            runAsNonRoot: true\n            readOnlyRootFilesystem: true\n",
    );
    write(
        dir.path(),
        &[
            ("shared/deploy.yaml", &deploy),
            (
                "shared/sa.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\nautomountServiceAccountToken: false\n",
            ),
            (
                "apps/web/kustomization.yaml",
                "resources:\n  - ../../shared/deploy.yaml\n  - ../../shared/sa.yaml\n",
            ),
            (
                "cluster/np.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: team\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
            ),
            (
                "argocd/app.yaml",
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  source:\n    repoURL: https://example.invalid/fleet.git\n    path: apps/web\n    kustomize:\n      namespace: team\n      images:\n        - nginx:1.25\n  destination:\n    namespace: team\n",
            ),
        ],
    );
    // Without argocd-cm the file outside the root is refused (Kustomize's default).
    let v = scan(dir.path(), &[]);
    assert_eq!(v["stats"]["render"]["failed"], 1, "{v:#}");
    write(
        dir.path(),
        &[(
            "argocd/argocd-cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  kustomize.buildOptions: --load-restrictor LoadRestrictionsNone --enable-alpha-plugins\n",
        )],
    );
    let v = scan(dir.path(), &[]);
    assert_eq!(v["stats"]["render"]["rendered"], 1, "{v:#}");
    let n = notes(&v);
    assert!(
        n.iter()
            .any(|n| n.contains("--enable-alpha-plugins") && n.contains("left out")),
        "{n:?}"
    );
    // The Application's namespace puts the Deployment under team's policy;
    // its image override drops the digest: reported, for the root.
    assert!(findings(&v, "network-policy-coverage").is_empty(), "{v:#}");
    let d = findings(&v, "image-digest-pinned");
    assert_eq!(d.len(), 1, "{v:#}");
    assert_eq!(roots(d[0]), ["apps/web"]);
}

/// A stand-in `kustomize` first on PATH (no real tool needed).
fn stand_in(script: &str) -> tempfile::TempDir {
    let tools = tempfile::tempdir().unwrap();
    let p = tools.path().join("kustomize");
    std::fs::write(&p, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    tools
}

#[test]
fn a_hanging_kustomize_is_killed_at_the_timeout_and_named_in_a_note() {
    let tools = stand_in("#!/bin/sh\nexec sleep 30\n");
    let dir = tree(&[(".gitops-guard.toml", "[render]\ntimeout-seconds = 1\n")]);
    let path = format!("{}:/usr/bin:/bin", tools.path().display());
    let started = std::time::Instant::now();
    let v = scan_env(dir.path(), &[], Some(Path::new(&path)));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_eq!(v["stats"]["render"]["failed"], 2, "{v:#}");
    let n = notes(&v);
    assert!(
        n.iter().any(|n| n.starts_with("overlays/a: not rendered")
            && n.contains("did not finish within 1 s")),
        "{n:?}"
    );
    // Judged file by file instead.
    assert!(!findings(&v, "run-as-non-root").is_empty(), "{v:#}");
}

#[test]
fn a_secret_in_kustomizes_error_is_not_printed() {
    // Checksum-valid, built at test time: the secret rules themselves match it.
    let token = common::github_token("render-error");
    let tools = stand_in(
        "#!/bin/sh\necho \"Error: invalid literal in secretGenerator: $LEAK\" >&2\nexit 1\n",
    );
    let dir = tree(&[]);
    let path = format!("{}:/usr/bin:/bin", tools.path().display());
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never"])
        .env("PATH", &path)
        .env("LEAK", &token)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("kustomize failed: invalid literal in secretGenerator"),
        "{text}"
    );
    assert!(!text.contains(&token), "{text}");
    assert!(!text.contains(&token[4..]), "{text}");
}

#[test]
fn inline_allow_comments_and_annotations_still_suppress_rendered_findings() {
    need_kustomize!();
    let allowed = WEAK.replace(
        "privileged: true\n",
        "privileged: true # gitops-guard:allow debugging sidecar\n",
    );
    let dir = tree(&[("overlays/b/harden.yaml", &allowed)]);
    let v = scan(dir.path(), &["--show-suppressed"]);
    let p = findings(&v, "no-privileged");
    assert_eq!(p.len(), 1, "{v:#}");
    assert_eq!(p[0]["path"], "overlays/b/harden.yaml");
    assert_eq!(p[0]["suppressed"]["kind"], "inline", "{:#}", p[0]);
    // The annotation on the base object travels into the rendered one.
    let d = base()[1].1.replace(
        "  name: web\n  labels:",
        "  name: web\n  annotations:\n    gitops-guard.io/ignore: no-host-namespaces=node agent\n  labels:",
    );
    let d = d.replace(
        "      automountServiceAccountToken: false\n",
        "      automountServiceAccountToken: false\n      hostPID: true\n",
    );
    let dir = tree(&[("base/deploy.yaml", &d)]);
    let v = scan(dir.path(), &[]);
    assert!(findings(&v, "no-host-namespaces").is_empty(), "{v:#}");
    let v = scan(dir.path(), &["--show-suppressed"]);
    let h = findings(&v, "no-host-namespaces");
    assert_eq!(h.len(), 1, "{v:#}");
    assert_eq!(h[0]["suppressed"]["kind"], "annotation");
}

#[test]
fn labels_an_overlay_adds_count_for_required_labels() {
    need_kustomize!();
    let d = base()[1]
        .1
        .replace("{app: web, owner: team, env: all}", "{app: web, env: all}");
    let with_labels = |name: &str, labels: &str| {
        format!(
            "namespace: {name}\nresources:\n  - ../../base\npatches:\n  - path: harden.yaml\n{labels}"
        )
    };
    let a = with_labels(
        "a",
        "labels:\n  - pairs: {owner: team}\n    includeTemplates: true\n",
    );
    let b = with_labels("b", "commonLabels:\n  owner: team\n");
    let dir = tree(&[
        ("base/deploy.yaml", &d),
        ("overlays/a/kustomization.yaml", &a),
        ("overlays/b/kustomization.yaml", &b),
    ]);
    let v = scan(dir.path(), &[]);
    assert!(findings(&v, "required-labels").is_empty(), "{v:#}");
    // Counter-example: an overlay that adds no label leaves the base's gap.
    let c = with_labels("b", "");
    std::fs::write(dir.path().join("overlays/b/kustomization.yaml"), c).unwrap();
    let v = scan(dir.path(), &[]);
    let l = findings(&v, "required-labels");
    assert_eq!(l.len(), 1, "{v:#}");
    assert_eq!(l[0]["path"], "base/deploy.yaml");
    assert_eq!(roots(l[0]), ["overlays/b"]);
}

#[test]
fn a_rendered_findings_code_frame_never_shows_a_secret_of_its_source_line() {
    need_kustomize!();
    // The weakening patch carries a token in a comment on the very line the
    // no-privileged finding points at: the rendered finding's code frame is
    // read back from that file, and must be scrubbed like every other.
    let token = common::github_token("render-frame");
    let weak = WEAK.replace("privileged: true", &format!("privileged: true # {token}"));
    let dir = tree(&[("overlays/b/harden.yaml", weak.as_str())]);
    let v = scan(dir.path(), &[]);
    let priv_ = findings(&v, "no-privileged");
    assert_eq!(priv_.len(), 1, "{v:#}");
    assert_eq!(roots(priv_[0]), ["overlays/b"]);
    assert!(
        !findings(&v, "github-pat-classic").is_empty(),
        "the token is found file by file"
    );
    let text = v.to_string();
    assert!(
        !text.contains(&token),
        "the token is printed in full: {text}"
    );
}

#[test]
fn missing_resources_in_a_rendered_base_are_reported_at_the_base_with_the_roots() {
    need_kustomize!();
    // The base without `resources:`: the repo-level resource-requests-limits
    // check reports it at the base's container, once, naming both overlays
    // (not at a line of the rendered stream).
    let no_resources = base()[1]
        .1
        .replace(
            "          resources:\n            requests: {cpu: 10m, memory: 10Mi}\n            limits: {cpu: 10m, memory: 10Mi}\n",
            "",
        );
    assert!(!no_resources.contains("resources:"));
    let dir = tree(&[("base/deploy.yaml", no_resources.as_str())]);
    let v = scan(dir.path(), &[]);
    let gaps = findings(&v, "resource-requests-limits");
    assert_eq!(gaps.len(), 1, "{v:#}");
    assert_eq!(gaps[0]["path"], "base/deploy.yaml", "{v:#}");
    assert_eq!(roots(gaps[0]), ["overlays/a", "overlays/b"]);
}
