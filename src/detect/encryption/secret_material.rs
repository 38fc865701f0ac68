//! What counts as secret material for the repo-level checks
//! ([`sops_creation_rule`](super::sops_creation_rule),
//! [`flux_sops_decryption`](super::flux_sops_decryption)).
//!
//! A `.sops.yaml` creation rule is a recipe for encrypting, not a promise
//! that every file it matches is secret: a catch-all `\.yaml$` rule also
//! matches ConfigMaps, Deployments and `kustomization.yaml`. So a plaintext
//! file only counts when it holds secret material:
//!
//! 1. a Kubernetes `Secret` with a `data`/`stringData` value that is
//!    non-empty, not a placeholder and not itself a SOPS document (Flux
//!    decrypts base64-encoded SOPS payloads inside a Secret's `data`);
//! 2. in a file without Kubernetes objects (Helm values, dotenv, INI,
//!    properties, plain JSON/YAML config): a secret-named key (`password`,
//!    `apiKey`, `client_secret`, … — not `passwordFile`, `secretName`)
//!    holding a literal, non-placeholder value;
//! 3. in such a config file, a value a secret rule matched (reported in
//!    this blob by the secret rules, which run first) — not in arbitrary
//!    files (a PEM key or a README is the secret rules' finding alone);
//! 4. a data file (not a workload manifest, not under `.github/`/`.gitlab/`)
//!    named like an encrypted or secret file (`*.enc.*`, `*secret*`) that
//!    holds a non-placeholder value.
//!
//! Files with other Kubernetes kinds (ConfigMap, SealedSecret,
//! ExternalSecret, …) and Kustomize files never count: a leaked value in a
//! ConfigMap is the secret rules' finding, a `secretGenerator` literal the
//! Kustomize checks'.

use super::sops_tree::{self, Reading};
use crate::detect::Input;
use crate::detect::placeholder::is_placeholder;
use crate::finding::{Category, Finding};
use crate::manifest::{Document, Node, Object, Value, objects_of};
use base64::Engine;

/// Whether a key name says its value is a secret (`password`, `apiKey`,
/// `client_secret`; not `passwordFile`, `secretName`, `tokenTTL`). The
/// heuristic is shared with the Kubernetes checks (`detect::k8s::secret_names`)
/// so both families agree on what a secret-named key is.
pub fn is_secret_name(name: &str) -> bool {
    crate::detect::k8s::secret_names::is_secret_name(name)
}

/// Why a file holds secret material, and the first line that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub line: usize,
    /// For messages: "Kubernetes Secret `db`", "secret-named key `db.password`",
    /// "its name `app.enc.yaml` marks it as secret".
    pub what: String,
}

/// A literal value that could be a credential (not empty, not a template or
/// placeholder, not a boolean, number or ENC value).
pub fn is_literal(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || is_placeholder(v) || v.starts_with("ENC[") {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    !(matches!(
        lower.as_str(),
        "true" | "false" | "null" | "none" | "nil" | "yes" | "no" | "on" | "off" | "~"
    ) || v.parse::<f64>().is_ok())
}

/// Whether a Secret's `data` value (base64) holds a SOPS document, as Flux
/// decrypts it (`inside` Secrets).
fn is_sops_payload(decoded: &[u8]) -> bool {
    memchr::memmem::find(decoded, b"ENC[AES256_GCM,").is_some()
        && memchr::memmem::find(decoded, b"sops").is_some()
}

/// The first plaintext value of a Kubernetes Secret, if any: its node.
pub fn secret_plaintext_value<'a>(obj: &Object<'a>) -> Option<&'a Node> {
    for field in ["stringData", "data"] {
        let Some(map) = obj.get(field) else { continue };
        for (_, v) in map.entries() {
            let Some(text) = v.as_str() else { continue };
            if field == "data" {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                match base64::engine::general_purpose::STANDARD.decode(&compact) {
                    Ok(d) if is_sops_payload(&d) => continue,
                    Ok(d) => {
                        let s = String::from_utf8_lossy(&d);
                        if s.trim().is_empty() || is_placeholder(s.trim()) {
                            continue;
                        }
                        return Some(v);
                    }
                    Err(_) if !is_literal(text) => continue,
                    Err(_) => return Some(v),
                }
            } else if is_literal(text) {
                return Some(v);
            }
        }
    }
    None
}

