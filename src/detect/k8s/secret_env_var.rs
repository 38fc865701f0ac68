//! `secret-env-var` and `secret-env-var-ref`: secrets in container
//! environment variables.
//!
//! ## What it does
//!
//! For every container, init container and ephemeral container of every
//! workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! ReplicationController, Job, CronJob, Argo Rollout, PodTemplate, …):
//!
//! - **`secret-env-var`** (high): an `env` entry whose name is secret-like
//!   (`DB_PASSWORD`, `GITHUB_TOKEN`, `API_KEY`, `clientSecret`, …; see
//!   `secret_names`) with a literal `value:` that is not a placeholder,
//!   reference, boolean, number or path — or any `env` entry whose literal
//!   value is a URL with a password (`postgres://app:pw@db/app`). Points at
//!   the value. Critical when a critical secret rule recognises the value.
//! - **`secret-env-var-ref`** (low, advisory): `valueFrom.secretKeyRef` and
//!   `envFrom.secretRef`. The value is not in Git, but environment variables
//!   leak into crash dumps, `/proc/<pid>/environ`, child processes and error
//!   reports; the Kubernetes and NSA/CISA hardening guides recommend mounting
//!   secrets as files. Points at the env entry's name (or the `secretRef`).
//!
//! Names that configure a secret rather than hold it (`PASSWORD_FILE`,
//! `TOKEN_PATH`, `SECRET_NAME`, `AUTH_URL`, `AUTH_ENABLED`, `TOKEN_TTL`) are
//! not secret-like.
//!
//! ## Example
//!
//! ```yaml
//! env:
//! - name: DB_PASSWORD
//!   value: s3cr3t-V4lue          # secret-env-var
//! - name: API_TOKEN
//!   valueFrom:
//!     secretKeyRef: {name: api, key: token}   # secret-env-var-ref
//! ```
//!
//! ## Use instead
//!
//! Put the value in a (SOPS-encrypted or sealed) Secret and mount it as a
//! volume; point the application at the file (`DB_PASSWORD_FILE`).

use super::secret_names::{is_secret_name, url_has_password};
use super::{describe, identity, is_literal_non_secret, rule_info, what_leaked};
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Severity};
use crate::manifest::{ContainerView, Node, Object, objects_of};

pub const RULE: &str = "secret-env-var";
pub const REF_RULE: &str = "secret-env-var-ref";

pub struct SecretEnvVar;

impl Detector for SecretEnvVar {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![
            rule_info(
                RULE,
                "Secret in a literal container env value",
                Category::SecretEnvVar,
                Severity::High,
                "A container env var with a secret-like name (PASSWORD, TOKEN, SECRET, API_KEY, \
                 PRIVATE_KEY, CREDENTIALS, …) has its value written in the manifest, so the \
                 secret is in Git.",
                "Move the value into an encrypted Secret (SOPS, Sealed Secrets, External \
                 Secrets) and mount it as a file; rotate the committed value.",
            ),
            rule_info(
                REF_RULE,
                "Secret passed through an environment variable",
                Category::SecretEnvVar,
                Severity::Low,
                "A container reads a Secret into its environment (valueFrom.secretKeyRef or \
                 envFrom.secretRef). Environment variables leak into crash dumps, \
                 /proc/<pid>/environ, child processes and error reports.",
                "Mount the Secret as a volume and read the file (many images accept \
                 `<NAME>_FILE`); advisory.",
            ),
        ]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        // Every pod spec has `containers`; `env` may be `env:` or `envFrom:`.
        let has = |hay: &[u8], n: &[u8]| memchr::memmem::find(hay, n).is_some();
        let workload = |hay: &[u8]| has(hay, b"containers") && has(hay, b"env");
        if !input.is_yaml_or_json() || !workload(input.bytes) {
            return;
        }
        // A document is parsed only if it is a kind with a pod spec (a JSON
        // schema or a search index mentions containers and env too).
        let pod_kind = |doc: &[u8]| {
            Object::POD_KINDS
                .iter()
                .any(|k| input.mentions_kind(doc, k))
        };
        // A full history leaves the advisory out: then a `secretKeyRef` is
        // no reason to parse.
        let refs = cx.wants_rule(REF_RULE);
        input.check_documents(
            cx.doc_memo,
            "secret-env-var",
            |doc| {
                workload(doc)
                    && pod_kind(doc)
                    && !crate::detect::is_crd_text(doc)
                    && may_have_findings(doc, refs)
            },
            |docs, out| {
                for obj in objects_of(docs.iter().copied()) {
                    let Some(pod) = obj.pod_spec() else { continue };
                    for c in pod.containers() {
                        check_container(input, cx, &obj, &c, out);
                    }
                }
            },
            out,
        );
    }
}

