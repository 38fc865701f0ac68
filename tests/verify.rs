//! `scan --verify` end to end: the real binary and its real HTTPS client
//! against a local HTTPS server standing in for the providers. The server's
//! certificate comes from a throwaway CA made here with rcgen; the binary
//! trusts it, and resolves every host to the server, only because the test
//! build has the `verify-test-endpoint` feature (the crate's dev-dependency
//! on itself), which release builds lack. No test touches the internet.

mod common;

use common::{aws_key_id, gg, git, github_token, json, write_tree};
use gitops_guard::rules::examples::expand;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the stand-in server saw it.
#[derive(Clone, Debug)]
struct Seen {
    /// TLS SNI: the host the client connected for.
    sni: String,
    /// The Host header.
    host: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Everything a secret could travel in.
    fn all_text(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.path);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\n"));
            // Basic auth carries the secret base64-encoded.
            if let Some(b) = v.strip_prefix("Basic ") {
                use base64::Engine;
                if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b) {
                    s.push_str(&String::from_utf8_lossy(&d));
                    s.push('\n');
                }
            }
        }
        s + &self.body
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![],
        body: body.into(),
        delay: Duration::ZERO,
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// The stand-in for every provider.
struct Provider {
    addr: SocketAddr,
    ca: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    handshakes_failed: Arc<Mutex<usize>>,
    _dir: tempfile::TempDir,
}

const HOSTS: &[&str] = &[
    "api.github.com",
    "slack.com",
    "api.stripe.com",
    "sts.amazonaws.com",
    "hooks.slack.com",
    "evil.example",
    "gitlab.com",
    "gitlab.acme.test",
    "acmeprod.blob.core.windows.net",
    "acmedead.blob.core.windows.net",
    "oauth2.googleapis.com",
    "verify.twilio.com",
    "us21.api.mailchimp.com",
    "us6.api.mailchimp.com",
    "api.cloudflare.com",
    "acme-prod.myshopify.com",
    "x.myshopify.com",
    "acme.atlassian.net",
    "hub.docker.com",
    "auth.docker.io",
    "corp.okta.com",
    "corp.eu.auth0.com",
];

