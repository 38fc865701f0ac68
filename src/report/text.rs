//! Human output: one code frame per finding (`path:line:col`, the line with
//! every secret redacted, a caret under the match), then a summary.

use super::{RenderOptions, Report};
use crate::finding::{Finding, Severity};
use crate::sanitize::{escape_control as esc, escape_frame};
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

/// Styles through anstyle (the crate clap draws its help with), not
/// hand-written escape codes; whether to paint at all is decided once by
/// the caller (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb`).
struct Paint(bool);

const BOLD: Style = Style::new().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const GUTTER: Style = AnsiColor::Blue.on_default();
const CLEAN: Style = AnsiColor::Green.on_default();

impl Paint {
    fn s(&self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let style = match s {
            Severity::Critical => AnsiColor::Red.on_default().bold(),
            Severity::High => AnsiColor::Red.on_default(),
            Severity::Medium => AnsiColor::Yellow.on_default(),
            Severity::Low => AnsiColor::Cyan.on_default(),
            Severity::Info => Style::new().dimmed(),
        };
        self.s(style, s.as_str())
    }
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    let p = Paint(opts.color);
    // Most severe first, then by path (the report's own order, kept by the
    // stable sort): the finding that matters most is the first one read.
    let mut shown: Vec<&Finding> = report.shown(opts.show_suppressed).collect();
    shown.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in shown {
        frame(report, f, &p, w)?;
    }
    for e in &report.errors {
        writeln!(
            w,
            "{}: {}: {}",
            p.s(ERROR, "error"),
            esc(&e.path),
            esc(&e.message)
        )?;
    }
    if opts.quiet {
        return Ok(());
    }
    summary(report, &p, w)?;
    if opts.hidden_below > 0 {
        writeln!(
            w,
            "note: {} finding(s) below --min-severity not shown (they still count for --fail-on)",
            opts.hidden_below
        )?;
    }
    Ok(())
}

fn frame(report: &Report, f: &Finding, p: &Paint, w: &mut dyn Write) -> io::Result<()> {
    let l = &f.location;
    let suppressed = if f.suppressed.is_some() {
        " (suppressed)"
    } else {
        ""
    };
    writeln!(
        w,
        "{}:{}:{}: {} [{}] {}: {}{}",
        p.s(BOLD, &esc(&l.path)),
        l.line,
        l.column,
        p.severity(f.severity),
        f.category,
        p.s(BOLD, &esc(&f.rule)),
        esc(&f.message),
        suppressed
    )?;
    if let Some(s) = &f.snippet {
        // Scanned bytes must not drive the terminal: control characters
        // are shown as escapes, and the caret moves with them.
        let (text, caret_start, caret_len) = escape_frame(&s.text, s.caret_start, s.caret_len);
        let num = l.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(w, "{pad} {}", p.s(GUTTER, "|"))?;
        writeln!(w, "{} {} {}", p.s(GUTTER, &num), p.s(GUTTER, "|"), text)?;
        writeln!(
            w,
            "{pad} {} {}{}",
            p.s(GUTTER, "|"),
            " ".repeat(caret_start),
            p.s(ERROR, &"^".repeat(caret_len.max(1)))
        )?;
    }
    if let Some(pv) = &f.provenance {
        let short = &pv.commit[..pv.commit.len().min(12)];
        let mut line = format!("commit {short}");
        if !pv.author.is_empty() {
            line.push_str(&format!(" by {}", esc(&pv.author)));
        }
        if !pv.date.is_empty() {
            line.push_str(&format!(" on {}", pv.date));
        }
        if let Some(r) = &pv.git_ref {
            line.push_str(&format!(" (ref {})", esc(r)));
        }
        if pv.occurrences > 0 {
            line.push_str(&format!("; {} more place(s) carry it", pv.occurrences));
        }
        if !pv.at_head {
            line.push_str("; not at HEAD any more, but still in history");
        }
        writeln!(w, "  = {line}")?;
    }
    if !f.roots.is_empty() {
        // The first few; the JSON report lists them all.
        const SHOWN: usize = 5;
        let mut roots: Vec<String> = f
            .roots
            .iter()
            .take(SHOWN)
            .map(|r| esc(r).into_owned())
            .collect();
        if f.roots.len() > SHOWN {
            roots.push(format!("and {} more", f.roots.len() - SHOWN));
        }
        writeln!(w, "  = rendered by: {}", roots.join(", "))?;
    }
    if let Some(v) = &f.verification {
        let status = match v.status {
            crate::finding::VerifyStatus::Live => p.s(ERROR, "live"),
            crate::finding::VerifyStatus::Invalid => p.s(CLEAN, "invalid"),
            crate::finding::VerifyStatus::Unknown => p.s(Style::new().dimmed(), "unknown"),
        };
        match &v.detail {
            Some(d) => writeln!(w, "  = verified: {status} ({})", esc(d))?,
            None => writeln!(w, "  = verified: {status}")?,
        }
    }
    if let Some(info) = report.rule_info(&f.rule)
        && !info.remediation.is_empty()
    {
        writeln!(w, "  = fix: {}", info.remediation)?;
    }
    writeln!(w)
}

