//! Publishing a finished run folder, and recovering from a run killed while publishing.
//!
//! A run is built in `<out>/.staging-<date>-<pid>/`. Publishing moves an earlier run of the same
//! night to `<out>/.replaced-<date>-<pid>/`, renames the staging folder to `<out>/<date>/`, then
//! deletes the replaced one. A crash leaves at most one of those dot-folders behind, and
//! [`recover`] (run under the lock, before the next run) puts things back.

use std::fs;
use std::path::Path;

use anyhow::Context;

/// Move `staging` to `run_dir`, keeping the earlier run until the new one is in place.
///
/// # Errors
/// When a rename fails (permissions, another process holding the folder).
pub fn publish(staging: &Path, run_dir: &Path) -> anyhow::Result<()> {
    if run_dir.exists() {
        let name = run_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let aside = run_dir.with_file_name(format!(".replaced-{name}-{}", std::process::id()));
        fs::rename(run_dir, &aside).with_context(|| {
            format!("cannot move the earlier run `{}` aside", run_dir.display())
        })?;
        if let Err(e) = fs::rename(staging, run_dir) {
            // Put the earlier run back rather than leave the night without one.
            let _ = fs::rename(&aside, run_dir);
            return Err(e)
                .with_context(|| format!("cannot publish the run as `{}`", run_dir.display()));
        }
        fs::remove_dir_all(&aside)
            .with_context(|| format!("cannot remove the replaced run `{}`", aside.display()))?;
    } else {
        fs::rename(staging, run_dir)
            .with_context(|| format!("cannot publish the run as `{}`", run_dir.display()))?;
    }
    Ok(())
}

/// Clean up after runs that were killed: delete unfinished staging folders and temporary files,
/// and restore an earlier run that was moved aside but never replaced. Call with the lock held.
///
/// # Errors
/// When `out` cannot be read or a leftover cannot be removed or restored.
pub fn recover(out: &Path) -> anyhow::Result<()> {
    let entries = fs::read_dir(out).with_context(|| format!("cannot read `{}`", out.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(".staging-") {
            fs::remove_dir_all(&path).with_context(|| {
                format!("cannot remove the unfinished run `{}`", path.display())
            })?;
        } else if let Some(rest) = name.strip_prefix(".replaced-") {
            // `.replaced-<date>-<pid>`: the date is everything before the last `-`.
            let date = rest.rsplit_once('-').map_or(rest, |(date, _)| date);
            let run_dir = out.join(date);
            if run_dir.exists() {
                fs::remove_dir_all(&path).with_context(|| {
                    format!("cannot remove the replaced run `{}`", path.display())
                })?;
            } else {
                tracing::warn!(
                    "warning: restoring `{}`, left aside by a run that was stopped",
                    run_dir.display()
                );
                fs::rename(&path, &run_dir)
                    .with_context(|| format!("cannot restore `{}`", run_dir.display()))?;
            }
        } else if is_temporary_file(&name) && path.is_file() {
            fs::remove_file(&path)
                .with_context(|| format!("cannot remove `{}`", path.display()))?;
        }
    }
    Ok(())
}

/// `.<file>.tmp-<pid>`: a file written by `atomic_write` (history.csv, metrics.csv) or the lock,
/// left behind when a run was killed before renaming it into place.
fn is_temporary_file(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::is_temporary_file;

    #[test]
    fn every_atomic_write_leftover_is_recognised() {
        assert!(is_temporary_file(".history.csv.tmp-123"));
        assert!(is_temporary_file(".metrics.csv.tmp-9"));
        assert!(is_temporary_file(".pathway.lock.tmp-77"));
        assert!(!is_temporary_file("history.csv"));
        assert!(!is_temporary_file(".pathway.lock"));
        assert!(!is_temporary_file(".notes.tmp-x"));
    }
}
