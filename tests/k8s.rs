//! The Kubernetes and GitOps detectors (issue 4): each fixture under
//! `fixtures/k8s/` fires on its `fire-*` objects and stays quiet on its
//! `dont-fire-*` objects, findings point at the exact value, the findings
//! are snapshotted as code frames, annotation suppression works, and the
//! real Flux example repositories in `../shared/corpus/gitops` get no high or
//! critical finding.

mod common;

use base64::Engine;
use gitops_guard::config::Config;
use gitops_guard::finding::{Category, Finding, Severity, Suppression};
use gitops_guard::manifest::{Limits, objects, parse_documents};
use gitops_guard::report::{RenderOptions, Report};
use gitops_guard::scan::{ScanOptions, Scanner, Stats};
use gitops_guard::{Mode, ScanRequest};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every rule id of the k8s family.
const K8S_RULES: &[&str] = &[
    "plaintext-secret-manifest",
    "secret-env-var",
    "secret-env-var-ref",
    "kustomize-secret-literal",
    "kustomize-secret-file",
    "helm-values-secret",
    "hardcoded-ip",
    "hardcoded-metadata-ip",
    "plain-http",
    "plain-http-source",
];

/// A scanner reporting this family's categories (and `secret`, which
/// `helm-values-secret` shares with the line rules it must not repeat), so
/// the code frames in the snapshots do not change with other families'
/// findings on the same lines.
fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let options = ScanOptions {
            categories: vec![
                Category::Secret,
                Category::PlaintextSecretManifest,
                Category::SecretEnvVar,
                Category::KustomizeSecretLiteral,
                Category::HardcodedIp,
                Category::PlainHttp,
            ],
            ..ScanOptions::default()
        };
        Scanner::new(Config::default(), options).expect("scanner")
    })
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    let p = crate_dir().join("fixtures/k8s").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Scan one blob through the whole per-blob pipeline (detectors, annotation
/// and inline suppressions, redacted code frames).
fn scan_blob(path: &str, text: &str) -> Vec<Finding> {
    scanner().scan_blob(path, text.as_bytes()).findings
}

fn of_rules<'a>(findings: &'a [Finding], rules: &[&str]) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| rules.contains(&f.rule.as_str()))
        .collect()
}

/// Scan a directory with the library's full scan (repo checks included).
fn scan_dir(dir: &Path) -> Report {
    gitops_guard::scan(ScanRequest {
        target: dir.to_path_buf(),
        mode: Mode::Worktree,
        config: Config::default(),
        options: ScanOptions::default(),
        baseline: None,
        fail_on: None,
    })
    .expect("scan")
}

/// kube-linter-style fixture check: every finding of `rules` falls inside a
/// named object; every `fire-*` object has at least one active finding and
/// every `dont-fire-*` object has none. Returns the active findings.
fn assert_fires_by_name<'a>(
    text: &str,
    findings: &[&'a Finding],
    rules: &[&str],
) -> Vec<&'a Finding> {
    let docs = parse_documents(text, &Limits::default()).expect("fixture is YAML");
    let objs: Vec<(String, usize, usize)> = objects(&docs)
        .iter()
        .filter_map(|o| {
            let name = o.name?.to_string();
            Some((name, o.node.span.line, o.node.span.end_line))
        })
        .collect();
    let fire = objs.iter().filter(|o| o.0.starts_with("fire-")).count();
    let quiet = objs
        .iter()
        .filter(|o| o.0.starts_with("dont-fire-"))
        .count();
    assert!(
        fire > 0 && quiet > 0,
        "a fixture needs fire-* and dont-fire-* objects"
    );
    let active: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| rules.contains(&f.rule.as_str()) && f.suppressed.is_none())
        .collect();
    let owner = |line: usize| {
        objs.iter()
            .filter(|o| o.1 <= line && line <= o.2)
            .min_by_key(|o| o.2 - o.1)
            .map(|o| o.0.as_str())
    };
    for f in &active {
        let name = owner(f.location.line).unwrap_or_else(|| {
            panic!(
                "finding outside any named object: {}:{} {}",
                f.location.line, f.location.column, f.message
            )
        });
        assert!(
            !name.starts_with("dont-fire-"),
            "{name} must stay quiet, got {} at line {}: {}",
            f.rule,
            f.location.line,
            f.message
        );
    }
    for (name, _, _) in objs.iter().filter(|o| o.0.starts_with("fire-")) {
        assert!(
            active
                .iter()
                .any(|f| owner(f.location.line) == Some(name.as_str())),
            "{name} must fire ({rules:?})"
        );
    }
    active
}

