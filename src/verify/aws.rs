//! AWS access keys: a SigV4-signed STS `GetCallerIdentity`, which any valid
//! key may call (it needs no IAM permission) and which answers with the
//! account and the ARN the key acts as. The key id and the secret access
//! key are separate findings; they are paired when found in the same blob.

use super::HttpRequest;
use crate::finding::{hex, redact};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// The rule whose findings are the secret half of a pair.
pub const SECRET_RULE: &str = "aws-secret-access-key";
pub const HOST: &str = "sts.amazonaws.com";
const REGION: &str = "us-east-1";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// SigV4's derived signing key for a day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    hmac(&k, "aws4_request")
}

/// `(YYYYMMDD, YYYYMMDDTHHMMSSZ)` in UTC.
pub fn amz_dates(t: SystemTime) -> (String, String) {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    (date, stamp)
}

/// The signed `GetCallerIdentity` request for a key pair.
pub fn sts_request(key_id: &str, secret: &str, now: SystemTime) -> HttpRequest {
    let (date, stamp) = amz_dates(now);
    let scope = format!("{date}/{REGION}/sts/aws4_request");
    let canonical = format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{HOST}\nx-amz-date:{stamp}\n\ncontent-type;host;x-amz-date\n{}",
        hex(&Sha256::digest(BODY.as_bytes()))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let sig = hex(&hmac(&signing_key(secret, &date, REGION, "sts"), &to_sign));
    let auth = |id: &str, sig: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={id}/{scope}, SignedHeaders=content-type;host;x-amz-date, Signature={sig}"
        )
    };
    HttpRequest {
        method: "POST".into(),
        url: format!("https://{HOST}/"),
        host: HOST.into(),
        headers: vec![
            ("Content-Type".into(), CONTENT_TYPE.into()),
            ("X-Amz-Date".into(), stamp.clone()),
            ("Authorization".into(), auth(key_id, &sig)),
        ],
        body: Some(BODY.into()),
        redacted: format!(
            "POST https://{HOST}/ | Authorization: {} | body: {BODY}",
            auth(&redact(key_id), "<signed with the secret access key>")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // AWS's published SigV4 example ("Deriving the signing key").
        let k = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_329_264_000 + 3_723);
        assert_eq!(
            amz_dates(t),
            ("20120215".to_string(), "20120215T010203Z".to_string())
        );
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(amz_dates(leap).0, "20000229");
    }

    #[test]
    fn the_request_goes_to_sts_and_its_redacted_form_holds_no_secret() {
        let r = sts_request(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            SystemTime::now(),
        );
        assert_eq!(r.host, "sts.amazonaws.com");
        assert!(r.url.starts_with("https://sts.amazonaws.com/"));
        for h in &r.headers {
            assert!(!h.1.contains("wJalrXUtnFEMI"));
        }
        assert!(!r.redacted.contains("AKIAIOSFODNN7EXAMPLE"));
        assert!(!r.redacted.contains("wJalrXUtnFEMI"));
    }
}
