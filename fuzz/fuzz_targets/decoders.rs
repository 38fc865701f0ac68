//! The small decoders and recognisers that run on matched or scanned values:
//! SOPS `ENC[…]` values, lenient base64, checksums (GitHub CRC32, JWT,
//! Bech32, base64 PEM / user:password / PyPI macaroon), IP and URL finders,
//! URL passwords, secret-name words, placeholders, entropy.
#![no_main]

use gitops_guard::detect::encryption::enc_value;
use gitops_guard::detect::k8s::{hardcoded_ip, plain_http, secret_names};
use gitops_guard::detect::placeholder;
use gitops_guard::rules::checksum::{Checksum, decode_b64_lenient};
use libfuzzer_sys::fuzz_target;

const CHECKSUMS: [Checksum; 6] = [
    Checksum::GithubCrc32,
    Checksum::Jwt,
    Checksum::AgeBech32,
    Checksum::Base64Pem,
    Checksum::Base64Userpass,
    Checksum::PypiMacaroon,
];

fuzz_target!(|data: &[u8]| {
    for hit in hardcoded_ip::find_ips(data) {
        assert!(hit.range.end <= data.len());
        let _ = hardcoded_ip::classify(hit.ip);
    }
    let _ = gitops_guard::rules::shannon_entropy(data);
    let _ = secret_names::text_keys_a_secret(data, false);
    let _ = secret_names::text_keys_a_secret(data, true);
    let _ = secret_names::text_names_a_secret(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if enc_value::looks_encrypted(text) {
        let _ = enc_value::parse(text);
    }
    let _ = enc_value::parse(text);
    let _ = decode_b64_lenient(text);
    for c in CHECKSUMS {
        let _ = c.validate(text);
    }
    for u in plain_http::find_http_urls(text) {
        assert!(u.range.end <= text.len());
    }
    if let Some(r) = secret_names::url_password(text) {
        assert!(
            r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
        );
    }
    let _ = secret_names::words(text);
    let _ = secret_names::is_secret_name(text);
    let _ = placeholder::is_placeholder(text);
    let _ = placeholder::is_generic_non_secret(text);
});
