//! The `policy` checks (issue 6): every fixture under `fixtures/policy/`
//! fires exactly on its `fire-*` objects, findings are snapshotted as code
//! frames, suppressions and config work for checks, the CLI filters by
//! category, and the verdicts on the upstream kube-linter/kubeaudit test
//! manifests (`../shared/corpus/manifests/`) match their expectations except
//! for the documented disagreements.

use gitops_guard::config::Config;
use gitops_guard::finding::{Finding, Severity};
use gitops_guard::manifest::{Limits, objects, parse_documents};
use gitops_guard::report::{RenderOptions, Report, text};
use gitops_guard::scan::{ScanOptions, Stats};
use gitops_guard::{Mode, ScanRequest};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHECKS: [&str; 20] = [
    "run-as-non-root",
    "no-privileged",
    "no-privilege-escalation",
    "drop-all-capabilities",
    "read-only-root-filesystem",
    "seccomp-profile",
    "no-host-namespaces",
    "no-host-path",
    "no-host-port",
    "proc-mount-default",
    "safe-sysctls",
    "no-apparmor-selinux-override",
    "resource-requests-limits",
    "no-service-account-token",
    "no-default-service-account",
    "image-tag-pinned",
    "image-digest-pinned",
    "trusted-registries",
    "required-labels",
    "network-policy-coverage",
];

fn fixture(check: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/policy")
        .join(format!("{check}.yaml"))
}

fn scan_with(target: &Path, config: Config) -> Report {
    gitops_guard::scan(ScanRequest {
        target: target.to_path_buf(),
        mode: Mode::Worktree,
        config,
        options: ScanOptions {
            threads: 1,
            ..ScanOptions::default()
        },
        baseline: None,
        fail_on: None,
    })
    .expect("scan runs")
}

/// The config a fixture is scanned with.
fn fixture_config(check: &str) -> Config {
    if check == "trusted-registries" {
        Config::parse(
            "[policy]\ntrusted-registries = [\"ghcr.io/acme\", \"registry.k8s.io\", \"docker.io/library\"]\n",
        )
        .unwrap()
    } else {
        Config::default()
    }
}

/// `Kind/name` and 1-based (first, last) line of every object in a YAML file.
fn object_lines(path: &Path) -> Vec<(String, usize, usize)> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = parse_documents(&text, &Limits::default()).expect("fixture parses");
    objects(&docs)
        .iter()
        .map(|o| {
            (
                format!("{}/{}", o.kind.unwrap_or("?"), o.name.unwrap_or("?")),
                o.node.span.line,
                o.node.span.end_line,
            )
        })
        .collect()
}

/// The object (`Kind/name`) whose lines hold `line`; the innermost wins.
fn object_at(objects: &[(String, usize, usize)], line: usize) -> Option<&str> {
    objects
        .iter()
        .filter(|(_, a, b)| (*a..=*b).contains(&line))
        .min_by_key(|(_, a, b)| b - a)
        .map(|(n, _, _)| n.as_str())
}

fn name_of(object: &str) -> &str {
    object.split_once('/').map_or(object, |(_, n)| n)
}

fn of_check<'a>(report: &'a Report, check: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
    report.findings.iter().filter(move |f| f.rule == check)
}

