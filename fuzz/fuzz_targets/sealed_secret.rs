//! SealedSecret manifests: the objects found in parsed YAML, and the
//! ciphertext verdict on any value.
#![no_main]

use gitops_guard::detect::encryption::sealed_secret_ciphertext::{sealed_secrets, verdict};
use gitops_guard::manifest::{Limits, parse_documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verdict(text);
    let limits = Limits {
        max_depth: 64,
        max_nodes: 20_000,
        max_alias_expansion: 5_000,
    };
    if let Ok(docs) = parse_documents(text, &limits) {
        for o in sealed_secrets(&docs) {
            let _ = (o.labels().count(), o.annotations().count(), o.anchor_span());
            let Some(enc) = o
                .get("spec")
                .and_then(|s| s.get("encryptedData"))
                .and_then(|e| e.as_map())
            else {
                continue;
            };
            for (_, v) in enc.iter().take(64) {
                if let Some(s) = v.as_str() {
                    let _ = verdict(s);
                }
            }
        }
    }
});