/// Findings as code frames, the way `gitops-guard scan` prints them
/// (suppressed ones included and marked), for snapshots.
fn frames(findings: &[&Finding]) -> String {
    let report = Report {
        findings: findings.iter().map(|f| (*f).clone()).collect(),
        stats: Stats::default(),
        errors: Vec::new(),
        rules: scanner()
            .rule_infos()
            .into_iter()
            .filter(|r| K8S_RULES.contains(&r.id.as_str()))
            .collect(),
        fail_on: Severity::Medium,
        secrets_always_fail: false,
    };
    let mut out = Vec::new();
    let opts = RenderOptions {
        show_suppressed: true,
        ..RenderOptions::default()
    };
    gitops_guard::report::text::render(&report, &opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // Drop the summary line (it carries the scan's size and time).
    text.lines()
        .filter(|l| !l.contains(" scanned in "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_annotation_suppressed(findings: &[Finding], rules: &[&str], object_line_from: usize) {
    let suppressed: Vec<_> = findings
        .iter()
        .filter(|f| {
            rules.contains(&f.rule.as_str())
                && f.location.line >= object_line_from
                && matches!(f.suppressed, Some(Suppression::Annotation { .. }))
        })
        .collect();
    assert!(
        !suppressed.is_empty(),
        "the dont-fire-suppressed-by-annotation object must produce a suppressed {rules:?} finding"
    );
    for f in suppressed {
        let Some(Suppression::Annotation { reason }) = &f.suppressed else {
            unreachable!()
        };
        assert!(
            reason.as_deref().is_some_and(|r| !r.is_empty()),
            "the reason is kept"
        );
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"))]
        .matches('\n')
        .count()
        + 1
}

// ---------------------------------------------------------------------------
// plaintext-secret-manifest

#[test]
fn plaintext_secret_manifest_fixture() {
    let text = fixture("plaintext-secret-manifest.yaml");
    let findings = scan_blob("fixtures/k8s/plaintext-secret-manifest.yaml", &text);
    let rules = ["plaintext-secret-manifest"];
    let all = of_rules(&findings, &rules);
    let active = assert_fires_by_name(&text, &all, &rules);
    // Argo CD credential Secrets are critical; the rest high.
    for f in &active {
        let argo = f.message.starts_with("Argo CD");
        let expected = if argo {
            Severity::Critical
        } else {
            Severity::High
        };
        assert_eq!(f.severity, expected, "{}", f.message);
        assert!(f.secret.is_some(), "secret-bearing: {}", f.message);
    }
    // The public-repository Secret and the cluster Secret with IRSA are quiet;
    // only password and the config's bearer token of the others fire.
    assert_eq!(
        active
            .iter()
            .filter(|f| f.message.starts_with("Argo CD"))
            .count(),
        2
    );
    assert_annotation_suppressed(
        &findings,
        &rules,
        line_of(&text, "dont-fire-suppressed-by-annotation"),
    );
    insta::assert_snapshot!("plaintext_secret_manifest", frames(&all));
}

#[test]
fn plaintext_secret_points_at_each_value() {
    let text = fixture("plaintext-secret-manifest.yaml");
    let findings = scan_blob("p.yaml", &text);
    let at = |needle: &str| {
        let offset = text.find(needle).unwrap_or_else(|| panic!("{needle:?}"));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        (line_of(&text, needle), offset - line_start + 1)
    };
    let found: Vec<(usize, usize)> = of_rules(&findings, &["plaintext-secret-manifest"])
        .iter()
        .map(|f| (f.location.line, f.location.column))
        .collect();
    // data.password of fire-opaque-data, stringData.DB_PASSWORD, the bearer
    // token inside the Argo CD cluster config JSON, the last-applied copy.
    for needle in [
        "aHVudGVyMi1maXh0dXJl\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: fire-string-data",
        "hunter2-fixture\n  host",
        "fixture-bearer-token-value",
        "aHVudGVyMi1maXh0dXJl\"},\"kind\"",
    ] {
        assert!(
            found.contains(&at(needle)),
            "no finding at {needle:?}: {found:?}"
        );
    }
}

#[test]
fn decoded_secret_data_says_what_leaked() {
    // Token-shaped values are generated at test time, never committed.
    let aws = common::aws_key_id("k8s-plaintext-secret");
    let gh = common::github_token("k8s-plaintext-secret");
    let b64 = base64::engine::general_purpose::STANDARD.encode(aws.as_bytes());
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaky\n  namespace: ci\ndata:\n  aws_key: {b64}\nstringData:\n  gh: {gh}\n"
    );
    let findings = scan_blob("leaky.yaml", &text);
    let ours = of_rules(&findings, &["plaintext-secret-manifest"]);
    assert_eq!(ours.len(), 2, "{ours:#?}");
    let aws_f = ours
        .iter()
        .find(|f| f.message.contains("data.aws_key"))
        .unwrap();
    assert!(
        aws_f
            .message
            .contains("data.aws_key holds an AWS access key ID"),
        "{}",
        aws_f.message
    );
    assert_eq!((aws_f.location.line, aws_f.location.column), (7, 12));
    assert!(aws_f.severity >= Severity::High);
    let gh_f = ours
        .iter()
        .find(|f| f.message.contains("stringData.gh"))
        .unwrap();
    assert!(gh_f.message.contains("holds a GitHub"), "{}", gh_f.message);
    // No secret in any message, and the code frames are redacted.
    for f in &findings {
        common::assert_redacted(&f.message, &[&aws, &gh, &b64]);
        let snippet = &f.snippet.as_ref().unwrap().text;
        common::assert_redacted(snippet, &[&aws, &gh, &b64]);
    }
}

#[test]
fn sops_encrypted_secret_is_not_reported_twice() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: ENC[AES256_GCM,data:Zml4,iv:Zml4,tag:Zml4,type:str]\n  note: left in clear by unencrypted_suffix\nsops:\n  mac: ENC[AES256_GCM,data:Zml4,iv:Zml4,tag:Zml4,type:str]\n";
    let findings = scan_blob("s.yaml", text);
    assert!(of_rules(&findings, &["plaintext-secret-manifest"]).is_empty());
}

// ---------------------------------------------------------------------------
// secret-env-var

#[test]
fn secret_env_var_fixture() {
    let text = fixture("secret-env-var.yaml");
    let findings = scan_blob("fixtures/k8s/secret-env-var.yaml", &text);
    let rules = ["secret-env-var", "secret-env-var-ref"];
    let all = of_rules(&findings, &rules);
    let active = assert_fires_by_name(&text, &all, &rules);
    for f in &active {
        match f.rule.as_str() {
            "secret-env-var" => {
                assert_eq!(f.severity, Severity::High, "{}", f.message);
                assert!(f.secret.is_some());
            }
            _ => {
                assert_eq!(f.severity, Severity::Low, "{}", f.message);
                assert!(f.message.contains("mount"), "{}", f.message);
                assert!(f.identity.is_some());
            }
        }
    }
    assert_annotation_suppressed(
        &findings,
        &rules,
        line_of(&text, "dont-fire-suppressed-by-annotation"),
    );
    insta::assert_snapshot!("secret_env_var", frames(&all));
}

#[test]
fn bundles_are_checked_document_by_document_around_crds() {
    // A release bundle: a CRD whose schema talks of containers, env and
    // Secrets (skipped before parsing), a Deployment with a literal password
    // and a Secret in plaintext after it, and a document that is not YAML.
    let password = ["S3cr", "etPa", "ss-9f2x"].concat();
    let text = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  \
         versions:\n  - schema:\n      openAPIV3Schema:\n        properties:\n          \
         containers:\n            description: env entries may reference a Secret\n\
         ---\nkind: Broken\nspec: [\n\
         ---\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{url: \"http://10.1.2.3/x\"}}\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  template:\n    \
         spec:\n      containers:\n      - name: web\n        env:\n        - name: DB_PASSWORD\n          \
         value: {password}\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData:\n  password: {password}\n"
    );
    let findings = scan_blob("deploy/install.yaml", &text);
    let env = of_rules(&findings, &["secret-env-var"]);
    assert_eq!(env.len(), 1, "{}", frames(&env));
    assert_eq!(env[0].location.line, line_of(&text, "value: "));
    let secret = of_rules(&findings, &["plaintext-secret-manifest"]);
    assert_eq!(secret.len(), 1, "{}", frames(&secret));
    assert_eq!(secret[0].location.line, line_of(&text, "stringData:") + 1);
}

#[test]
fn annotations_suppress_in_a_bundle_that_is_not_yaml_as_a_whole() {
    // One broken document makes the whole parse fail (the IP and HTTP checks
    // ask for it); the Secret is still checked document by document, and so
    // is its ignore annotation.
    let password = ["Vb4", "nKq", "-7tPw2"].concat();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    \
         gitops-guard.io/ignore: plaintext-secret-manifest=rotated\nstringData:\n  password: {password}\n\
         ---\nkind: Broken\nspec: [\n\
         ---\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{url: \"http://10.1.2.3/x\"}}\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata: {{name: other}}\nstringData:\n  password: {password}\n"
    );
    let findings = scan_blob("deploy/bundle.yaml", &text);
    let secret = of_rules(&findings, &["plaintext-secret-manifest"]);
    assert_eq!(secret.len(), 2, "{}", frames(&secret));
    assert!(
        matches!(secret[0].suppressed, Some(Suppression::Annotation { .. })),
        "{}",
        frames(&secret)
    );
    assert!(secret[1].suppressed.is_none(), "{}", frames(&secret));
}

#[test]
fn documents_remembered_across_versions_give_the_findings_a_fresh_scan_gives() {
    // Three versions of a bundle, as a history holds them: the same
    // Deployment and Secret documents move down as documents are added
    // above them, one value changes, one document stops being YAML.
    let password = ["Qx7", "mPa", "ss-4kz"].concat();
    let deployment = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  template:\n    \
         spec:\n      containers:\n      - name: web\n        env:\n        - name: DB_PASSWORD\n          \
         value: {password}\n        - name: API_TOKEN\n          valueFrom: {{secretKeyRef: {{name: a, key: b}}}}\n"
    );
    let secret = format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData:\n  password: {password}\n"
    );
    let filler = |n: usize| -> String {
        (0..n)
            .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{a: b}}\n"))
            .collect()
    };
    let versions = [
        format!("{deployment}{secret}"),
        format!("{}{deployment}{secret}", filler(3)),
        format!(
            "{}{}{secret}---\nkind: Broken\nspec: [\n",
            filler(5),
            deployment.replace("API_TOKEN", "API_KEY")
        ),
    ];
    let options = ScanOptions {
        categories: vec![Category::PlaintextSecretManifest, Category::SecretEnvVar],
        ..ScanOptions::default()
    };
    let mut remembering = Scanner::new(Config::default(), options.clone()).unwrap();
    remembering.remember_across_blobs(64 << 20);
    let fresh = Scanner::new(Config::default(), options).unwrap();
    let key = |f: &Finding| {
        (
            f.rule.clone(),
            f.location.clone(),
            f.message.clone(),
            f.snippet.as_ref().map(|s| s.text.clone()),
        )
    };
    for round in 0..2 {
        for (v, text) in versions.iter().enumerate() {
            let path = format!("v{v}/install.yaml");
            let got: Vec<_> = remembering
                .scan_blob(&path, text.as_bytes())
                .findings
                .iter()
                .map(key)
                .collect();
            let want: Vec<_> = fresh
                .scan_blob(&path, text.as_bytes())
                .findings
                .iter()
                .map(key)
                .collect();
            assert_eq!(got, want, "round {round}, version {v}");
            assert_eq!(want.len(), 3, "{want:?}");
        }
    }
    let (replayed, checked) = remembering.doc_memo_counts();
    assert!(
        replayed > 2 * checked,
        "replayed {replayed}, checked {checked}"
    );
    assert_eq!(fresh.doc_memo_counts(), (0, 0));
}

#[test]
fn kube_linter_env_var_fixtures_agree() {
    // kube-linter's own fixtures (see corpus/manifests/EXPECTED.md):
    // env-var-secret fires on SECRET_BLAH in both objects, not on BLAH;
    // read-secret-from-env-var fires on TOKEN's secretKeyRef in both.
    let Some(corpus) = common::corpus() else {
        return;
    };
    let m = corpus.join("manifests");
    let read = |n: &str| std::fs::read_to_string(m.join(n)).unwrap();
    let text = read("kube-linter_env-var-secret.yml");
    let f = scan_blob("env-var-secret.yml", &text);
    let lit = of_rules(&f, &["secret-env-var"]);
    assert_eq!(lit.len(), 2, "{lit:#?}");
    assert!(lit.iter().all(|f| f.message.contains("SECRET_BLAH")));
    let text = read("kube-linter_read-secret-from-env-var.yml");
    let f = scan_blob("read-secret-from-env-var.yml", &text);
    let refs = of_rules(&f, &["secret-env-var-ref"]);
    assert_eq!(refs.len(), 2, "{refs:#?}");
    assert!(refs.iter().all(|f| f.message.contains("TOKEN")));
    // Its Secrets hold "aaaaaaa"/"bbbbbbb": placeholders, not leaks.
    let text = read("kube-linter_env-var-value-from.yml");
    let f = scan_blob("env-var-value-from.yml", &text);
    assert!(of_rules(&f, &["plaintext-secret-manifest"]).is_empty());
}

// ---------------------------------------------------------------------------
// kustomize-secret-literal / kustomize-secret-file

/// The fixture's path from the repository root: a scan of a directory
/// inside a repository reports repository-relative paths.
const KUSTOMIZATION: &str = "fixtures/k8s/kustomize-secret-literal/kustomization.yaml";

#[test]
fn kustomize_fixture() {
    let dir = crate_dir().join("fixtures/k8s/kustomize-secret-literal");
    let text = fixture("kustomize-secret-literal/kustomization.yaml");
    let report = scan_dir(&dir);
    let rules = ["kustomize-secret-literal", "kustomize-secret-file"];
    let all: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.location.path == KUSTOMIZATION && rules.contains(&f.rule.as_str()))
        .collect();
    let active = assert_fires_by_name(&text, &all, &rules);
    assert!(active.iter().all(|f| f.severity == Severity::High));
    // The quoted literal points inside the quotes.
    let tok = active
        .iter()
        .find(|f| f.message.contains("API_TOKEN"))
        .expect("API_TOKEN literal");
    let line = text.lines().nth(tok.location.line - 1).unwrap();
    assert_eq!(
        &line[tok.location.column - 1..tok.location.end_column - 1],
        "fixture-token-value"
    );
    // Findings elsewhere in the tree are not this rule's.
    assert!(
        report
            .findings
            .iter()
            .filter(|f| rules.contains(&f.rule.as_str()))
            .all(|f| f.location.path == KUSTOMIZATION)
    );
    let mut sorted = all.clone();
    sorted.sort_by_key(|f| (f.location.line, f.location.column));
    insta::assert_snapshot!("kustomize_secret_literal", frames(&sorted));
}

#[test]
fn kustomize_file_check_joins_by_resolved_path() {
    let tmp = tempfile::tempdir().unwrap();
    common::write_tree(
        tmp.path(),
        &[
            (
                "apps/db/kustomization.yaml",
                "secretGenerator:\n- name: db\n  envs: [../shared/db.env]\n  files: [tls.key=certs/tls.key, missing.txt]\n",
            ),
            ("apps/shared/db.env", "PASSWORD=hunter2\n"),
            ("apps/db/certs/tls.key", "   \n"),
        ],
    );
    let report = scan_dir(tmp.path());
    let files: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "kustomize-secret-file")
        .collect();
    assert_eq!(files.len(), 1, "{files:#?}");
    let f = files[0];
    assert_eq!(f.location.path, "apps/db/kustomization.yaml");
    assert_eq!((f.location.line, f.location.column), (3, 10));
    assert!(f.message.contains("apps/shared/db.env"), "{}", f.message);
    // Suppressions where the entry is written: inline comment, annotation.
    common::write_tree(
        tmp.path(),
        &[
            (
                "apps/inline/kustomization.yaml",
                "secretGenerator:\n- name: a\n  envs:\n  - ../shared/db.env # gitops-guard:allow dev only\n",
            ),
            (
                "apps/annotated/kustomization.yaml",
                "metadata:\n  annotations:\n    gitops-guard.io/ignore: kustomize-secret-file=lab cluster\nsecretGenerator:\n- name: a\n  envs: [../shared/db.env]\n  literals: [password=hunter2]\n",
            ),
        ],
    );
    let report = scan_dir(tmp.path());
    let by_path = |p: &str, rule: &str| {
        report
            .findings
            .iter()
            .find(|f| f.location.path == p && f.rule == rule)
            .unwrap_or_else(|| panic!("{rule} in {p}"))
    };
    assert!(matches!(
        by_path("apps/inline/kustomization.yaml", "kustomize-secret-file").suppressed,
        Some(Suppression::Inline { .. })
    ));
    assert!(matches!(
        &by_path("apps/annotated/kustomization.yaml", "kustomize-secret-file").suppressed,
        Some(Suppression::Annotation { reason: Some(r) }) if r == "lab cluster"
    ));
    // The annotation names only the file check: the literal still counts.
    assert!(
        by_path(
            "apps/annotated/kustomization.yaml",
            "kustomize-secret-literal"
        )
        .suppressed
        .is_none()
    );
    // Disabling the check by id removes it.
    let mut config = Config::default();
    config.rules.disable.push("kustomize-secret-file".into());
    let report = gitops_guard::scan(ScanRequest {
        target: tmp.path().to_path_buf(),
        mode: Mode::Worktree,
        config,
        options: ScanOptions::default(),
        baseline: None,
        fail_on: None,
    })
    .unwrap();
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule != "kustomize-secret-file")
    );
}