/// Render findings as the text report draws them.
fn frames(report: &Report, findings: Vec<Finding>) -> String {
    let view = Report {
        findings,
        stats: Stats::default(),
        errors: Vec::new(),
        rules: report.rules.clone(),
        fail_on: report.fail_on,
        secrets_always_fail: report.secrets_always_fail,
    };
    let mut out = Vec::new();
    text::render(
        &view,
        &RenderOptions {
            show_suppressed: true,
            ..RenderOptions::default()
        },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_check_has_a_fixture_and_fires_exactly_on_fire_objects() {
    for check in CHECKS {
        let path = fixture(check);
        assert!(path.is_file(), "{check}: no fixture at {}", path.display());
        let report = scan_with(&path, fixture_config(check));
        let objs = object_lines(&path);
        let mut fired = BTreeSet::new();
        for f in of_check(&report, check) {
            let obj = object_at(&objs, f.location.line)
                .unwrap_or_else(|| panic!("{check}: finding outside any object: {f:?}"));
            if f.suppressed.is_none() {
                fired.insert(name_of(obj).to_string());
            }
        }
        let names: BTreeSet<String> = objs
            .iter()
            .map(|(o, _, _)| name_of(o).to_string())
            .collect();
        let fire: BTreeSet<String> = names
            .iter()
            .filter(|n| n.starts_with("fire-"))
            .cloned()
            .collect();
        let dont: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("dont-fire-"))
            .collect();
        assert!(
            !fire.is_empty() && !dont.is_empty(),
            "{check}: the fixture needs fire-* and dont-fire-* objects"
        );
        assert_eq!(
            fired, fire,
            "{check}: objects with findings (left) vs objects named fire-* (right)"
        );
    }
}

#[test]
fn fixture_findings_as_code_frames() {
    for check in CHECKS {
        let path = fixture(check);
        let report = scan_with(&path, fixture_config(check));
        let findings: Vec<Finding> = of_check(&report, check).cloned().collect();
        insta::assert_snapshot!(format!("fixture-{check}"), frames(&report, findings));
    }
}

/// Fingerprints come from the object's identity, not from line numbers, so a
/// baseline survives edits that move the object.
#[test]
fn findings_carry_identity_and_stable_fingerprints() {
    let path = fixture("run-as-non-root");
    let text = std::fs::read_to_string(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shifted = dir.path().join("run-as-non-root.yaml");
    // Ten comment lines on top move every finding down ten lines.
    std::fs::write(&shifted, format!("{}{text}", "# moved\n".repeat(10))).unwrap();
    // The same file name outside any repository on both sides: inside this
    // repository the fixture is reported under its repository path.
    let same = tempfile::tempdir().unwrap();
    let path = same.path().join("run-as-non-root.yaml");
    std::fs::write(&path, &text).unwrap();
    let a = scan_with(&path, Config::default());
    let b = scan_with(&shifted, Config::default());
    let prints = |r: &Report| -> Vec<(String, String)> {
        let mut v: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.category.as_str() == "policy")
            .map(|f| (f.rule.clone(), f.fingerprint()))
            .collect();
        v.sort();
        v
    };
    assert!(!prints(&a).is_empty());
    assert_eq!(prints(&a), prints(&b));
    // Identity: Kind/namespace/name/path-in-object (no namespace: `default`).
    let objs = object_lines(&path);
    for f in a
        .findings
        .iter()
        .filter(|f| f.category.as_str() == "policy")
    {
        let id = f
            .identity
            .as_deref()
            .expect("policy findings have an identity");
        let obj = object_at(&objs, f.location.line).unwrap();
        let (kind, name) = obj.split_once('/').unwrap();
        assert!(
            id.starts_with(&format!("{kind}/default/{name}/")),
            "{id} in {obj}"
        );
    }
    let lines: Vec<usize> = a.findings.iter().map(|f| f.location.line).collect();
    let moved: Vec<usize> = b.findings.iter().map(|f| f.location.line).collect();
    assert_eq!(lines.iter().map(|l| l + 10).collect::<Vec<_>>(), moved);
}

#[test]
fn host_path_severity_follows_what_is_exposed() {
    let path = fixture("no-host-path");
    let report = scan_with(&path, Config::default());
    let objs = object_lines(&path);
    let severity_of = |name: &str| -> Vec<Severity> {
        of_check(&report, "no-host-path")
            .filter(|f| object_at(&objs, f.location.line).map(name_of) == Some(name))
            .map(|f| f.severity)
            .collect()
    };
    assert_eq!(severity_of("fire-docker-sock"), [Severity::Critical]);
    assert_eq!(severity_of("fire-containerd-sock"), [Severity::Critical]);
    assert_eq!(severity_of("fire-var-run"), [Severity::Critical]);
    assert_eq!(
        severity_of("fire-init-container-mount"),
        [Severity::Critical]
    );
    assert_eq!(severity_of("fire-etc"), [Severity::High]);
    assert_eq!(severity_of("fire-kubelet-pki"), [Severity::High]);
    assert_eq!(severity_of("fire-data-writable"), [Severity::Medium]);
    assert_eq!(severity_of("fire-logs-read-only"), [Severity::Low]);
}

const WORKLOAD: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, owner: team-web, env: prod}
ANNOTATIONS
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:latest
        securityContext:
          privileged: true
          allowPrivilegeEscalation: true
          readOnlyRootFilesystem: false
";

fn write_workload(dir: &Path, annotations: &str) -> PathBuf {
    let path = dir.join("web.yaml");
    std::fs::write(&path, WORKLOAD.replace("ANNOTATIONS\n", annotations)).unwrap();
    path
}

fn active_rules(report: &Report) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none() && f.category.as_str() == "policy")
        .map(|f| f.rule.clone())
        .collect()
}

