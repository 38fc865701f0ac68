//! Issue 12, item 3 end to end: secrets base64-, base64url-, hex-, percent-
//! or `\u`-encoded in ConfigMaps, Helm values and JSON are found at the
//! encoded span, by the real binary, on a Git repository built in the test;
//! binary blobs, placeholders and `kind: Secret` data (the plaintext-Secret
//! check's) give no decoded finding. Tokens are generated at test time.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use gitops_guard::rules::examples::expand;
use serde_json::Value;
use tempfile::TempDir;

/// A repository holding `files`, committed.
fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    git(dir.path(), &["init", "-q", "."]);
    write_tree(dir.path(), files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "init"]);
    dir
}

/// The findings of a JSON scan (secret category), and the raw report.
fn scan(dir: &std::path::Path, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["scan", ".", "--format", "json", "--category", "secret"];
    args.extend_from_slice(extra);
    let out = gg(dir, &args);
    assert!(
        out.code == 0 || out.code == 1,
        "exit {}: {}",
        out.code,
        out.stderr
    );
    let v = json(&out);
    (v["findings"].as_array().unwrap().clone(), out.stdout)
}

fn configmap(key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  {key}: \"{value}\"\n"
    )
}

/// Column (1-based) of `needle` on line `line` (1-based) of `text`.
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    text.lines().nth(line - 1).unwrap().find(needle).unwrap() + 1
}

#[test]
fn base64_github_token_in_a_configmap_is_found_at_the_encoded_span() {
    let token = github_token("decoded-b64");
    let enc = STANDARD.encode(&token);
    let text = configmap("GITHUB_TOKEN_B64", &enc);
    let dir = repo(&[("apps/web/configmap.yaml", &text)]);
    let (found, raw) = scan(dir.path(), &[]);
    assert_eq!(found.len(), 1, "{raw}");
    let f = &found[0];
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("GitHub") && msg.contains("(base64-decoded)"),
        "{msg}"
    );
    assert_eq!(f["line"], 6);
    let col = column_of(&text, 6, &enc);
    assert_eq!(f["column"].as_u64().unwrap() as usize, col);
    assert_eq!(f["end_column"].as_u64().unwrap() as usize, col + enc.len());
    // neither the token nor its encoded form is printed, in any format
    assert_redacted(&raw, &[&token, &enc]);
    let text_out = gg(dir.path(), &["scan", "."]);
    assert_eq!(text_out.code, 1);
    assert_redacted(&text_out.stdout, &[&token, &enc]);
    let sarif = gg(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(sarif.code, 1);
    assert!(sarif.stdout.contains("base64-decoded"));
    assert_redacted(&sarif.stdout, &[&token, &enc]);
    validate_sarif(&serde_json::from_str(&sarif.stdout).unwrap());
}

#[test]
fn base64url_hex_percent_and_json_u_escapes_are_decoded() {
    let token = github_token("decoded-each");
    // a prefix whose encoding uses `-` or `_`, so the run is base64url
    let url = URL_SAFE_NO_PAD.encode(format!("??>{token}"));
    assert!(url.contains(['-', '_']));
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    let pct: String = token.bytes().map(|b| format!("%{b:02X}")).collect();
    let uesc: String = token
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let values = format!("auth:\n  bootstrap: {url}\n  seed: {hex}\n");
    let json_text = format!(
        "{{\"clone\": \"https://ci:{pct}@git.example.com/x.git\",\n \"auth\": \"{uesc}\"}}\n"
    );
    let dir = repo(&[
        ("charts/app/values.yaml", &values),
        ("config/ci.json", &json_text),
    ]);
    let (found, raw) = scan(dir.path(), &[]);
    let mut got: Vec<(String, u64, String)> = found
        .iter()
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            let how = m[m.rfind('(').unwrap()..].to_string();
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                how,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "charts/app/values.yaml".into(),
                2,
                "(base64url-decoded)".into()
            ),
            ("charts/app/values.yaml".into(), 3, "(hex-decoded)".into()),
            ("config/ci.json".into(), 1, "(percent-decoded)".into()),
            ("config/ci.json".into(), 2, "(\\u-escape-decoded)".into()),
        ],
        "{raw}"
    );
    assert_redacted(&raw, &[&token, &url, &hex, &pct, &uesc]);
}

#[test]
fn base64_of_base64_is_found_at_depth_two_not_three_unless_configured() {
    let token = github_token("decoded-deep");
    let twice = STANDARD.encode(STANDARD.encode(&token));
    let thrice = STANDARD.encode(&twice);
    let dir = repo(&[
        ("a/two.yaml", &configmap("T", &twice)),
        ("b/three.yaml", &configmap("T", &thrice)),
    ]);
    let (found, raw) = scan(dir.path(), &[]);
    assert_eq!(found.len(), 1, "{raw}");
    assert_eq!(found[0]["path"], "a/two.yaml");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(base64-decoded, then base64-decoded)")
    );
    assert_eq!(scan(dir.path(), &["--decode-depth", "3"]).0.len(), 2);
    assert_eq!(scan(dir.path(), &["--decode-depth", "1"]).0.len(), 0);
    // the config sets it too; the flag wins
    std::fs::write(
        dir.path().join(".gitops-guard.toml"),
        "[secrets]\ndecode-depth = 3\n",
    )
    .unwrap();
    assert_eq!(scan(dir.path(), &[]).0.len(), 2);
    assert_eq!(scan(dir.path(), &["--decode-depth", "0"]).0.len(), 0);
}

