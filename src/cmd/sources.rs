//! `gitops-guard sources [PATH]`: the Git repositories a fleet repository
//! deploys from (Flux `GitRepository`, Argo CD `Application` /
//! `ApplicationSet`), flagged when fetched over plain HTTP or with
//! credentials in the URL; `--scan-sources` scans each one's history.

use gitops_guard::config::Config;
use gitops_guard::error::{Error, exit};
use gitops_guard::fleet::{GitSource, git_sources};
use gitops_guard::report::{self, RenderOptions};
use gitops_guard::sanitize::{escape_control as esc, escape_lines};
use gitops_guard::scan::ScanOptions;
use gitops_guard::source::history::HistoryOptions;
use gitops_guard::source::remote::redact_url;
use gitops_guard::{Mode, ScanRequest};
use std::io::Write;
use std::path::PathBuf;

use crate::cli::sources::{SourcesArgs, SourcesFormat};

fn mapped(url: &str, maps: &[(String, String)]) -> String {
    maps.iter()
        .filter(|(from, _)| url.starts_with(from.as_str()))
        .max_by_key(|(from, _)| from.len())
        .map_or_else(
            || url.to_string(),
            |(from, to)| format!("{to}{}", &url[from.len()..]),
        )
}

pub fn run(args: SourcesArgs) -> Result<u8, Error> {
    let maps: Vec<(String, String)> = args
        .url_map
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    Error::Usage(format!("--url-map `{m}`: expected PREFIX=REPLACEMENT"))
                })
        })
        .collect::<Result<_, _>>()?;
    let (sources, errors) = git_sources(&args.path)?;
    let flagged = sources.iter().any(|s| !s.issues.is_empty());
    let mut code = if !errors.is_empty() {
        exit::SCAN_ERROR
    } else if flagged {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };

    // Scan each distinct scannable URL once.
    let mut scans: Vec<(String, Result<report::Report, Error>)> = Vec::new();
    if args.scan_sources {
        let config = match &args.config {
            Some(p) => Config::discover(Some(p), &args.path)?,
            None => Config::default(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for s in sources.iter().filter(|s| s.scannable()) {
            if !seen.insert(s.raw_url.clone()) {
                continue;
            }
            let target = mapped(&s.raw_url, &maps);
            let result = gitops_guard::scan(ScanRequest {
                target: PathBuf::from(&target),
                mode: Mode::History(HistoryOptions::default()),
                config: config.clone(),
                options: ScanOptions::default(),
                baseline: None,
                fail_on: args.fail_on,
            });
            let c = match &result {
                Ok(r) => r.exit_code(),
                Err(e) => e.exit_code().max(exit::SCAN_ERROR),
            };
            code = worst(code, c);
            scans.push((s.raw_url.clone(), result));
        }
    }

    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let res = match args.format {
        SourcesFormat::Json => render_json(&sources, &errors, &scans, &mut w),
        SourcesFormat::Text => render_text(&sources, &errors, &scans, &mut w),
    };
    match res.and_then(|_| w.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::Scan(format!("cannot write: {e}"))),
    }
    Ok(code)
}

/// Scan errors (3) outrank findings (1), which outrank clean (0).
fn worst(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::CLEAN => 0,
        exit::FINDINGS => 1,
        exit::USAGE => 2,
        _ => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn render_text(
    sources: &[GitSource],
    errors: &[gitops_guard::scan::ScanError],
    scans: &[(String, Result<report::Report, Error>)],
    w: &mut dyn Write,
) -> std::io::Result<()> {
    for s in sources {
        let mut notes = Vec::new();
        if let Some(r) = &s.revision {
            notes.push(r.clone());
        }
        if s.helm {
            notes.push("Helm repository".into());
        }
        if s.templated {
            notes.push("templated".into());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        // Paths, names and revisions come from scanned manifests: escaped.
        writeln!(
            w,
            "{}:{}  {}  {}{}",
            esc(&s.path),
            s.line,
            esc(&s.object),
            esc(&s.url),
            esc(&notes)
        )?;
        for i in &s.issues {
            writeln!(w, "  ! {}", i.explain())?;
        }
    }
    for e in errors {
        writeln!(w, "error: {}: {}", esc(&e.path), esc(&e.message))?;
    }
    let flagged = sources.iter().filter(|s| !s.issues.is_empty()).count();
    writeln!(w, "{} Git source(s), {} flagged", sources.len(), flagged)?;
    for (url, result) in scans {
        writeln!(w, "\n== {}", esc(&redact_url(url)))?;
        match result {
            Ok(r) => report::text::render(r, &RenderOptions::default(), w)?,
            Err(e) => writeln!(w, "error: {}", escape_lines(&e.to_string()))?,
        }
    }
    Ok(())
}

fn render_json(
    sources: &[GitSource],
    errors: &[gitops_guard::scan::ScanError],
    scans: &[(String, Result<report::Report, Error>)],
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let scans: Vec<serde_json::Value> = scans
        .iter()
        .map(|(url, r)| match r {
            Ok(r) => serde_json::json!({
                "url": redact_url(url),
                "report": report::json::report_json(r, &RenderOptions::default()),
            }),
            Err(e) => serde_json::json!({ "url": redact_url(url), "error": e.to_string() }),
        })
        .collect();
    let v = serde_json::json!({
        "sources": sources,
        "errors": errors,
        "scans": scans,
    });
    serde_json::to_writer_pretty(&mut *w, &v)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_maps_take_the_longest_prefix() {
        let maps = vec![
            ("https://github.com/".to_string(), "file:///m/".to_string()),
            (
                "https://github.com/org/".to_string(),
                "file:///o/".to_string(),
            ),
        ];
        assert_eq!(
            mapped("https://github.com/org/a.git", &maps),
            "file:///o/a.git"
        );
        assert_eq!(
            mapped("https://github.com/x/a.git", &maps),
            "file:///m/x/a.git"
        );
        assert_eq!(mapped("ssh://h/a", &maps), "ssh://h/a");
    }
}
