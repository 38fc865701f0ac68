//! SOPS files of every format (YAML, JSON, dotenv, INI): the tree reader, the
//! metadata checks and the comment lookup, on any bytes.
#![no_main]

use gitops_guard::detect::encryption::{sops_invalid_metadata, sops_tree};
use gitops_guard::detect::{Input, Output};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 5] = [
    "s.enc.yaml",
    "s.enc.json",
    "s.enc.env",
    "s.enc.ini",
    "s.txt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let input = Input::new(PATHS[pick as usize % PATHS.len()], bytes);
    match sops_tree::read(&input) {
        sops_tree::Reading::Sops(file) => {
            let mut out = Output::default();
            sops_invalid_metadata::check(&input, &file.metadata, &mut out);
            if let Some(text) = input.text() {
                for leaf in file.leaves.iter().take(200) {
                    let _ = sops_tree::leaf_is_encrypted(leaf);
                    let _ = sops_tree::yaml_comments(text, leaf);
                }
            }
        }
        sops_tree::Reading::EncryptedWithoutMetadata { first, .. } => {
            assert!(first.start <= first.end && first.end <= bytes.len());
        }
        sops_tree::Reading::NotSops => {}
    }
});
