//! One module per subcommand.

mod compare;
mod diff;
mod history;
mod noise;
mod patterns;
mod query;
mod report;
mod run;
mod schema;
mod show;

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
        Command::Diff(args) => diff::diff(*args).await,
        Command::Query(args) => query::query(args).await,
        Command::Show(args) => show::show(args).await,
        Command::Patterns(args) => patterns::patterns(args).await,
        Command::Compare(args) => compare::compare(args).await,
        Command::Noise(args) => noise::noise(args).await,
        Command::Schema(args) => schema::schema(args).await,
        Command::Report(args) => report::report(args).await,
    }
}
