//! `s3://` arguments. A command works on local folders; a remote audit, input or run folder is
//! downloaded into a scratch folder first, and what a command writes into a remote output is
//! uploaded when it is done. Parquet that `pathway diff` compares is read by DataFusion straight
//! from the store (see `sources.rs`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use pathway_storage::Location;

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
    /// Where the command reads and writes.
    pub local: PathBuf,
    remote: Option<Location>,
}

impl OutFolder {
    /// Open `path`. For a remote folder, its `history.csv` and `metrics.csv` and the nights
    /// `wanted` picks from the night folders present (sorted `YYYY-MM-DD` names) are fetched.
    ///
    /// # Errors
    /// A bad URL, or a download fails.
    pub async fn open(
        path: &Path,
        scratch: &Scratch,
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
        for file in ["history.csv", "metrics.csv"] {
            pathway_storage::download_file(&location.join(file), &local.join(file)).await?;
        }
        let nights: Vec<String> = pathway_storage::list_folders(&location)
            .await?
            .into_iter()
            .filter(|n| chrono::NaiveDate::parse_from_str(n, "%Y-%m-%d").is_ok())
            .collect();
        for night in wanted(&nights) {
            pathway_storage::download(&location.join(&night), &local.join(&night)).await?;
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
    pub fn for_run(date: String) -> impl Fn(&[String]) -> Vec<String> {
        move |nights| {
            let mut wanted: Vec<String> = nights.last().cloned().into_iter().collect();
            if let Some(before) = nights.iter().rev().find(|n| **n < date)
                && !wanted.contains(before)
            {
                wanted.push(before.clone());
            }
            wanted
        }
    }

    /// Upload the night `date` and then the files that index it. The night's folder goes first
    /// and `history.csv` last, each object in one write: a run killed while uploading leaves the
    /// remote history as it was.
    ///
    /// # Errors
    /// An upload fails (the remote history then still describes the previous state).
    pub async fn publish_night(&self, date: &str) -> anyhow::Result<()> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let night = pathway_storage::upload(&self.local.join(date), &remote.join(date))
            .await
            .with_context(|| format!("the run is saved in `{}`", self.local.display()))?;
        for file in ["metrics.csv", "history.csv"] {
            if self.local.join(file).is_file() {
                pathway_storage::upload_file(&self.local.join(file), &remote.join(file)).await?;
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
