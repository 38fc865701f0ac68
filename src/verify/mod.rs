//! `scan --verify`: ask each secret's provider whether it still works.
//!
//! Opt-in, and never in the hooks: a scan reads files, verification sends
//! found credentials over the network. What is sent where is fixed by the
//! rule's `[rule.verify]` table ([`spec`]): HTTPS only, to the host written
//! in the spec, redirects never followed. Each distinct value is checked
//! once per run ([`verify_findings`] memoises by rule and value); requests
//! go out from a small pool with a per-host spacing, bounded retries and a
//! timeout. `--verify-dry-run` lists the requests, redacted, and sends none.

pub mod aws;
pub mod azure;
pub mod cache;
#[cfg(feature = "verify")]
pub mod gcp;
#[cfg(feature = "verify")]
pub mod http;
pub mod spec;

use crate::finding::{Category, Finding, Severity, Verification, VerifyStatus};
use spec::{VerifySpec, fill, url_encode};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request, ready to send. `Debug` is deliberately absent: it holds
/// the secret.
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    /// The host every part of this request is bound to (from the spec).
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The same request with every secret replaced by its redacted form,
    /// for `--verify-dry-run`.
    pub redacted: String,
}

#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// `Retry-After` in seconds, when the provider sent one.
    pub retry_after: Option<u64>,
    /// For a redirect: the host it points to (never followed).
    pub location_host: Option<String>,
    /// The first 64 KiB of the body, lossily decoded.
    pub body: String,
}

/// Sends one request. The real one is [`http::Client`]; tests may stub it.
pub trait Transport: Sync {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String>;
}

/// Knobs of a verification run.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Self-hosted instances allowed per kind (`gitlab` -> hosts): a
    /// verifier with `self_hosted = "gitlab"` is also tried there. Never
    /// taken from scanned files.
    pub self_hosted: BTreeMap<String, Vec<String>>,
    pub concurrency: usize,
    /// Least time between two requests to the same host.
    pub per_host_interval: Duration,
    pub timeout: Duration,
    /// Retries after a 429/5xx or a network error.
    pub retries: u32,
    /// A `Retry-After` longer than this is not waited for: `unknown`.
    pub max_retry_after: Duration,
    pub dry_run: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            self_hosted: BTreeMap::new(),
            concurrency: 8,
            per_host_interval: Duration::from_millis(100),
            timeout: Duration::from_secs(10),
            retries: 2,
            max_retry_after: Duration::from_secs(30),
            dry_run: false,
        }
    }
}

/// What a run did, for the closing line on stderr.
#[derive(Clone, Debug, Default)]
pub struct VerifyStats {
    pub distinct: usize,
    pub requests: usize,
    pub live: usize,
    pub invalid: usize,
    pub unknown: usize,
    pub cached: usize,
    /// `--verify-dry-run`: the requests that would have been sent, redacted.
    pub planned: Vec<String>,
}

/// What to check: a rule's verifier and the value(s) it needs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Job {
    rule: String,
    secret: String,
    /// AWS: the secret access key found in the same blob as the key id.
    /// Azure Storage: the account name from the key's connection string.
    pair: Option<String>,
    /// Why a code verifier cannot build its request (e.g. an Azure
    /// connection string for another cloud): reported as `unknown`.
    not_sent: Option<String>,
    /// A self-hosted instance from the config's allow-list, in place of
    /// the spec's host (`None`: the spec's host).
    host: Option<String>,
    /// One value per `[rule.verify.context]` name, from the secret's blob.
    vars: Vec<(String, String)>,
}

impl Job {
    /// What the cache keys a result by besides rule and secret: the pair,
    /// and for a job with a second value or another host, those too (an
    /// `invalid` for a wrong e-mail must not stand for the right one).
    fn cache_pair(&self) -> Option<String> {
        if self.host.is_none() && self.vars.is_empty() {
            return self.pair.clone();
        }
        let mut k = self.pair.clone().unwrap_or_default();
        k.push('\0');
        k.push_str(self.host.as_deref().unwrap_or(""));
        for (n, v) in &self.vars {
            k.push('\0');
            k.push_str(n);
            k.push('=');
            k.push_str(v);
        }
        Some(k)
    }
}

/// Most attempts one finding may make: the combinations of its context
/// values and hosts beyond this are not tried.
pub const MAX_ATTEMPTS: usize = 9;