impl Provider {
    /// Start a server; with `trusted == false` its certificate is issued by
    /// a second CA the binary does not trust.
    fn start(
        trusted: bool,
        handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Provider {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let dir = tempfile::tempdir().unwrap();
        let make_ca = || {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = p.self_signed(&key).unwrap();
            (cert, Issuer::new(p, key))
        };
        let (trusted_ca, trusted_issuer) = make_ca();
        let (_, rogue_issuer) = make_ca();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params =
            CertificateParams::new(HOSTS.iter().map(|h| h.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf = leaf_params
            .signed_by(
                &leaf_key,
                if trusted {
                    &trusted_issuer
                } else {
                    &rogue_issuer
                },
            )
            .unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, trusted_ca.pem()).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(Mutex::new(0));
        let handler: Handler = Arc::new(handler);
        {
            let (seen, failed) = (seen.clone(), failed.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let (config, seen, failed, handler) = (
                        config.clone(),
                        seen.clone(),
                        failed.clone(),
                        handler.clone(),
                    );
                    std::thread::spawn(move || {
                        serve(stream, config, seen, failed, handler);
                    });
                }
            });
        }
        Provider {
            addr,
            ca,
            seen,
            handshakes_failed: failed,
            _dir: dir,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// `gitops-guard args…` in `dir`, pointed at this server.
    fn gg(&self, dir: &Path, args: &[&str]) -> common::Out {
        let o = Command::new(common::bin())
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITOPS_GUARD_HMAC_KEY")
            .env("GITOPS_GUARD_TEST_VERIFY_ADDR", self.addr.to_string())
            .env("GITOPS_GUARD_TEST_VERIFY_CA", &self.ca)
            .output()
            .unwrap();
        common::Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

fn serve(
    stream: std::net::TcpStream,
    config: Arc<rustls::ServerConfig>,
    seen: Arc<Mutex<Vec<Seen>>>,
    failed: Arc<Mutex<usize>>,
    handler: Handler,
) {
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let conn = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut r = BufReader::new(&mut tls);
    let mut line = String::new();
    if r.read_line(&mut line).is_err() || line.is_empty() {
        *failed.lock().unwrap() += 1;
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    drop(r);
    let sni = tls.conn.server_name().unwrap_or("").to_string();
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let req = Seen {
        sni,
        host,
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut s = seen.lock().unwrap();
        s.push(req.clone());
        s.len()
    };
    let rep = handler(&req, n);
    std::thread::sleep(rep.delay);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        rep.status,
        rep.body.len()
    );
    for (k, v) in &rep.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&rep.body);
    let _ = tls.write_all(out.as_bytes());
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// A repository with `files` committed.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q", "-b", "main"]);
    write_tree(d.path(), files);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "add config"]);
    d
}

fn statuses(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["verification"]["status"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// GitHub stand-in: `live` answers 200 as user octo, anything else 401.
fn github(live: String) -> impl Fn(&Seen, usize) -> Reply + Send + Sync {
    move |s, _| {
        if s.header("authorization") == Some(&format!("token {live}")) {
            reply(200, r#"{"login":"octo","id":1}"#)
        } else {
            reply(401, r#"{"message":"Bad credentials"}"#)
        }
    }
}

#[test]
fn verify_marks_live_and_invalid_in_every_output_format() {
    let (live, dead) = (github_token("verify-live"), github_token("verify-dead"));
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[
        ("ci/live.env", &format!("GITHUB_TOKEN={live}\n")),
        ("ci/dead.env", &format!("GITHUB_TOKEN={dead}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let by_path = |path: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone()
    };
    let l = by_path("ci/live.env");
    assert_eq!(l["verification"]["status"], "live");
    assert_eq!(l["verification"]["detail"], "user octo");
    assert_eq!(l["severity"], "critical");
    let x = by_path("ci/dead.env");
    assert_eq!(x["verification"]["status"], "invalid");
    assert!(
        out.stderr.contains("1 live, 1 invalid, 0 unknown"),
        "{}",
        out.stderr
    );

    let text = p.gg(d.path(), &["scan", ".", "--verify"]);
    assert!(
        text.stdout.contains("= verified: live (user octo)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("= verified: invalid (rejected (HTTP 401))")
    );
    let sarif = p.gg(d.path(), &["scan", ".", "--verify", "--format", "sarif"]);
    let s: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let props: Vec<_> = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["properties"]["verification"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(props.contains(&"live".to_string()) && props.contains(&"invalid".to_string()));
    let gh = p.gg(d.path(), &["scan", ".", "--verify", "--format", "github"]);
    assert!(
        gh.stdout.contains("[verified live (user octo)]"),
        "{}",
        gh.stdout
    );
    for o in [&out, &text, &sarif, &gh] {
        common::assert_redacted(&o.stdout, &[&live, &dead]);
        common::assert_redacted(&o.stderr, &[&live, &dead]);
    }
    // Without --verify: nothing is sent and no finding carries a status.
    let before = p.seen().len();
    let plain = p.gg(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(p.seen().len(), before);
    assert!(json(&plain)["findings"][0].get("verification").is_none());
}

#[test]
fn each_distinct_value_is_sent_once_per_run() {
    let live = github_token("verify-once");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[
        ("a.env", &format!("GITHUB_TOKEN={live}\n")),
        ("b/c.env", &format!("GH_TOKEN={live}\n")),
        ("b/d.yaml", &format!("token: {live}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert_eq!(p.seen().len(), 1);
    let st = statuses(&json(&out));
    assert_eq!(st.len(), 3);
    assert!(
        st.iter()
            .all(|(_, s, sev)| s == "live" && sev == "critical")
    );
}

#[test]
fn rate_limited_with_retry_after_is_retried_after_the_wait() {
    let live = github_token("verify-429");
    let inner = github(live.clone());
    let p = Provider::start(true, move |s, n| {
        if n == 1 {
            Reply {
                headers: vec![("Retry-After", "1".into())],
                ..reply(429, "slow down")
            }
        } else {
            inner(s, n)
        }
    });
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    let t = Instant::now();
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(p.seen().len(), 2);
    assert_eq!(statuses(&json(&out))[0].1, "live");
}

#[test]
fn rate_limited_beyond_the_longest_wait_is_unknown_without_waiting() {
    let live = github_token("verify-429-long");
    let p = Provider::start(true, |_, _| Reply {
        headers: vec![("Retry-After", "3600".into())],
        ..reply(429, "slow down")
    });
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    let t = Instant::now();
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert!(t.elapsed() < Duration::from_secs(30));
    assert_eq!(p.seen().len(), 1);
    let f = &json(&out)["findings"][0];
    assert_eq!(f["verification"]["status"], "unknown");
    assert_eq!(f["verification"]["detail"], "rate limited (HTTP 429)");
    assert_eq!(f["severity"], "critical"); // the rule's own severity, unchanged
}

#[test]
fn a_provider_that_does_not_answer_in_time_is_unknown() {
    let live = github_token("verify-timeout");
    let p = Provider::start(true, |_, _| Reply {
        delay: Duration::from_secs(4),
        ..reply(200, r#"{"login":"late"}"#)
    });
    let d = repo(&[
        ("a.env", &format!("GITHUB_TOKEN={live}\n")),
        (
            ".gitops-guard.toml",
            "[verification]\ntimeout-secs = 1\nretries = 0\n",
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let f = &json(&out)["findings"][0];
    assert_eq!(f["verification"]["status"], "unknown");
    assert_eq!(f["verification"]["detail"], "timed out");
}

#[test]
fn a_redirect_to_another_host_is_refused_and_nothing_goes_there() {
    let live = github_token("verify-redirect");
    let p = Provider::start(true, |_, _| Reply {
        headers: vec![("Location", "https://evil.example/collect".into())],
        ..reply(302, "")
    });
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let f = &json(&out)["findings"][0];
    assert_eq!(f["verification"]["status"], "unknown");
    assert_eq!(
        f["verification"]["detail"],
        "redirect to evil.example not followed"
    );
    let seen = p.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen.iter()
            .all(|s| s.sni == "api.github.com" && s.host == "api.github.com")
    );
}

#[test]
fn an_untrusted_certificate_fails_verification_and_sends_nothing() {
    let live = github_token("verify-tls");
    let p = Provider::start(false, |_, _| reply(200, r#"{"login":"mitm"}"#));
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let f = &json(&out)["findings"][0];
    assert_eq!(f["verification"]["status"], "unknown");
    let detail = f["verification"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("TLS error"), "{detail}");
    assert!(
        p.seen().is_empty(),
        "a request got through an untrusted certificate"
    );
    // The server notices the aborted handshake on its own thread: wait for it.
    let t = Instant::now();
    while *p.handshakes_failed.lock().unwrap() == 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        *p.handshakes_failed.lock().unwrap() >= 1,
        "no connection reached the server"
    );
}

#[test]
fn no_secret_goes_to_a_host_other_than_its_verifiers() {
    let gh = github_token("verify-hosts");
    let slack = expand(
        "xoxb-<<digits:12>>-<<digits:13>>-<<alnum:24>>",
        "verify-hosts",
    )
    .unwrap();
    let stripe = expand("sk_live_<<alnum:99>>", "verify-hosts").unwrap();
    let key_id = aws_key_id("verify-hosts");
    let aws_secret = expand("<<b64:40>>", "verify-hosts").unwrap();
    // Verifiers whose second value or host label comes from the file.
    let twilio = expand("<<hex:32>>", "verify-hosts-twilio").unwrap();
    let mailchimp = expand("<<hex:32>>-us21", "verify-hosts").unwrap();
    let shopify = expand("shpat_<<hex:32>>", "verify-hosts").unwrap();
    let cf_global = expand("<<hex:37>>", "verify-hosts").unwrap();
    let atlassian = expand("ATATT3xFfGF0<<b64url:180>>=<<HEX:8>>", "verify-hosts").unwrap();
    let docker = expand("dckr_pat_<<b64url:27>>", "verify-hosts").unwrap();
    let kid = key_id.clone();
    let p = Provider::start(true, move |s, _| match s.sni.as_str() {
        "slack.com" => reply(200, r#"{"ok":true,"team":"Acme","user":"deploy-bot"}"#),
        "api.stripe.com" => reply(200, r#"{"id":"acct_123"}"#),
        "sts.amazonaws.com" if s.header("authorization").is_some_and(|a| a.contains(&kid)) => {
            reply(
                200,
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
            )
        }
        _ => reply(401, "{}"),
    });
    let d = repo(&[
        ("gh.env", &format!("GITHUB_TOKEN={gh}\n")),
        ("slack.yaml", &format!("slack_bot_token: {slack}\n")),
        ("stripe.env", &format!("STRIPE_SECRET_KEY={stripe}\n")),
        (
            "aws/credentials",
            &format!(
                "[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {aws_secret}\n"
            ),
        ),
        (
            "twilio.env",
            &format!(
                "TWILIO_ACCOUNT_SID={}\nTWILIO_AUTH_TOKEN={twilio}\n",
                expand("AC<<hex:32>>", "verify-hosts").unwrap()
            ),
        ),
        ("mailchimp.env", &format!("MAILCHIMP_API_KEY={mailchimp}\n")),
        (
            "shopify.env",
            &format!("SHOP=acme-prod.myshopify.com\nSHOPIFY_TOKEN={shopify}\n"),
        ),
        (
            "cloudflare.env",
            &format!("CF_API_EMAIL=ops@corp.io\nCF_API_KEY={cf_global}\n"),
        ),
        (
            "jira.yaml",
            &format!(
                "jira:\n  url: https://acme.atlassian.net\n  user: bot@acme.io\n  token: \"{atlassian}\"\n"
            ),
        ),
        (
            "docker.sh",
            &format!("echo {docker} | docker login -u acme --password-stdin\n"),
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    let st = statuses(&v);
    let status_of = |rule: &str| st.iter().find(|(r, _, _)| r == rule).unwrap().1.clone();
    assert_eq!(status_of("slack-bot-token"), "live");
    assert_eq!(status_of("stripe-live-secret-key"), "live");
    assert_eq!(status_of("aws-access-key-id"), "live");
    assert_eq!(status_of("aws-secret-access-key"), "live");
    assert_eq!(status_of("github-pat-classic"), "invalid");
    let aws = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "aws-access-key-id")
        .unwrap();
    assert_eq!(
        aws["verification"]["detail"],
        "account 123456789012, arn arn:aws:iam::123456789012:user/ci"
    );
    let seen = p.seen();
    assert_eq!(seen.len(), 10);
    for (secret, host) in [
        (gh.as_str(), "api.github.com"),
        (slack.as_str(), "slack.com"),
        (stripe.as_str(), "api.stripe.com"),
        (key_id.as_str(), "sts.amazonaws.com"),
        (twilio.as_str(), "verify.twilio.com"),
        (mailchimp.as_str(), "us21.api.mailchimp.com"),
        (shopify.as_str(), "acme-prod.myshopify.com"),
        (cf_global.as_str(), "api.cloudflare.com"),
        (atlassian.as_str(), "acme.atlassian.net"),
        (docker.as_str(), "hub.docker.com"),
    ] {
        let carrying: Vec<_> = seen
            .iter()
            .filter(|s| s.all_text().contains(secret))
            .collect();
        assert_eq!(carrying.len(), 1, "{host}");
        for s in carrying {
            assert_eq!(s.sni, host);
            assert_eq!(s.host, host);
        }
    }
    // The secret access key signs the request; it is never sent.
    assert!(seen.iter().all(|s| !s.all_text().contains(&aws_secret)));
    common::assert_redacted(
        &out.stdout,
        &[
            &gh,
            &slack,
            &stripe,
            &aws_secret,
            &twilio,
            &mailchimp,
            &shopify,
            &cf_global,
            &atlassian,
            &docker,
        ],
    );
}

#[test]
fn dry_run_lists_redacted_requests_and_sends_none() {
    let live = github_token("verify-dry");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    let out = p.gg(
        d.path(),
        &["scan", ".", "--verify-dry-run", "--format", "json"],
    );
    assert!(p.seen().is_empty());
    assert!(
        out.stderr
            .contains("1 distinct value(s), 1 request(s) would be sent (none sent)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("GET https://api.github.com/user | Accept: application/vnd.github+json | Authorization: token ghp_"));
    common::assert_redacted(&out.stderr, &[&live]);
    assert_eq!(
        json(&out)["findings"][0]["verification"]["status"],
        "unknown"
    );
}

#[test]
fn only_live_filters_and_fail_on_live_fails_only_on_live() {
    let (live, dead) = (
        github_token("verify-only-live"),
        github_token("verify-only-dead"),
    );
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[
        ("live.env", &format!("GITHUB_TOKEN={live}\n")),
        ("dead.env", &format!("GITHUB_TOKEN={dead}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--only-live", "--format", "json"]);
    let st = statuses(&json(&out));
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].1, "live");
    assert_eq!(out.code, 1);

    let only_dead = repo(&[("dead.env", &format!("GITHUB_TOKEN={dead}\n"))]);
    let out = p.gg(only_dead.path(), &["scan", ".", "--fail-on-live"]);
    assert_eq!(out.code, 0, "an invalid token must not fail --fail-on-live");
    let out = p.gg(only_dead.path(), &["scan", "."]);
    assert_eq!(out.code, 1);
    let out = p.gg(d.path(), &["scan", ".", "--fail-on-live"]);
    assert_eq!(out.code, 1);
}

#[test]
fn the_config_turns_verification_on_and_no_verify_off() {
    let live = github_token("verify-config");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[
        ("a.env", &format!("GITHUB_TOKEN={live}\n")),
        (".gitops-guard.toml", "verify = true\n"),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(json(&out)["findings"][0]["verification"]["status"], "live");
    assert_eq!(p.seen().len(), 1);
    let out = p.gg(d.path(), &["scan", ".", "--no-verify", "--format", "json"]);
    assert!(json(&out)["findings"][0].get("verification").is_none());
    assert_eq!(p.seen().len(), 1);
}

#[test]
fn the_pre_commit_hook_never_verifies_even_with_verify_in_the_config() {
    let live = github_token("verify-hook");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[(".gitops-guard.toml", "verify = true\n")]);
    write_tree(d.path(), &[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    git(d.path(), &["add", "a.env"]);
    let out = p.gg(d.path(), &["hook", "pre-commit"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(p.seen().is_empty());
}

#[test]
fn history_findings_are_verified_with_the_commit_they_came_from() {
    let live = github_token("verify-history");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[("a.env", &format!("GITHUB_TOKEN={live}\n"))]);
    std::fs::remove_file(d.path().join("a.env")).unwrap();
    git(d.path(), &["commit", "-qam", "remove the token"]);
    let out = p.gg(
        d.path(),
        &["scan", ".", "--history", "--verify", "--format", "json"],
    );
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(f["verification"]["status"], "live");
    assert!(f["commit"].is_string());
    assert_eq!(p.seen().len(), 1);
}

#[test]
fn the_cache_needs_the_hmac_key_and_never_holds_the_secret() {
    let live = github_token("verify-cache");
    let p = Provider::start(true, github(live.clone()));
    let d = repo(&[
        ("a.env", &format!("GITHUB_TOKEN={live}\n")),
        (
            ".gitops-guard.toml",
            "[verification]\ncache = \"vcache.json\"\n",
        ),
    ]);
    let run = |key: Option<&str>| {
        let mut c = Command::new(common::bin());
        c.args([
            "scan",
            ".",
            "--verify",
            "--format",
            "json",
            "--exclude",
            "vcache.json",
        ])
        .current_dir(d.path())
        .env("GITOPS_GUARD_TEST_VERIFY_ADDR", p.addr.to_string())
        .env("GITOPS_GUARD_TEST_VERIFY_CA", &p.ca)
        .env_remove("GITOPS_GUARD_HMAC_KEY");
        if let Some(k) = key {
            c.env("GITOPS_GUARD_HMAC_KEY", k);
        }
        c.output().unwrap()
    };
    run(None);
    assert!(!d.path().join("vcache.json").exists());
    assert_eq!(p.seen().len(), 1);
    run(Some("test-key"));
    assert_eq!(p.seen().len(), 2);
    let cached = std::fs::read_to_string(d.path().join("vcache.json")).unwrap();
    assert!(!cached.contains(&live));
    let o = run(Some("test-key"));
    assert_eq!(
        p.seen().len(),
        2,
        "the second keyed run must come from the cache"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["verification"]["status"], "live");
}

#[test]
fn a_self_hosted_instance_is_asked_only_when_the_config_allows_it() {
    let token = expand("glpat-<<b64url:20>>", "verify-gitlab").unwrap();
    let p = Provider::start(true, |s, _| {
        if s.sni == "gitlab.acme.test" {
            reply(200, r#"{"username":"ops"}"#)
        } else {
            reply(401, "{}")
        }
    });
    // The instance named next to the token is not asked without the config.
    let d = repo(&[(
        "ci.env",
        &format!("GITLAB_URL=https://gitlab.acme.test\nGITLAB_TOKEN={token}\n"),
    )]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let st = statuses(&json(&out));
    assert_eq!(st[0].1, "invalid", "{st:?}");
    assert!(p.seen().iter().all(|s| s.sni == "gitlab.com"));
    write_tree(
        d.path(),
        &[(
            ".gitops-guard.toml",
            "[verification]\nself-hosted = { gitlab = [\"gitlab.acme.test\"] }\n",
        )],
    );
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["findings"][0]["verification"]["status"], "live");
    assert_eq!(
        v["findings"][0]["verification"]["detail"],
        "user ops on gitlab.acme.test"
    );
    let seen = p.seen();
    assert_eq!(
        seen.iter().filter(|s| s.sni == "gitlab.acme.test").count(),
        1
    );
    for s in &seen {
        assert_eq!(s.sni, s.host);
    }
}

#[test]
fn rules_explain_says_what_verification_sends_where() {
    let d = tempfile::tempdir().unwrap();
    let out = gg(d.path(), &["rules", "explain", "github-pat-classic"]);
    assert!(
        out.stdout.contains(
            "Verified by --verify: GET https://api.github.com/user (only to api.github.com)."
        ),
        "{}",
        out.stdout
    );
    let out = gg(d.path(), &["rules", "explain", "shopify-access-token"]);
    assert!(
        out.stdout.contains("(only to NAME.myshopify.com, NAME being the shop of the value or its file and a single host name label; with the shop found in the same file (none found: nothing is sent))"),
        "{}",
        out.stdout
    );
    let out = gg(d.path(), &["rules", "explain", "okta-api-token"]);
    assert!(
        out.stdout.contains("only to the hosts listed under [verification] self-hosted.okta; none listed, nothing is sent"),
        "{}",
        out.stdout
    );
    let out = gg(d.path(), &["rules", "explain", "private-key-rsa"]);
    assert!(!out.stdout.contains("Verified by"));
}

/// A 64-byte Azure Storage account key, base64 (88 characters), built at
/// test time from a seed.
fn azure_key(seed: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(seed.as_bytes()))
}

/// The stand-in's own check of a SharedKey List Containers signature,
/// written from Azure's documented string-to-sign.
fn azure_signed_by(s: &Seen, account: &str, key: &str) -> bool {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Some(date), Some(version), Some(auth)) = (
        s.header("x-ms-date"),
        s.header("x-ms-version"),
        s.header("authorization"),
    ) else {
        return false;
    };
    let to_sign = format!(
        "GET{}x-ms-date:{date}\nx-ms-version:{version}\n/{account}/\ncomp:list",
        "\n".repeat(12)
    );
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&b64.decode(key).unwrap()).unwrap();
    m.update(to_sign.as_bytes());
    auth == format!(
        "SharedKey {account}:{}",
        b64.encode(m.finalize().into_bytes())
    )
}

fn connection_string(account: &str, key: &str, suffix: &str) -> String {
    format!(
        "AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix={suffix}\"\n"
    )
}

#[test]
fn azure_storage_keys_are_verified_by_a_signed_request_to_the_accounts_blob_host() {
    let (live, dead, china) = (
        azure_key("azure-live"),
        azure_key("azure-dead"),
        azure_key("azure-china"),
    );
    let l = live.clone();
    let p = Provider::start(true, move |s, _| {
        if s.sni == "acmeprod.blob.core.windows.net" && azure_signed_by(s, "acmeprod", &l) {
            reply(200, "<?xml version=\"1.0\"?><EnumerationResults/>")
        } else {
            reply(
                403,
                "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code></Error>",
            )
        }
    });
    let d = repo(&[
        (
            "apps/live.env",
            &connection_string("acmeprod", &live, "core.windows.net"),
        ),
        (
            "apps/dead.env",
            &connection_string("acmedead", &dead, "core.windows.net"),
        ),
        // Another cloud: the host would be the file's choice, so not sent.
        (
            "apps/china.env",
            &connection_string("acmeprod", &china, "core.chinacloudapi.cn"),
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let by_path = |path: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path && f["rule"] == "azure-storage-account-key")
            .unwrap()
            .clone()
    };
    let l = by_path("apps/live.env");
    assert_eq!(l["verification"]["status"], "live", "{}", out.stdout);
    assert_eq!(l["verification"]["detail"], "account acmeprod");
    assert_eq!(l["severity"], "critical");
    assert_eq!(
        by_path("apps/dead.env")["verification"]["status"],
        "invalid"
    );
    let c = by_path("apps/china.env");
    assert_eq!(c["verification"]["status"], "unknown");
    assert!(
        c["verification"]["detail"]
            .as_str()
            .unwrap()
            .contains("EndpointSuffix"),
        "{c}"
    );
    let seen = p.seen();
    assert_eq!(seen.len(), 2, "the other cloud's key is not sent");
    let mut hosts: Vec<_> = seen.iter().map(|s| s.sni.clone()).collect();
    hosts.sort();
    assert_eq!(
        hosts,
        [
            "acmedead.blob.core.windows.net",
            "acmeprod.blob.core.windows.net"
        ]
    );
    for s in &seen {
        assert_eq!(s.host, s.sni);
        assert_eq!(s.method, "GET");
        assert!(s.path.starts_with("/?comp=list"), "{}", s.path);
        // The key only signs: neither it nor its bytes travel.
        for k in [&live, &dead, &china] {
            assert!(!s.all_text().contains(k.as_str()));
        }
    }
    common::assert_redacted(&out.stdout, &[&live, &dead, &china]);
    common::assert_redacted(&out.stderr, &[&live, &dead, &china]);
}

#[test]
fn an_azure_account_name_that_could_change_the_host_is_never_used() {
    let key = azure_key("azure-evil");
    let p = Provider::start(true, |_, _| reply(200, ""));
    let d = repo(&[(
        "apps/evil.env",
        &format!("STORAGE=\"AccountName=evil.example/x;AccountKey={key}\"\n"),
    )]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let st = statuses(&json(&out));
    assert!(
        st.iter()
            .any(|(r, s, _)| r == "azure-storage-account-key" && s == "unknown"),
        "{st:?}"
    );
    assert!(p.seen().is_empty());
}

/// A service-account key file as Google writes it, with a fresh RSA key
/// (made at test time) and a `token_uri` pointing somewhere else.
fn gcp_key_file(email: &str) -> (String, String, rsa::PublicKey) {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = <rsa::PrivateKey as rsa::Generate>::generate();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let file = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{}\",\n  \"client_email\": \"{email}\",\n  \"client_id\": \"1234567890\",\n  \"token_uri\": \"https://evil.example/token\"\n}}\n",
        expand("<<hex:40>>", email).unwrap(),
        pem.replace('\n', "\\n")
    );
    (file, pem, key.to_public_key())
}

#[test]
fn gcp_service_account_keys_are_verified_by_a_signed_jwt_grant_and_the_key_is_never_sent() {
    use base64::Engine;
    use rsa::signature::Verifier;
    let (live_file, live_pem, live_pub) =
        gcp_key_file("deployer@acme-prod.iam.gserviceaccount.com");
    let (dead_file, dead_pem, _) = gcp_key_file("old@acme-prod.iam.gserviceaccount.com");
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(live_pub);
    let p = Provider::start(true, move |s, _| {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let ok = s.sni == "oauth2.googleapis.com"
            && s.path == "/token"
            && s.body.starts_with(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=",
            )
            && (|| {
                let jwt = s.body.split("assertion=").nth(1)?;
                let (input, sig) = jwt.rsplit_once('.')?;
                let sig = rsa::pkcs1v15::Signature::try_from(&b64.decode(sig).ok()?[..]).ok()?;
                verifier.verify(input.as_bytes(), &sig).ok()?;
                let claims: serde_json::Value =
                    serde_json::from_slice(&b64.decode(input.split('.').nth(1)?).ok()?).ok()?;
                (claims["aud"] == "https://oauth2.googleapis.com/token"
                    && claims["iss"] == "deployer@acme-prod.iam.gserviceaccount.com"
                    && claims["scope"] == "https://www.googleapis.com/auth/cloud-platform")
                    .then_some(())
            })()
            .is_some();
        if ok {
            reply(
                200,
                r#"{"access_token":"ya29.stand-in","expires_in":3599,"token_type":"Bearer"}"#,
            )
        } else {
            reply(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            )
        }
    });
    let d = repo(&[("sa/live.json", &live_file), ("sa/dead.json", &dead_file)]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = json(&out);
    let find = |path: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path && f["rule"] == "gcp-service-account-private-key")
            .unwrap_or_else(|| panic!("{path}: {}", out.stdout))
            .clone()
    };
    let l = find("sa/live.json");
    assert_eq!(l["verification"]["status"], "live", "{l}");
    assert_eq!(
        l["verification"]["detail"],
        "service account deployer@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(l["severity"], "critical");
    assert_eq!(find("sa/dead.json")["verification"]["status"], "invalid");
    let seen = p.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        // The file's token_uri is never used.
        assert_eq!(s.sni, "oauth2.googleapis.com");
        assert_eq!(s.host, "oauth2.googleapis.com");
        assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/token"));
        // Only the signed assertion travels: not the PEM, not its base64
        // body, not any line of it.
        for pem in [&live_pem, &dead_pem] {
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            assert!(!s.all_text().contains(pem.as_str()));
            assert!(!s.all_text().contains(&body));
            assert!(!s.all_text().contains("PRIVATE KEY"));
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!s.all_text().contains(line));
            }
        }
    }
    let bodies: Vec<String> = [&live_pem, &dead_pem]
        .iter()
        .flat_map(|p| {
            p.lines()
                .filter(|l| l.len() == 64)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    common::assert_redacted(&out.stdout, &refs);
    common::assert_redacted(&out.stderr, &refs);
}

// ---- Verifiers that need a second value from the same file ----

/// The user and password of a request's Basic authorization.
fn basic(s: &Seen) -> Option<(String, String)> {
    use base64::Engine;
    let b = s.header("authorization")?.strip_prefix("Basic ")?;
    let d = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
    let (u, p) = String::from_utf8(d)
        .ok()?
        .split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some((u, p))
}

fn finding_of<'a>(v: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no finding in {path}: {v}"))
}

/// Every request carrying `secret` went to `host` (SNI and Host header).
fn only_to(seen: &[Seen], secret: &str, host: &str) -> usize {
    let carrying: Vec<_> = seen
        .iter()
        .filter(|s| s.all_text().contains(secret))
        .collect();
    for s in &carrying {
        assert_eq!(s.sni, host, "a secret went to {}", s.sni);
        assert_eq!(s.host, host);
    }
    carrying.len()
}

#[test]
fn twilio_tokens_are_verified_with_the_sid_found_in_the_same_file() {
    let sid = expand("AC<<hex:32>>", "twilio-sid").unwrap();
    let token = expand("<<hex:32>>", "twilio-token").unwrap();
    let key_sid = expand("SK<<hex:32>>", "twilio-key").unwrap();
    let key_secret = expand("<<alnum:32>>", "twilio-key-secret").unwrap();
    let dead = expand("<<hex:32>>", "twilio-dead").unwrap();
    let lonely = expand("<<hex:32>>", "twilio-lonely").unwrap();
    let good = [
        (sid.clone(), token.clone()),
        (key_sid.clone(), key_secret.clone()),
    ];
    let p = Provider::start(true, move |s, _| match basic(s) {
        Some(pair) if s.sni == "verify.twilio.com" && good.contains(&pair) => reply(
            200,
            &format!(r#"{{"services":[{{"account_sid":"{}"}}]}}"#, good[0].0),
        ),
        _ => reply(401, r#"{"code":20003,"message":"Authenticate"}"#),
    });
    let d = repo(&[
        (
            "live.env",
            &format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={token}\n"),
        ),
        // An API key: its SK… SID is the user. The account SID next to it
        // is tried too and rejected; one accepted attempt makes it live.
        (
            "key.env",
            &format!(
                "TWILIO_ACCOUNT_SID={sid}\nTWILIO_API_KEY={key_sid}\nTWILIO_API_SECRET={key_secret}\n"
            ),
        ),
        (
            "dead.env",
            &format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={dead}\n"),
        ),
        ("lonely.env", &format!("TWILIO_AUTH_TOKEN={lonely}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    let live = finding_of(&v, "live.env");
    assert_eq!(live["verification"]["status"], "live", "{v}");
    assert_eq!(live["verification"]["detail"], format!("account {sid}"));
    assert_eq!(live["severity"], "critical");
    let key = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "key.env" && f["rule"] == "twilio-auth-token")
        .unwrap();
    assert_eq!(key["verification"]["status"], "live", "{v}");
    // The SK… SID finding of the live key is live with it.
    let sid_finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "key.env" && f["rule"] == "twilio-api-key-sid")
        .unwrap();
    assert_eq!(sid_finding["verification"]["status"], "live", "{v}");
    assert_eq!(sid_finding["severity"], "critical");
    let dead_f = &finding_of(&v, "dead.env")["verification"];
    assert_eq!(dead_f["status"], "invalid");
    assert_eq!(
        dead_f["detail"],
        "rejected (HTTP 401) with the sid found in the same file"
    );
    let l = finding_of(&v, "lonely.env");
    assert_eq!(l["verification"]["status"], "unknown");
    assert_eq!(
        l["verification"]["detail"],
        "not sent: no sid for it in the same file"
    );
    let seen = p.seen();
    assert_eq!(only_to(&seen, &token, "verify.twilio.com"), 1);
    assert_eq!(only_to(&seen, &key_secret, "verify.twilio.com"), 2);
    assert_eq!(only_to(&seen, &dead, "verify.twilio.com"), 1);
    assert_eq!(
        only_to(&seen, &lonely, "-"),
        0,
        "a token without a SID is never sent"
    );
    common::assert_redacted(&out.stdout, &[&token, &key_secret, &dead, &lonely]);
    common::assert_redacted(&out.stderr, &[&token, &key_secret, &dead, &lonely]);
}

#[test]
fn mailchimp_keys_go_to_their_data_center_and_nowhere_else() {
    let live = expand("<<hex:32>>-us21", "mailchimp-live").unwrap();
    let dead = expand("<<hex:32>>-us6", "mailchimp-dead").unwrap();
    let l = live.clone();
    let p = Provider::start(true, move |s, _| match basic(s) {
        Some((_, k)) if s.sni == "us21.api.mailchimp.com" && k == l => {
            reply(200, r#"{"account_id":"1","account_name":"Acme Shop"}"#)
        }
        _ => reply(401, r#"{"title":"API Key Invalid"}"#),
    });
    let d = repo(&[
        ("live.env", &format!("MAILCHIMP_API_KEY={live}\n")),
        ("dead.env", &format!("MAILCHIMP_API_KEY={dead}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    assert_eq!(finding_of(&v, "live.env")["verification"]["status"], "live");
    assert_eq!(
        finding_of(&v, "live.env")["verification"]["detail"],
        "account Acme Shop"
    );
    assert_eq!(
        finding_of(&v, "dead.env")["verification"]["status"],
        "invalid"
    );
    let seen = p.seen();
    assert_eq!(only_to(&seen, &live, "us21.api.mailchimp.com"), 1);
    assert_eq!(only_to(&seen, &dead, "us6.api.mailchimp.com"), 1);
}

#[test]
fn the_cloudflare_global_key_is_sent_only_with_an_email_from_the_same_file() {
    let key = expand("<<hex:37>>", "cf-global").unwrap();
    let dead = expand("<<hex:37>>", "cf-global-dead").unwrap();
    let lonely = expand("<<hex:37>>", "cf-global-lonely").unwrap();
    let k = key.clone();
    let p = Provider::start(true, move |s, _| {
        if s.sni == "api.cloudflare.com"
            && s.header("x-auth-key") == Some(k.as_str())
            && s.header("x-auth-email") == Some("ops@corp.io")
        {
            reply(
                200,
                r#"{"success":true,"result":{"id":"u1","email":"ops@corp.io"}}"#,
            )
        } else {
            reply(403, r#"{"success":false,"errors":[{"code":9103}]}"#)
        }
    });
    let d = repo(&[
        // Many other e-mails earlier in the file: the one next to the key
        // is tried first.
        (
            "live.env",
            &format!(
                "{}CF_API_EMAIL=ops@corp.io\nCF_API_KEY={key}\n",
                (0..40)
                    .map(|i| format!("# owner{i}@corp.io\n"))
                    .collect::<String>()
            ),
        ),
        (
            "dead.env",
            &format!("CF_API_EMAIL=ops@corp.io\nCF_API_KEY={dead}\n"),
        ),
        ("lonely.env", &format!("CF_API_KEY={lonely}\n")),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    assert_eq!(
        finding_of(&v, "live.env")["verification"]["status"],
        "live",
        "{v}"
    );
    assert_eq!(
        finding_of(&v, "live.env")["verification"]["detail"],
        "user ops@corp.io"
    );
    assert_eq!(
        finding_of(&v, "dead.env")["verification"]["status"],
        "invalid"
    );
    let l = &finding_of(&v, "lonely.env")["verification"];
    assert_eq!(l["status"], "unknown");
    assert_eq!(l["detail"], "not sent: no email for it in the same file");
    let seen = p.seen();
    // The live key with the three e-mails nearest to it (ops@ and the two
    // owners just above), the dead one with its one e-mail.
    assert_eq!(seen.len(), 4);
    assert_eq!(only_to(&seen, &key, "api.cloudflare.com"), 3);
    let emails: std::collections::BTreeSet<_> = seen
        .iter()
        .filter(|s| s.header("x-auth-key") == Some(key.as_str()))
        .map(|s| s.header("x-auth-email").unwrap().to_string())
        .collect();
    assert_eq!(
        emails,
        ["ops@corp.io", "owner38@corp.io", "owner39@corp.io"]
            .map(String::from)
            .into()
    );
    assert_eq!(only_to(&seen, &lonely, "-"), 0);
}

#[test]
fn shopify_tokens_go_only_to_their_shop_under_myshopify_com() {
    let live = expand("shpat_<<hex:32>>", "shopify-live").unwrap();
    let dead = expand("shpat_<<hex:32>>", "shopify-dead").unwrap();
    let lonely = expand("shpat_<<hex:32>>", "shopify-lonely").unwrap();
    let odd = expand("shpat_<<hex:32>>", "shopify-odd").unwrap();
    let l = live.clone();
    let p = Provider::start(true, move |s, _| {
        if s.sni == "acme-prod.myshopify.com"
            && s.header("x-shopify-access-token") == Some(l.as_str())
        {
            reply(
                200,
                r#"{"access_scopes":[{"handle":"read_orders"},{"handle":"write_products"}]}"#,
            )
        } else {
            reply(401, r#"{"errors":"[API] Invalid API key or access token"}"#)
        }
    });
    let d = repo(&[
        (
            "live.env",
            &format!("SHOPIFY_STORE=Acme-Prod.myshopify.com\nSHOPIFY_ACCESS_TOKEN={live}\n"),
        ),
        (
            "dead.env",
            &format!(
                "SHOPIFY_STORE=https://acme-prod.myshopify.com/admin\nSHOPIFY_ACCESS_TOKEN={dead}\n"
            ),
        ),
        ("lonely.env", &format!("SHOPIFY_ACCESS_TOKEN={lonely}\n")),
        // A file that tries to steer the token elsewhere: the only host it
        // can reach is a label under myshopify.com.
        (
            "odd.env",
            &format!(
                "SHOPIFY_STORE=https://evil.example/@x.myshopify.com\nSHOPIFY_ACCESS_TOKEN={odd}\n"
            ),
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    let f = &finding_of(&v, "live.env")["verification"];
    assert_eq!(f["status"], "live", "{v}");
    assert_eq!(f["detail"], "scopes read_orders write_products");
    assert_eq!(
        finding_of(&v, "dead.env")["verification"]["status"],
        "invalid"
    );
    assert_eq!(
        finding_of(&v, "lonely.env")["verification"]["detail"],
        "not sent: no shop for it in the same file"
    );
    let seen = p.seen();
    assert_eq!(only_to(&seen, &live, "acme-prod.myshopify.com"), 1);
    assert_eq!(only_to(&seen, &dead, "acme-prod.myshopify.com"), 1);
    assert_eq!(only_to(&seen, &lonely, "-"), 0);
    assert!(only_to(&seen, &odd, "x.myshopify.com") <= 1);
    assert!(
        seen.iter().all(|s| s.sni.ends_with(".myshopify.com")),
        "{:?}",
        seen.iter().map(|s| &s.sni).collect::<Vec<_>>()
    );
}

#[test]
fn a_host_label_that_is_not_one_dns_label_is_never_used() {
    // A rule of the config whose context regex takes anything: the check
    // in code still refuses a value that is not one label.
    let token = expand("tok_<<alnum:32>>", "label-hostile").unwrap();
    let p = Provider::start(true, |_, _| reply(200, "{}"));
    let config = r#"
[[rule]]
id = "acme-shop-token"
name = "Acme shop token"
severity = "high"
keywords = ["tok_"]
regex = '''\b(tok_[A-Za-z0-9]{32})\b'''

[rule.verify]
url = "https://{shop}.myshopify.com/admin/oauth/access_scopes.json"
headers = { X-Shopify-Access-Token = "{secret}" }
live = { status = [200] }

[rule.verify.context]
shop = '''shop=(\S+)\.myshopify\.com'''
"#;
    for hostile in [
        "evil.example/x",
        "evil.example",
        "evil.example:443#",
        "a@evil.example",
    ] {
        let d = repo(&[
            (".gitops-guard.toml", config),
            (
                "shop.env",
                &format!("shop={hostile}.myshopify.com\nACME={token}\n"),
            ),
        ]);
        let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
        let v = json(&out);
        let f = &finding_of(&v, "shop.env")["verification"];
        assert_eq!(f["status"], "unknown", "{hostile}: {v}");
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains("not a single host name label"),
            "{hostile}: {f}"
        );
    }
    assert!(p.seen().is_empty(), "nothing may be sent");
}

#[test]
fn atlassian_tokens_need_the_email_and_site_from_the_same_file() {
    let live = expand("ATATT3xFfGF0<<b64url:180>>=<<HEX:8>>", "atlassian-live").unwrap();
    let dead = expand("ATATT3xFfGF0<<b64url:180>>=<<HEX:8>>", "atlassian-dead").unwrap();
    let lonely = expand("ATATT3xFfGF0<<b64url:180>>=<<HEX:8>>", "atlassian-lonely").unwrap();
    let hostile = expand("ATATT3xFfGF0<<b64url:180>>=<<HEX:8>>", "atlassian-hostile").unwrap();
    let l = live.clone();
    let p = Provider::start(true, move |s, _| match basic(s) {
        Some((u, k)) if s.sni == "acme.atlassian.net" && u == "bot@acme.io" && k == l => reply(
            200,
            r#"{"accountId":"5b10a2844c20165700ede21g","displayName":"Release Bot"}"#,
        ),
        _ => reply(401, "Client must be authenticated"),
    });
    let d = repo(&[
        (
            "live.yaml",
            &format!(
                "jira:\n  url: https://acme.atlassian.net\n  user: bot@acme.io\n  token: \"{live}\"\n"
            ),
        ),
        (
            "dead.yaml",
            &format!(
                "jira:\n  url: https://acme.atlassian.net\n  user: bot@acme.io\n  token: \"{dead}\"\n"
            ),
        ),
        // A site but no e-mail: not sent.
        (
            "lonely.yaml",
            &format!("jira:\n  url: https://acme.atlassian.net\n  token: \"{lonely}\"\n"),
        ),
        // A site that is not one label under atlassian.net: not sent.
        (
            "hostile.yaml",
            &format!(
                "jira:\n  url: https://evil.example/#.atlassian.net\n  user: bot@acme.io\n  token: \"{hostile}\"\n"
            ),
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    let f = &finding_of(&v, "live.yaml")["verification"];
    assert_eq!(f["status"], "live", "{v}");
    assert_eq!(f["detail"], "user Release Bot");
    assert_eq!(
        finding_of(&v, "dead.yaml")["verification"]["status"],
        "invalid"
    );
    assert_eq!(
        finding_of(&v, "lonely.yaml")["verification"]["detail"],
        "not sent: no email for it in the same file"
    );
    let seen = p.seen();
    assert_eq!(only_to(&seen, &live, "acme.atlassian.net"), 1);
    assert_eq!(only_to(&seen, &dead, "acme.atlassian.net"), 1);
    assert_eq!(only_to(&seen, &lonely, "-"), 0);
    assert_eq!(
        finding_of(&v, "hostile.yaml")["verification"]["detail"],
        "not sent: no site for it in the same file"
    );
    assert_eq!(only_to(&seen, &hostile, "-"), 0);
    assert_eq!(seen.len(), 2);
}

#[test]
fn docker_hub_tokens_and_docker_io_logins_are_verified_and_other_registries_never_sent() {
    let pat = expand("dckr_pat_<<b64url:27>>", "docker-pat").unwrap();
    let lonely = expand("dckr_pat_<<b64url:27>>", "docker-lonely").unwrap();
    let dead_pat = expand("dckr_pat_<<b64url:27>>", "docker-dead").unwrap();
    let hub_pw = expand("<<alnum:24>>", "docker-hub-pw").unwrap();
    let ghcr_pw = expand("<<alnum:36>>", "docker-ghcr-pw").unwrap();
    let hub_auth = expand(&format!("<<b64of:ci-bot:{hub_pw}>>"), "x").unwrap();
    let ghcr_auth = expand(&format!("<<b64of:deploy:{ghcr_pw}>>"), "x").unwrap();
    let (pt, ha) = (pat.clone(), hub_auth.clone());
    let p = Provider::start(true, move |s, _| match s.sni.as_str() {
        "hub.docker.com" => {
            let body: serde_json::Value = serde_json::from_str(&s.body).unwrap_or_default();
            if body["identifier"] == "acme" && body["secret"] == pt.as_str() {
                reply(200, r#"{"access_token":"eyJ.x.y"}"#)
            } else {
                reply(401, r#"{"detail":"incorrect username or password"}"#)
            }
        }
        "auth.docker.io" if s.header("authorization") == Some(&format!("Basic {ha}")) => {
            reply(200, r#"{"token":"eyJ.x.y"}"#)
        }
        _ => reply(401, r#"{"details":"incorrect username or password"}"#),
    });
    let d = repo(&[
        (
            "login.sh",
            &format!("echo {pat} | docker login -u acme --password-stdin\n"),
        ),
        ("lonely.env", &format!("DOCKERHUB_TOKEN: {lonely}\n")),
        (
            "dead.env",
            &format!("DOCKERHUB_USERNAME=acme\nDOCKERHUB_TOKEN={dead_pat}\n"),
        ),
        (
            "config.json",
            &format!(
                "{{\"auths\": {{\n  \"https://index.docker.io/v1/\": {{\"auth\": \"{hub_auth}\"}},\n  \"ghcr.io\": {{\"auth\": \"{ghcr_auth}\"}}\n}}}}\n"
            ),
        ),
    ]);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    assert_eq!(
        finding_of(&v, "login.sh")["verification"]["status"],
        "live",
        "{v}"
    );
    assert_eq!(
        finding_of(&v, "lonely.env")["verification"]["detail"],
        "not sent: no user for it in the same file"
    );
    let auths: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "docker-config-auth")
        .map(|f| f["verification"]["status"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = auths.clone();
    sorted.sort();
    assert_eq!(sorted, ["live", "unknown"], "{v}");
    let seen = p.seen();
    assert_eq!(only_to(&seen, &pat, "hub.docker.com"), 1);
    assert_eq!(only_to(&seen, &dead_pat, "hub.docker.com"), 1);
    let dead_f = &finding_of(&v, "dead.env")["verification"];
    assert_eq!(dead_f["status"], "invalid", "{v}");
    assert_eq!(
        dead_f["detail"],
        "rejected (HTTP 401) with the user found in the same file"
    );
    assert_eq!(only_to(&seen, &hub_pw, "auth.docker.io"), 1);
    assert_eq!(
        only_to(&seen, &ghcr_pw, "-"),
        0,
        "a ghcr.io credential must not go to Docker"
    );
    assert_eq!(only_to(&seen, &lonely, "-"), 0);
    common::assert_redacted(
        &out.stdout,
        &[&pat, &hub_pw, &ghcr_pw, &hub_auth, &ghcr_auth],
    );
}

#[test]
fn okta_and_auth0_tenants_are_asked_only_when_the_config_lists_them() {
    let okta = expand("00<<alnum:40>>", "okta-live").unwrap();
    let okta_dead = expand("00<<alnum:40>>", "okta-dead").unwrap();
    let client_id = expand("<<alnum:32>>", "auth0-id").unwrap();
    let secret = expand("<<alnum:64>>", "auth0-secret").unwrap();
    let dead = expand("<<alnum:64>>", "auth0-dead").unwrap();
    let (o, cid, sec) = (okta.clone(), client_id.clone(), secret.clone());
    let p = Provider::start(true, move |s, _| match s.sni.as_str() {
        "corp.okta.com" if s.header("authorization") == Some(&format!("SSWS {o}")) => {
            reply(200, r#"{"id":"00u1","profile":{"login":"admin@corp.io"}}"#)
        }
        "corp.eu.auth0.com"
            if s.body
                .contains(&format!("client_id={cid}&client_secret={sec}&")) =>
        {
            reply(
                403,
                r#"{"error":"invalid_grant","error_description":"Invalid authorization code"}"#,
            )
        }
        "corp.eu.auth0.com" => reply(
            401,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        ),
        _ => reply(401, r#"{"errorCode":"E0000011"}"#),
    });
    let files = [
        (
            "okta.yaml",
            format!("okta:\n  orgUrl: https://corp.okta.com\n  token: {okta}\n"),
        ),
        (
            "auth0.yaml",
            format!(
                "auth0:\n  domain: corp.eu.auth0.com\n  clientId: {client_id}\n  clientSecret: {secret}\n"
            ),
        ),
        (
            "okta-dead.yaml",
            format!("okta:\n  orgUrl: https://corp.okta.com\n  token: {okta_dead}\n"),
        ),
        (
            "auth0-dead.yaml",
            format!(
                "auth0:\n  domain: corp.eu.auth0.com\n  clientId: {client_id}\n  clientSecret: {dead}\n"
            ),
        ),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    // The tenant named in the file is not enough.
    let d = repo(&files);
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    for path in ["okta.yaml", "auth0.yaml"] {
        let f = &finding_of(&v, path)["verification"];
        assert_eq!(f["status"], "unknown", "{v}");
        assert!(
            f["detail"].as_str().unwrap().contains("allow-listed"),
            "{f}"
        );
    }
    assert!(p.seen().is_empty());
    write_tree(
        d.path(),
        &[(
            ".gitops-guard.toml",
            "[verification]\nself-hosted = { okta = [\"corp.okta.com\"], auth0 = [\"corp.eu.auth0.com\"] }\n",
        )],
    );
    let out = p.gg(d.path(), &["scan", ".", "--verify", "--format", "json"]);
    let v = json(&out);
    let f = &finding_of(&v, "okta.yaml")["verification"];
    assert_eq!(f["status"], "live", "{v}");
    assert_eq!(f["detail"], "user admin@corp.io on corp.okta.com");
    assert_eq!(
        finding_of(&v, "auth0.yaml")["verification"]["status"],
        "live"
    );
    assert_eq!(
        finding_of(&v, "auth0-dead.yaml")["verification"]["status"],
        "invalid"
    );
    let seen = p.seen();
    assert_eq!(only_to(&seen, &okta, "corp.okta.com"), 1);
    assert_eq!(only_to(&seen, &okta_dead, "corp.okta.com"), 1);
    assert_eq!(
        finding_of(&v, "okta-dead.yaml")["verification"]["status"],
        "invalid"
    );
    assert_eq!(only_to(&seen, &secret, "corp.eu.auth0.com"), 1);
    assert_eq!(only_to(&seen, &dead, "corp.eu.auth0.com"), 1);
    common::assert_redacted(&out.stdout, &[&okta, &secret, &dead]);
}

#[test]
fn dry_run_shows_second_values_and_host_labels_redacted_and_sends_none() {
    let sid = expand("AC<<hex:32>>", "dry-twilio-sid").unwrap();
    let token = expand("<<hex:32>>", "dry-twilio").unwrap();
    let shopify = expand("shpat_<<hex:32>>", "dry-shopify").unwrap();
    let p = Provider::start(true, |_, _| reply(200, "{}"));
    let d = repo(&[
        (
            "twilio.env",
            &format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={token}\n"),
        ),
        (
            "shopify.env",
            &format!("SHOP=acme-prod.myshopify.com\nSHOPIFY_TOKEN={shopify}\n"),
        ),
    ]);
    let out = p.gg(
        d.path(),
        &["scan", ".", "--verify-dry-run", "--format", "json"],
    );
    assert!(p.seen().is_empty());
    assert!(
        out.stderr.contains(
            "GET https://acme-prod.myshopify.com/admin/oauth/access_scopes.json | X-Shopify-Access-Token: shpa…"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "GET https://verify.twilio.com/v2/Services?PageSize=1 | Authorization: Basic base64({}:{})",
            gitops_guard::finding::redact(&sid),
            gitops_guard::finding::redact(&token)
        )),
        "{}",
        out.stderr
    );
    common::assert_redacted(&out.stderr, &[&sid, &token, &shopify]);
}