/// Only the summary line(s), e.g. on stderr when the report went to a file.
pub fn render_summary(report: &Report, color: bool, w: &mut dyn Write) -> io::Result<()> {
    summary(report, &Paint(color), w)
}

fn summary(report: &Report, p: &Paint, w: &mut dyn Write) -> io::Result<()> {
    let active: Vec<_> = report.active().collect();
    let mut by_sev = [0usize; 5];
    for f in &active {
        by_sev[f.severity as usize] += 1;
    }
    let parts: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .filter(|s| by_sev[**s as usize] > 0)
    .map(|s| format!("{} {}", by_sev[*s as usize], s))
    .collect();
    let st = &report.stats;
    let head = if active.is_empty() {
        p.s(CLEAN, "no findings")
    } else {
        p.s(
            BOLD,
            &format!("{} finding(s) ({})", active.len(), parts.join(", ")),
        )
    };
    let suppressed = report.findings.len() - active.len();
    let mut line = head.to_string();
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed"));
    }
    line.push_str(&format!(
        "; {} blob(s), {} scanned",
        st.blobs_scanned,
        human_bytes(st.bytes_scanned)
    ));
    if let Some(c) = st.commits_scanned {
        line.push_str(&format!(", {c} commit(s)"));
    }
    let skipped: u64 = st.skipped.values().sum();
    if skipped > 0 {
        let detail: Vec<String> = st.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        line.push_str(&format!("; {skipped} skipped ({})", detail.join(", ")));
    }
    line.push_str(&format!(" in {:.2}s", st.elapsed_ms as f64 / 1000.0));
    writeln!(w, "{line}")?;
    if st.shallow == Some(true) {
        writeln!(
            w,
            "note: shallow clone: history before the shallow boundary was not scanned"
        )?;
    }
    if st.uncommitted_changes == Some(true) {
        writeln!(
            w,
            "note: the work tree has uncommitted changes, which a history scan does not see"
        )?;
    }
    if let Some(r) = &st.render
        && r.roots > 0
    {
        let tool = r.tool.as_deref().unwrap_or("no tool");
        writeln!(
            w,
            "rendered {} of {} root(s) (kustomizations, charts) with {tool}",
            r.rendered, r.roots
        )?;
    }
    if let Some(r) = &st.render {
        for n in &r.notes {
            writeln!(w, "note: {}", esc(n))?;
        }
    }
    if let Some(stale) = st.baseline_stale.filter(|s| *s > 0) {
        writeln!(
            w,
            "note: {stale} baseline entr(ies) matched nothing (stale)"
        )?;
    }
    if !report.errors.is_empty() {
        writeln!(
            w,
            "{}",
            p.s(
                ERROR,
                &format!("{} error(s): the scan is incomplete", report.errors.len())
            )
        )?;
    }
    Ok(())
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