// ---------------------------------------------------------------------------
// helm-values-secret

#[test]
fn helm_values_secret_fixture() {
    let text = fixture("helm-values-secret.yaml");
    let findings = scan_blob("fixtures/k8s/helm-values-secret.yaml", &text);
    let rules = ["helm-values-secret"];
    let all = of_rules(&findings, &rules);
    let active = assert_fires_by_name(&text, &all, &rules);
    assert!(
        active
            .iter()
            .all(|f| f.severity == Severity::High && f.secret.is_some())
    );
    // One leak, one finding: where the generic line rule reports a value,
    // this rule does not, and the value is still reported once.
    for needle in ["fixture-Pg3Wm8Xc5", "fixture-Ad2Nq7Lv4"] {
        let line = line_of(&text, needle);
        let here: Vec<_> = findings
            .iter()
            .filter(|f| f.location.line == line)
            .collect();
        assert_eq!(here.len(), 1, "{needle}: {here:#?}");
        assert_eq!(here[0].rule, "generic-secret-assignment");
    }
    assert_annotation_suppressed(
        &findings,
        &rules,
        line_of(&text, "dont-fire-suppressed-by-annotation"),
    );
    insta::assert_snapshot!("helm_values_secret", frames(&all));
}

#[test]
fn argo_helm_values_string_maps_positions_back() {
    // A name/value pair inside Argo CD's `helm.values` string: the line rule
    // cannot see the name, so this rule reports, at the value's exact place.
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: app}\nspec:\n  source:\n    helm:\n      values: |\n        extraEnv:\n        - name: ADMIN_TOKEN\n          value: fixture-Vz8Qe4Tn2\n";
    let findings = scan_blob("app.yaml", text);
    let ours = of_rules(&findings, &["helm-values-secret"]);
    assert_eq!(ours.len(), 1, "{findings:#?}");
    let f = ours[0];
    assert_eq!((f.location.line, f.location.column), (10, 18));
    assert!(
        f.message
            .contains("spec.source.helm.values.extraEnv[ADMIN_TOKEN].value"),
        "{}",
        f.message
    );
}