#[test]
fn decode_depth_out_of_range_is_a_usage_or_config_error() {
    let dir = repo(&[("a.txt", "hello\n")]);
    assert_eq!(
        gg(dir.path(), &["scan", ".", "--decode-depth", "9"]).code,
        2
    );
    std::fs::write(
        dir.path().join(".gitops-guard.toml"),
        "[secrets]\ndecode-depth = 9\n",
    )
    .unwrap();
    assert_eq!(gg(dir.path(), &["scan", "."]).code, 2);
}

#[test]
fn decoding_off_finds_nothing_encoded() {
    let token = github_token("decoded-off");
    let dir = repo(&[("cm.yaml", &configmap("T", &STANDARD.encode(&token)))]);
    assert_eq!(scan(dir.path(), &[]).0.len(), 1);
    assert_eq!(scan(dir.path(), &["--decode-depth", "0"]).0.len(), 0);
}

#[test]
fn base64_binary_and_encoded_placeholders_give_no_finding() {
    // a certificate-sized and an image-sized blob of bytes, base64-encoded
    let cert: Vec<u8> = (0..1200u32).map(|i| (i * 7919 % 251) as u8).collect();
    let image: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cert64 = STANDARD.encode(&cert);
    let wrapped: String = cert64
        .as_bytes()
        .chunks(64)
        .map(|c| format!("    {}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let pw = expand("<<alnum:20>>", "decoded-pw").unwrap();
    let files = [
        ("certs.yaml".to_string(), format!("ca.crt: |\n{wrapped}")),
        (
            "logo.json".to_string(),
            format!("{{\"png\": \"{}\"}}\n", STANDARD.encode(&image)),
        ),
        (
            "placeholder.yaml".to_string(),
            configmap("CONFIG", &STANDARD.encode("password: changeme\n")),
        ),
        (
            "placeholder2.yaml".to_string(),
            configmap("TOKEN", &STANDARD.encode("changeme")),
        ),
        // the must-fire twin of the placeholder: a real-looking password
        (
            "real.yaml".to_string(),
            configmap("CONFIG", &STANDARD.encode(format!("password: {pw}\n"))),
        ),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = repo(&refs);
    let (found, raw) = scan(dir.path(), &[]);
    let paths: Vec<&str> = found.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["real.yaml"], "{raw}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("base64-decoded")
    );
    assert_redacted(&raw, &[&pw]);
}

#[test]
fn a_secret_data_value_stays_the_plaintext_secret_checks_only() {
    let token = github_token("decoded-secret-kind");
    let enc = STANDARD.encode(&token);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ntype: Opaque\ndata:\n  token: {enc}\n"
    );
    let dir = repo(&[("secret.yaml", &secret)]);
    let out = gg(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let on_line: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["line"] == 7)
        .collect();
    assert_eq!(on_line.len(), 1, "{}", out.stdout);
    assert!(
        !on_line[0]["message"]
            .as_str()
            .unwrap()
            .contains("-decoded)")
    );
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn an_encoded_token_in_history_is_found_too() {
    let token = github_token("decoded-history");
    let dir = repo(&[("cm.yaml", &configmap("T", &STANDARD.encode(&token)))]);
    std::fs::write(dir.path().join("cm.yaml"), configmap("T", "none")).unwrap();
    git(dir.path(), &["commit", "-qam", "drop"]);
    let out = gg(dir.path(), &["scan", ".", "--history", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("base64-decoded"));
    assert_redacted(&out.stdout, &[&token]);
}

#[test]
fn a_jwt_whose_payload_holds_a_token_stays_reported_whole() {
    let token = github_token("decoded-jwt");
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"ci","gh":"{token}"}}"#));
    let sig = URL_SAFE_NO_PAD.encode(expand("<<alnum:32>>", "decoded-jwt-sig").unwrap());
    let jwt = format!("{header}.{payload}.{sig}");
    let dir = repo(&[("cm.yaml", &configmap("SESSION", &jwt))]);
    let (found, raw) = scan(dir.path(), &[]);
    let rules: Vec<&str> = found.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"jwt"), "{raw}");
    assert!(
        found
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("GitHub")
                && f["message"].as_str().unwrap().contains("base64")),
        "{raw}"
    );
    assert_redacted(&raw, &[&token, &payload, &sig]);
}

#[test]
fn a_secret_named_key_holding_a_base64_token_is_reported_as_the_token() {
    let token = github_token("decoded-named-key");
    let enc = STANDARD.encode(&token);
    let text = format!("config:\n  api_password: \"{enc}\"\n");
    let dir = repo(&[("values.yaml", &text)]);
    let (found, raw) = scan(dir.path(), &[]);
    assert_eq!(found.len(), 1, "{raw}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("(base64-decoded)")
    );
    // with decoding off, the generic rule still reports the value
    let (off, raw) = scan(dir.path(), &["--decode-depth", "0"]);
    assert_eq!(off.len(), 1, "{raw}");
    assert!(
        off[0]["rule"].as_str().unwrap().starts_with("generic-"),
        "{raw}"
    );
}
