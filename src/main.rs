//! Thin: parse the command line, call the library, map the result to an exit
//! code in one place.

mod cli;
mod cmd;

use clap::Parser;
use cli::{BaselineArgs, Cli, ColorChoice, Command, ListFormat, RulesCommand, ScanArgs};
use gitops_guard::config::Config;
use gitops_guard::error::{Error, exit};
use gitops_guard::report::{self, Format, RenderOptions, RuleInfo};
use gitops_guard::scan::{ScanOptions, Scanner};
use gitops_guard::{Mode, ScanRequest};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // An error may quote a path or a line of scanned content.
            let text = e.to_string();
            eprintln!(
                "gitops-guard: error: {}",
                gitops_guard::sanitize::escape_lines(&text)
            );
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Baseline(args) => baseline(args),
        Command::Rules { command } => rules(command),
        Command::Hook { command } => cmd::hook::run(command),
        Command::Sources(args) => cmd::sources::run(args),
    }
}

/// The name standard input is reported under when `--stdin-name` is not given.
const STDIN_NAME: &str = "<stdin>";

fn scan(args: ScanArgs) -> Result<u8, Error> {
    let stdin = args.path.as_os_str() == "-";
    if stdin && args.history_options().is_some() {
        return Err(Error::Usage(
            "`-` reads one file from standard input; the history options need a repository".into(),
        ));
    }
    if !stdin && args.stdin_name.is_some() {
        return Err(Error::Usage(
            "--stdin-name names standard input: use it with `-` as the path".into(),
        ));
    }
    // Standard input has no directory of its own: the config is looked up
    // in the current one.
    let config_root = if stdin {
        std::path::Path::new(".")
    } else {
        args.path.as_path()
    };
    let mut config = Config::discover(args.config.as_deref(), config_root)?;
    if let Some(depth) = args.decode_depth {
        config.secrets.decode_depth = Some(depth);
        config.secrets.depth().map_err(Error::Usage)?;
    }
    let verify = !args.no_verify
        && (args.verify
            || args.verify_dry_run
            || args.only_live
            || args.fail_on_live
            || config.verify);
    let verify_setup = verify.then(|| (config.rule.clone(), config.verification.clone()));
    let mut categories = args.category.clone();
    for o in &args.only {
        categories.extend(o.categories());
    }
    // History scans take a while: a progress line on a terminal, never in CI or a pipe.
    let mut history = args.history_options();
    let full_history = history
        .as_ref()
        .is_some_and(|h| h.range.is_none() && h.since_commit.is_none());
    let mut skip_rules = Vec::new();
    if full_history && categories.is_empty() && !args.all_categories {
        categories = cli::Only::Secrets.categories();
        skip_rules = gitops_guard::scan::HISTORY_SKIPPED_RULES
            .iter()
            .map(|r| r.to_string())
            .collect();
    }
    let options = ScanOptions {
        max_file_size: args.max_file_size,
        show_secrets: args.show_secrets,
        categories,
        exclude: args.exclude.clone(),
        threads: args.threads,
        skip_rules,
        oversize_blocks: false,
    };
    let mut _ticker = None;
    if let Some(h) = history.as_mut()
        && !args.quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
    {
        let p = std::sync::Arc::new(gitops_guard::source::history::HistoryProgress::default());
        h.progress = Some(p.clone());
        _ticker = Some(Ticker::start(p));
    }
    let mut report = gitops_guard::scan(ScanRequest {
        target: args.path.clone(),
        mode: match history {
            Some(h) => Mode::History(h),
            None if stdin => Mode::Stdin {
                name: args
                    .stdin_name
                    .clone()
                    .unwrap_or_else(|| STDIN_NAME.to_string()),
            },
            None => Mode::Worktree,
        },
        config,
        options,
        baseline: args.baseline.clone(),
        fail_on: args.fail_on,
    })?;
    if let Some((rules, settings)) = verify_setup {
        verify_report(&mut report, &rules, &settings, &args)?;
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let opts = RenderOptions {
        show_suppressed: args.show_suppressed,
        show_secrets: args.show_secrets,
        color,
    };
    write_report(&report, args.format, &opts, args.output.as_deref())?;
    let file_opts = RenderOptions {
        color: false,
        ..opts.clone()
    };
    for (format, path) in &args.report {
        write_report(&report, *format, &file_opts, Some(path))?;
    }
    if args.output.is_some() && !args.quiet {
        // The report went to a file: still tell the terminal how it went.
        let _ = report::text::render_summary(&report, false, &mut std::io::stderr());
    }
    if args.fail_on_live {
        return Ok(if !report.errors.is_empty() {
            exit::SCAN_ERROR
        } else if report.active().any(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == gitops_guard::finding::VerifyStatus::Live)
        }) {
            exit::FINDINGS
        } else {
            exit::CLEAN
        });
    }
    Ok(report.exit_code())
}

