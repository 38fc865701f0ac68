//! Structural validation of a matched secret. A checksum turns "looks like a
//! token" into "is a token", which is the cheapest way to cut false alarms.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub and npm: `prefix_` + 30 base62 + 6-char base62 CRC32 of those 30.
    GithubCrc32,
    /// Three base64url parts; header and payload are JSON objects; header has `alg`.
    Jwt,
    /// A valid Bech32 string (age identities).
    AgeBech32,
    /// Base64 that decodes to a PEM block.
    Base64Pem,
    /// Base64 that decodes to `user:password`, the password not a stand-in
    /// (`username:password`, `user:xxx`).
    Base64Userpass,
    /// Base64 that decodes to a PyPI macaroon.
    PypiMacaroon,
}

impl Checksum {
    pub fn validate(self, secret: &str) -> bool {
        match self {
            Checksum::GithubCrc32 => github_crc32(secret),
            Checksum::Jwt => jwt(secret),
            Checksum::AgeBech32 => bech32_valid(secret),
            Checksum::Base64Pem => decode_b64_lenient(secret)
                .is_some_and(|d| d.windows(10).any(|w| w == b"-----BEGIN")),
            Checksum::Base64Userpass => decode_b64_lenient(secret).is_some_and(|d| {
                std::str::from_utf8(&d).is_ok_and(|s| {
                    s.split_once(':').is_some_and(|(u, p)| {
                        !u.is_empty()
                            && !p.is_empty()
                            && !s.chars().any(char::is_control)
                            && !crate::detect::placeholder::is_placeholder_userpass(u, p)
                    })
                })
            }),
            Checksum::PypiMacaroon => {
                let body = secret.strip_prefix("pypi-").unwrap_or(secret);
                decode_b64_lenient(body).is_some_and(|d| d.windows(8).any(|w| w == b"pypi.org"))
            }
        }
    }
}

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of a CRC32, left-padded with '0' to 6 characters.
pub fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

fn github_crc32(secret: &str) -> bool {
    let Some((_, body)) = secret.rsplit_once('_') else {
        return false;
    };
    if body.len() != 36 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, sum) = body.split_at(30);
    base62_crc32(random.as_bytes()) == sum
}

fn jwt(secret: &str) -> bool {
    let mut parts = secret.split('.');
    let (Some(h), Some(p), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let json = |s: &str| -> Option<serde_json::Value> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        v.is_object().then_some(v)
    };
    match (json(h), json(p)) {
        (Some(header), Some(_)) => header.get("alg").is_some(),
        _ => false,
    }
}

fn bech32_valid(secret: &str) -> bool {
    // age identities are upper-case Bech32; the checksum is case-insensitive.
    bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(
        &secret.to_ascii_lowercase(),
    )
    .is_ok()
}

/// Standard or URL-safe base64, with or without padding.
pub fn decode_b64_lenient(s: &str) -> Option<Vec<u8>> {
    let t = s.trim();
    STANDARD
        .decode(t)
        .ok()
        .or_else(|| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(t.trim_end_matches('='))
                .ok()
        })
        .or_else(|| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_accepts_generated_and_rejects_tampered() {
        let random = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1";
        let tok = format!("ghp_{random}{}", base62_crc32(random.as_bytes()));
        assert!(Checksum::GithubCrc32.validate(&tok));
        let mut tampered = tok.clone().into_bytes();
        tampered[6] = if tampered[6] == b'x' { b'y' } else { b'x' };
        assert!(!Checksum::GithubCrc32.validate(std::str::from_utf8(&tampered).unwrap()));
        assert!(!Checksum::GithubCrc32.validate("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    }

    #[test]
    fn jwt_needs_json_header_with_alg() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        assert!(Checksum::Jwt.validate(&format!("{h}.{p}.c2ln")));
        let bad = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT"}"#);
        assert!(!Checksum::Jwt.validate(&format!("{bad}.{p}.c2ln")));
        assert!(!Checksum::Jwt.validate("eyJhbGciOi.not-json.sig"));
    }

    #[test]
    fn userpass_and_pem() {
        assert!(Checksum::Base64Userpass.validate(&STANDARD.encode("bob:pa55word")));
        assert!(!Checksum::Base64Userpass.validate(&STANDARD.encode("no-colon-here")));
        // documentation stand-ins decode to user:pass too
        assert!(!Checksum::Base64Userpass.validate(&STANDARD.encode("username:password")));
        assert!(!Checksum::Base64Userpass.validate(&STANDARD.encode("xxx:yyy")));
        assert!(
            Checksum::Base64Pem.validate(&STANDARD.encode("-----BEGIN RSA PRIVATE KEY-----\nMII"))
        );
        assert!(!Checksum::Base64Pem.validate(&STANDARD.encode("plain text")));
    }
}
