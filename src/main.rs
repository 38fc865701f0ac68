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
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "gitops-guard", &mut std::io::stdout());
            Ok(exit::CLEAN)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(Error::Scan(format!("cannot write the man page: {e}")))
                    }
                })?;
            Ok(exit::CLEAN)
        }
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
    if args.cache.is_some() && args.history_options().is_none() {
        return Err(Error::Usage(
            "--cache remembers history scans: use it with --history (or --range, --ref, ...)"
                .into(),
        ));
    }
    if !stdin && args.stdin_name.is_some() {
        return Err(Error::Usage(
            "--stdin-name names standard input: use it with `-` as the path".into(),
        ));
    }
    let files_mode = !args.more.is_empty();
    if files_mode
        && (stdin
            || args.history_options().is_some()
            || args.more.iter().any(|p| p.as_os_str() == "-"))
    {
        return Err(Error::Usage(
            "several paths are scanned as work-tree files: not with `-` or the history options"
                .into(),
        ));
    }
    // A path that does not exist is a typo on the command line (exit 2),
    // not a scan that ran and failed (exit 3).
    for path in std::iter::once(&args.path).chain(&args.more) {
        if !stdin
            && !gitops_guard::source::remote::is_remote(path)
            && std::fs::symlink_metadata(path).is_err()
        {
            return Err(Error::Usage(format!(
                "{}: no such file or directory",
                path.display()
            )));
        }
    }
    if files_mode
        && std::iter::once(&args.path)
            .chain(&args.more)
            .any(|p| gitops_guard::source::remote::is_remote(p))
    {
        return Err(Error::Usage(
            "a URL is scanned on its own: give one URL and no other path".into(),
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
    warn_unknown_rule_ids(&config);
    if args.no_render {
        config.render.enabled = Some(false);
    }
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
    // A full history scan looks for secret material in every version, and
    // runs the other checks on HEAD's tree (what is deployed now): one
    // command, the whole picture. A URL is cloned inside the scan, so only
    // its history is seen.
    let head_pass = full_history
        && categories.is_empty()
        && !args.all_categories
        && !gitops_guard::source::remote::is_remote(&args.path);
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
    let show_progress =
        !args.quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if show_progress {
        if let Some(h) = history.as_mut() {
            let p = std::sync::Arc::new(gitops_guard::source::history::HistoryProgress::default());
            h.progress = Some(p.clone());
            _ticker = Some(Ticker::history(p));
        } else if !stdin {
            _ticker = Some(Ticker::spinner(format!(
                "scanning {}",
                gitops_guard::sanitize::escape_control(&args.path.to_string_lossy())
            )));
        }
    }
    let head_options = ScanOptions {
        categories: non_secret_categories(),
        skip_rules: Vec::new(),
        ..options.clone()
    };
    let head_config = config.clone();
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
            None if files_mode => Mode::Files(
                std::iter::once(args.path.clone())
                    .chain(args.more.iter().cloned())
                    .collect(),
            ),
            None => Mode::Worktree,
        },
        config,
        options,
        baseline: args.baseline.clone(),
        fail_on: args.fail_on,
    })?;
    if head_pass {
        report.merge(gitops_guard::scan(ScanRequest {
            target: args.path.clone(),
            mode: Mode::Head,
            config: head_config,
            options: head_options,
            baseline: args.baseline.clone(),
            fail_on: args.fail_on,
        })?);
    }
    // The progress line is cleared before anything else is written to the
    // terminal (the summary after `-o FILE` was glued to it).
    drop(_ticker);
    if args.verbose {
        print_phases(&report.stats);
    }
    if !args.quiet
        && let Some(note) = report.stats.cache.as_ref().and_then(|c| c.note.as_deref())
    {
        eprintln!("note: {}", gitops_guard::sanitize::escape_control(note));
    }
    if let Some((rules, settings)) = verify_setup {
        verify_report(&mut report, &rules, &settings, &args)?;
    }
    // The exit code judges every finding; --min-severity only narrows the view.
    let code = if args.fail_on_live {
        // Only findings verified live fail; an incomplete scan still does.
        if !report.errors.is_empty() {
            exit::SCAN_ERROR
        } else if report.active().any(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == gitops_guard::finding::VerifyStatus::Live)
        }) {
            exit::FINDINGS
        } else {
            exit::CLEAN
        }
    } else {
        report.exit_code()
    };
    let mut hidden_below = 0;
    if let Some(min) = args.min_severity {
        let before = report.findings.len();
        report.findings.retain(|f| f.severity >= min);
        hidden_below = before - report.findings.len();
    }
    // anstream's rules: NO_COLOR (non-empty) and TERM=dumb turn colour off,
    // CLICOLOR_FORCE turns it on, otherwise only on a terminal. A report
    // written to a file is never painted unless --color=always.
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    };
    let opts = RenderOptions {
        show_suppressed: args.show_suppressed,
        show_secrets: args.show_secrets,
        color,
        quiet: args.quiet,
        hidden_below,
        head_commit: if args.format == Format::Gitlab
            || args.report.iter().any(|(f, _)| *f == Format::Gitlab)
        {
            head_commit(&args.path)
        } else {
            None
        },
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
    Ok(code)
}

