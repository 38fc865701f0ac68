//! Azure Storage account keys: a SharedKey-signed `GET /?comp=list` (List
//! Containers) on the account's blob endpoint. The key only signs the
//! request; it is never sent.
//!
//! The host depends on the account, so it cannot be fixed in the spec.
//! It is derived, never taken from a URL in the file: the account name
//! comes from `AccountName=` on the key's own line (a connection string),
//! must be 3-24 lowercase letters and digits (Azure's own rule, so nothing
//! else can be spliced into the host), and the suffix is always
//! `.blob.core.windows.net`. A connection string naming another
//! `EndpointSuffix` (sovereign clouds, Azure Stack, an emulator) or a
//! `BlobEndpoint` is not verified (`unknown`): we would have to send the
//! signature to a host the file chose.

use super::HttpRequest;
use crate::finding::redact;
use base64::Engine;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use std::time::SystemTime;

pub const MODULE: &str = "azure-shared-key";
pub const SUFFIX: &str = "blob.core.windows.net";
const VERSION: &str = "2021-08-06";

/// The account a key belongs to, from the source line the key was found on.
/// `Err` says why the key cannot be verified.
pub fn account_from_line(line: &str) -> Result<String, String> {
    let field = |name: &str| {
        line.split([';', '"', '\'', ' ', '\t'])
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    if let Some(s) = field("EndpointSuffix")
        && !s.eq_ignore_ascii_case("core.windows.net")
    {
        return Err("not sent: EndpointSuffix is not core.windows.net".into());
    }
    if field("BlobEndpoint").is_some() {
        return Err("not sent: the connection string names its own BlobEndpoint".into());
    }
    let name = field("AccountName").ok_or("no AccountName next to the key")?;
    if !is_account_name(&name) {
        return Err("not sent: AccountName is not a storage account name".into());
    }
    Ok(name)
}

/// Azure's storage account naming rule: 3 to 24 lowercase letters and digits.
pub fn is_account_name(n: &str) -> bool {
    (3..=24).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `Fri, 04 Dec 2026 21:00:00 GMT` (RFC 1123, as `x-ms-date` wants it).
pub fn rfc1123(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (date, stamp) = super::aws::amz_dates(t);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(secs / 86_400 % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m: usize = date[4..6].parse().unwrap_or(1);
    format!(
        "{wd}, {} {} {} {}:{}:{} GMT",
        &date[6..8],
        months[m.saturating_sub(1).min(11)],
        &date[0..4],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    )
}

/// The SharedKey signature of List Containers (the string-to-sign of
/// storage service versions 2009-09-19 and later).
pub fn signature(account: &str, key_b64: &str, date: &str) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .map_err(|_| "the account key is not base64".to_string())?;
    let to_sign = format!(
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n/{account}/\ncomp:list"
    );
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    m.update(to_sign.as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes()))
}

/// The signed request for an account and its key.
pub fn list_request(account: &str, key: &str, now: SystemTime) -> Result<HttpRequest, String> {
    if !is_account_name(account) {
        return Err("not sent: AccountName is not a storage account name".into());
    }
    let host = format!("{account}.{SUFFIX}");
    let date = rfc1123(now);
    let sig = signature(account, key, &date)?;
    Ok(HttpRequest {
        method: "GET".into(),
        url: format!("https://{host}/?comp=list&maxresults=1"),
        host: host.clone(),
        headers: vec![
            ("x-ms-date".into(), date.clone()),
            ("x-ms-version".into(), VERSION.into()),
            ("Authorization".into(), format!("SharedKey {account}:{sig}")),
        ],
        body: None,
        redacted: format!(
            "GET https://{host}/?comp=list&maxresults=1 | x-ms-version: {VERSION} | Authorization: SharedKey {account}:<signed with the account key {}>",
            redact(key)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_account_comes_from_the_connection_string_and_only_a_valid_name_is_used() {
        let k = "a".repeat(86) + "==";
        let line = format!(
            "AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={k};EndpointSuffix=core.windows.net\""
        );
        assert_eq!(account_from_line(&line).unwrap(), "acmeprod");
        for bad in [
            "AccountName=evil.example/x;AccountKey=k",
            "AccountName=Acme;AccountKey=k",
            "AccountName=ab;AccountKey=k",
            "AccountName=acmeprod;AccountKey=k;EndpointSuffix=core.chinacloudapi.cn",
            "AccountName=acmeprod;AccountKey=k;BlobEndpoint=https://evil.example/",
            "AccountKey=k",
        ] {
            assert!(account_from_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn x_ms_date_is_rfc1123_in_gmt() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_329_264_000 + 3_723);
        assert_eq!(rfc1123(t), "Wed, 15 Feb 2012 01:02:03 GMT");
        assert_eq!(
            rfc1123(SystemTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_string_to_sign_with_the_decoded_key() {
        // Independent recomputation of the documented string-to-sign.
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let date = "Wed, 15 Feb 2012 01:02:03 GMT";
        let mut m = hmac::Hmac::<Sha256>::new_from_slice(&[7u8; 64]).unwrap();
        m.update(
            format!(
                "GET{}x-ms-date:{date}\nx-ms-version:{VERSION}\n/acme/\ncomp:list",
                "\n".repeat(12)
            )
            .as_bytes(),
        );
        let want = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
        assert_eq!(signature("acme", &key, date).unwrap(), want);
        assert!(signature("acme", "not base64!", date).is_err());
    }

    #[test]
    fn the_request_goes_to_the_accounts_blob_host_and_never_carries_the_key() {
        let key = base64::engine::general_purpose::STANDARD.encode([9u8; 64]);
        let r = list_request("acmeprod", &key, SystemTime::now()).unwrap();
        assert_eq!(r.host, "acmeprod.blob.core.windows.net");
        assert!(
            r.url
                .starts_with("https://acmeprod.blob.core.windows.net/?comp=list")
        );
        for (_, v) in &r.headers {
            assert!(!v.contains(&key));
        }
        assert!(r.body.is_none());
        assert!(!r.redacted.contains(&key));
        assert!(list_request("evil.example", &key, SystemTime::now()).is_err());
    }
}
