//! Which values a SOPS file says must be encrypted: its recorded selector,
//! evaluated exactly as SOPS does (`sops.go`, `Tree.shouldBeEncrypted`).
//!
//! - The *path* of a value is the list of mapping keys down to it (sequence
//!   positions are not part of it). A key-based selector applies to a key at
//!   **any** level, and so to its whole subtree: with the default
//!   `unencrypted_suffix: _unencrypted`, everything under
//!   `nested_unencrypted:` stays in clear.
//! - `unencrypted_suffix`: a key on the path ends with it → plaintext.
//! - `encrypted_suffix`: encrypted only if a key on the path ends with it.
//! - `unencrypted_regex`: a key on the path matches → plaintext.
//! - `encrypted_regex`: encrypted only if a key on the path matches.
//! - `unencrypted_comment_regex`: a comment above the value or above one of
//!   its parent keys (or at the end of their line) matches → plaintext.
//! - `encrypted_comment_regex`: encrypted only if such a comment matches.
//! - none of them recorded: `unencrypted_suffix` defaults to `_unencrypted`.
//!
//! SOPS refuses a file that records more than one; they are still applied
//! in SOPS's order here so that the verdict matches what SOPS would do with
//! such a file. Regular expressions are unanchored searches, as Go's
//! `regexp.Match`.
//!
//! `mac_only_encrypted` does not change which values are encrypted, only
//! which ones the MAC covers, so it plays no part here.

use regex::Regex;

/// The default of `unencrypted_suffix` when a file records no selector.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// The six selector fields, in the order SOPS applies them.
pub const FIELDS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// Longest selector regex accepted (a hostile file could carry megabytes).
const MAX_REGEX_LEN: usize = 4096;

/// One recorded selector.
#[derive(Clone, Debug)]
pub enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

/// A file's compiled selector.
#[derive(Clone, Debug)]
pub struct Selector {
    rules: Vec<Rule>,
    /// The selector as written, for messages: `encrypted_regex: ^(data|stringData)$`.
    pub description: String,
    /// Whether nothing was recorded and the default suffix applies.
    pub is_default: bool,
}

/// Compile a Go RE2 regular expression with the `regex` crate (the same
/// syntax family: no look-around, no back-references). The size limits keep
/// a hostile pattern from costing more than a bounded amount of memory.
///
/// Known differences that can matter: `\d`, `\w`, `\s` and `\b` are
/// Unicode-aware here and ASCII-only in Go (they differ only on non-ASCII
/// key names), and Go's `\C` and `\Q…\E` are not supported (a clear error,
/// never a panic).
pub fn compile_go_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!("longer than {MAX_REGEX_LEN} bytes"));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            // The regex crate's messages are multi-line with a caret; keep the last line.
            e.to_string()
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid")
                .trim()
                .to_string()
        })
}

impl Selector {
    /// Compile the selector fields a file records, as `(field, value)` pairs
    /// with empty values already left out. `Err` names the field whose
    /// regex does not compile.
    pub fn new(recorded: &[(&str, &str)]) -> Result<Selector, (String, String)> {
        let mut rules = Vec::new();
        let mut parts = Vec::new();
        for field in FIELDS {
            let Some((_, value)) = recorded.iter().find(|(f, v)| *f == field && !v.is_empty())
            else {
                continue;
            };
            parts.push(format!("{field}: {value}"));
            let re = || compile_go_regex(value).map_err(|e| (field.to_string(), e));
            rules.push(match field {
                "unencrypted_suffix" => Rule::UnencryptedSuffix(value.to_string()),
                "encrypted_suffix" => Rule::EncryptedSuffix(value.to_string()),
                "unencrypted_regex" => Rule::UnencryptedRegex(re()?),
                "encrypted_regex" => Rule::EncryptedRegex(re()?),
                "unencrypted_comment_regex" => Rule::UnencryptedCommentRegex(re()?),
                _ => Rule::EncryptedCommentRegex(re()?),
            });
        }
        let is_default = rules.is_empty();
        if is_default {
            rules.push(Rule::UnencryptedSuffix(
                DEFAULT_UNENCRYPTED_SUFFIX.to_string(),
            ));
            parts.push(format!(
                "unencrypted_suffix: {DEFAULT_UNENCRYPTED_SUFFIX} (the default)"
            ));
        }
        Ok(Selector {
            rules,
            description: parts.join(", "),
            is_default,
        })
    }

