//! Publishing a finished run folder in place of an earlier run of the same night.

use std::fs;
use std::path::Path;

use anyhow::Context;

/// Move `staging` to `run_dir`. An earlier run at `run_dir` is first moved aside and deleted only
/// once the new one is in place, so a crash leaves either the old or the new run readable.
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