/// The attempts for one value: each combination of its context values,
/// on the spec's host and each allow-listed instance. A value that lacks
/// what the verifier needs gets one attempt that is never sent.
fn attempts(
    spec: &VerifySpec,
    base: Job,
    context: &[(String, Vec<String>)],
    opts: &VerifyOptions,
) -> Vec<Job> {
    let not_sent = |why: String| {
        vec![Job {
            not_sent: Some(why),
            ..base.clone()
        }]
    };
    if base.not_sent.is_some() {
        return vec![base];
    }
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for name in spec.context.keys() {
        let vals = context
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        if vals.is_empty() {
            return not_sent(format!("not sent: no {name} for it in the same file"));
        }
        combos = combos
            .iter()
            .flat_map(|c| {
                vals.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((name.clone(), v.clone()));
                    c
                })
            })
            .take(MAX_ATTEMPTS)
            .collect();
    }
    let allowed: Vec<String> = spec
        .self_hosted
        .as_ref()
        .and_then(|k| opts.self_hosted.get(k))
        .cloned()
        .unwrap_or_default();
    let mut hosts: Vec<Option<String>> = Vec::new();
    if spec.host_spec() == Some(spec::HostSpec::AllowListed) {
        if allowed.is_empty() {
            return not_sent(format!(
                "not sent: no {kind} instance allow-listed ([verification] self-hosted = {{ {kind} = [\"…\"] }})",
                kind = spec.self_hosted.as_deref().unwrap_or("?")
            ));
        }
    } else {
        hosts.push(None);
    }
    hosts.extend(allowed.into_iter().map(Some));
    let mut out = Vec::new();
    for vars in &combos {
        for h in &hosts {
            if out.len() < MAX_ATTEMPTS {
                out.push(Job {
                    host: h.clone(),
                    vars: vars.clone(),
                    ..base.clone()
                });
            }
        }
    }
    out
}

/// One verdict over a value's attempts: live anywhere is live (naming the
/// instance when there are several hosts), invalid only where every
/// attempt was rejected.
fn combine(spec: &VerifySpec, tried: &[(&Job, Verification)]) -> Verification {
    if tried.len() == 1 && spec.host_spec() != Some(spec::HostSpec::AllowListed) {
        return tried[0].1.clone();
    }
    let several_hosts = tried.iter().any(|(j, _)| j.host.is_some());
    if let Some((j, v)) = tried.iter().find(|(_, v)| v.status == VerifyStatus::Live) {
        if !several_hosts {
            return v.clone();
        }
        let on = j.host.as_deref().unwrap_or("the provider");
        return Verification {
            status: VerifyStatus::Live,
            detail: Some(match &v.detail {
                Some(d) => format!("{d} on {on}"),
                None => format!("on {on}"),
            }),
        };
    }
    if tried.iter().all(|(_, v)| v.status == VerifyStatus::Invalid) {
        return tried[0].1.clone();
    }
    if tried.len() == 1 {
        return tried[0].1.clone();
    }
    // A single reason shared by every attempt says more than a summary.
    let first = &tried[0].1;
    if tried.iter().all(|(_, v)| v == first) {
        return first.clone();
    }
    unknown("not accepted by any attempt, not rejected by all")
}

