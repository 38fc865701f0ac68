//! Arguments of `gitops-guard sources`. They live under `cli` (not beside
//! their handler in `cmd::sources`) so that `cli` never imports `cmd`.

use clap::{Args, ValueEnum};
use gitops_guard::finding::Severity;
use std::path::PathBuf;

use super::parse_severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourcesFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// Fleet repository (directory or file) to read the manifests from.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SourcesFormat::Text)]
    pub format: SourcesFormat,

    /// Also scan the whole history of each Git source (cloned bare into a
    /// temporary directory, then removed).
    #[arg(long)]
    pub scan_sources: bool,

    /// Rewrite URLs before cloning, like git's `url.<base>.insteadOf`
    /// (repeatable), e.g. `--url-map https://github.com/org/=file:///mirrors/org/`.
    #[arg(long, value_name = "PREFIX=REPLACEMENT")]
    pub url_map: Vec<String>,

    /// Config file for the scans (default: built-in defaults).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Lowest severity that makes a scan fail (exit 1) [default: medium].
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
}