#[test]
fn annotations_on_the_workload_suppress_checks_in_both_styles() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = scan_with(&write_workload(dir.path(), ""), Config::default());
    let all = active_rules(&baseline);
    for id in [
        "run-as-non-root",
        "no-privileged",
        "no-privilege-escalation",
        "read-only-root-filesystem",
        "image-tag-pinned",
        "network-policy-coverage",
        "no-service-account-token",
    ] {
        assert!(
            all.contains(id),
            "{id} should fire on the bare workload: {all:?}"
        );
    }
    // gitops-guard's own annotation, several ids with and without reasons.
    let ours = write_workload(
        dir.path(),
        "  annotations:\n    gitops-guard.io/ignore: \"no-privileged=node agent, image-tag-pinned, no-service-account-token=uses the API\"\n",
    );
    let report = scan_with(&ours, Config::default());
    let active = active_rules(&report);
    for id in [
        "no-privileged",
        "image-tag-pinned",
        "no-service-account-token",
    ] {
        assert!(!active.contains(id), "{id} not suppressed: {active:?}");
        let f = of_check(&report, id)
            .next()
            .expect("still reported as suppressed");
        assert!(f.suppressed.is_some());
    }
    assert!(active.contains("no-privilege-escalation"));
    // kube-linter's per-check annotations, for every 1:1 equivalent.
    let kube_linter = write_workload(
        dir.path(),
        "  annotations:\n\
         \x20   ignore-check.kube-linter.io/run-as-non-root: \"a\"\n\
         \x20   ignore-check.kube-linter.io/privileged-container: \"b\"\n\
         \x20   ignore-check.kube-linter.io/privilege-escalation-container: \"c\"\n\
         \x20   ignore-check.kube-linter.io/no-read-only-root-fs: \"d\"\n\
         \x20   ignore-check.kube-linter.io/latest-tag: \"e\"\n\
         \x20   ignore-check.kube-linter.io/non-isolated-pod: \"f\"\n",
    );
    let report = scan_with(&kube_linter, Config::default());
    let active = active_rules(&report);
    for (_, id) in gitops_guard::detect::policy::KUBE_LINTER_EQUIVALENTS {
        assert!(
            !active.contains(*id),
            "{id} not suppressed by its kube-linter annotation: {active:?}"
        );
    }
    assert!(
        active.contains("seccomp-profile"),
        "unrelated checks still fire"
    );
    assert!(active.contains("no-service-account-token"));
    // Annotations on the pod template are not the workload's: kube-linter
    // reads the object's own metadata too.
    let on_template = dir.path().join("template.yaml");
    std::fs::write(
        &on_template,
        WORKLOAD
            .replace("ANNOTATIONS\n", "")
            .replace("      labels: {app: web}\n", "      labels: {app: web}\n      annotations: {gitops-guard.io/ignore: no-privileged}\n"),
    )
    .unwrap();
    assert!(active_rules(&scan_with(&on_template, Config::default())).contains("no-privileged"));
}

/// kubeaudit's override labels (pod-level and container-scoped, on the
/// object or its pod template) and kube-linter's `ignore-all` suppress
/// exactly what they name; an unrelated or misspelled label does not.
#[test]
fn kubeaudit_allow_labels_and_kube_linter_ignore_all_suppress() {
    let dir = tempfile::tempdir().unwrap();
    let with = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        active_rules(&scan_with(&path, Config::default()))
    };
    let template_label = |label: &str| {
        WORKLOAD.replace("ANNOTATIONS\n", "").replace(
            "      labels: {app: web}\n",
            &format!("      labels: {{app: web, {label}: \"node agent\"}}\n"),
        )
    };
    let bare = with("bare.yaml", template_label("app.kubernetes.io/part-of"));
    assert!(bare.contains("no-privileged") && bare.contains("no-privilege-escalation"));
    let pod = with("pod.yaml", template_label("kubeaudit.io/allow-privileged"));
    assert!(!pod.contains("no-privileged"), "{pod:?}");
    assert!(pod.contains("no-privilege-escalation"), "{pod:?}");
    let container = with(
        "container.yaml",
        template_label("container.kubeaudit.io/app.allow-privilege-escalation"),
    );
    assert!(
        !container.contains("no-privilege-escalation"),
        "{container:?}"
    );
    assert!(container.contains("no-privileged"), "{container:?}");
    let misspelled = with("typo.yaml", template_label("kubeaudit.io/allow-privilegd"));
    assert!(misspelled.contains("no-privileged"), "{misspelled:?}");
    // On the object's own labels too.
    let object = with(
        "object.yaml",
        WORKLOAD
            .replace("ANNOTATIONS\n", "")
            .replace("env: prod}", "env: prod, kubeaudit.io/allow-privileged: x}"),
    );
    assert!(!object.contains("no-privileged"), "{object:?}");
    let all = with(
        "all.yaml",
        WORKLOAD.replace(
            "ANNOTATIONS\n",
            "  annotations:\n    kube-linter.io/ignore-all: \"vendored chart\"\n",
        ),
    );
    assert!(all.is_empty(), "ignore-all leaves {all:?}");
}