/// Check every secret finding that has a verifier, once per distinct value,
/// and record the outcome on each finding. A live one becomes critical.
/// Findings of rules without a verifier get `unknown` ("no verifier").
pub fn verify_findings(
    findings: &mut [Finding],
    specs: &HashMap<String, VerifySpec>,
    transport: Option<&dyn Transport>,
    opts: &VerifyOptions,
    cache: Option<&mut cache::Cache>,
) -> VerifyStats {
    let mut stats = VerifyStats::default();
    // AWS pairs: key id and secret access key in the same blob.
    let mut aws_secrets: HashMap<(String, String), Vec<String>> = HashMap::new();
    for f in findings.iter() {
        if f.rule == aws::SECRET_RULE
            && let Some(s) = &f.secret
        {
            aws_secrets
                .entry(blob_key(f))
                .or_default()
                .push(s.expose().to_string());
        }
    }
    // Finding index -> its attempts; every distinct attempt once.
    let mut tries_of: Vec<Option<Vec<Job>>> = Vec::with_capacity(findings.len());
    let mut values: std::collections::BTreeSet<Vec<Job>> = std::collections::BTreeSet::new();
    let mut jobs: std::collections::BTreeSet<Job> = std::collections::BTreeSet::new();
    for f in findings.iter() {
        let tries = (|| {
            if f.category != Category::Secret || f.suppressed.is_some() {
                return None;
            }
            let secret = f.secret.as_ref()?.expose().to_string();
            let spec = specs.get(&f.rule)?;
            let mut not_sent = None;
            let pair = match spec.module.as_deref() {
                Some("aws-sts") => aws_secrets
                    .get(&blob_key(f))
                    .and_then(|v| v.first().cloned()),
                // The account name is not a secret, so the redacted
                // snippet of the key's line still holds it.
                Some(azure::MODULE) => {
                    let line = f.snippet.as_ref().map_or("", |s| s.text.as_str());
                    match azure::account_from_line(line) {
                        Ok(a) => Some(a),
                        Err(e) => {
                            not_sent = Some(e);
                            None
                        }
                    }
                }
                _ => None,
            };
            let base = Job {
                rule: f.rule.clone(),
                secret,
                pair,
                not_sent,
                host: None,
                vars: Vec::new(),
            };
            Some(attempts(spec, base, &f.context, opts))
        })();
        if let Some(t) = &tries {
            jobs.extend(t.iter().cloned());
            values.insert(t.clone());
        }
        tries_of.push(tries);
    }
    stats.distinct = values.len();
    let jobs: Vec<Job> = jobs.into_iter().collect();

    let mut results: HashMap<Job, Verification> = HashMap::new();
    let mut todo = Vec::new();
    let mut cache = cache;
    for job in jobs {
        if job.not_sent.is_none()
            && let Some(c) = cache.as_deref()
            && let Some(v) = c.get(&job.rule, &job.secret, job.cache_pair().as_deref())
        {
            stats.cached += 1;
            results.insert(job, v);
        } else {
            todo.push(job);
        }
    }
    // Build each request up front: a spec that cannot produce one is
    // `unknown`, and a dry run only lists them.
    let mut planned: Vec<(Job, Result<HttpRequest, String>)> = todo
        .into_iter()
        .map(|j| {
            let r = build_request(&specs[&j.rule], &j);
            (j, r)
        })
        .collect();
    if opts.dry_run || transport.is_none() {
        for (job, req) in planned.drain(..) {
            let v = match req {
                Ok(r) => {
                    stats.planned.push(r.redacted);
                    unknown("dry run: not sent")
                }
                Err(e) => unknown(&e),
            };
            results.insert(job, v);
        }
    } else if let Some(t) = transport {
        let sent = AtomicUsize::new(0);
        let gate = HostGate::default();
        let next = AtomicUsize::new(0);
        let out: Mutex<Vec<(usize, Verification)>> = Mutex::new(Vec::new());
        let workers = opts.concurrency.clamp(1, 64).min(planned.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((job, req)) = planned.get(i) else {
                            break;
                        };
                        let v = match req {
                            Ok(r) => run_one(t, r, &specs[&job.rule], job, opts, &gate, &sent),
                            Err(e) => unknown(e),
                        };
                        out.lock().expect("no panics while held").push((i, v));
                    }
                });
            }
        });
        stats.requests = sent.load(Ordering::Relaxed);
        for (i, v) in out.into_inner().expect("workers done") {
            let job = planned[i].0.clone();
            if let Some(c) = cache.as_deref_mut()
                && v.status != VerifyStatus::Unknown
            {
                c.put(&job.rule, &job.secret, job.cache_pair().as_deref(), &v);
            }
            results.insert(job, v);
        }
    }
    // One verdict per finding over its attempts.
    let verdicts: Vec<Option<Verification>> = findings
        .iter()
        .zip(&tries_of)
        .map(|(f, t)| {
            let t = t.as_ref()?;
            let tried: Vec<(&Job, Verification)> = t
                .iter()
                .map(|j| {
                    (
                        j,
                        results
                            .get(j)
                            .cloned()
                            .unwrap_or_else(|| unknown("not checked")),
                    )
                })
                .collect();
            Some(combine(&specs[&f.rule], &tried))
        })
        .collect();
    // A value a live attempt used as its second value (Twilio's SK… SID of
    // a live API key secret) is live too; a rejection says nothing about it.
    let mut live_partner: HashMap<(String, String, String), Verification> = HashMap::new();
    for (f, t) in findings.iter().zip(&tries_of) {
        for j in t.iter().flatten() {
            if let Some(v) = results.get(j).filter(|v| v.status == VerifyStatus::Live) {
                let (path, commit) = blob_key(f);
                for (_, val) in &j.vars {
                    live_partner
                        .entry((path.clone(), commit.clone(), val.clone()))
                        .or_insert_with(|| Verification {
                            status: VerifyStatus::Live,
                            detail: Some(match &v.detail {
                                Some(d) => format!("with the live {} next to it: {d}", f.rule),
                                None => format!("with the live {} next to it", f.rule),
                            }),
                        });
                }
            }
        }
    }
    // An AWS secret access key shares its key id's verdict.
    let mut aws_by_secret: HashMap<(String, String), Verification> = HashMap::new();
    for ((f, t), v) in findings.iter().zip(&tries_of).zip(&verdicts) {
        if let (Some(t), Some(v)) = (t, v)
            && let Some(p) = &t[0].pair
            && specs[&f.rule].module.as_deref() == Some("aws-sts")
        {
            aws_by_secret.insert(
                (blob_key(f).0 + "\0" + &blob_key(f).1, p.clone()),
                v.clone(),
            );
        }
    }
    for (f, v) in findings.iter_mut().zip(verdicts) {
        let v = match v {
            Some(v) => Some(v),
            None if f.category == Category::Secret
                && f.secret.is_some()
                && f.suppressed.is_none() =>
            {
                let k = blob_key(f);
                let paired = (f.rule == aws::SECRET_RULE)
                    .then(|| {
                        aws_by_secret
                            .get(&(k.0 + "\0" + &k.1, f.secret.as_ref()?.expose().to_string()))
                            .cloned()
                    })
                    .flatten()
                    .or_else(|| {
                        let s = f.secret.as_ref()?.expose().to_string();
                        let (path, commit) = blob_key(f);
                        live_partner.get(&(path, commit, s)).cloned()
                    });
                Some(paired.unwrap_or_else(|| unknown("no verifier for this rule")))
            }
            None => None,
        };
        if let Some(v) = v {
            if v.status == VerifyStatus::Live {
                f.severity = Severity::Critical;
            }
            f.verification = Some(v);
        }
    }
    for f in findings.iter() {
        match f.verification.as_ref().map(|v| v.status) {
            Some(VerifyStatus::Live) => stats.live += 1,
            Some(VerifyStatus::Invalid) => stats.invalid += 1,
            Some(VerifyStatus::Unknown) => stats.unknown += 1,
            None => {}
        }
    }
    stats
}