/// Whether a workload's text may hold what this check reports: a
/// secret-named env var (by its `name:`), a URL with a password, a
/// `secretKeyRef` or an `envFrom` `secretRef` (when the advisory is wanted,
/// `refs`). Most versions of most
/// workloads hold none, and are then not parsed.
fn may_have_findings(doc: &[u8], refs: bool) -> bool {
    (refs
        && (memchr::memmem::find(doc, b"secretKeyRef").is_some()
            || memchr::memmem::find(doc, b"secretRef").is_some()))
        || std::str::from_utf8(doc).is_ok_and(super::secret_names::url_has_password)
        || super::secret_names::text_names_a_secret(doc)
}

fn container_label(c: &ContainerView<'_>) -> String {
    match c.name() {
        Some(n) => format!("container \"{n}\""),
        None => format!("{} [{}]", c.kind.field(), c.index),
    }
}

fn check_container(
    input: &Input<'_>,
    cx: &Context<'_>,
    obj: &Object<'_>,
    c: &ContainerView<'_>,
    out: &mut Output,
) {
    let desc = describe(obj);
    let who = container_label(c);
    for env in c.env() {
        let Some(name) = env.name() else { continue };
        if let Some(value) = env.value()
            && let Some(text) = value.as_str()
            && !value.from_alias
        {
            let secret_named = is_secret_name(name) && !is_literal_non_secret(text);
            let url_creds = url_has_password(text);
            if secret_named || url_creds {
                let (recognised, worst) = what_leaked(cx, text.as_bytes());
                let what = match recognised.first() {
                    Some(r) => format!(" ({} {r})", super::article(r)),
                    None if url_creds && !secret_named => " (a URL with a password)".to_string(),
                    None => String::new(),
                };
                let message = format!(
                    "{desc}: {who} sets {name} to a literal value{what} at {}; the secret is in Git",
                    env.path.key("value")
                );
                out.findings.push(
                    Finding::new(
                        RULE,
                        Category::SecretEnvVar,
                        worst.map_or(Severity::High, |w| w.max(Severity::High)),
                        message,
                        super::value_location(input, value),
                    )
                    .with_secret(text.trim().to_string()),
                );
            }
        }
        if let Some(r) = env.secret_key_ref() {
            let secret = r.get("name").and_then(Node::as_str).unwrap_or("?");
            let key = r.get("key").and_then(Node::as_str).unwrap_or("?");
            let at = env.name_node().unwrap_or(env.node);
            out.findings.push(
                Finding::new(
                    REF_RULE,
                    Category::SecretEnvVar,
                    Severity::Low,
                    format!(
                        "{desc}: {who} reads key \"{key}\" of Secret \"{secret}\" into env {name}; \
                         mount the Secret as a file instead (env vars leak into logs, crash dumps \
                         and child processes)"
                    ),
                    advisory_location(input, at),
                )
                .with_identity(format!("{}/{}", identity(obj), env.path)),
            );
        }
    }
    for from in c.env_from() {
        let Some(r) = from.get("secretRef") else {
            continue;
        };
        let secret = r.get("name").and_then(Node::as_str).unwrap_or("?");
        let at = r.get("name").unwrap_or(r);
        out.findings.push(
            Finding::new(
                REF_RULE,
                Category::SecretEnvVar,
                Severity::Low,
                format!(
                    "{desc}: {who} loads every key of Secret \"{secret}\" into its environment \
                     (envFrom); mount the Secret as files instead"
                ),
                advisory_location(input, at),
            )
            .with_identity(format!(
                "{}/{}",
                identity(obj),
                c.path.key("envFrom").named(secret)
            )),
        );
    }
}

/// The start of `node`, as an empty range. The pipeline masks the span of
/// every finding in a secret category in its code frame; an advisory about
/// a *reference* has no secret to hide, and the env var or Secret name it
/// points at should stay readable.
fn advisory_location(input: &Input<'_>, node: &Node) -> crate::finding::Location {
    input.location(node.span.start, node.span.start)
}
