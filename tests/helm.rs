//! Helm rendering (issue 15 item 4), through the real binary on chart trees
//! built in the test.
//!
//! No real `helm` is installed where this was written, so the logic the
//! scanner owns (chart discovery, values sets, the arguments, the split at
//! `# Source:` lines, mapping key paths to template and values lines,
//! dedup, notes) is exercised against a stand-in `helm`: a shell script put
//! first on `PATH` that checks the arguments it gets, records them, and
//! prints what `helm template` prints for the test's chart (`---` and
//! `# Source: <chart>/templates/<file>` before each document, as helm 3's
//! `pkg/action` writes them), with `privileged:` taken from the last values
//! file that sets it. The one test that needs the real binary skips with a
//! message when it is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The template every test chart carries: not YAML (`{{- with }}` blocks,
/// an `include` line), the shape `helm create` gives.
const DEPLOYMENT_TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        {{- include "web.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ .Release.Name }}
      automountServiceAccountToken: false
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image }}"
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#;

const HARDENED_VALUES: &str = r#"image: ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
podSecurityContext:
  runAsNonRoot: true
  seccompProfile:
    type: RuntimeDefault
securityContext:
  privileged: false
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits: {cpu: 500m, memory: 256Mi}
"#;

/// A chart at `dir` named `name` with `values` as its values.yaml.
fn chart(root: &Path, dir: &str, name: &str, values: &str) {
    let d = root.join(dir);
    write(
        &d.join("Chart.yaml"),
        &format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    );
    write(&d.join("values.yaml"), values);
    write(&d.join("templates/deployment.yaml"), DEPLOYMENT_TEMPLATE);
    write(
        &d.join("templates/_helpers.tpl"),
        "{{- define \"web.labels\" -}}\napp: web\nowner: team\nenv: prod\n{{- end }}\n",
    );
    write(&d.join("templates/NOTES.txt"), "Thanks for installing.\n");
}

/// The stand-in `helm`: checks its arguments (`template RELEASE CHART
/// --namespace NS [--values FILE]… [--set=…]`), appends them to
/// `$HELM_LOG`, and prints a `helm template` stream for the chart whose
/// `privileged:` is the last one the chart's values.yaml and the values
/// files set. `$HELM_MODE` = `fail` or `hang` makes it fail or hang;
/// `deep` prints output nested past the YAML parser's limit.
const STAND_IN: &str = r#"#!/bin/sh
[ -n "$HELM_LOG" ] && printf '%s\n' "$*" >> "$HELM_LOG"
case "$HELM_MODE" in
  fail) echo "Error: template: web/templates/deployment.yaml:3: parse error in $3/templates (token ghp_$TOKEN_TAIL)" >&2; exit 1 ;;
  hang) exec sleep 30 ;;
  deep) printf -- '---\n# Source: web/templates/deployment.yaml\nspec: '; i=0; while [ $i -lt 2000 ]; do printf '['; i=$((i+1)); done; echo; exit 0 ;;
  bare) unset HELM_MODE; "$0" "$@" | sed '/^  namespace:/d; /^          resources:/,$d'; exit ;;
esac
[ "$1" = template ] || { echo "Error: expected template, got $1" >&2; exit 64; }
release=$2; chart=$3; shift 3
[ -f "$chart/Chart.yaml" ] || { echo "Error: no chart at $chart" >&2; exit 65; }
case "$HELM_NO_PLUGINS" in 1) ;; *) echo "Error: plugins not disabled" >&2; exit 66 ;; esac
ns=
files="$chart/values.yaml"
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=$2; shift 2 ;;
    --values) [ -f "$2" ] || { echo "Error: missing values file $2" >&2; exit 67; }; files="$files $2"; shift 2 ;;
    --set=*|--set-string=*) shift ;;
    *) echo "Error: unknown flag $1" >&2; exit 68 ;;
  esac
done
[ -n "$ns" ] || { echo "Error: no namespace" >&2; exit 69; }
if [ -f "$chart/templates/debug.yaml" ]; then
  # What helm prints for the debug template below: its value is written
  # in the template itself.
  cat <<EOF
---
# Source: $(sed -n 's/^name: *//p' "$chart/Chart.yaml")/templates/debug.yaml
apiVersion: v1
kind: Pod
metadata:
  name: $release-debug
  namespace: $ns
  labels:
    app: web
    owner: team
    env: prod