/// Issue 15 item 6: namespace-less objects in sibling directories of one
/// Kustomize build share its namespace, so a deny-all NetworkPolicy in
/// `base/np/` covers the Deployment in `base/` when the build includes
/// both; without the kustomization linking them it does not.
#[test]
fn network_policy_in_a_sibling_directory_of_one_kustomize_build_covers_its_workloads() {
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/web:1.0.0\n";
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";
    let build = |linked: bool| {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        std::fs::create_dir_all(base.join("np")).unwrap();
        std::fs::write(base.join("deploy.yaml"), deploy).unwrap();
        std::fs::write(base.join("np/deny.yaml"), deny).unwrap();
        std::fs::write(
            base.join("np/kustomization.yaml"),
            "resources:\n- deny.yaml\n",
        )
        .unwrap();
        let resources = if linked {
            "resources:\n- deploy.yaml\n- ./np\n"
        } else {
            "resources:\n- deploy.yaml\n"
        };
        std::fs::write(base.join("kustomization.yaml"), resources).unwrap();
        let report = scan_with(dir.path(), Config::default());
        of_check(&report, "network-policy-coverage")
            .filter(|f| f.suppressed.is_none())
            .count()
    };
    assert_eq!(build(true), 0, "the sibling deny-all covers the Deployment");
    assert_eq!(build(false), 1, "not in one build: not covered");
}

/// Issue 15 item 5: a namespace-less LimitRange in a sibling directory of one
/// Kustomize build supplies the defaults of the build's workloads (the
/// binary, JSON output); outside the build it does not.
#[test]
fn limit_range_of_one_kustomize_build_satisfies_resource_requests_limits() {
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/web:1.0.0\n";
    let limits = |items: &str| {
        format!(
            "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\nspec:\n  limits:\n  - type: Container\n{items}"
        )
    };
    let messages = |linked: bool, items: &str| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        std::fs::create_dir_all(base.join("lr")).unwrap();
        std::fs::write(base.join("deploy.yaml"), deploy).unwrap();
        std::fs::write(base.join("lr/limits.yaml"), limits(items)).unwrap();
        let resources = if linked {
            "resources:\n- deploy.yaml\n- ./lr\n"
        } else {
            "resources:\n- deploy.yaml\n"
        };
        std::fs::write(base.join("kustomization.yaml"), resources).unwrap();
        let (code, out, err) = gg(
            dir.path(),
            &[
                "scan",
                "--quiet",
                "--format",
                "json",
                "--fail-on",
                "low",
                ".",
            ],
        );
        assert!(code == 0 || code == 1, "{code}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "resource-requests-limits")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let both = "    default: {cpu: 500m, memory: 256Mi}\n";
    assert_eq!(
        messages(true, both),
        Vec::<String>::new(),
        "defaults cover all four"
    );
    assert_eq!(
        messages(false, both).len(),
        1,
        "not in one build: not covered"
    );
    // Only the resources it defaults: memory here, so cpu stays missing.
    let memory = "    defaultRequest: {memory: 64Mi}\n    default: {memory: 256Mi}\n";
    assert_eq!(
        messages(true, memory),
        ["Deployment/web: container \"app\" has no cpu request, cpu limit"]
    );
    // defaultRequest alone: the limits stay missing.
    let requests = "    defaultRequest: {cpu: 100m, memory: 64Mi}\n";
    assert_eq!(
        messages(true, requests),
        ["Deployment/web: container \"app\" has no cpu limit, memory limit"]
    );
    // A `type: Pod` item defaults nothing for containers.
    let pod = "    max: {cpu: \"2\"}\n  - type: Pod\n    max: {memory: 1Gi}\n";
    assert_eq!(messages(true, pod).len(), 1);
}

#[test]
fn config_disables_checks_and_overrides_severities() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_workload(dir.path(), "");
    let config = Config::parse(
        "[rules]\ndisable = [\"run-as-non-root\", \"network-policy-coverage\"]\nseverity = { \"no-privileged\" = \"critical\", \"image-tag-pinned\" = \"low\" }\n",
    )
    .unwrap();
    let report = scan_with(&path, config);
    let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(!rules.contains("run-as-non-root"));
    assert!(
        !rules.contains("network-policy-coverage"),
        "repo-level checks can be disabled too"
    );
    assert!(rules.contains("no-privilege-escalation"));
    let sev = |id: &str| of_check(&report, id).next().unwrap().severity;
    assert_eq!(sev("no-privileged"), Severity::Critical);
    assert_eq!(sev("image-tag-pinned"), Severity::Low);
    let info = report.rule_info("no-privileged").unwrap();
    assert_eq!(info.severity, Severity::Critical);
}

#[test]
fn trusted_registries_only_runs_when_configured() {
    let path = fixture("trusted-registries");
    let report = scan_with(&path, Config::default());
    assert_eq!(of_check(&report, "trusted-registries").count(), 0);
}

