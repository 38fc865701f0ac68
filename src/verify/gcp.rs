//! GCP service-account keys: an RS256-signed JWT grant
//! (`urn:ietf:params:oauth:grant-type:jwt-bearer`) at Google's token
//! endpoint. Only the signed assertion is sent; the private key never is.
//!
//! The endpoint is fixed: the key file's own `token_uri` is ignored, since
//! a file could name any host. The value checked is what the
//! `gcp-service-account-private-key` rule captures: the PKCS#8 PEM (JSON
//! escaped) through the `client_email` that follows it in a key file as
//! Google writes it, so one finding carries both halves the grant needs.

use super::HttpRequest;
use crate::finding::redact;
use base64::Engine;
use std::time::SystemTime;

pub const MODULE: &str = "gcp-jwt";
pub const HOST: &str = "oauth2.googleapis.com";
const AUD: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The PEM private key and the service account's email from the captured
/// value (`-----BEGIN PRIVATE KEY-----\n…` … `"client_email": "…"`).
pub fn split(value: &str) -> Result<(String, String), String> {
    const END: &str = "-----END PRIVATE KEY-----";
    let end = value.find(END).ok_or("no PKCS#8 private key")? + END.len();
    // The key file keeps the PEM's line breaks JSON-escaped.
    let pem = value[..end].replace("\\n", "\n").replace("\\r", "");
    let rest = &value[end..];
    let at = rest
        .find("\"client_email\"")
        .ok_or("no client_email next to the key")?;
    let email = rest[at + "\"client_email\"".len()..]
        .trim_start_matches([' ', '\t', '\r', '\n', ':'])
        .trim_start_matches('"')
        .to_string();
    let email = email.split('"').next().unwrap_or("").to_string();
    if email.is_empty()
        || !email.contains('@')
        || !email
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b'-' | b'_'))
    {
        return Err("client_email is not an email address".into());
    }
    Ok((pem, email))
}

/// The RS256-signed assertion for the token endpoint.
pub fn assertion(pem: &str, email: &str, now: SystemTime) -> Result<String, String> {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::PrivateKey::from_pkcs8_pem(pem)
        .map_err(|_| "the private key is not an RSA PKCS#8 key".to_string())?;
    let iat = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = b64.encode(
        serde_json::json!({
            "iss": email,
            "scope": SCOPE,
            "aud": AUD,
            "iat": iat,
            "exp": iat + 600,
        })
        .to_string(),
    );
    let signing_input = format!("{header}.{claims}");
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let sig = signer
        .try_sign(signing_input.as_bytes())
        .map_err(|_| "the private key could not sign".to_string())?;
    Ok(format!("{signing_input}.{}", b64.encode(sig.to_bytes())))
}

/// The token request for a captured key and email.
pub fn token_request(value: &str, now: SystemTime) -> Result<HttpRequest, String> {
    let (pem, email) = split(value)?;
    let jwt = assertion(&pem, &email, now)?;
    // The grant type, form-encoded; the JWT is base64url and dots.
    let body =
        format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={jwt}");
    Ok(HttpRequest {
        method: "POST".into(),
        url: format!("https://{HOST}/token"),
        host: HOST.into(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(body),
        redacted: format!(
            "POST https://{HOST}/token | body: grant_type={GRANT}&assertion=<RS256 JWT for {email}, signed with the private key {}>",
            redact(&pem)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_file_value() -> (String, String) {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        // Test builds only (`rsa/getrandom` comes with the test feature):
        // production signing is deterministic and needs no RNG.
        let key = <rsa::PrivateKey as rsa::Generate>::generate();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let escaped = pem.replace('\n', "\\n");
        (
            format!("{escaped}\",\n  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com"),
            pem,
        )
    }

    #[test]
    fn the_grant_goes_to_the_fixed_host_with_a_verifiable_assertion_and_no_key() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::Verifier;
        let (value, pem) = key_file_value();
        let r = token_request(&value, SystemTime::now()).unwrap();
        assert_eq!(r.host, "oauth2.googleapis.com");
        assert_eq!(r.url, "https://oauth2.googleapis.com/token");
        let body = r.body.unwrap();
        assert!(body.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        ));
        let b64body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        for part in [pem.as_str(), &b64body, &b64body[..64]] {
            assert!(!body.contains(part) && !r.redacted.contains(part));
        }
        let jwt = body.split("assertion=").nth(1).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "ci@acme-prod.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], AUD);
        assert_eq!(claims["scope"], SCOPE);
        let public = rsa::PrivateKey::from_pkcs8_pem(&pem)
            .unwrap()
            .to_public_key();
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
        let sig = rsa::pkcs1v15::Signature::try_from(&b64.decode(parts[2]).unwrap()[..]).unwrap();
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn a_value_without_a_usable_key_or_email_is_not_sent() {
        assert!(split("-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----").is_err());
        assert!(
            split("-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----\", \"client_email\": \"a@b/c\"")
                .is_err()
        );
        assert!(token_request(
            "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\", \"client_email\": \"a@b.c\"",
            SystemTime::now()
        )
        .is_err());
    }
}
