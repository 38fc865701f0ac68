//! The SOPS file detector: reads a blob as SOPS would ([`sops_tree`]) and
//! runs the per-file SOPS rules over it. Each rule is documented in its own
//! file:
//!
//! - [`sops_unencrypted_value`](super::sops_unencrypted_value),
//!   [`sops_nothing_encrypted`](super::sops_nothing_encrypted),
//!   [`sops_selector_gap`](super::sops_selector_gap),
//!   [`sops_malformed_value`](super::sops_malformed_value) — the values;
//! - [`sops_missing_mac`](super::sops_missing_mac),
//!   [`sops_missing_version`](super::sops_missing_version),
//!   [`sops_invalid_metadata`](super::sops_invalid_metadata) — the metadata;
//! - [`sops_missing_metadata`](super::sops_missing_metadata) — encrypted
//!   values whose metadata is gone.
//!
//! Cost: a two-pattern byte search (`sops`, `ENC[AES256_GCM,`) decides
//! whether anything else runs; YAML and JSON reuse the blob's shared parse.

use super::enc_value;
use super::point;
use super::selector::Selector;
use super::sops_tree::{self, Format, Leaf, Reading, SopsFile};
use super::{
    sops_invalid_metadata, sops_malformed_value, sops_missing_mac, sops_missing_metadata,
    sops_missing_version, sops_nothing_encrypted, sops_selector_gap, sops_unencrypted_value,
};
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;

/// See the module documentation.
pub struct SopsFiles;

impl Detector for SopsFiles {
    fn name(&self) -> &'static str {
        "sops-file"
    }

    fn rules(&self) -> Vec<RuleInfo> {
        [
            sops_unencrypted_value::RULE,
            sops_nothing_encrypted::RULE,
            sops_selector_gap::RULE,
            sops_malformed_value::RULE,
            sops_missing_mac::RULE,
            sops_missing_version::RULE,
            sops_invalid_metadata::RULE,
            sops_missing_metadata::RULE,
        ]
        .iter()
        .map(|r| r.info())
        .collect()
    }

    fn detect(&self, input: &Input<'_>, _cx: &Context<'_>, out: &mut Output) {
        match sops_tree::read(input) {
            Reading::NotSops => {}
            Reading::EncryptedWithoutMetadata { first, count } => {
                out.findings.push(sops_missing_metadata::RULE.finding(
                    format!(
                        "{count} SOPS-encrypted value{} but no SOPS metadata (`sops` block, `sops_` keys or `[sops]` section): nobody can decrypt this file",
                        if count == 1 { "" } else { "s" }
                    ),
                    point(input, first.start),
                ));
            }
            Reading::Sops(file) => check_file(input, &file, out),
        }
    }
}

fn check_file(input: &Input<'_>, file: &SopsFile, out: &mut Output) {
    let m = &file.metadata;
    let anchor = point(input, m.anchor.start);
    match &m.mac {
        None => out.findings.push(sops_missing_mac::RULE.finding(
            "SOPS metadata has no `mac`: SOPS refuses to decrypt this file without --ignore-mac",
            anchor.clone(),
        )),
        Some(mac) => {
            if let Err(e) = enc_value::parse(&mac.value) {
                out.findings.push(sops_missing_mac::RULE.finding(
                    format!("the SOPS `mac` is not an encrypted value: {e}"),
                    point(input, mac.range.start),
                ));
            }
        }
    }
    if m.version.as_ref().is_none_or(|v| v.value.trim().is_empty()) {
        out.findings.push(
            sops_missing_version::RULE.finding("SOPS metadata has no `version`", anchor.clone()),
        );
    }
    sops_invalid_metadata::check(input, m, out);

    let recorded: Vec<(&str, &str)> = m
        .selectors
        .iter()
        .map(|(n, f)| (n.as_str(), f.value.as_str()))
        .collect();
    let selector = match Selector::new(&recorded) {
        Ok(s) => s,
        Err((field, reason)) => {
            sops_invalid_metadata::bad_regex(input, m, &field, &reason, out);
            return;
        }
    };
    let text = input.text().unwrap_or("");
    let mut encrypted = 0usize;
    let mut selected: Vec<&Leaf> = Vec::new();
    let mut unselected: Vec<&Leaf> = Vec::new();
    for leaf in &file.leaves {
        if enc_value::looks_encrypted(&leaf.text) {
            encrypted += 1;
            if let Err(e) = enc_value::parse(&leaf.text) {
                out.findings
                    .push(sops_malformed_value::finding(input, leaf, &e));
            }
            continue;
        }
        let comments = if !selector.uses_comments() {
            Vec::new()
        } else if file.format == Format::Tree {
            sops_tree::yaml_comments(text, leaf)
        } else {
            leaf.comments.clone()
        };
        if selector.should_encrypt(&leaf.path, &comments) {
            selected.push(leaf);
        } else {
            unselected.push(leaf);
        }
    }
    let nothing = encrypted == 0
        && (!selected.is_empty() || (!unselected.is_empty() && !selector.exempts_by_suffix_only()));
    if nothing {
        // Case A lists every value (none is covered); case B the covered ones.
        let shown: Vec<&&Leaf> = if selected.is_empty() {
            unselected.iter().collect()
        } else {
            selected.iter().collect()
        };
        let n = shown.len();
        let plaintext: Vec<String> = shown
            .iter()
            .take(3)
            .map(|l| format!("`{}`", sops_unencrypted_value::key_path(&l.path)))
            .collect();
        let more = if n > plaintext.len() { ", …" } else { "" };
        let finding = if selected.is_empty() {
            // The selector covers none of the values: point at it.
            let at = m
                .selectors
                .first()
                .map_or(anchor.clone(), |(_, f)| point(input, f.range.start));
            sops_nothing_encrypted::RULE.finding(
                format!(
                    "SOPS metadata is present but its selector ({}) matches none of the {n} values: nothing in this file is encrypted (plaintext: {}{more})",
                    selector.description,
                    plaintext.join(", ")
                ),
                at,
            )
        } else {
            sops_nothing_encrypted::RULE.finding(
                format!(
                    "SOPS metadata is present but none of the {n} values its selector ({}) covers is encrypted: the file looks decrypted and committed with its `sops` block (plaintext: {}{more})",
                    selector.description,
                    plaintext.join(", ")
                ),
                anchor.clone(),
            )
        };
        out.findings
            .push(finding.with_identity("sops-metadata/nothing-encrypted"));
    }
    for leaf in &selected {
        out.findings.push(sops_unencrypted_value::finding(
            input,
            leaf,
            &selector.description,
        ));
    }
    if !nothing && !selector.exempts_by_suffix_only() {
        for leaf in &unselected {
            if let Some(f) = sops_selector_gap::check(input, leaf, &selector.description) {
                out.findings.push(f);
            }
        }
    }
}