#[test]
fn required_labels_are_configurable_with_alternatives() {
    let path = fixture("required-labels");
    let config = Config::parse("[policy]\nrequired-labels = [\"owner|team\"]\n").unwrap();
    let report = scan_with(&path, config);
    let objs = object_lines(&path);
    let fired: BTreeSet<&str> = of_check(&report, "required-labels")
        .filter(|f| f.suppressed.is_none())
        .filter_map(|f| object_at(&objs, f.location.line).map(name_of))
        .collect();
    assert_eq!(
        fired,
        BTreeSet::from([
            "fire-no-labels",
            "fire-missing-owner",
            "fire-empty-value",
            "fire-labels-only-on-template",
        ])
    );
    let msg = &of_check(&report, "required-labels").next().unwrap().message;
    assert!(msg.contains("owner or team"), "{msg}");
}

#[test]
fn only_manifests_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let body = WORKLOAD.replace("ANNOTATIONS\n", "");
    // Not a YAML or JSON file name: not a manifest.
    std::fs::write(dir.path().join("notes.txt"), &body).unwrap();
    // A Helm template is not YAML: silently skipped, no panic.
    std::fs::write(
        dir.path().join("deployment.yaml"),
        "{{- if .Values.enabled }}\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: {{ .Values.name }}\n{{- end }}\n",
    )
    .unwrap();
    // JSON manifests are read.
    std::fs::write(
        dir.path().join("pod.json"),
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "x"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": true}}]}}"#,
    )
    .unwrap();
    let report = scan_with(dir.path(), Config::default());
    let policy: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.category.as_str() == "policy")
        .collect();
    assert!(
        policy.iter().all(|f| f.location.path == "pod.json"),
        "{policy:?}"
    );
    assert!(policy.iter().any(|f| f.rule == "no-privileged"));
    assert!(report.errors.is_empty());
}

// ---- the binary ----------------------------------------------------------