#[test]
fn helm_values_files_are_walked_whole() {
    let text = "postgresql:\n  auth:\n    existingSecret: pg\n    password: >-\n      fixture-Lq2Wz9Xr4\nextraEnv:\n- name: SMTP_PASSWORD\n  value: fixture-Sm3Tp7Qk1\nimage:\n  tag: 1.2.3\n";
    for name in ["values.yaml", "values-prod.yaml", "prod-values.yml"] {
        let findings = scan_blob(&format!("charts/app/{name}"), text);
        let ours = of_rules(&findings, &["helm-values-secret"]);
        let paths: Vec<_> = ours
            .iter()
            .map(|f| (f.location.line, f.message.clone()))
            .collect();
        assert_eq!(ours.len(), 2, "{name}: {paths:#?}");
        assert!(ours[0].message.contains("postgresql.auth.password"));
        assert!(ours[1].message.contains("extraEnv[SMTP_PASSWORD].value"));
        assert_eq!(ours[1].location.line, 8);
    }
    // The same text in a file that is not a values file is not walked.
    let findings = scan_blob("config/app.yaml", text);
    assert!(of_rules(&findings, &["helm-values-secret"]).is_empty());
}

// ---------------------------------------------------------------------------
// hardcoded-ip

#[test]
fn hardcoded_ip_fixture() {
    let text = fixture("hardcoded-ip.yaml");
    let findings = scan_blob("fixtures/k8s/hardcoded-ip.yaml", &text);
    let rules = ["hardcoded-ip", "hardcoded-metadata-ip"];
    let all = of_rules(&findings, &rules);
    let active = assert_fires_by_name(&text, &all, &rules);
    for f in &active {
        let expected = if f.rule == "hardcoded-metadata-ip" {
            Severity::High
        } else if f.message.contains("private IP") {
            Severity::Low
        } else {
            Severity::Medium
        };
        assert_eq!(f.severity, expected, "{}", f.message);
        // The finding's span is exactly the address.
        let line = text.lines().nth(f.location.line - 1).unwrap();
        let shown: String = line
            .chars()
            .skip(f.location.column - 1)
            .take(f.location.end_column - f.location.column)
            .collect();
        assert!(f.message.contains(&shown), "{shown:?} vs {}", f.message);
        assert!(f.identity.is_some());
    }
    assert_eq!(
        active
            .iter()
            .filter(|f| f.rule == "hardcoded-metadata-ip")
            .count(),
        1
    );
    assert_annotation_suppressed(
        &findings,
        &rules,
        line_of(&text, "dont-fire-suppressed-by-annotation"),
    );
    insta::assert_snapshot!("hardcoded_ip", frames(&all));
}