/// Whether an object is a core `Secret`.
pub fn is_k8s_secret(obj: &Object<'_>) -> bool {
    obj.kind == Some("Secret") && obj.api_group().is_none_or(|g| g.is_empty())
}

/// Names SOPS creation rules often match that are never a secret file.
fn is_never_secret_file(lower_name: &str) -> bool {
    matches!(
        lower_name,
        ".sops.yaml" | ".sops.yml" | "kustomization.yaml" | "kustomization.yml" | "kustomization"
    ) || lower_name == ".gitops-guard.toml"
}

/// The evidence that a plaintext (non-SOPS) blob holds secret material, or
/// `None`. `earlier` are the findings other detectors already made for this
/// blob (the secret rules run first).
pub fn evidence(input: &Input<'_>, earlier: &[Finding]) -> Option<Evidence> {
    let lower = input.file_name().to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    let key_value = sops_tree::is_dotenv_name(&lower)
        || matches!(ext, "ini" | "cfg" | "conf" | "properties" | "toml" | "env");
    let data_file = key_value || matches!(ext, "txt" | "pem" | "key" | "crt" | "json");
    // Source code, docs and web assets never count (see the cases above):
    // decided by name, before any byte is read.
    if !(input.is_yaml_or_json() || data_file)
        || is_never_secret_file(&lower)
        || super::age_file::is_age_candidate(input.path, input.bytes)
    {
        return None;
    }
    let secret_hit = earlier
        .iter()
        .filter(|f| f.category == Category::Secret && f.location.path == input.path)
        .min_by_key(|f| f.location.line)
        .map(|f| Evidence {
            line: f.location.line,
            what: format!("a value the secret rules flag ({})", f.rule),
        });
    let named = lower.contains(".enc.") || lower.contains("secret");
    // Cheap first: most blobs have no secret-ish word at all, and a history
    // scan must not parse every YAML version for this.
    if secret_hit.is_none()
        && !named
        && !input.mentions_kind(input.bytes, "Secret")
        && !crate::detect::k8s::secret_names::text_keys_a_secret(input.bytes, ext == "json")
    {
        return None;
    }
    if !matches!(sops_tree::read(input), Reading::NotSops) {
        return None; // a SOPS file: the SOPS rules check its values
    }
    let text = input.text()?;
    if text.trim().is_empty() {
        return None;
    }
    if input.is_yaml_or_json() {
        // Kubernetes manifests (root-level `apiVersion:` and `kind:` lines)
        // are evidence only through a `kind: Secret`: without one, don't
        // parse a file no other detector has parsed (history scans hold
        // thousands of versions of multi-MB manifest bundles).
        // Within manifests, only the Secret documents are looked at (parsed
        // alone when the stream can be cut at its `---` lines).
        let secret_doc = |t: &[u8]| input.mentions_kind(t, "Secret");
        let docs: Vec<&Document> = if is_manifest_text(input.bytes) {
            if !secret_doc(input.bytes) {
                return None;
            }
            input.documents_where(secret_doc)?
        } else {
            input.documents()?.iter().collect()
        };
        let objs = objects_of(docs.iter().copied());
        let kinds = objs
            .iter()
            .any(|o| o.kind.is_some() && o.api_version.is_some());
        if kinds {
            if objs.iter().any(|o| {
                o.api_group() == Some("kustomize.config.k8s.io") || o.kind == Some("Kustomization")
            }) {
                return None;
            }
            return objs.iter().filter(|o| is_k8s_secret(o)).find_map(|o| {
                let v = secret_plaintext_value(o)?;
                Some(Evidence {
                    line: input.line_of(v.span.start),
                    what: format!("Kubernetes Secret `{}`", o.name.unwrap_or("?")),
                })
            });
        }
        if let Some(e) = docs
            .iter()
            .find_map(|d| named_leaf(input, &d.root, &mut Vec::new()))
        {
            return Some(e);
        }
        if secret_hit.is_some() {
            return secret_hit;
        }
        return named_like_secret(input, &lower, docs.iter().any(|d| has_literal(&d.root)));
    }
    if key_value {
        if let Some(e) = key_value_lines(input, text) {
            return Some(e);
        }
        if secret_hit.is_some() {
            return secret_hit;
        }
    }
    if data_file {
        return named_like_secret(input, &lower, text.lines().any(is_literal));
    }
    None
}