fn gg(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run gitops-guard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A repo with one policy problem and one leaked token (built at test time).
fn mixed_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_workload(dir.path(), "");
    let token = gitops_guard::rules::examples::expand("<<github:ghp_>>", "policy-cli").unwrap();
    std::fs::write(dir.path().join("ci.env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    dir
}

fn categories(json: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON report");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn cli_filters_secrets_and_policy() {
    let dir = mixed_repo();
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", "--quiet", "--format", "json", "."];
        args.extend_from_slice(extra);
        let (code, out, err) = gg(dir.path(), &args);
        assert_eq!(code, 1, "{err}");
        categories(&out)
    };
    let all = run(&[]);
    assert!(all.contains("policy") && all.contains("secret"), "{all:?}");
    assert_eq!(
        run(&["--only", "policy"]),
        BTreeSet::from(["policy".to_string()])
    );
    assert_eq!(
        run(&["--category", "policy"]),
        BTreeSet::from(["policy".to_string()])
    );
    let secrets = run(&["--only", "secrets"]);
    assert!(
        secrets.contains("secret") && !secrets.contains("policy"),
        "{secrets:?}"
    );
}

#[test]
fn rules_list_and_explain_include_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = gg(
        dir.path(),
        &["rules", "list", "--category", "policy", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, CHECKS.into_iter().collect::<BTreeSet<_>>());
    for r in v.as_array().unwrap() {
        assert!(!r["remediation"].as_str().unwrap().is_empty());
        assert!(
            r["description"]
                .as_str()
                .unwrap()
                .contains("## Why it matters")
        );
    }
    let (code, out, _) = gg(dir.path(), &["rules", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("run-as-non-root ") && l.contains("policy"))
    );
    let (code, out, _) = gg(dir.path(), &["rules", "explain", "no-host-path"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("## What it checks")
            && out.contains("docker.sock")
            && out.contains("How to fix:")
    );
}

// ---- upstream expectations (EXPECTED.md) ----------------------------------

/// What counts as "our check fires" for one upstream check.
#[derive(Clone, Copy)]
enum Facet {
    /// Any finding of the check.
    Any,
    /// A finding whose message mentions this text (one field of a check
    /// that covers several).
    Mentions(&'static str),
    /// A finding at this severity or above (`no-host-path` grades paths).
    AtLeast(Severity),
}

/// One upstream assertion about one object: (file, upstream check, our
/// check, facet, `Kind/name`, upstream says it fires, our documented reason
/// to disagree).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Facet,
    &'static str,
    bool,
    Option<&'static str>,
);

const GROUP_ZERO: &str = "runAsGroup 0 with a non-root UID is allowed by the Pod Security Standards and used by OpenShift images; we only judge the UID";
const NET_RAW: &str = "ours requires drop: [ALL] (Pod Security Standards restricted); kube-linter only asks that NET_RAW is not added";
const PRIVILEGED_NIL: &str =
    "privileged defaults to false; kubeaudit warns that the field is not written, which is no risk";

fn expectations() -> Vec<Row> {
    use Facet::*;
    let mut rows: Vec<Row> = Vec::new();
    let mut kl = |file: &'static str,
                  upstream: &'static str,
                  ours: &'static str,
                  facet: Facet,
                  cases: &[(&'static str, bool, Option<&'static str>)]| {
        for &(obj, fires, why) in cases {
            rows.push((file, upstream, ours, facet, obj, fires, why));
        }
    };
    let pairs =
        |dont: bool, fire: [&'static str; 2]| -> Vec<(&'static str, bool, Option<&'static str>)> {
            let mut v = Vec::new();
            if dont {
                v.push(("Deployment/dont-fire", false, None));
                v.push(("DeploymentConfig/dont-fire", false, None));
            }
            v.push((fire[0], true, None));
            v.push((fire[1], true, None));
            v
        };
    let app = ["Deployment/app", "DeploymentConfig/app"];
    let app12 = ["Deployment/app1", "DeploymentConfig/app2"];
    kl(
        "kube-linter_default-service-account.yml",
        "default-service-account",
        "no-default-service-account",
        Any,
        &pairs(true, ["Deployment/app", "DeploymentConfig/app"]),
    );
    kl(
        "kube-linter_unsafe-proc-mount.yml",
        "unsafe-proc-mount",
        "proc-mount-default",
        Any,
        &pairs(false, app12),
    );
    kl(
        "kube-linter_privileged-container.yml",
        "privileged-container",
        "no-privileged",
        Any,
        &pairs(true, app12),
    );
    kl(
        "kube-linter_privilege-escalation-container.yml",
        "privilege-escalation-container",
        "no-privilege-escalation",
        Any,
        &pairs(true, app12),
    );
    kl(
        "kube-linter_run-as-non-root.yml",
        "run-as-non-root",
        "run-as-non-root",
        Any,
        &[
            ("Deployment/dont-fire", false, None),
            ("DeploymentConfig/dont-fire", false, None),
            ("Deployment/app1", true, None),
            ("DeploymentConfig/app2", true, None),
            ("Deployment/group-zero", true, Some(GROUP_ZERO)),
            ("DeploymentConfig/group-zero", true, Some(GROUP_ZERO)),
        ],
    );
    kl(
        "kube-linter_no-read-only-root-fs.yml",
        "no-read-only-root-fs",
        "read-only-root-filesystem",
        Any,
        &pairs(true, app12),
    );
    kl(
        "kube-linter_drop-net-raw-capability.yml",
        "drop-net-raw-capability",
        "drop-all-capabilities",
        Any,
        &[
            ("Deployment/dont-fire", false, Some(NET_RAW)),
            ("DeploymentConfig/dont-fire", false, Some(NET_RAW)),
            ("Deployment/app", true, None),
            ("DeploymentConfig/app", true, None),
        ],
    );
    kl(
        "kube-linter_host-network.yml",
        "host-network",
        "no-host-namespaces",
        Mentions("hostNetwork"),
        &pairs(true, app),
    );
    kl(
        "kube-linter_host-pid.yml",
        "host-pid",
        "no-host-namespaces",
        Mentions("hostPID"),
        &pairs(true, app),
    );
    kl(
        "kube-linter_host-ipc.yml",
        "host-ipc",
        "no-host-namespaces",
        Mentions("hostIPC"),
        &pairs(true, app),
    );
    kl(
        "kube-linter_sensitive-host-mounts.yml",
        "sensitive-host-mounts",
        "no-host-path",
        AtLeast(Severity::High),
        &pairs(false, app12),
    );
    kl(
        "kube-linter_writable-host-mount.yml",
        "writable-host-mount",
        "no-host-path",
        Mentions("writable"),
        &pairs(false, app12),
    );
    kl(
        "kube-linter_docker-sock.yml",
        "docker-sock",
        "no-host-path",
        AtLeast(Severity::Critical),
        &pairs(true, app),
    );
    kl(
        "kube-linter_unset-cpu-requirements.yml",
        "unset-cpu-requirements",
        "resource-requests-limits",
        Mentions("cpu request"),
        &pairs(false, app12),
    );
    kl(
        "kube-linter_unset-memory-requirements.yml",
        "unset-memory-requirements",
        "resource-requests-limits",
        Mentions("memory limit"),
        &pairs(false, app12),
    );
    kl(
        "kube-linter_latest-tag.yml",
        "latest-tag",
        "image-tag-pinned",
        Any,
        &pairs(true, app),
    );
    let mut ka = |file: &'static str,
                  upstream: &'static str,
                  ours: &'static str,
                  facet: Facet,
                  obj: &'static str,
                  fires: bool,
                  why: Option<&'static str>| {
        rows.push((file, upstream, ours, facet, obj, fires, why));
    };
    ka(
        "kubeaudit_privileged-true.yml",
        "privileged: PrivilegedTrue",
        "no-privileged",
        Any,
        "DaemonSet/daemonset",
        true,
        None,
    );
    ka(
        "kubeaudit_privileged-nil.yml",
        "privileged: PrivilegedNil",
        "no-privileged",
        Any,
        "DaemonSet/daemonset",
        true,
        Some(PRIVILEGED_NIL),
    );
    ka(
        "kubeaudit_privileged-true-allowed.yml",
        "privileged: PrivilegedTrueAllowed",
        "no-privileged",
        Any,
        "DaemonSet/daemonset",
        false,
        None,
    );
    ka(
        "kubeaudit_allow-privilege-escalation-true.yml",
        "privesc: AllowPrivilegeEscalationTrue",
        "no-privilege-escalation",
        Any,
        "StatefulSet/statefulset",
        true,
        None,
    );
    ka(
        "kubeaudit_allow-privilege-escalation-nil.yml",
        "privesc: AllowPrivilegeEscalationNil",
        "no-privilege-escalation",
        Any,
        "StatefulSet/statefulset",
        true,
        None,
    );
    ka(
        "kubeaudit_read-only-root-filesystem-false.yml",
        "rootfs: ReadOnlyRootFilesystemFalse",
        "read-only-root-filesystem",
        Any,
        "StatefulSet/statefulset",
        true,
        None,
    );
    ka(
        "kubeaudit_read-only-root-filesystem-nil.yml",
        "rootfs: ReadOnlyRootFilesystemNil",
        "read-only-root-filesystem",
        Any,
        "StatefulSet/statefulset",
        true,
        None,
    );
    ka(
        "kubeaudit_run-as-non-root-nil.yml",
        "nonroot: RunAsNonRootPSCNilCSCNil",
        "run-as-non-root",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_run-as-non-root-false.yml",
        "nonroot: RunAsNonRootCSCFalse",
        "run-as-non-root",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_run-as-non-root-psc-true.yml",
        "nonroot: (none)",
        "run-as-non-root",
        Any,
        "Pod/pod",
        false,
        None,
    );
    ka(
        "kubeaudit_run-as-non-root-psc-false-csc-true.yml",
        "nonroot: (none)",
        "run-as-non-root",
        Any,
        "Pod/pod",
        false,
        None,
    );
    ka(
        "kubeaudit_run-as-user-0.yml",
        "nonroot: RunAsUserCSCRoot",
        "run-as-non-root",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_run-as-user-psc-1.yml",
        "nonroot: (none)",
        "run-as-non-root",
        Any,
        "Pod/pod",
        false,
        None,
    );
    ka(
        "kubeaudit_capabilities-nil.yml",
        "capabilities: CapabilityOrSecurityContextMissing",
        "drop-all-capabilities",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_capabilities-added.yml",
        "capabilities: CapabilityAdded",
        "drop-all-capabilities",
        Mentions("adds capability"),
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_capabilities-dropped-all.yml",
        "capabilities: (none)",
        "drop-all-capabilities",
        Any,
        "Deployment/deployment",
        false,
        None,
    );
    ka(
        "kubeaudit_capabilities-some-dropped.yml",
        "capabilities: CapabilityShouldDropAll",
        "drop-all-capabilities",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_namespaces-all-true.yml",
        "hostns: NamespaceHostNetworkTrue",
        "no-host-namespaces",
        Mentions("hostNetwork"),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_namespaces-all-true.yml",
        "hostns: NamespaceHostIPCTrue",
        "no-host-namespaces",
        Mentions("hostIPC"),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_namespaces-all-true.yml",
        "hostns: NamespaceHostPIDTrue",
        "no-host-namespaces",
        Mentions("hostPID"),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_host-network-true.yml",
        "hostns: NamespaceHostNetworkTrue",
        "no-host-namespaces",
        Any,
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_service-account-token-false.yml",
        "asat: (none)",
        "no-service-account-token",
        Any,
        "ReplicationController/replicationcontroller",
        false,
        None,
    );
    ka(
        "kubeaudit_service-account-token-true-and-no-name.yml",
        "asat: AutomountServiceAccountTokenTrueAndDefaultSA",
        "no-service-account-token",
        Any,
        "ReplicationController/replicationcontroller",
        true,
        None,
    );
    ka(
        "kubeaudit_service-account-token-nil-and-no-name-and-default-sa.yml",
        "asat: (none)",
        "no-service-account-token",
        Any,
        "ReplicationController/replicationcontroller",
        false,
        None,
    );
    ka(
        "kubeaudit_image-tag-missing.yml",
        "image: ImageTagMissing",
        "image-tag-pinned",
        Any,
        "Deployment/deployment",
        true,
        None,
    );
    ka(
        "kubeaudit_image-tag-present.yml",
        "image (no config): (none)",
        "image-tag-pinned",
        Any,
        "Deployment/deployment",
        false,
        None,
    );
    ka(
        "kubeaudit_resources-limit-nil.yml",
        "limits: LimitsNotSet",
        "resource-requests-limits",
        Mentions("limit"),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_resources-limit.yml",
        "limits (no config): (none)",
        "resource-requests-limits",
        Any,
        "Pod/pod",
        false,
        None,
    );
    ka(
        "kubeaudit_resources-limit-no-cpu.yml",
        "limits: LimitsCPUNotSet",
        "resource-requests-limits",
        Mentions("cpu limit"),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_docker-sock-mounted.yml",
        "mounts: SensitivePathsMounted",
        "no-host-path",
        AtLeast(Severity::High),
        "Pod/pod",
        true,
        None,
    );
    ka(
        "kubeaudit_proc-mounted.yml",
        "mounts: SensitivePathsMounted",
        "no-host-path",
        AtLeast(Severity::High),
        "Pod/pod",
        true,
        None,
    );
    rows
}

#[test]
fn verdicts_on_upstream_test_manifests_match_expected_md() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/manifests");
    if !corpus.join("EXPECTED.md").is_file() {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "SKIPPED: {} is absent; the comparison with upstream expectations was skipped\n",
                corpus.display()
            )
            .as_bytes(),
        );
        return;
    }
    let mut table = String::from(
        "| file | upstream | ours | object | upstream fires | we fire | verdict |\n|---|---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    let (mut agree, mut disagree) = (0, 0);
    for (file, upstream, ours, facet, obj, fires, why) in expectations() {
        let path = corpus.join(file);
        // Each file alone, as the upstream tests run them.
        let report = scan_with(&path, Config::default());
        let objs = object_lines(&path);
        assert!(
            objs.iter().any(|(o, _, _)| o == obj),
            "{file}: no object {obj}"
        );
        let we_fire = of_check(&report, ours)
            .filter(|f| f.suppressed.is_none())
            .any(|f| {
                object_at(&objs, f.location.line) == Some(obj)
                    && match facet {
                        Facet::Any => true,
                        Facet::Mentions(s) => f.message.contains(s),
                        Facet::AtLeast(s) => f.severity >= s,
                    }
            });
        let verdict = match (we_fire == fires, why) {
            (true, None) => {
                agree += 1;
                "agree".to_string()
            }
            (false, Some(reason)) => {
                disagree += 1;
                format!("disagree: {reason}")
            }
            (true, Some(_)) => {
                failures.push(format!(
                    "{file} {obj}: documented as a disagreement but we now agree"
                ));
                "?".into()
            }
            (false, None) => {
                failures.push(format!(
                    "{file} {obj} ({ours}): upstream fires={fires}, we fire={we_fire}"
                ));
                "?".into()
            }
        };
        table.push_str(&format!(
            "| {file} | {upstream} | {ours} | {obj} | {fires} | {we_fire} | {verdict} |\n"
        ));
    }
    println!("{table}\n{agree} agreements, {disagree} documented disagreements");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-checks.md"),
    )
    .unwrap();
    let claim = format!(
        "{} verdicts (one per upstream assertion and object): {agree} agree, {disagree} disagree",
        agree + disagree
    );
    assert!(
        docs.contains(&claim),
        "docs/policy-checks.md should say: {claim}"
    );
}

