//! `s3://` arguments. A command works on local folders; a remote audit, input or run folder is
//! downloaded into a scratch folder first, and what a command writes into a remote output is
//! uploaded when it is done. Parquet that `pathway diff` compares is read by DataFusion straight
//! from the store (see `sources.rs`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use pathway_storage::Location;

use crate::layout::is_date;

/// Temporary space for downloaded folders, removed when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
    used: std::sync::atomic::AtomicU32,
}

impl Scratch {
    /// A new scratch folder.
    ///
    /// # Errors
    /// The temporary folder cannot be created.
    pub fn new() -> anyhow::Result<Scratch> {
        Ok(Scratch {
            dir: tempfile::tempdir().context("cannot create a scratch folder for s3:// data")?,
            used: std::sync::atomic::AtomicU32::new(0),
        })
    }

    fn next(&self, name: &str) -> PathBuf {
        let n = self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.dir.path().join(format!("{n}-{name}"))
    }
}

/// `path` as a local folder: itself, or a download of the remote folder it names.
///
/// # Errors
/// A bad `s3://` URL, or the download fails.
pub async fn local_folder(path: &Path, scratch: &Scratch) -> anyhow::Result<PathBuf> {
    let location = Location::of(path)?;
    if !location.is_remote() {
        return Ok(path.to_path_buf());
    }
    let local = scratch.next("folder");
    let files = pathway_storage::download(&location, &local).await?;
    if files == 0 {
        anyhow::bail!("`{location}` holds no files");
    }
    tracing::debug!("downloaded {files} files of {location}");
    Ok(local)
}

/// An output folder (`--out`): a local one as it is, or a local working copy of a remote one.
pub struct OutFolder {
    /// Where the command reads and writes: the output folder, with each audit's folder in it
    /// (see [`crate::layout`]).
    pub local: PathBuf,
    remote: Option<Location>,
}

