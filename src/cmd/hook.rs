//! `gitops-guard hook pre-receive | pre-commit | install`.

use gitops_guard::config::Config;
use gitops_guard::error::{Error, exit};
use gitops_guard::hook::install::{self, HookKind, Installed};
use gitops_guard::hook::pre_receive::{
    self, Flags, OnTimeout, Outcome, Settings, append_audit, audit_line,
};
use gitops_guard::report::{self, RenderOptions};
use gitops_guard::scan::ScanOptions;
use gitops_guard::source::pushed::{parse_pre_push, parse_updates, plan_against, remote_known};
use gitops_guard::{Mode, ScanRequest};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use crate::cli::hook::{
    HookArg, HookCommand, InstallArgs, OnTimeoutArg, PreCommitArgs, PrePushArgs, PreReceiveArgs,
};

pub fn run(command: HookCommand) -> Result<u8, Error> {
    match command {
        HookCommand::PreReceive(args) => pre_receive(args),
        HookCommand::PreCommit(args) => pre_commit(args),
        HookCommand::PrePush(args) => pre_push(args),
        HookCommand::Install(args) => install_hook(args),
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn pre_receive(args: PreReceiveArgs) -> Result<u8, Error> {
    let git_dir = args
        .git_dir
        .clone()
        .or_else(|| std::env::var_os("GIT_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let started = std::time::Instant::now();
    if std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "hook pre-receive reads `<old> <new> <ref>` lines on stdin, as git gives them to a \
             pre-receive hook; install it as hooks/pre-receive (see docs/integrations.md)"
                .into(),
        ));
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::Usage(format!("cannot read the ref updates on stdin: {e}")))?;
    let updates = parse_updates(&input)?;
    let flags = Flags {
        timeout: args.timeout,
        on_timeout: args.on_timeout.map(|o| match o {
            OnTimeoutArg::Reject => OnTimeout::Reject,
            OnTimeoutArg::Allow => OnTimeout::Allow,
        }),
        max_commits: args.max_commits,
        block: args.block.clone(),
        fail_on: args.fail_on,
        allow_skip: args.allow_skip,
        audit_log: args.audit_log.clone(),
        config: args.config.clone(),
        max_file_size: args.max_file_size,
        concurrency: args.concurrency,
        queue_timeout: args.queue_timeout,
        slot_dir: args.slot_dir.clone(),
    };
    let settings = Settings::resolve(&git_dir, &flags)?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let gitlab = settings.gitlab;
    let say = |err: &mut dyn Write, text: &str| {
        let _ = pre_receive::Messages::new(err, gitlab).line(text);
    };

    if let Some(reason) = pre_receive::skip_request(&pre_receive::push_options_from_env()) {
        let reason = pre_receive::loggable_reason(&reason);
        if !settings.allow_skip {
            say(
                &mut err,
                "gitops-guard: the push option gitops-guard.skip is not enabled on this server (git config gitops-guard.allowSkip true); scanning as usual.",
            );
        } else if reason.is_empty() {
            say(
                &mut err,
                "gitops-guard: push rejected: a skip needs a reason: git push -o gitops-guard.skip=\"<why>\"",
            );
            return Ok(exit::FINDINGS);
        } else {
            let line = audit_line("skip", &reason, &updates, now_secs());
            if let Err(e) = append_audit(&settings.audit_log, &line) {
                say(
                    &mut err,
                    &format!(
                        "gitops-guard: push rejected: the skip could not be logged to {}: {e}",
                        settings.audit_log.display()
                    ),
                );
                return Ok(exit::SCAN_ERROR);
            }
            say(
                &mut err,
                &format!(
                    "gitops-guard: scan SKIPPED at the request of {} (reason: {reason}); this was logged.",
                    pre_receive::pusher()
                ),
            );
            return Ok(exit::CLEAN);
        }
    }
    if updates.iter().all(|u| u.is_delete()) {
        return Ok(exit::CLEAN);
    }

    let result = pre_receive::run_guarded(&settings, &updates, || {
        say(
            &mut std::io::stderr(),
            "gitops-guard: other pushes are being scanned; waiting for a free slot…",
        )
    });
    let accept = match result {
        pre_receive::Guarded::Unfinished(why) => {
            let allow = pre_receive::render_unfinished(&settings, &why, &mut err).unwrap_or(false);
            if allow {
                let _ = append_audit(
                    &settings.audit_log,
                    &audit_line(
                        "timeout-allowed",
                        "scan did not finish",
                        &updates,
                        now_secs(),
                    ),
                );
            }
            allow
        }
        pre_receive::Guarded::Done(Err(e)) => {
            say(&mut err, &format!("gitops-guard: push rejected: {e}"));
            return Ok(e.exit_code().max(exit::FINDINGS));
        }
        pre_receive::Guarded::Done(Ok(outcome)) => {
            let accept = pre_receive::render(&settings, &outcome, &mut err).unwrap_or(false);
            if let Outcome::Scanned {
                report,
                commits,
                blobs,
                method,
                plan_ms,
                timings,
            } = &outcome
                && args.verbose
            {
                say(
                    &mut err,
                    &format!(
                        "gitops-guard: {commits} new commit(s) found by {}, {blobs} new blob(s); planning {plan_ms} ms ({}), scan {} ms, total {} ms",
                        method.describe(),
                        timings
                            .iter()
                            .map(|(k, v)| format!("{k} {v}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        report.stats.elapsed_ms,
                        started.elapsed().as_millis()
                    ),
                );
            }
            match &outcome {
                Outcome::OverLimit { .. } if accept => {
                    let _ = append_audit(
                        &settings.audit_log,
                        &audit_line(
                            "over-limit-allowed",
                            "too many commits",
                            &updates,
                            now_secs(),
                        ),
                    );
                }
                Outcome::Scanned {
                    report,
                    commits,
                    blobs,
                    ..
                } if accept && !args.quiet => {
                    say(
                        &mut err,
                        &format!(
                            "gitops-guard: {commits} new commit(s), {blobs} new blob(s) scanned, nothing blocks the push ({} ms).",
                            report.stats.elapsed_ms
                        ),
                    );
                }
                _ => {}
            }
            accept
        }
    };
    let _ = err.flush();
    Ok(if accept { exit::CLEAN } else { exit::FINDINGS })
}

fn pre_commit(args: PreCommitArgs) -> Result<u8, Error> {
    let root = gitops_guard::source::discover_repo(&args.path)
        .ok()
        .and_then(|r| r.workdir().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| args.path.clone());
    let config = Config::discover(args.config.as_deref(), &root)?;
    let report = gitops_guard::scan(ScanRequest {
        target: args.path.clone(),
        mode: Mode::Staged,
        config,
        options: ScanOptions {
            max_file_size: args.max_file_size,
            exclude: args.exclude.clone(),
            ..ScanOptions::default()
        },
        baseline: None,
        fail_on: args.fail_on,
    })?;
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let opts = RenderOptions::default();
    let code = report.exit_code();
    match report::render(&report, args.format, &opts, &mut w).and_then(|_| w.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::Scan(format!("cannot write the report: {e}"))),
    }
    for line in gitops_guard::scan::skip_lines(&report.stats, 50) {
        eprintln!("{line}");
    }
    if code == exit::SCAN_ERROR {
        eprintln!(
            "gitops-guard: commit stopped: the scan could not judge everything that is staged (see the errors above; a guard fails closed)."
        );
    }
    if code == exit::FINDINGS {
        eprintln!(
            "gitops-guard: commit stopped. Remove the finding(s) from the staged files (`git add` the fix), \
             mark a false alarm with a `gitops-guard:allow` comment, or skip once with `git commit --no-verify`."
        );
    }
    Ok(code)
}

fn pre_push(args: PrePushArgs) -> Result<u8, Error> {
    if std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "hook pre-push reads `<local ref> <local oid> <remote ref> <remote oid>` lines on stdin, \
             as git gives them; install it with `gitops-guard hook install --hook pre-push`"
                .into(),
        ));
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::Usage(format!("cannot read the ref updates on stdin: {e}")))?;
    let updates = parse_pre_push(&input)?;
    if updates.iter().all(|u| u.is_delete()) {
        return Ok(exit::CLEAN);
    }
    let repo = gitops_guard::source::discover_repo(std::path::Path::new("."))
        .map_err(|e| Error::Usage(format!("not in a git repository: {e}")))?;
    let git_dir = repo.git_dir().to_path_buf();
    let root = repo
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| git_dir.clone());
    drop(repo);
    let known = remote_known(&git_dir, args.remote.as_deref(), &updates)?;
    let plan = plan_against(&git_dir, &updates, &known, args.max_commits)?;
    if plan.over_limit {
        eprintln!(
            "gitops-guard: this push sends more than {} new commits; not scanned. Scan them with \
             `gitops-guard scan --history`, raise --max-commits, or skip with `git push --no-verify`.",
            args.max_commits
        );
        return Ok(exit::FINDINGS);
    }
    if plan.commits.is_empty()
        && plan.blobs.is_empty()
        && plan.tags.is_empty()
        && plan.problems.is_empty()
    {
        return Ok(exit::CLEAN);
    }
    let config = Config::discover(args.config.as_deref(), &root)?;
    let report = gitops_guard::scan(ScanRequest {
        target: git_dir,
        mode: Mode::Pushed(std::sync::Arc::new(plan)),
        config,
        options: ScanOptions::default(),
        baseline: None,
        fail_on: args.fail_on,
    })?;
    let code = report.exit_code();
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    match report::render(&report, args.format, &RenderOptions::default(), &mut w)
        .and_then(|_| w.flush())
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::Scan(format!("cannot write the report: {e}"))),
    }
    for line in gitops_guard::scan::skip_lines(&report.stats, 50) {
        eprintln!("{line}");
    }
    if code == exit::SCAN_ERROR {
        eprintln!(
            "gitops-guard: push stopped: the scan could not judge everything that is pushed (see the errors above; a guard fails closed)."
        );
    }
    if code == exit::FINDINGS {
        eprintln!(
            "gitops-guard: push stopped. Remove the finding(s) from the commits that added them \
             (`git commit --amend`, `git rebase -i`), mark a false alarm with a `gitops-guard:allow` \
             comment, or skip once with `git push --no-verify`."
        );
    }
    Ok(code)
}

fn install_hook(args: InstallArgs) -> Result<u8, Error> {
    let kind = match args.hook {
        HookArg::PreCommit => HookKind::PreCommit,
        HookArg::PrePush => HookKind::PrePush,
    };
    let binary = std::env::current_exe()
        .map_err(|e| Error::Scan(format!("cannot tell where this binary is: {e}")))?;
    match install::install(&args.path, kind, &binary)? {
        Installed::Created(p) => eprintln!("gitops-guard: installed {}", p.display()),
        Installed::Updated(p) => eprintln!(
            "gitops-guard: {} was already installed; updated",
            p.display()
        ),
    }
    Ok(exit::CLEAN)
}