/// `--verify` and friends: check the report's secrets with their providers
/// (or, with `--verify-dry-run`, list the requests on stderr), then apply
/// `--only-live`.
fn verify_report(
    report: &mut report::Report,
    rules: &[gitops_guard::rules::RuleSpec],
    settings: &gitops_guard::config::VerificationConfig,
    args: &ScanArgs,
) -> Result<(), Error> {
    use gitops_guard::verify;
    let specs = verify::specs_of(rules).map_err(|e| Error::Config(e.to_string()))?;
    let mut opts = settings.options();
    opts.dry_run = args.verify_dry_run;
    #[cfg(feature = "verify")]
    let client = (!opts.dry_run).then(|| verify::http::Client::new(opts.timeout));
    #[cfg(feature = "verify")]
    let transport = client.as_ref().map(|c| c as &dyn verify::Transport);
    #[cfg(not(feature = "verify"))]
    let transport: Option<&dyn verify::Transport> = None;
    if transport.is_none() && !opts.dry_run {
        return Err(Error::Usage(
            "this build cannot verify (built without the `verify` feature); use --verify-dry-run to list the requests"
                .into(),
        ));
    }
    let mut cache = match &settings.cache {
        Some(p) if !opts.dry_run => {
            let ttl = std::time::Duration::from_secs(
                settings.cache_ttl_hours.unwrap_or(24).saturating_mul(3600),
            );
            let c = verify::cache::Cache::open(p, gitops_guard::finding::hmac_key(), ttl);
            if c.is_none() && !args.quiet {
                eprintln!(
                    "gitops-guard: [verification] cache needs {} set; results are not cached",
                    gitops_guard::finding::HMAC_KEY_ENV
                );
            }
            c
        }
        _ => None,
    };
    let stats = verify::verify_findings(
        &mut report.findings,
        &specs,
        transport,
        &opts,
        cache.as_mut(),
    );
    if let Some(c) = cache.as_mut()
        && let Err(e) = c.save()
    {
        eprintln!("gitops-guard: cannot write the verification cache: {e}");
    }
    if opts.dry_run {
        eprintln!(
            "verify dry run: {} distinct value(s), {} request(s) would be sent (none sent):",
            stats.distinct,
            stats.planned.len()
        );
        for r in &stats.planned {
            eprintln!("  {}", gitops_guard::sanitize::escape_control(r));
        }
    } else if !args.quiet {
        eprintln!(
            "verified {} distinct value(s) with {} request(s){}: {} live, {} invalid, {} unknown",
            stats.distinct,
            stats.requests,
            if stats.cached > 0 {
                format!(" ({} from the cache)", stats.cached)
            } else {
                String::new()
            },
            stats.live,
            stats.invalid,
            stats.unknown
        );
    }
    if args.only_live {
        report.findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == gitops_guard::finding::VerifyStatus::Live)
        });
    }
    Ok(())
}

/// Redraws the history progress line on stderr until dropped.
struct Ticker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(p: std::sync::Arc<gitops_guard::source::history::HistoryProgress>) -> Ticker {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                eprint!("\r\x1b[2K{}", p.render(started.elapsed()));
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            eprint!("\r\x1b[2K");
        });
        Ticker {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn write_report(
    report: &report::Report,
    format: Format,
    opts: &RenderOptions,
    output: Option<&std::path::Path>,
) -> Result<(), Error> {
    let result = match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
            let mut w = std::io::BufWriter::new(file);
            report::render(report, format, opts, &mut w).and_then(|_| w.flush())
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            report::render(report, format, opts, &mut w).and_then(|_| w.flush())
        }
    };
    match result {
        Ok(()) => Ok(()),
        // `gitops-guard scan | head` is not an error
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Scan(format!("cannot write the report: {e}"))),
    }
}

