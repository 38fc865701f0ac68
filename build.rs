//! Embeds every `patterns/*.toml` file in the binary, so adding a rule family
//! is adding a file and nothing else; and each file converted to JSON, which
//! is what the binary parses at startup (the TOML parser took a third of a
//! pre-commit hook's CPU for 800+ rules; the JSON reader a small part of it).
use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new("patterns");
    println!("cargo:rerun-if-changed=patterns");
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("patterns/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// (file name, contents) of every built-in rule file.\npub static BUILTIN_PATTERNS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        // Relative to the manifest dir at compile time, not an absolute path
        // baked in here: a cached build-script output stays valid for any
        // checkout of the same tree.
        out.push_str(&format!(
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/patterns/{name}\"))),\n"
        ));
    }
    out.push_str("];\n");
    out.push_str(
        "/// (file name, the file as JSON) of every built-in rule file: what\n/// `rules::builtin_specs` parses.\npub static BUILTIN_PATTERNS_JSON: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        let text = fs::read_to_string(f).unwrap();
        let value: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not valid TOML: {e}", f.display()));
        let json = serde_json::to_string(&value).unwrap();
        out.push_str(&format!("    ({name:?}, {json:?}),\n"));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("patterns.rs");
    fs::write(dest, out).unwrap();
}