/// Root-level `apiVersion:` and `kind:` lines: the text is Kubernetes
/// manifests (a values file's nested `kind:` is indented).
fn is_manifest_text(bytes: &[u8]) -> bool {
    let at_line_start = |needle: &[u8]| {
        bytes.starts_with(needle)
            || memchr::memmem::find_iter(bytes, needle).any(|i| i > 0 && bytes[i - 1] == b'\n')
    };
    at_line_start(b"apiVersion:") && at_line_start(b"kind:")
}

fn named_like_secret(input: &Input<'_>, lower: &str, has_value: bool) -> Option<Evidence> {
    let ci = input.path.starts_with(".github/") || input.path.starts_with(".gitlab/");
    let named = lower.contains(".enc.") || lower.contains("secret");
    (named && has_value && !ci).then(|| Evidence {
        line: 1,
        what: format!("its name `{}` marks it as secret", input.file_name()),
    })
}

fn has_literal(node: &Node) -> bool {
    match &node.value {
        Value::Scalar(s) => !node.is_null() && is_literal(&s.text),
        Value::Seq(items) => items.iter().any(has_literal),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_literal(v)),
    }
}

/// The first secret-named key with a literal value (depth bounded by the parser).
fn named_leaf(input: &Input<'_>, node: &Node, path: &mut Vec<String>) -> Option<Evidence> {
    match &node.value {
        Value::Scalar(_) => None,
        Value::Seq(items) => items.iter().find_map(|i| named_leaf(input, i, path)),
        Value::Map(entries) => {
            for (k, v) in entries {
                let Some(key) = k.as_scalar() else { continue };
                if let Some(text) = v.as_str()
                    && v.as_scalar().is_some()
                    && is_secret_name(&key.text)
                    && is_literal(text)
                {
                    path.push(key.text.clone());
                    let what = format!(
                        "secret-named key `{}`",
                        super::sops_unencrypted_value::key_path(path)
                    );
                    path.pop();
                    return Some(Evidence {
                        line: input.line_of(v.span.start),
                        what,
                    });
                }
                path.push(key.text.clone());
                let found = named_leaf(input, v, path);
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
    }
}

/// `KEY=VALUE` / `key = value` / `key: value` lines with a secret-named key.
fn key_value_lines(input: &Input<'_>, text: &str) -> Option<Evidence> {
    let mut offset = 0;
    for raw in text.split('\n') {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';', '[']) {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some(i) = line.find(['=', ':']) else {
            continue;
        };
        let key = line[..i].trim();
        let value = line[i + 1..].trim().trim_matches(['"', '\'']);
        if is_secret_name(key) && is_literal(value) {
            return Some(Evidence {
                line: input.line_of(start),
                what: format!("secret-named key `{key}`"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(path: &str, text: &str) -> Option<Evidence> {
        evidence(&Input::new(path, text.as_bytes()), &[])
    }

    #[test]
    fn secrets_count_and_config_does_not() {
        let s = ev(
            "a/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n",
        )
        .unwrap();
        assert_eq!(s.line, 6);
        assert!(s.what.contains("`db`"));
        assert!(ev("a/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  password: hunter2\n").is_none());
        assert!(
            ev(
                "a/kustomization.yaml",
                "secretGenerator:\n- name: x\n  literals: [password=x1]\n"
            )
            .is_none()
        );
        assert!(ev("a/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${DB_PASSWORD}\n").is_none());
    }

    #[test]
    fn only_a_secret_word_in_a_key_or_a_secret_kind_asks_for_a_parse() {
        for text in [
            "db_password: x\n",
            "\"apiKey\" : \"x\"",
            "export TOKEN=abc\n",
            "auth.user-secret: x\n",
        ] {
            assert!(
                crate::detect::k8s::secret_names::text_keys_a_secret(text.as_bytes(), false),
                "{text}"
            );
        }
        for text in [
            "{\"title\": \"Secrets\", \"type\": \"graph\"}",
            "description: the token used to pull images\n",
            "secretName: db\n".replace("secretName", "name").as_str(),
            "Passwords, tokens and keys are never logged.\n",
            "password:\n  from: vault\n",
            "tokens: [a, b]\n",
            "existingSecret: db-creds\npasswordFile: /run/pw\n",
            "password: changeme\napiKey: \"{{ .Values.apiKey }}\"\ntoken: ${TOKEN} # env\n",
        ] {
            assert!(
                !crate::detect::k8s::secret_names::text_keys_a_secret(text.as_bytes(), false),
                "{text}"
            );
        }
        // A placeholder word in a comment or in a flow neighbour is not the
        // value: these still ask for a parse.
        for text in [
            "password: Zq8rT2mLx9vB\t# example\n", // gitops-guard:allow (made-up values)
            "db: {password: Zq8rT2mLx9vB, note: example}\n", // gitops-guard:allow (made-up values)
            "db: {\n  password: Zq8rT2mLx9vB, note: example }\n", // gitops-guard:allow (made-up values)
        ] {
            assert!(
                crate::detect::k8s::secret_names::text_keys_a_secret(text.as_bytes(), false),
                "{text}"
            );
        }
        // A JSON Secret is known by its kind, written as JSON.
        use crate::detect::mentions_json_kind;
        assert!(mentions_json_kind(
            br#"{"apiVersion": "v1", "kind" : "Secret"}"#,
            "Secret"
        ));
        assert!(!mentions_json_kind(
            br#"{"text": "kind: Secret\ndata:"}"#,
            "Secret"
        ));
        assert!(!mentions_json_kind(
            br#"{"t": "{\"kind\": \"Secret\"}"}"#,
            "Secret"
        ));
        // JSON: only a quoted key with a scalar value.
        assert!(crate::detect::k8s::secret_names::text_keys_a_secret(
            br#"{"db": {"password": "x"}}"#,
            true
        ));
        for text in [
            r#"{"password": {"type": "string"}}"#,
            r#"{"text": "log in with password: admin"}"#,
        ] {
            assert!(
                !crate::detect::k8s::secret_names::text_keys_a_secret(text.as_bytes(), true),
                "{text}"
            );
        }
        // And the evidence of a big dashboard-like JSON is not parsed for.
        let json = format!(
            "{{\"panels\": [{}]}}",
            vec!["{\"title\": \"Secret rotations\", \"description\": \"token age\"}"; 500]
                .join(",")
        );
        let input = Input::new("dash.json", json.as_bytes());
        assert!(evidence(&input, &[]).is_none());
        assert!(!input.documents_parsed());
    }

    #[test]
    fn config_files_by_key_name() {
        let e = ev("values.yaml", "db:\n  host: x\n  password: hunter22\n").unwrap();
        assert_eq!(
            (e.line, e.what.as_str()),
            (3, "secret-named key `db.password`")
        );
        assert!(ev("values.yaml", "db:\n  passwordFile: /run/x\n").is_none());
        // (not `abc123def`: alphabet and digit runs are a documentation stand-in)
        let e = ev("prod.env", "HOST=x\nAPI_TOKEN=q8R2mZ7vLx\n").unwrap(); // gitops-guard:allow
        assert_eq!(e.line, 2);
        assert!(ev("prod.env", "HOST=x\nAPI_TOKEN=\n").is_none());
        assert!(ev("app.ini", "[db]\npassword = s3cret-pw\n").is_some()); // gitops-guard:allow
    }

    #[test]
    fn unrelated_yaml_is_not_parsed() {
        let input = Input::new(
            "deploy.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n",
        );
        assert_eq!(evidence(&input, &[]), None);
        assert!(!input.documents_parsed());
    }

    #[test]
    fn names_and_sops_files() {
        assert!(ev("x/app.enc.yaml", "foo: bar\n").is_some());
        assert!(ev(".github/workflows/secret-scan.yml", "on: push\n").is_none());
        assert!(
            ev(
                "x/app.enc.yaml",
                "sops:\n  mac: m\n  version: '3'\nfoo: bar\n"
            )
            .is_none()
        );
        assert!(ev("README.md", "password: hunter2\n").is_none());
    }
}
