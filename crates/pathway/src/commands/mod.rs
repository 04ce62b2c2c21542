//! One module per subcommand.

mod check;
mod cluster;
mod compare;
mod diff;
mod explain;
mod history;
mod init;
mod keys;
mod noise;
mod patterns;
mod profile;
mod query;
mod report;
mod run;
mod schema;
mod show;

use crate::ExitStatus;
use crate::cli::{Cli, Command};
use pathway_night::RunFolder;
use pathway_night::storage::{Audits, OutFile, OutFolder, Scratch, local_folder};

/// The night a reading command's `--run`, `--out` and `--audit` mean, opened once (see
/// [`RunFolder::open`]), with the audit's latest `$keep` nights at hand.
macro_rules! open_night {
    ($args:expr, $keep:expr, $scratch:expr) => {
        RunFolder::open(
            $args.run.as_deref(),
            &$args.out,
            $args.audit.as_deref(),
            $keep,
            $scratch,
        )
        .await?
    };
}

/// Run the parsed command. Folder arguments that are `s3://` URLs are fetched into a scratch
/// folder first (see `pathway_night::storage`); `run`, `diff` and `report` upload what they write. The
/// commands that read a night (`query`, `show`, `schema`, `patterns`, `profile`, `explain`,
/// `report`) are handed it opened once, by [`RunFolder::open`], from `--run`, or `--out` and
/// `--audit`: each finds the night of the right audit in the same way.
///
/// # Errors
/// Anything that stops the command from running at all (exit code 2).
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    let scratch = Scratch::new()?;
    match cli.command {
        Command::Run(args) => run::run(args, &scratch).await,
        Command::Check(mut args) => {
            args.audit = local_folder(&args.audit, &scratch).await?;
            if let Some(input) = &args.input {
                args.input = Some(local_folder(input, &scratch).await?);
            }
            check::check(&args).await
        }
        Command::Init(args) => init::init(&args),
        Command::Keys(mut args) => {
            for path in [&mut args.left, &mut args.right] {
                if pathway_storage::is_remote(&path.to_string_lossy()) {
                    continue;
                }
                *path = std::path::absolute(&*path)?;
            }
            keys::keys(*args).await
        }
        Command::History(mut args) => {
            let audits = args.audit.as_deref().map_or(Audits::All, Audits::Of);
            args.out = OutFolder::open(&args.out, &scratch, audits, OutFolder::latest(0))
                .await?
                .local;
            history::history(&args)
        }
        Command::Diff(args) => diff::diff(*args, &scratch).await,
        Command::Query(args) => {
            let night = open_night!(args, 1, &scratch);
            query::query(args, &night).await
        }
        Command::Show(args) => {
            let night = open_night!(args, 1, &scratch);
            show::show(args, &night).await
        }
        Command::Patterns(args) => {
            let night = open_night!(args, 1, &scratch);
            patterns::patterns(args, &night).await
        }
        Command::Profile(args) => {
            let night = open_night!(args, 1, &scratch);
            profile::profile(&args, &night)
        }
        Command::Explain(args) => {
            let night = open_night!(args, 1, &scratch);
            explain::explain(args, &night).await
        }
        Command::Compare(mut args) => {
            args.before = local_folder(&args.before, &scratch).await?;
            args.after = local_folder(&args.after, &scratch).await?;
            compare::compare(args).await
        }
        Command::Noise(mut args) => {
            args.audit = local_folder(&args.audit, &scratch).await?;
            args.input = local_folder(&args.input, &scratch).await?;
            noise::noise(args).await
        }
        Command::Schema(args) => {
            let night = open_night!(args, 1, &scratch);
            schema::schema(args, &night).await
        }
        Command::Cluster(command) => cluster::cluster(command).await,
        Command::Report(mut args) => {
            // The dashboard shows the night against the audit's night before, and the trend.
            let html = OutFile::new(&args.html, &scratch)?;
            args.html.clone_from(&html.local);
            let night = open_night!(args, 2, &scratch);
            let status = report::report(args, &night).await?;
            html.finish().await?;
            Ok(status)
        }
    }
}
