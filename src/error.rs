//! Errors and the exit codes they map to. `main` alone turns these into a
//! process exit code.

/// 0 clean, 1 findings at or above `--fail-on`, 2 usage or config error, 3 scan error.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const SCAN_ERROR: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments.
    #[error("{0}")]
    Usage(String),
    /// A bad `.gitops-guard.toml`, user rule or baseline.
    #[error("{0}")]
    Config(String),
    /// The scan could not be completed (unreadable path, corrupt repository, …).
    #[error("{0}")]
    Scan(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config(_) => exit::USAGE,
            Error::Scan(_) => exit::SCAN_ERROR,
        }
    }
}
