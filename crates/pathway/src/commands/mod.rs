//! One module per subcommand.

mod history;
mod run;

use crate::ExitStatus;
use crate::cli::{Cli, Command};

/// Run the parsed command.
///
/// # Errors
/// Anything that stops the command from running at all (exit code 2).
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::History(args) => history::history(&args),
    }
}