/// HEAD's commit id of the repository `path` lies in (`-f gitlab` names it
/// for work-tree findings); `None` for standard input, a path outside any
/// repository, or a repository without commits.
fn head_commit(path: &std::path::Path) -> Option<String> {
    if path.as_os_str() == "-" {
        return None;
    }
    let dir = if path.is_file() { path.parent()? } else { path };
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let repo = gitops_guard::source::discover_repo(dir).ok()?;
    repo.head_id().ok().map(|id| id.to_string())
}

/// Every category but secret material: what a full history scan checks on HEAD's tree.
fn non_secret_categories() -> Vec<gitops_guard::finding::Category> {
    gitops_guard::finding::Category::ALL
        .into_iter()
        .filter(|c| !c.is_secret_material())
        .collect()
}

/// Rule ids in the config's `[rules]` that name nothing: warned about on
/// stderr with the nearest id, never silently ignored.
fn warn_unknown_rule_ids(config: &Config) {
    if config.rules.disable.is_empty() && config.rules.severity.is_empty() {
        return;
    }
    let known = Scanner::known_rule_ids(config);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    for w in config.unknown_rule_ids(&known) {
        eprintln!("gitops-guard: warning: {w}");
    }
}

/// `--verbose`: each phase's wall time and the share of the phases that run
/// on one thread (what more cores cannot speed up).
fn print_phases(stats: &gitops_guard::scan::Stats) {
    let total = stats.elapsed_ms as f64 / 1000.0;
    let mut serial = 0.0;
    for p in &stats.phases {
        if !p.parallel {
            serial += p.seconds;
        }
        eprintln!(
            "phase {:<40} {:>9.3} s  {}",
            p.name,
            p.seconds,
            if p.parallel { "parallel" } else { "one thread" }
        );
    }
    if total > 0.0 && !stats.phases.is_empty() {
        eprintln!(
            "phase total {total:.3} s; on one thread {serial:.3} s ({:.1}%)",
            100.0 * serial / total
        );
    }
    if let Some(c) = &stats.cache {
        eprintln!("cache: {} objects known clean, {} added", c.hits, c.added);
    }
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
            "this build cannot verify (built without the `verify` feature): use a release binary, the wheel or the image, or build with `cargo build --features verify`; --verify-dry-run lists the requests"
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

/// A progress line on stderr (indicatif) while a scan runs: history
/// counters, or a spinner for a working tree. Only ever on a terminal, and
/// always cleared when dropped, before the summary is written.
struct Ticker {
    bar: indicatif::ProgressBar,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn bar() -> indicatif::ProgressBar {
        let bar = indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::stderr_with_hz(5),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    }

    /// A spinner naming what is scanned (working trees have no total up front).
    fn spinner(message: String) -> Ticker {
        let bar = Ticker::bar();
        bar.set_message(message);
        Ticker {
            bar,
            stop: Default::default(),
            handle: None,
        }
    }

    /// History counters, redrawn from the library's atomics.
    fn history(p: std::sync::Arc<gitops_guard::source::history::HistoryProgress>) -> Ticker {
        let bar = Ticker::bar();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let b = bar.clone();
        let handle = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                b.set_message(p.render(started.elapsed()));
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        Ticker {
            bar,
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
        self.bar.finish_and_clear();
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
    warn_unknown_rule_ids(&config);
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

/// Every rule and check, the config's own `[[rule]]`s included.
fn all_rules(config: Config) -> Result<Vec<RuleInfo>, Error> {
    let scanner = Scanner::new(config, ScanOptions::default())?;
    let mut infos = scanner.rule_infos();
    infos.sort_by(|a, b| (a.category, &a.id).cmp(&(b.category, &b.id)));
    Ok(infos)
}

fn rules(command: RulesCommand) -> Result<u8, Error> {
    let config = match &command {
        RulesCommand::Explain { config, .. } => {
            Config::discover(config.as_deref(), std::path::Path::new("."))?
        }
        RulesCommand::List { .. } => Config::default(),
    };
    let infos = all_rules(config)?;
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
        RulesCommand::Explain { id, .. } => {
            let Some(i) = infos.iter().find(|i| i.id == id) else {
                // A typo (strsim, transpositions included) first, then ids
                // that contain what was typed (`github` → the github rules).
                let mut close: Vec<_> =
                    gitops_guard::config::did_you_mean(&id, infos.iter().map(|i| i.id.as_str()))
                        .into_iter()
                        .collect();
                let typo = close.first().copied();
                close.extend(
                    infos
                        .iter()
                        .filter(|i| i.id.contains(&id) && Some(i.id.as_str()) != typo)
                        .map(|i| i.id.as_str())
                        .take(5),
                );
                let id = gitops_guard::sanitize::escape_control(&id);
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
                        Some(v) if v.module.as_deref() == Some("gcp-jwt") => writeln!(
                            w,
                            "\nVerified by --verify: POST https://oauth2.googleapis.com/token with a JWT-bearer grant (an RS256 assertion for the client_email, scope cloud-platform), signed with the private key; the key file's token_uri is ignored and the key is not sent."
                        ),
                        Some(v) if v.module.as_deref() == Some(gitops_guard::verify::azure::MODULE) => writeln!(
                            w,
                            "\nVerified by --verify: a SharedKey-signed GET https://NAME.{}/?comp=list (List Containers), NAME being the AccountName of the key's connection string (3-24 lowercase letters and digits; other EndpointSuffix or a BlobEndpoint: not sent); the key signs, it is not sent.",
                            gitops_guard::verify::azure::SUFFIX
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