spec:
  hostNetwork: true
  serviceAccountName: $release
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: debug
      image: "ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
          - ALL
        readOnlyRootFilesystem: true
      resources:
        limits: {cpu: 100m, memory: 64Mi}
EOF
fi
priv=false
for f in $files; do
  v=$(sed -n 's/^ *privileged: *\([a-z]*\).*/\1/p' "$f" | tail -n 1)
  [ -n "$v" ] && priv=$v
done
name=$(sed -n 's/^name: *//p' "$chart/Chart.yaml")
cat <<EOF
---
# Source: $name/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: $release-deny
  namespace: $ns
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
# Source: $name/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $release-$name
  namespace: $ns
  labels:
    app: web
    owner: team
    env: prod
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        owner: team
        env: prod
    spec:
      serviceAccountName: $release
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: $name
          image: "ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop:
              - ALL
            privileged: $priv
            readOnlyRootFilesystem: true
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
            requests:
              cpu: 100m
              memory: 128Mi
EOF
"#;

struct Bin {
    _dir: tempfile::TempDir,
    path: PathBuf,
    log: PathBuf,
}

fn stand_in() -> Bin {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helm = bin.join("helm");
    std::fs::write(&helm, STAND_IN).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = dir.path().join("helm.log");
    Bin {
        path: bin,
        log,
        _dir: dir,
    }
}

/// `PATH` with only `first` and the system directories (no real helm).
fn path_with(first: Option<&Path>) -> String {
    let mut v = Vec::new();
    if let Some(f) = first {
        v.push(f.display().to_string());
    }
    v.push("/usr/bin".to_string());
    v.push("/bin".to_string());
    v.join(":")
}

fn gg(
    dir: &Path,
    path_env: &str,
    extra_env: &[(&str, &str)],
    args: &[&str],
) -> (i32, serde_json::Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitops-guard"));
    cmd.args(["scan", "--quiet", "--format", "json", "--fail-on", "low"])
        .args(args)
        .arg(".")
        .current_dir(dir)
        .env("PATH", path_env)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITOPS_GUARD_CONFIG");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run gitops-guard");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn policy(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "policy")
        .collect()
}

