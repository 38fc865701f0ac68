//! Expands the `<<…>>` generators of rule examples (see patterns/README.md).
//!
//! Examples are built when tested, not committed as literal tokens: a
//! committed live-looking credential trips push protection and every other
//! scanner that reads this repository. The randomness is a fixed-seed
//! generator, so a failing example fails the same way every time.

use super::checksum::{BASE62, base62_crc32};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// A small deterministic PRNG (SplitMix64): examples need variety, not security.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

fn seed(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Expand every generator in `template`; `seed_text` makes the randomness
/// depend on the rule and example, not on the order tests run in.
pub fn expand(template: &str, seed_text: &str) -> Result<String, String> {
    let mut rng = Rng(seed(seed_text));
    let mut s = template.to_string();
    // Innermost first: the first `>>` closes the last `<<` before it.
    while let Some(close) = s.find(">>") {
        let Some(open) = s[..close].rfind("<<") else {
            break;
        };
        let spec = &s[open + 2..close];
        let value = generate(spec, &mut rng)?;
        s.replace_range(open..close + 2, &value);
    }
    Ok(s)
}

const ALNUM: &[u8] = BASE62;
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const HEX_UP: &[u8] = b"0123456789ABCDEF";
const DIGITS: &[u8] = b"0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn generate(spec: &str, rng: &mut Rng) -> Result<String, String> {
    let (name, arg) = spec.split_once(':').unwrap_or((spec, ""));
    let count = || -> Result<usize, String> {
        arg.parse::<usize>()
            .map_err(|_| format!("generator <<{spec}>> needs a length"))
    };
    Ok(match name {
        "alnum" => rng.pick(ALNUM, count()?),
        "upper" => rng.pick(UPPER, count()?),
        "lower" => rng.pick(LOWER, count()?),
        "hex" => rng.pick(HEX, count()?),
        "HEX" => rng.pick(HEX_UP, count()?),
        "digits" => rng.pick(DIGITS, count()?),
        "b64" => rng.pick(B64, count()?),
        "b64url" => rng.pick(B64URL, count()?),
        "github" => {
            let random = rng.pick(ALNUM, 30);
            format!("{arg}{random}{}", base62_crc32(random.as_bytes()))
        }
        "jwt" => {
            let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let p = URL_SAFE_NO_PAD.encode(
                format!(
                    r#"{{"sub":"{}","iat":{}}}"#,
                    rng.pick(DIGITS, 10),
                    1_700_000_000 + rng.next() % 10_000_000
                )
                .as_bytes(),
            );
            let sig = rng.pick(B64URL, 43);
            format!("{h}.{p}.{sig}")
        }
        "age-identity" => {
            // 32 random bytes as Bech32 with HRP "age-secret-key-", upper-cased as age writes it.
            let data: Vec<u8> = (0..32).map(|_| rng.next() as u8).collect();
            let hrp = bech32::Hrp::parse("age-secret-key-").map_err(|e| e.to_string())?;
            bech32::encode::<bech32::Bech32>(hrp, &data)
                .map_err(|e| e.to_string())?
                .to_ascii_uppercase()
        }
        "bech32" => rng.pick(BECH32, count()?),
        "b64of" => STANDARD.encode(arg.as_bytes()),
        "lit" => arg.to_string(),
        _ => return Err(format!("unknown generator <<{spec}>>")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::checksum::Checksum;

    #[test]
    fn generators_expand_deterministically_and_validly() {
        let a = expand("t: <<github:ghp_>>", "seed").unwrap();
        assert_eq!(a, expand("t: <<github:ghp_>>", "seed").unwrap());
        assert!(Checksum::GithubCrc32.validate(&a[3..]));
        let jwt = expand("<<jwt>>", "x").unwrap();
        assert!(Checksum::Jwt.validate(&jwt));
        let age = expand("<<age-identity>>", "x").unwrap();
        assert!(age.starts_with("AGE-SECRET-KEY-1"));
        assert!(Checksum::AgeBech32.validate(&age));
        let nested = expand("<<b64of:admin:<<alnum:8>>>>", "x").unwrap();
        assert!(Checksum::Base64Userpass.validate(&nested));
        assert_eq!(expand("<<lit:AK>><<lit:IA>>", "x").unwrap(), "AKIA");
        assert!(expand("<<nope:3>>", "x").is_err());
        assert_eq!(expand("<<hex:8>>", "x").unwrap().len(), 8);
    }
}