#[test]
fn hardcoded_ip_in_env_and_properties_files() {
    let env = "# upstream 8.8.8.8 is documented here\nDB_HOST=203.0.114.7\nexport CACHE=10.1.2.3:6379\nNO_PROXY=10.0.0.1\nAPP_VERSION=1.2.3.4\nSUBNET=10.0.0.0/8\nIMDS=http://169.254.169.254/latest\n";
    let findings = scan_blob("deploy/.env", env);
    let got: Vec<_> = of_rules(&findings, &["hardcoded-ip", "hardcoded-metadata-ip"])
        .iter()
        .map(|f| (f.location.line, f.location.column, f.severity))
        .collect();
    assert_eq!(
        got,
        [
            (2, 9, Severity::Medium),
            (3, 14, Severity::Low),
            (7, 13, Severity::High)
        ]
    );
    let props = "! comment 52.1.2.3\ndb.host: 52.1.2.4\nserver.version = 1.2.3.4\n";
    let findings = scan_blob("app.properties", props);
    let got: Vec<_> = of_rules(&findings, &["hardcoded-ip"])
        .iter()
        .map(|f| (f.location.line, f.location.column))
        .collect();
    assert_eq!(got, [(2, 10)]);
    // Other text files are not this rule's business.
    assert!(of_rules(&scan_blob("notes.txt", env), &["hardcoded-ip"]).is_empty());
}

