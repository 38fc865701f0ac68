//! Where gitops-guard runs as a Git hook: the server-side `pre-receive`
//! hook ([`pre_receive`]), the client-side `pre-commit` hook (the scan is
//! [`crate::source::staged`]) and installing hooks into a repository
//! ([`install`]). Like the rest of the library, nothing here prints: messages
//! are written to the writer the caller passes.

pub mod install;
pub mod pre_receive;
pub mod slots;
