//! One module per subcommand.

mod check;
mod cluster;
mod compare;
mod diff;
mod history;
mod init;
mod noise;
mod patterns;
mod query;
mod report;
mod run;
mod schema;
mod show;

use std::path::{Path, PathBuf};

use crate::ExitStatus;
use crate::cli::{Cli, Command};
use crate::storage::{OutFile, OutFolder, Scratch, local_folder};

/// Run the parsed command. Folder arguments that are `s3://` URLs are fetched into a scratch
/// folder first (see `crate::storage`); `run`, `diff` and `report` upload what they write.
///
/// # Errors
/// Anything that stops the command from running at all (exit code 2).
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    let scratch = Scratch::new()?;
    let latest = |n| OutFolder::latest(n);
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
        Command::History(mut args) => {
            args.out = OutFolder::open(&args.out, &scratch, latest(0)).await?.local;
            history::history(&args)
        }
        Command::Diff(args) => diff::diff(*args, &scratch).await,
        Command::Query(mut args) => {
            (args.run, args.out) = localize_run(args.run, &args.out, &scratch).await?;
            query::query(args).await
        }
        Command::Show(mut args) => {
            (args.run, args.out) = localize_run(args.run, &args.out, &scratch).await?;
            show::show(args).await
        }
        Command::Patterns(mut args) => {
            (args.run, args.out) = localize_run(args.run, &args.out, &scratch).await?;
            patterns::patterns(args).await
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
        Command::Schema(mut args) => {
            (args.run, args.out) = localize_run(args.run, &args.out, &scratch).await?;
            schema::schema(args).await
        }
        Command::Cluster(command) => cluster::cluster(command).await,
        Command::Report(mut args) => {
            // The dashboard shows the latest night against the one before, and the trend.
            let html = OutFile::new(&args.html, &scratch)?;
            args.html.clone_from(&html.local);
            if let Some(run) = &args.run {
                args.run = Some(local_folder(run, &scratch).await?);
            }
            args.out = OutFolder::open(&args.out, &scratch, latest(2)).await?.local;
            let status = report::report(args).await?;
            html.finish().await?;
            Ok(status)
        }
    }
}

/// `--run` (a run folder) and `--out` (the folder of runs whose latest is used without `--run`)
/// as local folders.
async fn localize_run(
    run: Option<PathBuf>,
    out: &Path,
    scratch: &Scratch,
) -> anyhow::Result<(Option<PathBuf>, PathBuf)> {
    match run {
        Some(run) => Ok((Some(local_folder(&run, scratch).await?), out.to_path_buf())),
        None => Ok((
            None,
            OutFolder::open(out, scratch, OutFolder::latest(1))
                .await?
                .local,
        )),
    }
}