// ---- docs/policy-checks.md -------------------------------------------------

const BEGIN: &str = "<!-- BEGIN GENERATED: per-check documentation (tests/policy.rs) -->";
const END: &str = "<!-- END GENERATED -->";

/// The per-check part of docs/policy-checks.md, from the checks' doc comments.
fn generated_check_docs() -> String {
    let mut out = String::new();
    for m in gitops_guard::detect::policy::all_meta() {
        let doc = m.doc();
        let body = doc
            .lines()
            .skip_while(|l| l.starts_with("# ") || l.is_empty())
            .map(|l| {
                if l.starts_with('#') {
                    format!("##{l}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push_str(&format!(
            "\n### `{}`\n\n{} — default severity **{}**.\n\n{body}\n\n**Fix:** {}\n",
            m.id, m.name, m.severity, m.remediation
        ));
    }
    out
}

#[test]
fn docs_policy_checks_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-checks.md");
    let text = std::fs::read_to_string(&path).expect("docs/policy-checks.md");
    let (head, rest) = text.split_once(BEGIN).expect("BEGIN marker");
    let (_, tail) = rest.split_once(END).expect("END marker");
    let want = format!("{head}{BEGIN}\n{}\n{END}{tail}", generated_check_docs());
    if want != text {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, want).unwrap();
        } else {
            panic!(
                "docs/policy-checks.md is out of date: run `UPDATE_DOCS=1 cargo test --test policy docs_`"
            );
        }
    }
    for id in CHECKS {
        assert!(
            head.contains(&format!("`{id}`")),
            "the overview does not mention {id}"
        );
    }
}
