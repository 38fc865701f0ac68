//! kustomization.yaml: secretGenerator literals and files through the
//! detectors, and the relative-path resolution of the files it names.
#![no_main]

use gitops_guard::config::Config;
use gitops_guard::detect::k8s::kustomize_secret_literal::{is_sops_encrypted, resolve};
use gitops_guard::scan::{ScanOptions, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    Scanner::new(Config::default(), ScanOptions::default()).expect("built-in rules compile")
});

fuzz_target!(|data: &[u8]| {
    let _ = SCANNER.scan_blob("overlays/prod/kustomization.yaml", data);
    let _ = is_sops_encrypted(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let (base, rel) = text.split_once('\n').unwrap_or(("overlays/prod", text));
        if let Some(p) = resolve(base, rel) {
            assert!(
                !p.split('/').any(|s| s == ".."),
                "resolved path escapes: {p:?}"
            );
        }
    }
});
