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

use std::path::{Path, PathBuf};

use crate::ExitStatus;
use crate::cli::{Cli, Command};
use pathway_night::layout::{audit_of_night, select_run};
use pathway_night::storage::{Audits, OutFile, OutFolder, Scratch, local_folder};

/// Run the parsed command. Folder arguments that are `s3://` URLs are fetched into a scratch
/// folder first (see `pathway_night::storage`); `run`, `diff` and `report` upload what they write. The
/// commands that read a night get the one `--run`, or `--out` and `--audit`, mean (see
/// `pathway_night::layout`), so each finds the night of the right audit in the same way.
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
        Command::Query(mut args) => {
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            query::query(args).await
        }
        Command::Show(mut args) => {
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            show::show(args).await
        }
        Command::Patterns(mut args) => {
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            patterns::patterns(args).await
        }
        Command::Profile(mut args) => {
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            profile::profile(&args)
        }
        Command::Explain(mut args) => {
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            explain::explain(args).await
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
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 1, &scratch).await?;
            schema::schema(args).await
        }
        Command::Cluster(command) => cluster::cluster(command).await,
        Command::Report(mut args) => {
            // The dashboard shows the night against the audit's night before, and the trend.
            let html = OutFile::new(&args.html, &scratch)?;
            args.html.clone_from(&html.local);
            (args.run, args.out) =
                localize_run(args.run, &args.out, args.audit.as_deref(), 2, &scratch).await?;
            let status = report::report(args).await?;
            html.finish().await?;
            Ok(status)
        }
    }
}

/// The night a command reads, as a local folder, and `--out` as a local folder holding (at
/// least) that night's audit's history and its latest `nights` nights.
///
/// With `--run`, that folder; it must be a night of `--audit` when that is given too. Without,
/// the latest night of the audit `--audit` names in `--out`, or of the only audit there (several:
/// an error asking for `--audit`).
async fn localize_run(
    run: Option<PathBuf>,
    out: &Path,
    audit: Option<&str>,
    nights: usize,
    scratch: &Scratch,
) -> anyhow::Result<(Option<PathBuf>, PathBuf)> {
    if let Some(run) = run {
        let run = local_folder(&run, scratch).await?;
        // Only then: a folder that is not a run is for the command to say so.
        let audit = match audit {
            Some(wanted) => Some(select_run(out, Some(&run), Some(wanted))?.audit),
            None => audit_of_night(&run).ok(),
        };
        let out = match &audit {
            Some(audit) => {
                OutFolder::open(out, scratch, Audits::Of(audit), OutFolder::latest(nights))
                    .await?
                    .local
            }
            None => out.to_path_buf(),
        };
        Ok((Some(run), out))
    } else {
        let out = OutFolder::open(out, scratch, Audits::Pick(audit), OutFolder::latest(nights))
            .await?
            .local;
        let selected = select_run(&out, None, audit)?;
        Ok((Some(selected.run_dir), out))
    }
}
