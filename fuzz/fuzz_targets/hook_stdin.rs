//! What git writes on a hook's stdin: pre-receive `<old> <new> <ref>` lines
//! and pre-push `<local ref> <local oid> <remote ref> <remote oid>` lines.
#![no_main]

use gitops_guard::source::pushed::{parse_pre_push, parse_updates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(updates) = parse_updates(text) {
        for u in &updates {
            let _ = (u.is_delete(), u.is_create(), u.name.len());
        }
    }
    if let Ok(updates) = parse_pre_push(text) {
        for u in &updates {
            let _ = (u.is_delete(), u.is_create());
        }
    }
});