/// Which audits' files a command fetches from a remote output folder.
#[derive(Debug, Clone, Copy)]
pub enum Audits<'a> {
    /// This audit's, whether or not it has a night yet (`pathway run`, or `--run` given).
    Of(&'a str),
    /// The audit `--audit` names, else the only one; several and no name is an error asking for
    /// `--audit`, as for a local folder.
    Pick(Option<&'a str>),
    /// Every audit's history.csv and metrics.csv (`pathway history`).
    All,
    /// None: the command only writes there (`pathway diff --out`).
    Nothing,
}

impl OutFolder {
    /// Open `path`. For a remote folder, the history.csv and metrics.csv of the `audits` asked
    /// for, and the nights `wanted` picks from each one's night folders (sorted `YYYY-MM-DD`
    /// names), are fetched into the same places of a local copy. A remote folder of the earlier
    /// layout (nights directly in it) is fetched as it is.
    ///
    /// # Errors
    /// A bad URL, a download that fails, or an audit that cannot be picked.
    pub async fn open(
        path: &Path,
        scratch: &Scratch,
        audits: Audits<'_>,
        wanted: impl Fn(&[String]) -> Vec<String>,
    ) -> anyhow::Result<OutFolder> {
        let location = Location::of(path)?;
        if !location.is_remote() {
            return Ok(OutFolder {
                local: path.to_path_buf(),
                remote: None,
            });
        }
        let local = scratch.next("out");
        std::fs::create_dir_all(&local)?;
        if matches!(audits, Audits::Nothing) {
            return Ok(OutFolder {
                local,
                remote: Some(location),
            });
        }
        let folders = pathway_storage::list_folders(&location).await?;
        let earlier: Vec<String> = folders.iter().filter(|n| is_date(n)).cloned().collect();
        let mut audit_folders = Vec::new();
        for name in folders
            .iter()
            .filter(|n| !is_date(n) && !n.starts_with('.'))
        {
            let nights = pathway_storage::list_folders(&location.join(name)).await?;
            if nights.iter().any(|n| is_date(n)) {
                audit_folders.push(name.clone());
            }
        }
        let fetch: Vec<String> = match audits {
            Audits::Of(audit) => vec![audit.to_owned()],
            Audits::All => audit_folders,
            Audits::Nothing => unreachable!("returned above"),
            // Nights of the earlier layout only: fetched as they are, below.
            Audits::Pick(None) if audit_folders.is_empty() && !earlier.is_empty() => Vec::new(),
            Audits::Pick(wanted) => vec![crate::layout::pick_audit(
                &location.to_string(),
                &audit_folders,
                wanted,
            )?],
        };
        let mut folders_to_fetch = vec![(location.clone(), local.clone(), earlier)];
        for audit in &fetch {
            let remote = location.join(audit);
            let nights = pathway_storage::list_folders(&remote)
                .await?
                .into_iter()
                .filter(|n| is_date(n))
                .collect();
            folders_to_fetch.push((remote, local.join(audit), nights));
        }
        for (remote, local, nights) in folders_to_fetch {
            std::fs::create_dir_all(&local)?;
            for file in ["history.csv", "metrics.csv"] {
                pathway_storage::download_file(&remote.join(file), &local.join(file)).await?;
            }
            for night in wanted(&nights) {
                pathway_storage::download(&remote.join(&night), &local.join(&night)).await?;
            }
        }
        Ok(OutFolder {
            local,
            remote: Some(location),
        })
    }

    /// The latest `n` nights.
    pub fn latest(n: usize) -> impl Fn(&[String]) -> Vec<String> {
        move |nights| nights.iter().rev().take(n).cloned().collect()
    }

    /// What a run of `date` looks at: the latest night (whose districts it may carry over) and
    /// the latest night before `date` (what `--fail-on regression` compares with).
    pub fn for_run(date: crate::NightDate) -> impl Fn(&[String]) -> Vec<String> {
        move |nights| {
            let mut wanted: Vec<String> = nights.last().cloned().into_iter().collect();
            let earlier = |n: &&String| crate::NightDate::of_folder(n).is_some_and(|d| d < date);
            if let Some(before) = nights.iter().rev().find(earlier)
                && !wanted.contains(before)
            {
                wanted.push(before.clone());
            }
            wanted
        }
    }

    /// Upload `audit`'s night `date` and then the files that index it. The night's folder goes
    /// first and `history.csv` last, each object in one write: a run killed while uploading
    /// leaves the remote history as it was.
    ///
    /// # Errors
    /// An upload fails (the remote history then still describes the previous state).
    pub async fn publish_night(&self, audit: &str, date: &str) -> anyhow::Result<()> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let (local, remote) = (self.local.join(audit), remote.join(audit));
        let night = pathway_storage::upload(&local.join(date), &remote.join(date))
            .await
            .with_context(|| format!("the run is saved in `{}`", local.display()))?;
        for file in ["metrics.csv", "history.csv"] {
            if local.join(file).is_file() {
                pathway_storage::upload_file(&local.join(file), &remote.join(file)).await?;
            }
        }
        tracing::info!("uploaded {night} files of night {date} to {remote}");
        Ok(())
    }

    /// Upload everything the command wrote (for `pathway diff --out`).
    ///
    /// # Errors
    /// An upload fails.
    pub async fn publish_all(&self) -> anyhow::Result<()> {
        if let Some(remote) = &self.remote {
            pathway_storage::upload(&self.local, remote).await?;
        }
        Ok(())
    }
}

/// A file the command writes (`pathway report --html`): a local path to write, and where to
/// upload it afterwards.
pub struct OutFile {
    /// Where the command writes.
    pub local: PathBuf,
    remote: Option<Location>,
}

impl OutFile {
    /// For `path`.
    ///
    /// # Errors
    /// A bad URL.
    pub fn new(path: &Path, scratch: &Scratch) -> anyhow::Result<OutFile> {
        let location = Location::of(path)?;
        Ok(if location.is_remote() {
            OutFile {
                local: scratch.next("file"),
                remote: Some(location),
            }
        } else {
            OutFile {
                local: path.to_path_buf(),
                remote: None,
            }
        })
    }

    /// Upload the written file, if it is to go to a store.
    ///
    /// # Errors
    /// The upload fails.
    pub async fn finish(&self) -> anyhow::Result<()> {
        if let Some(remote) = &self.remote {
            pathway_storage::upload_file(&self.local, remote).await?;
        }
        Ok(())
    }
}