// ---------------------------------------------------------------------------
// plain-http

#[test]
fn plain_http_fixture() {
    let text = fixture("plain-http.yaml");
    let findings = scan_blob("fixtures/k8s/plain-http.yaml", &text);
    let rules = ["plain-http", "plain-http-source"];
    let all = of_rules(&findings, &rules);
    let active = assert_fires_by_name(&text, &all, &rules);
    for f in &active {
        let info = f.message.contains("internal host");
        let expected = match (f.rule.as_str(), info) {
            (_, true) => Severity::Info,
            ("plain-http-source", false) => Severity::High,
            _ => Severity::Medium,
        };
        assert_eq!(f.severity, expected, "{}", f.message);
        let line = text.lines().nth(f.location.line - 1).unwrap();
        assert!(
            line[f.location.column - 1..]
                .to_ascii_lowercase()
                .starts_with("http://"),
            "points at the URL: {line}"
        );
    }
    // fire-info-* objects are info only.
    let info_line = line_of(&text, "fire-info-cluster-internal");
    assert!(
        active
            .iter()
            .filter(|f| f.location.line > info_line && f.location.line < info_line + 8)
            .all(|f| f.severity == Severity::Info)
    );
    assert_eq!(
        active
            .iter()
            .filter(|f| f.rule == "plain-http-source")
            .count(),
        3
    );
    assert_annotation_suppressed(
        &findings,
        &rules,
        line_of(&text, "dont-fire-suppressed-by-annotation"),
    );
    insta::assert_snapshot!("plain_http", frames(&all));
}

