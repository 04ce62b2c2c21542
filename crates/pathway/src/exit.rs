//! Exit codes: part of the contract with schedulers (cron, Jenkins, Kubernetes).

use std::process::ExitCode;

/// How a command ended. The numbers are documented in the README and `docs/cli.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command completed. For `run`: every district was audited (mismatches are results,
    /// not failures).
    Completed = 0,
    /// 1: `pathway diff` found differences (like `diff(1)`), `pathway compare
    /// --fail-on-regression` found a regressed district, or `pathway run --fail-on` matched.
    DiffsFound = 1,
    /// 2: could not run at all: bad arguments, a bad audit definition, unreadable input or output.
    CouldNotRun = 2,
    /// 3: the run completed and its reports are written, but some districts are ERROR or NO
    /// INPUT (not audited).
    DistrictErrors = 3,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status as u8)
    }
}