fn notes(report: &serde_json::Value) -> Vec<String> {
    report["stats"]["render"]["notes"]
        .as_array()
        .map(|a| a.iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// A repository: a chart privileged by its default values, a hardened chart,
/// and a Flux HelmRelease whose inline values weaken the hardened chart.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    chart(
        r,
        "charts/risky",
        "risky",
        &HARDENED_VALUES.replace("privileged: false", "privileged: true"),
    );
    chart(r, "charts/hardened", "hardened", HARDENED_VALUES);
    write(
        &r.join("clusters/prod/hardened.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./charts/hardened\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n  values:\n    securityContext:\n      privileged: true\n",
    );
    dir
}

#[test]
fn privileged_from_chart_values_is_reported_at_the_values_line() {
    let bin = stand_in();
    let dir = repo();
    let log = bin.log.display().to_string();
    let (code, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let found: Vec<_> = policy(&report)
        .into_iter()
        .filter(|f| f["rule"] == "no-privileged")
        .collect();
    let values = std::fs::read_to_string(dir.path().join("charts/risky/values.yaml")).unwrap();
    let at_values: Vec<_> = found
        .iter()
        .filter(|f| f["path"] == "charts/risky/values.yaml")
        .collect();
    assert_eq!(at_values.len(), 1, "{found:#?}");
    assert_eq!(
        at_values[0]["line"].as_u64().unwrap() as usize,
        line_of(&values, "privileged: true")
    );
    assert_eq!(
        at_values[0]["roots"],
        serde_json::json!(["helm charts/risky (default values)"])
    );
    // The HelmRelease's inline values weaken the hardened chart: reported at
    // the HelmRelease's line, naming it.
    let hr = std::fs::read_to_string(dir.path().join("clusters/prod/hardened.yaml")).unwrap();
    let at_release: Vec<_> = found
        .iter()
        .filter(|f| f["path"] == "clusters/prod/hardened.yaml")
        .collect();
    assert_eq!(at_release.len(), 1, "{found:#?}");
    assert_eq!(
        at_release[0]["line"].as_u64().unwrap() as usize,
        line_of(&hr, "privileged: true")
    );
    let roots = at_release[0]["roots"].to_string();
    assert!(
        roots.contains("HelmRelease prod/web (clusters/prod/hardened.yaml)"),
        "{roots}"
    );
    // The hardened chart with its defaults is silent: every policy finding
    // is one of the two above.
    assert_eq!(policy(&report).len(), 2, "{:#?}", policy(&report));
    assert_eq!(report["stats"]["render"]["rendered"], 2);
    assert_eq!(report["stats"]["render"]["tool"], "helm");
    // The JSON schema describes `roots` and `stats.render`.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/findings.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The arguments: three renders, the release's namespace and name, its
    // inline values in a file outside the tree.
    let calls = std::fs::read_to_string(&bin.log).unwrap();
    assert_eq!(calls.lines().count(), 3, "{calls}");
    let release_call = calls
        .lines()
        .find(|l| l.starts_with("template prod-web ") || l.starts_with("template web "))
        .unwrap_or_else(|| panic!("{calls}"));
    assert!(release_call.contains("--namespace prod"), "{release_call}");
    let values_file = release_call.split("--values ").nth(1).unwrap().trim();
    assert!(!values_file.starts_with(&dir.path().display().to_string()));
    // Nothing was written into the scanned tree.
    let mut names = Vec::new();
    for e in walk(dir.path()) {
        names.push(e);
    }
    assert!(names.iter().all(|n| !n.contains("values-")), "{names:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// A rendered object without a namespace is installed into the release's
/// namespace: a LimitRange of that namespace elsewhere in the repository
/// supplies its defaults (the HelmRelease's render), not those of the
/// default-values render, which nothing deploys.
#[test]
fn release_namespace_joins_a_limit_range_of_the_repository() {
    let bin = stand_in();
    let dir = repo();
    let roots_at_template = |with_limits: bool| -> Vec<String> {
        let lr = dir.path().join("platform/limits.yaml");
        if with_limits {
            write(
                &lr,
                "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\n  namespace: prod\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 256Mi}\n",
            );
        } else {
            let _ = std::fs::remove_file(&lr);
        }
        let (_, report, err) = gg(
            dir.path(),
            &path_with(Some(&bin.path)),
            &[("HELM_MODE", "bare")],
            &[],
        );
        let found: Vec<_> = policy(&report)
            .into_iter()
            .filter(|f| {
                f["rule"] == "resource-requests-limits"
                    && f["path"] == "charts/hardened/templates/deployment.yaml"
            })
            .collect();
        assert_eq!(found.len(), 1, "{err}\n{:#?}", policy(&report));
        found[0]["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        roots_at_template(false),
        [
            "helm charts/hardened (HelmRelease prod/web (clusters/prod/hardened.yaml))",
            "helm charts/hardened (default values)"
        ]
    );
    assert_eq!(
        roots_at_template(true),
        ["helm charts/hardened (default values)"]
    );
}

/// A value written in the template itself is reported at the template line.
#[test]
fn a_value_written_in_the_template_is_reported_at_the_template_line() {
    let bin = stand_in();
    let dir = repo();
    let debug = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-debug\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  {{- if .Values.debug }}\n  hostNetwork: true\n  {{- end }}\n  serviceAccountName: {{ .Release.Name }}\n";
    write(
        &dir.path().join("charts/hardened/templates/debug.yaml"),
        debug,
    );
    let (_, report, err) = gg(dir.path(), &path_with(Some(&bin.path)), &[], &[]);
    let found: Vec<_> = policy(&report)
        .into_iter()
        .filter(|f| f["rule"] == "no-host-namespaces")
        .collect();
    assert_eq!(found.len(), 1, "{err}\n{found:#?}");
    assert_eq!(found[0]["path"], "charts/hardened/templates/debug.yaml");
    assert_eq!(
        found[0]["line"].as_u64().unwrap() as usize,
        line_of(debug, "hostNetwork: true")
    );
    // Both renders of the hardened chart (defaults, the HelmRelease) hold it.
    assert_eq!(found[0]["roots"].as_array().unwrap().len(), 2, "{found:#?}");
}

#[test]
fn one_finding_per_source_location_lists_every_render() {
    let bin = stand_in();
    let dir = repo();
    // A second release of the risky chart that does not touch privileged:
    // the chart's values line is still what sets it.
    write(
        &dir.path().join("apps/risky.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: risky\n  namespace: argocd\nspec:\n  destination:\n    namespace: shop\n  source:\n    repoURL: https://example.invalid/repo.git\n    path: charts/risky\n    helm:\n      valuesObject:\n        replicas: 2\n      parameters:\n      - name: image\n        value: ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    );
    let log = bin.log.display().to_string();
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &[],
    );
    let at_values: Vec<_> = policy(&report)
        .into_iter()
        .filter(|f| f["rule"] == "no-privileged" && f["path"] == "charts/risky/values.yaml")
        .collect();
    assert_eq!(at_values.len(), 1, "{err}\n{at_values:#?}");
    assert_eq!(
        at_values[0]["roots"],
        serde_json::json!([
            "helm charts/risky (Application argocd/risky (apps/risky.yaml))",
            "helm charts/risky (default values)"
        ])
    );
    let calls = std::fs::read_to_string(&bin.log).unwrap();
    let app = calls
        .lines()
        .find(|l| l.starts_with("template risky ") && l.contains("--namespace shop"))
        .unwrap_or_else(|| panic!("{calls}"));
    assert!(app.contains("--values "), "{app}");
    assert!(
        app.contains("--set=image=ghcr.io/acme/web@sha256:"),
        "{app}"
    );
}

#[test]
fn without_helm_charts_are_a_note_and_judged_file_by_file() {
    let dir = repo();
    let empty = tempfile::tempdir().unwrap();
    let (code, report, err) = gg(
        dir.path(),
        &path_with(None).replace("/usr/bin:/bin", &empty.path().display().to_string()),
        &[],
        &[],
    );
    assert!(code == 0 || code == 1, "{err}");
    assert_eq!(
        notes(&report),
        ["2 charts not rendered: no helm on PATH (templates judged file by file)"]
    );
    assert_eq!(report["stats"]["render"]["not_rendered"], 2);
    // The templates are not YAML: nothing is judged from them, and nothing
    // fails to parse loudly either.
    assert!(policy(&report).is_empty(), "{:#?}", policy(&report));
    assert!(report["errors"].as_array().is_none_or(|e| e.is_empty()));
}

#[test]
fn no_render_judges_file_by_file_without_a_note() {
    let bin = stand_in();
    let dir = repo();
    let log = bin.log.display().to_string();
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &["--no-render"],
    );
    assert!(report["stats"]["render"].is_null(), "{err}");
    assert!(policy(&report).is_empty());
    assert!(!bin.log.exists(), "helm was run");
    // The config key says the same.
    write(
        &dir.path().join(".gitops-guard.toml"),
        "[render]\nenabled = false\n",
    );
    let (_, report, _) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &[],
    );
    assert!(report["stats"]["render"].is_null());
    assert!(!bin.log.exists(), "helm was run");
}

#[test]
fn a_failing_render_is_a_redacted_note() {
    let bin = stand_in();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    chart(dir.path(), "web", "web", HARDENED_VALUES);
    // A token-shaped word in helm's error, built at test time.
    let token = gitops_guard::rules::examples::expand("<<github:ghp_>>", "helm-error").unwrap();
    let tail = token.strip_prefix("ghp_").unwrap().to_string();
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_MODE", "fail"), ("TOKEN_TAIL", &tail)],
        &[],
    );
    let n = notes(&report);
    assert_eq!(n.len(), 1, "{err}\n{n:?}");
    assert!(
        n[0].starts_with("helm web (default values) not rendered: helm template failed: template: web/templates/deployment.yaml:3: parse error"),
        "{}",
        n[0]
    );
    assert!(!n[0].contains(&tail), "the token is masked: {}", n[0]);
    assert!(
        !n[0].contains(&dir.path().display().to_string()),
        "absolute paths are cut: {}",
        n[0]
    );
    assert_eq!(report["stats"]["render"]["failed"], 1);
}

#[test]
fn output_the_yaml_parser_refuses_is_a_note_not_a_silent_pass() {
    let bin = stand_in();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    chart(dir.path(), "web", "web", HARDENED_VALUES);
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_MODE", "deep")],
        &[],
    );
    let n = notes(&report);
    assert_eq!(n.len(), 1, "{err}\n{n:?}");
    assert!(
        n[0].contains("its output was refused by the YAML parser"),
        "{}",
        n[0]
    );
    assert_eq!(report["stats"]["render"]["failed"], 1);
    assert_eq!(report["stats"]["render"]["rendered"], 0);
}

#[test]
fn a_hanging_render_is_killed_after_the_timeout() {
    let bin = stand_in();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    chart(dir.path(), "web", "web", HARDENED_VALUES);
    write(
        &dir.path().join(".gitops-guard.toml"),
        "[render]\ntimeout-seconds = 1\n",
    );
    let started = std::time::Instant::now();
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_MODE", "hang")],
        &[],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(
        notes(&report),
        ["helm web (default values) not rendered: helm template did not finish within 1s"],
        "{err}"
    );
}

#[test]
fn dependencies_not_vendored_are_a_note_and_nothing_is_fetched() {
    let bin = stand_in();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    chart(dir.path(), "web", "web", HARDENED_VALUES);
    write(
        &dir.path().join("web/Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: postgresql\n  version: 12.x\n  repository: https://charts.example.invalid\n- name: common\n  version: 1.x\n  repository: file://../common\n",
    );
    // `common` is vendored as a directory: only postgresql is missing.
    write(
        &dir.path().join("web/charts/common/Chart.yaml"),
        "apiVersion: v2\nname: common\nversion: 1.0.0\n",
    );
    let log = bin.log.display().to_string();
    let (_, report, _) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &[],
    );
    assert_eq!(
        notes(&report),
        [
            "chart web not rendered: dependency postgresql not vendored under charts/ (run `helm dependency build`; nothing is fetched)"
        ]
    );
    assert!(!bin.log.exists(), "helm was run");
    // The vendored subchart is not a chart of its own.
    assert_eq!(report["stats"]["render"]["roots"], 1);
}

#[test]
fn flux_values_from_a_configmap_of_the_tree_and_notes_for_the_rest() {
    let bin = stand_in();
    let dir = repo();
    write(
        &dir.path().join("clusters/prod/hardened.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  chart:\n    spec:\n      chart: charts/hardened\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n  valuesFrom:\n  - kind: ConfigMap\n    name: web-values\n  - kind: Secret\n    name: web-secret-values\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-values\n  namespace: prod\ndata:\n  values.yaml: |\n    securityContext:\n      privileged: true\n",
    );
    let log = bin.log.display().to_string();
    let (_, report, err) = gg(
        dir.path(),
        &path_with(Some(&bin.path)),
        &[("HELM_LOG", &log)],
        &[],
    );
    let hr = std::fs::read_to_string(dir.path().join("clusters/prod/hardened.yaml")).unwrap();
    let at: Vec<_> = policy(&report)
        .into_iter()
        .filter(|f| f["rule"] == "no-privileged" && f["path"] == "clusters/prod/hardened.yaml")
        .collect();
    assert_eq!(at.len(), 1, "{err}\n{:#?}", policy(&report));
    assert_eq!(
        at[0]["line"].as_u64().unwrap() as usize,
        line_of(&hr, "privileged: true")
    );
    assert!(
        notes(&report).iter().any(|n| n
            == "HelmRelease prod/web (clusters/prod/hardened.yaml): valuesFrom Secret/web-secret-values not read (values kept in the cluster)"),
        "{:?}",
        notes(&report)
    );
}

/// Needs the real `helm` (absent where this was written): renders a chart
/// whose values make a container privileged and expects the finding at the
/// values line.
#[test]
fn real_helm_renders_and_maps_to_the_values_line() {
    let Some(helm) = gitops_guard::render::find_on_path(&["helm"]) else {
        eprintln!("skipped real_helm_renders_and_maps_to_the_values_line: no helm on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    chart(
        dir.path(),
        "charts/web",
        "web",
        &HARDENED_VALUES.replace("privileged: false", "privileged: true"),
    );
    let bin_dir = helm.parent().unwrap().to_path_buf();
    let (_, report, err) = gg(dir.path(), &path_with(Some(&bin_dir)), &[], &[]);
    assert_eq!(report["stats"]["render"]["rendered"], 1, "{err}");
    let values = std::fs::read_to_string(dir.path().join("charts/web/values.yaml")).unwrap();
    let f = policy(&report)
        .into_iter()
        .find(|f| f["rule"] == "no-privileged")
        .expect("privileged reported");
    assert_eq!(f["path"], "charts/web/values.yaml");
    assert_eq!(
        f["line"].as_u64().unwrap() as usize,
        line_of(&values, "privileged: true")
    );
}