    /// Whether SOPS encrypts a value at `path` whose comment stack (the
    /// comments above it and above its parent keys) is `comments`.
    pub fn should_encrypt<S: AsRef<str>>(&self, path: &[S], comments: &[S]) -> bool {
        let mut encrypted = true;
        for rule in &self.rules {
            match rule {
                Rule::UnencryptedSuffix(s) => {
                    if path.iter().any(|k| k.as_ref().ends_with(s.as_str())) {
                        encrypted = false;
                    }
                }
                Rule::EncryptedSuffix(s) => {
                    encrypted = path.iter().any(|k| k.as_ref().ends_with(s.as_str()));
                }
                Rule::UnencryptedRegex(re) => {
                    if path.iter().any(|k| re.is_match(k.as_ref())) {
                        encrypted = false;
                    }
                }
                Rule::EncryptedRegex(re) => {
                    encrypted = path.iter().any(|k| re.is_match(k.as_ref()));
                }
                Rule::UnencryptedCommentRegex(re) => {
                    if comments.iter().any(|c| re.is_match(c.as_ref())) {
                        encrypted = false;
                    }
                }
                Rule::EncryptedCommentRegex(re) => {
                    encrypted = comments.iter().any(|c| re.is_match(c.as_ref()));
                }
            }
        }
        encrypted
    }

    /// Whether the only reason a value may stay plaintext is an explicit
    /// per-key suffix (`_unencrypted`): the user named that key so on purpose.
    pub fn exempts_by_suffix_only(&self) -> bool {
        self.rules
            .iter()
            .all(|r| matches!(r, Rule::UnencryptedSuffix(_)))
    }

    /// Whether this selector reads comments (so comment positions matter).
    pub fn uses_comments(&self) -> bool {
        self.rules.iter().any(|r| {
            matches!(
                r,
                Rule::UnencryptedCommentRegex(_) | Rule::EncryptedCommentRegex(_)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(pairs: &[(&str, &str)]) -> Selector {
        Selector::new(pairs).unwrap()
    }

    #[test]
    fn default_suffix_applies_to_the_whole_subtree() {
        let s = sel(&[]);
        assert!(s.is_default);
        assert!(s.should_encrypt::<&str>(&["a", "b"], &[]));
        assert!(!s.should_encrypt::<&str>(&["nested_unencrypted", "this", "is"], &[]));
        assert!(!s.should_encrypt::<&str>(&["a", "b_unencrypted"], &[]));
    }

    #[test]
    fn encrypted_regex_applies_at_any_level() {
        let s = sel(&[("encrypted_regex", "^(data|stringData)$")]);
        assert!(s.should_encrypt::<&str>(&["stringData", "password"], &[]));
        assert!(s.should_encrypt::<&str>(&["stringData", "password_unencrypted"], &[]));
        assert!(!s.should_encrypt::<&str>(&["metadata", "name"], &[]));
        // unanchored search, as Go's regexp.Match
        let s = sel(&[("encrypted_regex", "pass")]);
        assert!(s.should_encrypt::<&str>(&["db", "password"], &[]));
    }

    #[test]
    fn suffix_and_regex_exclusions() {
        let s = sel(&[("encrypted_suffix", "_secret")]);
        assert!(s.should_encrypt::<&str>(&["db_secret", "x"], &[]));
        assert!(!s.should_encrypt::<&str>(&["db", "x"], &[]));
        let s = sel(&[("unencrypted_regex", "^public")]);
        assert!(!s.should_encrypt::<&str>(&["public_key"], &[]));
        assert!(s.should_encrypt::<&str>(&["private_key"], &[]));
        assert!(!s.exempts_by_suffix_only());
    }

    #[test]
    fn comment_regexes() {
        let s = sel(&[("encrypted_comment_regex", "sops:enc")]);
        assert!(s.uses_comments());
        assert!(s.should_encrypt(&["a"], &[" sops:enc"]));
        assert!(!s.should_encrypt::<&str>(&["a"], &[]));
        let s = sel(&[("unencrypted_comment_regex", "sops:plain")]);
        assert!(!s.should_encrypt(&["a"], &[" sops:plain here"]));
        assert!(s.should_encrypt(&["a"], &[" other"]));
    }

    #[test]
    fn bad_regexes_are_errors_not_panics() {
        let e = Selector::new(&[("encrypted_regex", "(unclosed")]).unwrap_err();
        assert_eq!(e.0, "encrypted_regex");
        assert!(!e.1.is_empty());
        assert!(Selector::new(&[("unencrypted_regex", &"a".repeat(5000))]).is_err());
        // Go's \Q…\E is not supported: a clear error
        assert!(compile_go_regex(r"\Qa.b\E").is_err());
    }
}
