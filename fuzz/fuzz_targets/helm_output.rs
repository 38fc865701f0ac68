//! `helm template` output and chart templates: the split at `# Source:`
//! lines, key paths of rendered documents, and the line search for them in
//! a template (templates are not YAML). Input: template, a NUL, rendered.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, rendered) = text.split_once('\0').unwrap_or((text, text));
    let template_lines = template.lines().count();
    for (_, line) in gitops_guard::render::helm::map_text_for_fuzzing(template, rendered) {
        if let Some(l) = line {
            assert!(l < template_lines, "line {l} outside the template");
        }
    }
});
