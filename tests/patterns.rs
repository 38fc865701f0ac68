//! Every built-in rule is checked against its own examples: each example must
//! produce a match of that rule, each counter-example must not. A rule
//! without a capture group, examples or counter-examples, or with a
//! duplicate id, fails here. Failures print the unexpanded template (the
//! `<<…>>` generators), never a generated token.

use gitops_guard::detect::secrets::find_secrets_with;
use gitops_guard::rules::examples::expand;
use gitops_guard::rules::{RuleSet, builtin_specs};
use std::collections::HashSet;

/// A file path a path-scoped rule runs on, made from its first glob
/// (`*.tfvars` -> `infra/x.tfvars`); `None` for rules without `paths`.
fn example_path(globs: &[String]) -> Option<String> {
    let g = globs.first()?;
    Some(format!(
        "infra/{}",
        g.trim_start_matches("**/").replace('*', "x")
    ))
}

fn rule_set() -> RuleSet {
    RuleSet::build(builtin_specs().expect("rule files parse"), &[]).expect("rules compile")
}

#[test]
fn every_rule_matches_its_examples_and_not_its_counter_examples() {
    let set = rule_set();
    let mut failures = Vec::new();
    for (ri, rule) in set.rules.iter().enumerate() {
        let id = rule.id();
        let path = example_path(&rule.spec.paths);
        let path = path.as_deref();
        let find = |text: &str| find_secrets_with(&set, path, text.as_bytes(), None);
        if rule.spec.examples.is_empty() {
            failures.push(format!("{}: {id}: no examples", rule.origin));
        }
        if rule.spec.counter_examples.is_empty() {
            failures.push(format!("{}: {id}: no counter_examples", rule.origin));
        }
        if rule.spec.description.trim().is_empty() || rule.spec.remediation.trim().is_empty() {
            failures.push(format!(
                "{}: {id}: needs a description and a remediation",
                rule.origin
            ));
        }
        for (i, ex) in rule.spec.examples.iter().enumerate() {
            let text = match expand(ex, &format!("{id}/ex/{i}")) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{}: {id}: example {i}: {e}", rule.origin));
                    continue;
                }
            };
            if !find(&text).iter().any(|m| m.rule == ri) {
                failures.push(format!(
                    "{}: {id}: example {i} does not match: {ex:?}",
                    rule.origin
                ));
            }
            // a path-scoped rule stays quiet in other files
            if path.is_some()
                && find_secrets_with(&set, Some("docs/notes.md"), text.as_bytes(), None)
                    .iter()
                    .any(|m| m.rule == ri)
            {
                failures.push(format!(
                    "{}: {id}: example {i} matches outside its paths: {ex:?}",
                    rule.origin
                ));
            }
        }
        for (i, ex) in rule.spec.counter_examples.iter().enumerate() {
            let text = match expand(ex, &format!("{id}/cx/{i}")) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{}: {id}: counter-example {i}: {e}", rule.origin));
                    continue;
                }
            };
            if find(&text).iter().any(|m| m.rule == ri) {
                failures.push(format!(
                    "{}: {id}: counter-example {i} matches: {ex:?}",
                    rule.origin
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn ids_are_unique_and_kebab_case() {
    let specs = builtin_specs().unwrap();
    let mut seen = HashSet::new();
    for (origin, s) in &specs {
        assert!(seen.insert(s.id.clone()), "{origin}: duplicate id {}", s.id);
        assert!(
            s.id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{origin}: id `{}` is not kebab-case",
            s.id
        );
    }
}

#[test]
fn at_least_120_rules() {
    let n = builtin_specs().unwrap().len();
    assert!(
        n >= 120,
        "only {n} built-in rules; the core issue asks for at least 120"
    );
}

/// Built-in regexes are compiled lazily (on a rule's first keyword hit), so
/// this test is where a bad or capture-less built-in regex must fail.
#[test]
fn every_builtin_regex_compiles_with_a_secret_group() {
    let set = rule_set();
    for rule in &set.rules {
        assert!(
            rule.regex().captures_len() >= 2,
            "{}: {}: regex has no capture group",
            rule.origin,
            rule.id()
        );
    }
}
