//! age files (binary and ASCII-armored: armor, header, stanzas, nonce) and
//! age identities found in text.
#![no_main]

use gitops_guard::detect::encryption::{age_file, age_identity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = age_file::starts_like_age(data);
    let _ = age_file::is_age_candidate("k/backup.age", data);
    let _ = age_file::parse(data);
    for r in age_identity::find(data) {
        assert!(
            r.start <= r.end && r.end <= data.len(),
            "range {r:?} out of bounds"
        );
    }
});
