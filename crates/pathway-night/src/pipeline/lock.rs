//! One run at a time per output folder: a lock file created exclusively.
//!
//! Two runs writing the same `<out>` would interleave their history updates, so the second one
//! refuses with the first one's pid. A lock left by a killed run (its pid is gone) is taken over.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Held for the duration of a run; the lock file is removed when dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    /// Take `<out>/.pathway.lock` for `audit`.
    ///
    /// # Errors
    /// When another live process holds the lock, or the file cannot be created.
    pub fn acquire(out: &Path, audit: &str) -> anyhow::Result<RunLock> {
        let path = out.join(".pathway.lock");
        // The lock appears with its content or not at all (hard link of a complete temporary
        // file), so a process killed while taking it never leaves an anonymous lock behind.
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let tmp = out.join(format!(".pathway.lock.tmp-{}", std::process::id()));
        let content = format!(
            "pid={}\naudit={audit}\nstarted={started}\n",
            std::process::id()
        );
        let write_tmp = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            file.write_all(content.as_bytes())?;
            file.sync_all()
        };
        write_tmp().with_context(|| format!("cannot write the lock file `{}`", tmp.display()))?;
        for _ in 0..2 {
            match fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    let _ = fs::remove_file(&tmp);
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let field = |name: &str| {
                        holder
                            .lines()
                            .find_map(|l| l.strip_prefix(&format!("{name}=")))
                            .unwrap_or("?")
                            .to_owned()
                    };
                    let pid = field("pid");
                    if pid.parse::<u32>().is_ok_and(process_is_gone) {
                        tracing::warn!(
                            "warning: taking over the lock of a run that no longer exists (pid {pid})"
                        );
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    let _ = fs::remove_file(&tmp);
                    bail!(
                        "another run is writing to `{}` (audit `{}`, pid {pid}, started {}); \
                         wait for it, or remove `{}` if that process is gone",
                        out.display(),
                        field("audit"),
                        field("started"),
                        path.display()
                    );
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(e).with_context(|| {
                        format!("cannot create the lock file `{}`", path.display())
                    });
                }
            }
        }
        let _ = fs::remove_file(&tmp);
        bail!("cannot take the lock `{}`", path.display())
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether no process `pid` exists. Only Linux can tell (`/proc`); elsewhere a lock is trusted.
fn process_is_gone(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && Path::new("/proc").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}