/// The blob a finding is in: path and commit (empty in the working tree).
fn blob_key(f: &Finding) -> (String, String) {
    (
        f.location.path.clone(),
        f.provenance
            .as_ref()
            .map(|p| p.commit.clone())
            .unwrap_or_default(),
    )
}

fn unknown(why: &str) -> Verification {
    Verification {
        status: VerifyStatus::Unknown,
        detail: Some(why.to_string()),
    }
}

/// The request a spec makes for a job.
fn build_request(spec: &VerifySpec, job: &Job) -> Result<HttpRequest, String> {
    if let Some(why) = &job.not_sent {
        return Err(why.clone());
    }
    #[cfg(feature = "verify")]
    if spec.module.as_deref() == Some(gcp::MODULE) {
        return gcp::token_request(&job.secret, std::time::SystemTime::now());
    }
    if spec.module.as_deref() == Some(azure::MODULE) {
        let Some(account) = &job.pair else {
            return Err("no AccountName next to the key".into());
        };
        return azure::list_request(account, &job.secret, std::time::SystemTime::now());
    }
    if spec.module.as_deref() == Some("aws-sts") {
        let Some(pair) = &job.pair else {
            return Err("no AWS secret access key in the same file".into());
        };
        return Ok(aws::sts_request(
            &job.secret,
            pair,
            std::time::SystemTime::now(),
        ));
    }
    spec.validate()?;
    let host_template = spec.host_template().ok_or("verify: no host")?;
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("secret".into(), job.secret.clone());
    for (n, v) in &job.vars {
        vars.insert(n.clone(), v.clone());
    }
    if let Some(c) = &spec.capture {
        let re = spec::capture_regex(c)?;
        let caps = re
            .captures(&job.secret)
            .ok_or("the value does not have the parts the verifier needs")?;
        for name in re.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                vars.insert(name.to_string(), m.as_str().to_string());
            }
        }
    }
    // The host: the spec's, an allow-listed instance, or one validated
    // label under the spec's suffix. Nothing else can place a host.
    let host = match (spec.host_spec().ok_or("verify: no host")?, &job.host) {
        (_, Some(h)) if is_host(h) => h.clone(),
        (_, Some(_)) => return Err("a self-hosted instance must be a plain host name".into()),
        (spec::HostSpec::Literal(h), None) => h.to_string(),
        (spec::HostSpec::AllowListed, None) => {
            return Err("not sent: no allow-listed instance".into());
        }
        (spec::HostSpec::Label { name, suffix }, None) => {
            let label = vars
                .get(name)
                .map(|v| v.to_ascii_lowercase())
                .ok_or_else(|| format!("not sent: no {name} for it in the same file"))?;
            if !spec::is_label(&label) {
                return Err(format!(
                    "not sent: the {name} found is not a single host name label under {suffix}"
                ));
            }
            format!("{label}.{suffix}")
        }
    };
    let url_template = format!(
        "https://{host}{}",
        &spec.url["https://".len() + host_template.len()..]
    );
    let real = |n: &str| vars.get(n).cloned();
    let shown = |n: &str| vars.get(n).map(|v| crate::finding::redact(v));
    let real_url = |n: &str| vars.get(n).map(|v| url_encode(v));
    let shown_url = |n: &str| vars.get(n).map(|v| crate::finding::redact(v));
    let url = fill(&url_template, &real_url);
    let mut headers = Vec::new();
    let mut shown_headers = Vec::new();
    for (k, v) in &spec.headers {
        let value = fill(v, &real);
        if value.contains(['\r', '\n']) {
            return Err("the value cannot go into a header".into());
        }
        headers.push((k.clone(), value));
        shown_headers.push(format!("{k}: {}", fill(v, &shown)));
    }
    if let Some([u, p]) = &spec.basic_auth {
        use base64::Engine;
        let cred = format!("{}:{}", fill(u, &real), fill(p, &real));
        headers.push((
            "Authorization".into(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(cred)
            ),
        ));
        shown_headers.push(format!(
            "Authorization: Basic base64({}:{})",
            fill(u, &shown),
            fill(p, &shown)
        ));
    }
    let body = spec.body.as_ref().map(|b| fill(b, &real));
    let mut redacted = format!("{} {}", spec.method, fill(&url_template, &shown_url));
    for h in shown_headers {
        redacted.push_str(&format!(" | {h}"));
    }
    if let Some(b) = &spec.body {
        redacted.push_str(&format!(" | body: {}", fill(b, &shown)));
    }
    Ok(HttpRequest {
        method: spec.method.clone(),
        url,
        host,
        headers,
        body,
        redacted,
    })
}

