//! Fuzz the manifest model: any UTF-8 text must parse to documents or to an
//! error — never a panic, a hang or a span outside the text — and the
//! Kubernetes views over whatever parsed must not panic either.
//!
//! Run (nightly): `cargo +nightly fuzz run manifest_yaml fuzz/corpus/manifest_yaml ../shared/corpus/manifests`
//! (the first directory collects new inputs; the others seed with real manifests).
#![no_main]

use gitops_guard::manifest::{KeyPath, Limits, Node, Value, YamlError, objects, parse_documents};
use libfuzzer_sys::fuzz_target;

fn check(text: &str, node: &Node) {
    let s = node.span;
    assert!(
        s.start <= s.end && s.end <= text.len(),
        "span {s:?} out of bounds"
    );
    assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    assert!(s.line >= 1 && s.column >= 1 && s.end_line >= s.line);
    match &node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter().for_each(|n| check(text, n)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            check(text, k);
            check(text, v);
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Small limits keep each run fast while still reaching every limit path.
    let limits = Limits {
        max_depth: 64,
        max_nodes: 20_000,
        max_alias_expansion: 5_000,
    };
    match parse_documents(text, &limits) {
        Ok(docs) => {
            for d in &docs {
                check(text, &d.root);
                d.root.visit_scalars(&KeyPath::new(), |path, _, value| {
                    let _ = (path.to_string(), value.as_i64(), value.as_bool_yaml11());
                    if let Some(s) = value.as_str() {
                        if let Some(span) = value.locate(text, 0..s.len().min(8)) {
                            assert!(span.end <= text.len());
                        }
                    }
                });
            }
            for o in objects(&docs) {
                let _ = (o.labels().count(), o.annotations().count(), o.anchor_span());
                if let Some(pod) = o.pod_spec() {
                    for c in pod.containers() {
                        let _ = pod.effective_security(&c, "runAsNonRoot");
                        let _ = (c.image(), c.anchor_span(), c.path.to_string());
                        for e in c.env() {
                            let _ = (e.name(), e.value(), e.path.to_string());
                        }
                    }
                }
            }
        }
        Err(YamlError::Internal) => panic!("the YAML parser panicked"),
        Err(_) => {}
    }
});
