//! Beta Pathway's command-line tool: `pathway run`, `pathway history`.
//!
//! The binary is thin: [`main`] parses arguments ([`cli`]), dispatches to one module per
//! subcommand ([`commands`]) and maps the outcome to a documented exit code ([`ExitStatus`]).
//! The work itself lives in the library crates: `pathway-night` (a night: the pipeline and its
//! run folder), `pathway-audit` (definition), `pathway-input` (district files),
//! `pathway-transform` (legacy and beta SQL), `pathway-diff` (the diff) and `pathway-report`
//! (CSV, JSON, terminal).
//!
//! The binary's `main.rs` is all of:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     pathway::main()
//! }
//! ```

pub mod cli;
pub mod commands;
mod exit;
pub mod logging;
mod output;
mod sources;

use std::process::ExitCode;

use clap::Parser;

pub use exit::ExitStatus;

/// Parse the command line, run the command, and turn the outcome into an exit code.
#[must_use]
pub fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            // clap exits 0 for --help/--version, 2 for usage errors: the latter is "could not run".
            return if e.use_stderr() {
                ExitStatus::CouldNotRun.into()
            } else {
                ExitStatus::Completed.into()
            };
        }
    };
    logging::init(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::CouldNotRun.into();
        }
    };
    match runtime.block_on(commands::dispatch(args)) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitStatus::Completed.into();
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitStatus::CouldNotRun.into()
        }
    }
}

/// `pathway history | head` closing the pipe early is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
