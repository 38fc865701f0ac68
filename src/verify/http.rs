//! The real transport: ureq on rustls (ring provider, Mozilla's roots
//! compiled in). Configured so a secret cannot leave for another host:
//! HTTPS only, no redirects followed (a 3xx comes back as a response and
//! is reported `unknown`), the request's host checked against the spec's
//! before sending, one global timeout per request.

use super::{HttpRequest, HttpResponse, Transport};
use std::io::Read;
use std::time::Duration;
use ureq::Agent;
use ureq::config::Config;

pub struct Client {
    agent: Agent,
}

const BODY_LIMIT: u64 = 64 * 1024;

impl Client {
    pub fn new(timeout: Duration) -> Client {
        let builder = Config::builder()
            .https_only(true)
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!(
                "gitops-guard/",
                env!("CARGO_PKG_VERSION"),
                " (secret verification)"
            ));
        #[cfg(feature = "verify-test-endpoint")]
        if let Some(t) = test_endpoint::TestEndpoint::from_env() {
            return Client {
                agent: t.agent(builder),
            };
        }
        Client {
            agent: builder.build().new_agent(),
        }
    }
}

/// Host of an absolute URL (`https://host[:port]/…`), lowercased.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    Some(auth.to_ascii_lowercase())
}

impl Transport for Client {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        // Defence in depth: the spec was validated, but never send a
        // secret to a host other than the one the spec names.
        if url_host(&req.url).as_deref() != Some(req.host.to_ascii_lowercase().as_str())
            || !req.url.starts_with("https://")
        {
            return Err("refused: the request's host is not the verifier's".into());
        }
        let mut b = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let request = b
            .body(req.body.clone().unwrap_or_default().into_bytes())
            .map_err(|_| "the request could not be built".to_string())?;
        let mut resp = self.agent.run(request).map_err(describe)?;
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        let location_host = header("location").and_then(|l| url_host(&l));
        let mut body = Vec::new();
        let _ = resp
            .body_mut()
            .as_reader()
            .take(BODY_LIMIT)
            .read_to_end(&mut body);
        Ok(HttpResponse {
            status,
            retry_after,
            location_host,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// A message for an error that cannot hold the URL or a header (a URL may
/// carry the secret, e.g. Telegram's `/bot<token>/getMe`).
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        // rustls reports a failed handshake (untrusted certificate, wrong
        // name) as InvalidData; its message names the problem, never the URL.
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            format!("TLS error ({io})")
        }
        ureq::Error::Io(io) => format!("network error ({})", io.kind()),
        ureq::Error::Tls(m) => format!("TLS error ({m})"),
        ureq::Error::Rustls(r) => format!("TLS error ({r})"),
        ureq::Error::RequireHttpsOnly(_) => "refused: not HTTPS".into(),
        _ => "request failed".into(),
    }
}

/// Test builds only (cargo feature `verify-test-endpoint`, enabled through
/// the crate's dev-dependency on itself): every verifier host resolves to a
/// local server, and its throwaway CA is the only root trusted. Release
/// builds do not contain this code, so no flag or variable can redirect
/// verification there.
#[cfg(feature = "verify-test-endpoint")]
mod test_endpoint {
    use super::*;
    use std::net::SocketAddr;
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
    use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

    pub const ADDR_ENV: &str = "GITOPS_GUARD_TEST_VERIFY_ADDR";
    pub const CA_ENV: &str = "GITOPS_GUARD_TEST_VERIFY_CA";

    pub struct TestEndpoint {
        addr: SocketAddr,
        ca_pem: Vec<u8>,
    }

    #[derive(Debug)]
    struct Fixed(SocketAddr);

    impl Resolver for Fixed {
        fn resolve(
            &self,
            _uri: &ureq::http::Uri,
            _config: &Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let mut v = self.empty();
            v.push(self.0);
            Ok(v)
        }
    }

    impl TestEndpoint {
        pub fn from_env() -> Option<TestEndpoint> {
            let addr = std::env::var(ADDR_ENV).ok()?.parse().ok()?;
            let ca_pem = std::fs::read(std::env::var_os(CA_ENV)?).ok()?;
            Some(TestEndpoint { addr, ca_pem })
        }

        pub fn agent(
            &self,
            builder: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
        ) -> Agent {
            let ca = Certificate::from_pem(&self.ca_pem)
                .expect("test CA is PEM")
                .to_owned();
            let tls = TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&[ca]))
                .build();
            let config = builder.tls_config(tls).proxy(None).build();
            Agent::with_parts(config, DefaultConnector::new(), Fixed(self.addr))
        }
    }
}
