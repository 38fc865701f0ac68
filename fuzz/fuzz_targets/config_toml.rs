//! `.gitops-guard.toml` and rule files (`patterns/*.toml` syntax): parsed
//! and, for rules, compiled.
#![no_main]

use gitops_guard::config::Config;
use gitops_guard::rules::parse_rule_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text) {
        let _ = gitops_guard::filter::Allowlist::new(&config);
    }
    let _ = parse_rule_file("fuzz.toml", text);
});
