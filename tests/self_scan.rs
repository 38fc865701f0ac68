//! The project's own tree scans clean with its own `.gitops-guard.toml`
//! (which excludes fixtures and pattern examples, and nothing else).

mod common;

#[test]
fn own_tree_scans_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = common::gg(root, &["scan", ".", "--format", "json"]);
    assert_eq!(
        out.code, 0,
        "the project's own tree has findings:\n{}",
        out.stdout
    );
}
