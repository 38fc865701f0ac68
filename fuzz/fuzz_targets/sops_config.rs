//! `.sops.yaml` / `.sops.yml`: creation rules, their path and key regexes
//! (Go syntax, translated) and the findings for what SOPS would reject.
#![no_main]

use gitops_guard::detect::encryption::{selector, sops_config};
use gitops_guard::detect::{Input, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = if pick & 1 == 0 {
        ".sops.yaml"
    } else {
        "repo/.sops.yml"
    };
    let input = Input::new(name, bytes);
    let mut out = Output::default();
    let _ = sops_config::read(&input, &mut out);
    // The regexes a .sops.yaml carries are untrusted too.
    if let Ok(text) = std::str::from_utf8(bytes) {
        for line in text.lines().take(8) {
            let _ = selector::compile_go_regex(line);
        }
    }
});