#[test]
fn plain_http_in_kustomization_remote_resources() {
    let text = "resources:\n- http://git.corp-example.com/bases/app?ref=v1\n- https://github.com/org/base\n- ./local\n";
    let findings = scan_blob("overlays/prod/kustomization.yaml", text);
    let ours = of_rules(&findings, &["plain-http-source"]);
    assert_eq!(ours.len(), 1, "{findings:#?}");
    assert_eq!((ours[0].location.line, ours[0].location.column), (2, 3));
}

// ---------------------------------------------------------------------------
// Robustness and metadata

#[test]
fn templates_and_garbage_are_ignored_quietly() {
    let inputs = [
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  password: {{ .Values.password | b64enc }}\n",
        "kind: Secret\ndata: [1, 2, {3: 4}]\nstringData: plain\n",
        "kind: Secret\ndata:\n  ? [complex, key]\n  : value\n",
        "kind: Pod\nspec:\n  containers:\n  - env: {not: a list}\n  - env: [{name: [x], value: {y: z}}]\n",
        "secretGenerator: oops\n",
        "secretGenerator:\n- literals: [{a: b}, '=', 'K=']\n  envs: {x: y}\n",
        "\u{feff}kind: ConfigMap\ndata:\n  a: \"http://[::1\"\n  b: '999.1.1.1 1.1.1.1.1 ::ffff:'\n",
        "kind: Application\napiVersion: argoproj.io/v1alpha1\nspec:\n  source:\n    helm:\n      values: 'a: [unclosed'\n",
    ];
    for (i, text) in inputs.iter().enumerate() {
        for name in ["x.yaml", "kustomization.yaml", "values.yaml", ".env"] {
            // Must not panic; findings, if any, are the line rules'.
            let _ = scanner().scan_blob(&format!("{i}/{name}"), text.as_bytes());
        }
    }
    let huge = "a: ".to_string() + &"1.2.3.4 http://x.example.com/ ".repeat(50_000);
    let started = std::time::Instant::now();
    let _ = scanner().scan_blob("values.yaml", huge.as_bytes());
    assert!(started.elapsed().as_secs() < 20, "linear on long scalars");
}

