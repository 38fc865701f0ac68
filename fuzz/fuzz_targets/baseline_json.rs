//! A baseline (a previous JSON report) as `--baseline` reads it.
#![no_main]

use gitops_guard::filter::Baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(b) = Baseline::parse(text) {
        let _ = b.apply(&mut []);
    }
});
