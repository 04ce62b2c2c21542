//! The night a command reads, opened once for every command that reads one (`query`, `show`,
//! `schema`, `patterns`, `profile`, `explain`, `report`): which folder, which audit, where the
//! audit's other nights are.

use std::path::{Path, PathBuf};

use datafusion::prelude::SessionContext;
use pathway_mask::Masker;

use crate::NightDate;
use crate::catalog::{RunCatalog, register_run};
use crate::layout::{audit_of_night, previous_night, select_run};
use crate::storage::{Audits, OutFolder, Scratch, local_folder};

/// A night opened for reading, every path local (an `s3://` night or output folder is fetched
/// into the scratch folder first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    /// The night's folder.
    pub dir: PathBuf,
    /// The output folder, holding at least the audit's history and its latest nights.
    pub out: PathBuf,
    /// The night's audit; `None` when `--run` names a folder that is not a night (the command
    /// says so when it reads it).
    pub audit: Option<String>,
    /// The folder of the audit's nights and history.csv (`<out>/<audit>`), when known.
    pub nights: Option<PathBuf>,
}

impl RunFolder {
    /// The night `run` names (it must be a night of `audit`, when that is given too), else the
    /// latest night of the audit `audit` names in `out`, or of the only audit there (see
    /// [`select_run`]); with the audit's latest `keep_nights` nights fetched when `out` is in
    /// object storage.
    ///
    /// # Errors
    /// No such night or audit, several audits and no `audit`, a `run` of another audit, or a
    /// folder that cannot be fetched.
    pub async fn open(
        run: Option<&Path>,
        out: &Path,
        audit: Option<&str>,
        keep_nights: usize,
        scratch: &Scratch,
    ) -> anyhow::Result<RunFolder> {
        let Some(run) = run else {
            let out = OutFolder::open(
                out,
                scratch,
                Audits::Pick(audit),
                OutFolder::latest(keep_nights),
            )
            .await?
            .local;
            let selected = select_run(&out, None, audit)?;
            return Ok(RunFolder {
                dir: selected.run_dir,
                out,
                audit: Some(selected.audit),
                nights: selected.nights,
            });
        };
        let dir = local_folder(run, scratch).await?;
        // The audit asked for, else the night's own; a folder that is not a night is for the
        // command to say so.
        let Some(audit) = audit
            .map(str::to_owned)
            .or_else(|| audit_of_night(&dir).ok())
        else {
            return Ok(RunFolder {
                dir,
                out: out.to_path_buf(),
                audit: None,
                nights: None,
            });
        };
        let out = OutFolder::open(
            out,
            scratch,
            Audits::Of(&audit),
            OutFolder::latest(keep_nights),
        )
        .await?
        .local;
        // Also refuses a night of another audit than the one asked for.
        let selected = select_run(&out, Some(&dir), Some(&audit))?;
        Ok(RunFolder {
            dir,
            out,
            audit: Some(selected.audit),
            nights: selected.nights,
        })
    }

    /// Register everything the night holds in `ctx`, personal columns masked by `masker`
    /// (see [`register_run`]).
    ///
    /// # Errors
    /// The folder is not a night, or a file in it is unreadable.
    pub async fn register(
        &self,
        ctx: &SessionContext,
        masker: &Masker,
    ) -> anyhow::Result<RunCatalog> {
        register_run(ctx, &self.dir, masker).await
    }

    /// The audit's latest night before `date` (see [`previous_night`]); `None` for a night of
    /// no known audit or folder of nights.
    #[must_use]
    pub fn previous(&self, date: &NightDate) -> Option<PathBuf> {
        previous_night(self.nights.as_deref()?, self.audit.as_deref()?, date)
    }
}