/// A host name (and port) as the config may allow: nothing that could
/// carry a path, userinfo or another scheme.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// Per-host spacing: each host gets a request at most every `interval`,
/// and a `Retry-After` pushes the host's next slot back for every worker.
#[derive(Default)]
struct HostGate {
    next: Mutex<HashMap<String, Instant>>,
}

impl HostGate {
    fn wait(&self, host: &str, interval: Duration) {
        let wait = {
            let mut m = self.next.lock().expect("no panics while held");
            let now = Instant::now();
            let slot = m.get(host).copied().filter(|t| *t > now).unwrap_or(now);
            m.insert(host.to_string(), slot + interval);
            slot - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    fn hold_off(&self, host: &str, d: Duration) {
        let mut m = self.next.lock().expect("no panics while held");
        let until = Instant::now() + d;
        let e = m.entry(host.to_string()).or_insert(until);
        if *e < until {
            *e = until;
        }
    }
}

fn run_one(
    t: &dyn Transport,
    req: &HttpRequest,
    spec: &VerifySpec,
    job: &Job,
    opts: &VerifyOptions,
    gate: &HostGate,
    sent: &AtomicUsize,
) -> Verification {
    let mut attempt = 0;
    loop {
        gate.wait(&req.host, opts.per_host_interval);
        sent.fetch_add(1, Ordering::Relaxed);
        let retry_in = match t.send(req) {
            Ok(r) if r.status == 429 || r.status == 503 => {
                let what = if r.status == 429 {
                    "rate limited"
                } else {
                    "provider unavailable"
                };
                let d = r
                    .retry_after
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| backoff(attempt));
                if d > opts.max_retry_after || attempt >= opts.retries {
                    return unknown(&format!("{what} (HTTP {})", r.status));
                }
                gate.hold_off(&req.host, d);
                d
            }
            Ok(r) if (300..400).contains(&r.status) => {
                return unknown(&format!(
                    "redirect to {} not followed",
                    r.location_host.as_deref().unwrap_or("another location")
                ));
            }
            Ok(r) => {
                let mut v = judge(spec, job, &r);
                // The identity is not in the body: the account name, or
                // the service account the key belongs to.
                if v.status == VerifyStatus::Live {
                    match spec.module.as_deref() {
                        Some(azure::MODULE) => {
                            if let Some(a) = &job.pair {
                                v.detail = Some(format!("account {a}"));
                            }
                        }
                        #[cfg(feature = "verify")]
                        Some(gcp::MODULE) => {
                            if let Ok((_, email)) = gcp::split(&job.secret) {
                                v.detail = Some(format!("service account {email}"));
                            }
                        }
                        _ => {}
                    }
                }
                return v;
            }
            Err(e) => {
                // A certificate or a refusal will not change on retry.
                if attempt >= opts.retries || e.starts_with("TLS error") || e.starts_with("refused")
                {
                    return unknown(&e);
                }
                backoff(attempt)
            }
        };
        attempt += 1;
        std::thread::sleep(retry_in.min(opts.max_retry_after));
    }
}

/// 250 ms, 500 ms, 1 s, … between retries without a `Retry-After`.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(6))
}

/// Live, invalid or unknown from a response, by the spec's matchers.
fn judge(spec: &VerifySpec, job: &Job, r: &HttpResponse) -> Verification {
    if spec.live.matches(r.status, &r.body) {
        let mut parts = Vec::new();
        for (name, at) in &spec.identity {
            if let Some(v) = extract(&r.body, at) {
                // What the provider echoes is printed: never the secret.
                if v.is_empty()
                    || v.contains(job.secret.as_str())
                    || job.pair.as_deref().is_some_and(|p| v.contains(p))
                {
                    continue;
                }
                let v: String = crate::sanitize::escape_control(&v)
                    .chars()
                    .take(120)
                    .collect();
                parts.push(format!("{name} {v}"));
            }
        }
        return Verification {
            status: VerifyStatus::Live,
            detail: (!parts.is_empty()).then(|| parts.join(", ")),
        };
    }
    let invalid = match &spec.invalid {
        Some(m) => m.matches(r.status, &r.body),
        None => matches!(r.status, 401 | 403),
    };
    if invalid {
        Verification {
            status: VerifyStatus::Invalid,
            // With a second value from the file, the rejection may be of
            // the pairing: say so.
            detail: Some(if job.vars.is_empty() {
                format!("rejected (HTTP {})", r.status)
            } else {
                let names: Vec<&str> = job.vars.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "rejected (HTTP {}) with the {} found in the same file",
                    r.status,
                    names.join(" and ")
                )
            }),
        }
    } else {
        unknown(&format!("unexpected response (HTTP {})", r.status))
    }
}