fn baseline(args: BaselineArgs) -> Result<u8, Error> {
    let config = Config::discover(args.config.as_deref(), &args.path)?;
    let options = ScanOptions {
        max_file_size: args.max_file_size,
        exclude: args.exclude.clone(),
        ..ScanOptions::default()
    };
    let report = gitops_guard::scan(ScanRequest {
        target: args.path.clone(),
        mode: Mode::Worktree,
        config,
        options,
        baseline: None,
        fail_on: None,
    })?;
    write_report(
        &report,
        Format::Json,
        &RenderOptions::default(),
        Some(&args.output),
    )?;
    eprintln!(
        "gitops-guard: wrote {} finding(s) to {}",
        report.active().count(),
        args.output.display()
    );
    // A baseline that could not see everything is not a baseline.
    Ok(if report.errors.is_empty() {
        exit::CLEAN
    } else {
        exit::SCAN_ERROR
    })
}

fn all_rules() -> Result<Vec<RuleInfo>, Error> {
    let scanner = Scanner::new(Config::default(), ScanOptions::default())?;
    let mut infos = scanner.rule_infos();
    infos.sort_by(|a, b| (a.category, &a.id).cmp(&(b.category, &b.id)));
    Ok(infos)
}

fn rules(command: RulesCommand) -> Result<u8, Error> {
    let infos = all_rules()?;
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let res = match command {
        RulesCommand::List { format, category } => {
            let infos: Vec<_> = infos
                .iter()
                .filter(|i| category.is_none_or(|c| i.category == c))
                .collect();
            match format {
                ListFormat::Text => {
                    let width = infos.iter().map(|i| i.id.len()).max().unwrap_or(10);
                    let mut r = Ok(());
                    for i in &infos {
                        r = r.and_then(|_| {
                            writeln!(
                                w,
                                "{:<width$}  {:<26}  {:<8}  {}",
                                i.id,
                                i.category.as_str(),
                                i.severity.as_str(),
                                i.name
                            )
                        });
                    }
                    r.and_then(|_| writeln!(w, "{} rules and checks", infos.len()))
                }
                ListFormat::Json => {
                    let v: Vec<_> = infos
                        .iter()
                        .map(|i| {
                            serde_json::json!({
                                "id": i.id, "name": i.name, "category": i.category,
                                "severity": i.severity, "description": i.description,
                                "remediation": i.remediation,
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut w, &v)
                        .map_err(std::io::Error::other)
                        .and_then(|_| writeln!(w))
                }
            }
        }
        RulesCommand::Explain { id } => {
            let Some(i) = infos.iter().find(|i| i.id == id) else {
                let close: Vec<_> = infos
                    .iter()
                    .filter(|i| i.id.contains(&id))
                    .map(|i| i.id.as_str())
                    .take(5)
                    .collect();
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean: {})", close.join(", "))
                };
                return Err(Error::Usage(format!(
                    "no rule or check `{id}`{hint}; see `gitops-guard rules list`"
                )));
            };
            writeln!(w, "{} — {}\n", i.id, i.name)
                .and_then(|_| writeln!(w, "category: {}\nseverity: {}\n", i.category, i.severity))
                .and_then(|_| {
                    writeln!(
                        w,
                        "{}\n",
                        if i.description.is_empty() {
                            &i.name
                        } else {
                            &i.description
                        }
                    )
                })
                .and_then(|_| {
                    if i.remediation.is_empty() {
                        Ok(())
                    } else {
                        writeln!(w, "How to fix: {}", i.remediation)
                    }
                })
                .and_then(|_| {
                    // What `scan --verify` would send, and where.
                    let specs = gitops_guard::verify::specs_of(&[]).unwrap_or_default();
                    match specs.get(&i.id) {
                        Some(v) if v.module.as_deref() == Some("aws-sts") => writeln!(
                            w,
                            "\nVerified by --verify: a SigV4-signed POST https://{}/ (GetCallerIdentity), key id paired with the secret access key found in the same file; the secret key signs, it is not sent.",
                            gitops_guard::verify::aws::HOST
                        ),
                        Some(v) => writeln!(
                            w,
                            "\nVerified by --verify: {} {} (only to {}{}).",
                            v.method,
                            v.url,
                            v.host().unwrap_or("?"),
                            match &v.self_hosted {
                                Some(k) => format!(", and to the hosts listed under [verification] self-hosted.{k}"),
                                None => String::new(),
                            }
                        ),
                        None => Ok(()),
                    }
                })
        }
    };
    match res {
        Ok(()) => Ok(exit::CLEAN),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::CLEAN),
        Err(e) => Err(Error::Scan(e.to_string())),
    }
}
