//! Subcommands of the binary that are about where gitops-guard runs: Git
//! hooks (`hook …`) and the Git sources of a fleet repository (`sources`).
//! Like `main`, this is glue: parse, call the library, print, pick the exit
//! code.

pub mod hook;
pub mod sources;