/// A value from a response body: `/json/pointer` or `<XmlTag>`. Arrays of
/// strings (scopes) are joined, as are `/list/*/field` of every element.
fn extract(body: &str, at: &str) -> Option<String> {
    if let Some(tag) = at.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        let open = format!("<{tag}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find("</")? + start;
        return Some(body[start..end].trim().to_string());
    }
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    // `/list/*/field`: the field of every element (Shopify's scopes).
    if let Some((list, field)) = at.split_once("/*") {
        let items: Vec<String> = v
            .pointer(list)?
            .as_array()?
            .iter()
            .filter_map(|x| x.pointer(field)?.as_str().map(str::to_string))
            .collect();
        return (!items.is_empty()).then(|| items.join(" "));
    }
    match v.pointer(at)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .or_else(|| Some(x.to_string()))
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Verifiers of every rule that has one: built-in rules and `extra`
/// (the config's rules), later ones replacing earlier ones by id.
pub fn specs_of(
    extra: &[crate::rules::RuleSpec],
) -> Result<HashMap<String, VerifySpec>, crate::rules::RuleError> {
    let mut m = HashMap::new();
    for (_, r) in crate::rules::builtin_specs()? {
        if let Some(v) = r.verify {
            m.insert(r.id, v);
        }
    }
    for r in extra {
        if let Some(v) = &r.verify {
            m.insert(r.id.clone(), v.clone());
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    struct Stub(Mutex<Vec<(String, String)>>, u16, &'static str);
    impl Transport for Stub {
        fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
            self.0
                .lock()
                .unwrap()
                .push((req.host.clone(), req.url.clone()));
            Ok(HttpResponse {
                status: self.1,
                body: self.2.into(),
                ..Default::default()
            })
        }
    }

    fn gh_spec() -> VerifySpec {
        toml::from_str(
            r#"url = "https://api.github.com/user"
headers = { Authorization = "token {secret}" }
live = { status = [200] }
identity = { user = "/login" }"#,
        )
        .unwrap()
    }

    fn finding(rule: &str, path: &str, secret: &str) -> Finding {
        Finding::new(
            rule,
            Category::Secret,
            Severity::High,
            "m",
            Location {
                path: path.into(),
                ..Default::default()
            },
        )
        .with_secret(secret)
    }

    #[test]
    fn each_distinct_value_is_checked_once_and_live_is_critical() {
        let mut specs = HashMap::new();
        specs.insert("gh".to_string(), gh_spec());
        let mut fs = vec![
            finding("gh", "a", "tok-one-1234567890"),
            finding("gh", "b", "tok-one-1234567890"),
            finding("gh", "c", "tok-two-1234567890"),
            finding("other", "d", "whatever-123456"),
        ];
        let stub = Stub(Mutex::new(vec![]), 200, r#"{"login":"octo"}"#);
        let opts = VerifyOptions {
            per_host_interval: Duration::ZERO,
            ..Default::default()
        };
        let st = verify_findings(&mut fs, &specs, Some(&stub), &opts, None);
        assert_eq!(st.distinct, 2);
        assert_eq!(stub.0.lock().unwrap().len(), 2);
        assert_eq!(fs[0].severity, Severity::Critical);
        assert_eq!(
            fs[1].verification.as_ref().unwrap().describe(),
            "live (user octo)"
        );
        assert_eq!(
            fs[3].verification.as_ref().unwrap().status,
            VerifyStatus::Unknown
        );
    }

    #[test]
    fn requests_to_one_host_are_spaced_and_retry_after_holds_every_worker() {
        let gate = HostGate::default();
        let t = Instant::now();
        for _ in 0..3 {
            gate.wait("a.example", Duration::from_millis(50));
        }
        // Three slots: now, +50 ms, +100 ms.
        assert!(t.elapsed() >= Duration::from_millis(100));
        let t = Instant::now();
        gate.wait("b.example", Duration::from_millis(50));
        assert!(
            t.elapsed() < Duration::from_millis(50),
            "hosts are independent"
        );
        gate.hold_off("b.example", Duration::from_millis(200));
        let t = Instant::now();
        gate.wait("b.example", Duration::ZERO);
        assert!(t.elapsed() >= Duration::from_millis(150));
    }

    #[test]
    fn rejected_is_invalid_and_keeps_its_severity() {
        let mut specs = HashMap::new();
        specs.insert("gh".to_string(), gh_spec());
        let mut fs = vec![finding("gh", "a", "tok-one-1234567890")];
        let stub = Stub(Mutex::new(vec![]), 401, "{}");
        verify_findings(
            &mut fs,
            &specs,
            Some(&stub),
            &VerifyOptions::default(),
            None,
        );
        assert_eq!(fs[0].severity, Severity::High);
        assert_eq!(
            fs[0].verification.as_ref().unwrap().status,
            VerifyStatus::Invalid
        );
    }

    #[test]
    fn dry_run_sends_nothing_and_lists_redacted_requests() {
        let mut specs = HashMap::new();
        specs.insert("gh".to_string(), gh_spec());
        let mut fs = vec![finding("gh", "a", "tok-one-1234567890abcdef")];
        let stub = Stub(Mutex::new(vec![]), 200, "{}");
        let opts = VerifyOptions {
            dry_run: true,
            ..Default::default()
        };
        let st = verify_findings(&mut fs, &specs, Some(&stub), &opts, None);
        assert!(stub.0.lock().unwrap().is_empty());
        assert_eq!(st.planned.len(), 1);
        assert!(st.planned[0].starts_with("GET https://api.github.com/user"));
        assert!(!st.planned[0].contains("tok-one-1234567890abcdef"));
    }

    #[test]
    fn builtin_verifiers_are_valid_https_and_cover_sixty_providers() {
        let specs = specs_of(&[]).unwrap();
        let mut hosts = std::collections::BTreeSet::new();
        for (id, s) in &specs {
            s.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
            match &s.module {
                Some(m) => hosts.insert(m.clone()),
                None => match s.host_spec().unwrap() {
                    spec::HostSpec::AllowListed => hosts.insert(s.self_hosted.clone().unwrap()),
                    h => hosts.insert(h.to_string()),
                },
            };
        }
        assert!(hosts.len() >= 60, "{} providers: {hosts:?}", hosts.len());
        // Every shipped verifier renders a request to its own host.
        for (id, s) in &specs {
            if s.module.is_some() || s.capture.is_some() || s.host().is_none() {
                continue;
            }
            let job = Job {
                rule: id.clone(),
                secret: ["x/y", "z#w@v"].join("?"),
                pair: None,
                not_sent: None,
                host: None,
                vars: Vec::new(),
            };
            let r = build_request(s, &job).unwrap();
            assert_eq!(http_host(&r.url), s.host().unwrap(), "{id}");
        }
    }

    fn http_host(url: &str) -> &str {
        let rest = url.strip_prefix("https://").unwrap();
        &rest[..rest.find(['/', '?']).unwrap_or(rest.len())]
    }

    fn shop_spec() -> VerifySpec {
        toml::from_str(
            r#"url = "https://{shop}.myshopify.com/admin/oauth/access_scopes.json"
headers = { X-Shopify-Access-Token = "{secret}" }
live = { status = [200] }
[context]
shop = '(?i)([a-z0-9.-]+)\.myshopify\.com'"#,
        )
        .unwrap()
    }

    fn job(rule: &str, secret: &str, vars: &[(&str, &str)]) -> Job {
        Job {
            rule: rule.into(),
            secret: secret.into(),
            pair: None,
            not_sent: None,
            host: None,
            vars: vars
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_host_label_goes_under_the_specs_suffix_or_nothing_is_sent() {
        let s = shop_spec();
        s.validate().unwrap();
        let r = build_request(&s, &job("shop", "tok", &[("shop", "Acme-Prod")])).unwrap();
        assert_eq!(r.host, "acme-prod.myshopify.com");
        assert!(
            r.url
                .starts_with("https://acme-prod.myshopify.com/admin/oauth/")
        );
        for bad in [
            "evil.example",
            "evil.example/x",
            "a@b",
            "x:8443",
            "-x",
            "",
            "a%2Fb",
            "\u{0430}cme",
        ] {
            assert!(
                build_request(&s, &job("shop", "tok", &[("shop", bad)])).is_err(),
                "{bad}"
            );
        }
        // No value: nothing to send.
        let t = attempts(&s, job("shop", "tok", &[]), &[], &VerifyOptions::default());
        assert_eq!(t.len(), 1);
        assert!(t[0].not_sent.as_deref().unwrap().contains("no shop"));
    }

    #[test]
    fn context_values_come_from_the_blob_and_combine_into_bounded_attempts() {
        let mut s = shop_spec();
        s.context
            .insert("email".into(), r"([a-z]+@[a-z]+\.io)".into());
        let blob = b"a.myshopify.com b.myshopify.com a.myshopify.com c.myshopify.com d.myshopify.com\nx@y.io z@y.io\n";
        let ctx = spec::context_values(&s, "tok", blob, 0);
        assert_eq!(
            ctx,
            vec![
                (
                    "email".to_string(),
                    vec!["x@y.io".to_string(), "z@y.io".to_string()]
                ),
                ("shop".to_string(), vec!["a".into(), "b".into(), "c".into()]),
            ]
        );
        let t = attempts(&s, job("shop", "tok", &[]), &ctx, &VerifyOptions::default());
        assert_eq!(t.len(), 6);
        assert!(t.iter().all(|j| j.not_sent.is_none()));
        // `{secret}` ties a value to the secret's own entry.
        let mut d = shop_spec();
        d.context.clear();
        d.context.insert(
            "registry".into(),
            r#""([a-z.]+)"\s*:\s*\{"auth":"{secret}"\}"#.into(),
        );
        let blob = br#"{"ghcr.io":{"auth":"a+b="},"docker.io":{"auth":"c+d="}}"#;
        assert_eq!(
            spec::context_values(&d, "c+d=", blob, 0)[0].1,
            vec!["docker.io"]
        );
        assert_eq!(
            spec::context_values(&d, "a+b=", blob, 0)[0].1,
            vec!["ghcr.io"]
        );
        assert!(spec::context_values(&d, "e+f=", blob, 0)[0].1.is_empty());
    }

    #[test]
    fn the_values_nearest_to_the_secret_are_tried_first() {
        let m: spec::ContextMatches = vec![(
            "email".into(),
            vec![
                (0, "a@x.io".into()),
                (10, "b@x.io".into()),
                (30, "d@x.io".into()),
                (40, "a@x.io".into()),
                (500, "near@x.io".into()),
                (600, "s".into()),
            ],
        )];
        assert_eq!(
            spec::nearest(&m, 505, "s")[0].1,
            vec!["near@x.io", "a@x.io", "d@x.io"]
        );
        assert_eq!(
            spec::nearest(&m, 0, "s")[0].1,
            vec!["a@x.io", "b@x.io", "d@x.io"]
        );
    }

    #[test]
    fn a_result_is_cached_per_second_value_and_host() {
        let plain = job("r", "tok", &[]);
        let a = job("r", "tok", &[("email", "a@x.io")]);
        let b = job("r", "tok", &[("email", "b@x.io")]);
        let on = Job {
            host: Some("corp.okta.com".into()),
            ..plain.clone()
        };
        assert_eq!(plain.cache_pair(), None);
        let keys = [a.cache_pair(), b.cache_pair(), on.cache_pair()];
        assert!(keys.iter().all(Option::is_some));
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert_ne!(keys[1], keys[2]);
    }

    #[test]
    fn an_allow_listed_only_spec_sends_nothing_without_the_config() {
        let s: VerifySpec = toml::from_str(
            r#"url = "https://{host}/api/v1/users/me"
self_hosted = "okta"
headers = { Authorization = "SSWS {secret}" }
live = { status = [200] }"#,
        )
        .unwrap();
        s.validate().unwrap();
        let t = attempts(&s, job("okta", "tok", &[]), &[], &VerifyOptions::default());
        assert_eq!(t.len(), 1);
        assert!(t[0].not_sent.as_deref().unwrap().contains("allow-listed"));
        let mut opts = VerifyOptions::default();
        opts.self_hosted
            .insert("okta".into(), vec!["corp.okta.com".into()]);
        let t = attempts(&s, job("okta", "tok", &[]), &[], &opts);
        assert_eq!(t.len(), 1);
        let r = build_request(&s, &t[0]).unwrap();
        assert_eq!(r.host, "corp.okta.com");
        assert_eq!(r.url, "https://corp.okta.com/api/v1/users/me");
    }

    #[test]
    fn identity_never_echoes_the_secret() {
        let spec: VerifySpec = toml::from_str(
            r#"url = "https://x.example/"
live = { status = [200] }
identity = { token = "/token", user = "/user" }"#,
        )
        .unwrap();
        // Built at run time: the tree's own scan must stay clean.
        let echoed = ["SECRET", "VALUE", "123"].concat();
        let job = Job {
            rule: "r".into(),
            secret: echoed.clone(),
            pair: None,
            not_sent: None,
            host: None,
            vars: Vec::new(),
        };
        let r = HttpResponse {
            status: 200,
            body: format!(r#"{{"token":"{echoed}","user":"bob"}}"#),
            ..Default::default()
        };
        assert_eq!(judge(&spec, &job, &r).detail.as_deref(), Some("user bob"));
        assert_eq!(
            extract(
                r#"{"access_scopes":[{"handle":"read_orders"},{"handle":"write_products"}]}"#,
                "/access_scopes/*/handle"
            )
            .as_deref(),
            Some("read_orders write_products")
        );
        assert_eq!(
            extract("<a><Arn>arn:aws:iam::1:user/x</Arn></a>", "<Arn>").as_deref(),
            Some("arn:aws:iam::1:user/x")
        );
    }
}