#[test]
fn every_rule_has_metadata() {
    let infos = scanner().rule_infos();
    for id in K8S_RULES {
        let info = infos
            .iter()
            .find(|r| r.id == *id)
            .unwrap_or_else(|| panic!("{id} has no rule metadata"));
        assert!(
            !info.description.is_empty() && !info.remediation.is_empty(),
            "{id}"
        );
        assert!(!info.name.is_empty(), "{id}");
    }
}

// ---------------------------------------------------------------------------
// Real GitOps repositories: no high or critical finding.

#[test]
fn corpus_gitops_has_no_high_findings() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("gitops");
    if !dir.is_dir() {
        common::skipped(&format!("{} is absent; corpus test skipped", dir.display()));
        return;
    }
    let report = scan_dir(&dir);
    let ours: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| K8S_RULES.contains(&f.rule.as_str()))
        .collect();
    for f in &ours {
        eprintln!(
            "corpus: {}:{}:{} {} {} {}",
            f.location.path, f.location.line, f.location.column, f.severity, f.rule, f.message
        );
    }
    let high: Vec<_> = ours
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .collect();
    assert!(
        high.is_empty(),
        "high/critical findings in real Flux repos: {high:#?}"
    );
    assert!(report.stats.blobs_scanned > 40, "the corpus was scanned");
}
