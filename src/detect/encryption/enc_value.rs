//! The SOPS value format: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! SOPS (`aes/cipher.go`) writes every encrypted leaf as standard padded
//! base64 of the AES-256-GCM ciphertext, a 32-byte nonce (`iv`, 44 base64
//! characters) and the 16-byte GCM tag (24 characters), plus the type the
//! plaintext had (`str`, `int`, `float`, `bytes`, `bool`, `time`, `comment`).
//! The parser here is stricter than SOPS's own regular expression (which
//! accepts trailing text after `]`): a value that is not exactly this shape
//! did not come out of SOPS unchanged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The prefix every SOPS-encrypted value starts with.
pub const ENC_PREFIX: &str = "ENC[";

/// The types SOPS records for an encrypted value.
pub const TYPES: &[&str] = &["str", "int", "float", "bytes", "bool", "time", "comment"];

/// A well-formed encrypted value (only the sizes are kept: nothing here can
/// be decrypted without the data key anyway).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncValue {
    /// Ciphertext length in bytes (equals the plaintext length under GCM).
    pub data_len: usize,
    /// The recorded type of the plaintext.
    pub kind: String,
}

/// Why a value that starts like an encrypted value is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncValueError {
    /// Not `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
    Shape,
    /// A field that is not standard padded base64.
    Base64(&'static str),
    /// The nonce is not 32 bytes.
    IvLength(usize),
    /// The tag is not 16 bytes.
    TagLength(usize),
    /// An empty ciphertext (SOPS leaves empty values unencrypted instead).
    EmptyData,
    /// A type SOPS does not write.
    Type(String),
}

impl std::fmt::Display for EncValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncValueError::Shape => {
                f.write_str("it is not in the form ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]")
            }
            EncValueError::Base64(field) => write!(f, "its `{field}` is not valid base64"),
            EncValueError::IvLength(n) => {
                write!(f, "its iv is {n} bytes, SOPS always writes 32")
            }
            EncValueError::TagLength(n) => {
                write!(f, "its tag is {n} bytes, AES-GCM tags are 16")
            }
            EncValueError::EmptyData => f.write_str("its ciphertext is empty"),
            EncValueError::Type(t) => write!(
                f,
                "its type `{t}` is not one SOPS writes ({})",
                TYPES.join(", ")
            ),
        }
    }
}

/// Whether `value` claims to be encrypted (starts with `ENC[`, after
/// surrounding whitespace, as in a block scalar).
pub fn looks_encrypted(value: &str) -> bool {
    value.trim_start().starts_with(ENC_PREFIX)
}

/// Parse one value. Surrounding whitespace is ignored (block scalars).
pub fn parse(value: &str) -> Result<EncValue, EncValueError> {
    let v = value.trim();
    let body = v
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|b| b.strip_suffix(']'))
        .ok_or(EncValueError::Shape)?;
    let mut fields = body.split(',');
    let mut field = |name: &'static str| -> Result<&str, EncValueError> {
        fields
            .next()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix(':'))
            .ok_or(EncValueError::Shape)
    };
    let data = field("data")?;
    let iv = field("iv")?;
    let tag = field("tag")?;
    let kind = field("type")?;
    if fields.next().is_some() {
        return Err(EncValueError::Shape);
    }
    let decode =
        |s: &str, name: &'static str| STANDARD.decode(s).map_err(|_| EncValueError::Base64(name));
    let data = decode(data, "data")?;
    let iv = decode(iv, "iv")?;
    let tag = decode(tag, "tag")?;
    if data.is_empty() {
        return Err(EncValueError::EmptyData);
    }
    if iv.len() != 32 {
        return Err(EncValueError::IvLength(iv.len()));
    }
    if tag.len() != 16 {
        return Err(EncValueError::TagLength(tag.len()));
    }
    if !TYPES.contains(&kind) {
        return Err(EncValueError::Type(kind.to_string()));
    }
    Ok(EncValue {
        data_len: data.len(),
        kind: kind.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(n: usize) -> String {
        STANDARD.encode(vec![7u8; n])
    }

    fn enc(data: usize, iv: usize, tag: usize, kind: &str) -> String {
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
            b64(data),
            b64(iv),
            b64(tag)
        )
    }

    #[test]
    fn accepts_what_sops_writes() {
        let v = parse(&enc(5, 32, 16, "str")).unwrap();
        assert_eq!(v.data_len, 5);
        assert_eq!(v.kind, "str");
        for t in TYPES {
            assert!(parse(&enc(1, 32, 16, t)).is_ok(), "{t}");
        }
        // block scalars keep a trailing newline
        assert!(parse(&format!("  {}\n", enc(3, 32, 16, "int"))).is_ok());
    }

    #[test]
    fn rejects_every_malformation() {
        assert_eq!(
            parse(&enc(5, 12, 16, "str")),
            Err(EncValueError::IvLength(12))
        );
        assert_eq!(
            parse(&enc(5, 32, 8, "str")),
            Err(EncValueError::TagLength(8))
        );
        assert_eq!(
            parse(&enc(5, 32, 16, "password")),
            Err(EncValueError::Type("password".into()))
        );
        assert_eq!(
            parse("ENC[AES256_GCM,data:hunter2!,iv:x,tag:y,type:str]"),
            Err(EncValueError::Base64("data"))
        );
        assert_eq!(parse("ENC[hunter2]"), Err(EncValueError::Shape));
        assert_eq!(
            parse(&format!("{}trailing", enc(5, 32, 16, "str"))),
            Err(EncValueError::Shape)
        );
        assert_eq!(
            parse(&enc(5, 32, 16, "str").replace("AES256_GCM", "AES128_GCM")),
            Err(EncValueError::Shape)
        );
        assert_eq!(parse(""), Err(EncValueError::Shape));
        // missing padding is not standard base64
        let unpadded = enc(5, 32, 16, "str").replace("==,", ",");
        assert!(parse(&unpadded).is_err());
        assert!(looks_encrypted("  ENC[whatever"));
        assert!(!looks_encrypted("plain"));
    }
}
