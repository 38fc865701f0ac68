//! The README's examples are real output: the code frame under `### Output`
//! must be what `gitops-guard scan .` prints for `fixtures/demo`, and the
//! exit-code table must say what `--help` says. README.md drifted before
//! (wrong column, message and redaction); this test keeps it honest.
//!
//! Matching rules for a README example block: every line must appear in the
//! real output, in order and consecutively, except that a line may end in
//! `…` to stand for the rest of the real line (`= fix: …`).

mod common;

use common::*;
use std::path::Path;
use tempfile::TempDir;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced blocks tagged `lang` in the section that starts with `heading`
/// (up to the next heading of the same or a higher level).
fn blocks(text: &str, heading: &str, lang: &str) -> Vec<Vec<String>> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut out = Vec::new();
    let mut inside_section = false;
    let mut block: Option<Vec<String>> = None;
    for line in text.lines() {
        if block.is_none() && line.starts_with('#') {
            let l = line.chars().take_while(|c| *c == '#').count();
            if line.trim_end() == heading {
                inside_section = true;
                continue;
            } else if inside_section && l <= level {
                break;
            }
        }
        if !inside_section {
            continue;
        }
        match &mut block {
            None if line.trim_end() == format!("```{lang}") => block = Some(Vec::new()),
            Some(b) if line.trim_end() == "```" => {
                out.push(std::mem::take(b));
                block = None;
            }
            Some(b) => b.push(line.to_string()),
            None => {}
        }
    }
    out
}

fn line_matches(example: &str, real: &str) -> bool {
    match example.strip_suffix('…') {
        Some(prefix) => real.starts_with(prefix),
        None => example == real,
    }
}

/// Where `example` occurs in `real` as consecutive lines, if it does.
fn find_block(example: &[String], real: &[&str]) -> Option<usize> {
    (0..real.len()).find(|&i| {
        example.len() <= real.len() - i
            && example
                .iter()
                .zip(&real[i..])
                .all(|(e, r)| line_matches(e, r))
    })
}

/// `fixtures/demo` copied outside this repository, so its paths are what a
/// user who runs the demo sees (inside this repository they would carry
/// the `fixtures/demo/` prefix).
fn demo_copy() -> TempDir {
    let dst = TempDir::new().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(&src).unwrap().to_path_buf();
            if e.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(dst.path().join(&rel)).unwrap();
                stack.push(e.path());
            } else {
                std::fs::copy(e.path(), dst.path().join(&rel)).unwrap();
            }
        }
    }
    dst
}

#[test]
fn readme_output_section_shows_real_output() {
    let examples = blocks(&readme(), "### Output", "text");
    assert!(
        !examples.is_empty(),
        "README.md has a ```text block under ### Output"
    );
    let demo = demo_copy();
    let out = gg(demo.path(), &["scan", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let real: Vec<&str> = out.stdout.lines().collect();
    for example in &examples {
        assert!(
            find_block(example, &real).is_some(),
            "README.md's Output example is not what `gitops-guard scan .` prints for \
             fixtures/demo.\nREADME:\n{}\n\nReal output (the frame of the same finding should \
             replace it; `…` may end a line):\n{}",
            example.join("\n"),
            out.stdout
        );
    }
}

#[test]
fn readme_exit_code_table_matches_the_help() {
    let text = readme();
    let dir = TempDir::new().unwrap();
    let help = gg(dir.path(), &["--help"]).stdout;
    // Every code in the help is in the README's table, and the default
    // --fail-on the README names is the one the binary uses.
    for code in ["0", "1", "2", "3"] {
        assert!(help.contains(&format!("  {code}  ")), "{help}");
        assert!(
            text.contains(&format!("| {code} |")),
            "README exit-code table lacks {code}"
        );
    }
    let default = gitops_guard::DEFAULT_FAIL_ON.as_str();
    let row = text
        .lines()
        .find(|l| l.starts_with("| 0 |"))
        .expect("README exit-code row 0");
    assert!(
        row.contains(&format!("default `{default}`")),
        "README says {row:?}, the default --fail-on is `{default}` (secret material: medium)"
    );
}

#[test]
fn block_matching_rules() {
    let real = ["a:1: x", "  |", "  = fix: do this and that", ""];
    let ex = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(find_block(&ex(&["  |", "  = fix: …"]), &real), Some(1));
    assert_eq!(find_block(&ex(&["a:1: x", "  = fix: …"]), &real), None);
    assert_eq!(find_block(&ex(&["a:1: y"]), &real), None);
    let md = "# T\n### Output\ntext\n```text\nA\nB\n```\n### Next\n```text\nC\n```\n";
    assert_eq!(blocks(md, "### Output", "text"), vec![ex(&["A", "B"])]);
}
