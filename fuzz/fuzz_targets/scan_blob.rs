//! The whole per-blob pipeline (every detector, the secret rules, the
//! decoders they use, suppressions and code frames) on any bytes under a path
//! the first byte picks, so each path-routed detector (SOPS, `.sops.yaml`,
//! age, kustomization, Helm values, dotenv, JSON) sees hostile input.
#![no_main]

use gitops_guard::config::Config;
use gitops_guard::scan::{ScanOptions, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const PATHS: [&str; 16] = [
    "deploy/secret.yaml",
    "secrets/db.enc.yaml",
    "secrets/db.enc.json",
    "secrets/app.enc.env",
    "secrets/app.enc.ini",
    ".sops.yaml",
    "keys/backup.age",
    "keys/identity.txt",
    "overlays/prod/kustomization.yaml",
    "charts/app/values.yaml",
    "sealed/sealed-secret.yaml",
    "flux/kustomization.yaml",
    ".env",
    "config/app.json",
    "README.md",
    "manifests/all.yml",
];

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    Scanner::new(Config::default(), ScanOptions::default()).expect("built-in rules compile")
});

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = PATHS[pick as usize % PATHS.len()];
    let outcome = SCANNER.scan_blob(path, bytes);
    for f in &outcome.findings {
        let l = &f.location;
        assert!(l.line >= 1 && l.end_line >= l.line, "bad location {l:?}");
    }
});
