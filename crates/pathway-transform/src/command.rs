//! Running a legacy (or beta) job as an external program, once per district.
//!
//! The program gets the district's input folder and a fresh output folder, both as its last two
//! arguments and in the environment, and runs in the audit folder with a time limit. Its exit
//! status, time and stderr are captured; its output file is read strictly (a bad line makes the
//! whole output unusable) and becomes that side's table, written like any SQL side's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use pathway_audit::{CommandSpec, Side};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most of a program's stderr kept in memory and in its log file; a job that prints without end
/// must not fill the disk or the memory.
const STDERR_KEPT: usize = 256 * 1024;

/// What one run of a program did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    /// The program, as written in audit.toml.
    pub program: String,
    /// Exit code; `None` when it was killed (time limit or signal).
    pub exit_code: Option<i32>,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether it was killed for running past its time limit.
    pub timed_out: bool,
    /// The last line of stderr, with quoted text redacted (it may quote a student's value).
    pub stderr_last_line: String,
    /// Where the full stderr was saved (owner-only, next to the district's output).
    pub stderr_log: PathBuf,
}

/// Why a program produced no usable table.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandFailure {
    /// What happened, for the district's ERROR message.
    pub message: String,
    /// The run, when the program could be started.
    pub run: Option<CommandRun>,
}

/// Where a district's command side gets its empty output folder and leaves its stderr
/// (`stderr.log`); error messages name it relative to the run folder, because the run is
/// written in a staging folder and published under its date.
#[must_use]
pub fn command_folder(run_dir: &Path, side: Side, table: &str, district: &str) -> PathBuf {
    run_dir
        .join("commands")
        .join(side.as_str())
        .join(table)
        .join(format!("district_id={district}"))
}

/// Run `spec` for one district and read the table it wrote.
///
/// # Errors
/// The program cannot start, exits non-zero, runs past its time limit, or writes no or a
/// malformed output file; the message says which, with the last stderr line redacted.
pub async fn run_command(
    spec: &CommandSpec,
    audit_dir: &Path,
    input_folder: &Path,
    work: &Path,
    identity: (&str, &str, Side),
) -> Result<(SchemaRef, Vec<RecordBatch>, CommandRun), CommandFailure> {
    let (district, table, side) = identity;
    let fail = |message: String| CommandFailure { message, run: None };
    let output_dir = work.join("output");
    if output_dir.exists() {
        std::fs::remove_dir_all(&output_dir)
            .map_err(|e| fail(format!("cannot clear `{}`: {e}", output_dir.display())))?;
    }
    create_private_dir(&output_dir)
        .map_err(|e| fail(format!("cannot create `{}`: {e}", output_dir.display())))?;
    let input_folder = std::path::absolute(input_folder).unwrap_or(input_folder.to_path_buf());
    let output_dir = std::path::absolute(&output_dir).unwrap_or(output_dir);

    let mut command = tokio::process::Command::new(&spec.argv[0]);
    command
        .args(&spec.argv[1..])
        .arg(&input_folder)
        .arg(&output_dir)
        .current_dir(audit_dir)
        .envs(&spec.env)
        .env("PATHWAY_INPUT_DIR", &input_folder)
        .env("PATHWAY_OUTPUT_DIR", &output_dir)
        .env("PATHWAY_DISTRICT_ID", district)
        .env("PATHWAY_TABLE", table)
        .env("PATHWAY_SIDE", side.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a time limit kills what a shell script started too.
    #[cfg(unix)]
    command.process_group(0);
    let program = spec.argv[0].clone();
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        fail(format!(
            "cannot start `{program}` (run in `{}`): {e}",
            audit_dir.display()
        ))
    })?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr_reader = tokio::spawn(read_capped(stderr));
    let (status, timed_out) =
        if let Ok(status) = tokio::time::timeout(spec.timeout, child.wait()).await {
            (status.ok(), false)
        } else {
            kill_group(&mut child);
            (child.wait().await.ok(), true)
        };
    let elapsed = started.elapsed();
    let stderr = stderr_reader.await.unwrap_or_default();
    let stderr_log = work.join("stderr.log");
    // The log may quote student values: it stays beside the district's Parquet, owner-only.
    let _ = write_private(&stderr_log, &stderr);
    let stderr_text = String::from_utf8_lossy(&stderr);
    let stderr_last_line = stderr_text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| pathway_mask::redact_all_quoted(l.trim()))
        .unwrap_or_default();
    let run = CommandRun {
        program: program.clone(),
        exit_code: status.and_then(|s| s.code()),
        elapsed,
        timed_out,
        stderr_last_line,
        stderr_log,
    };
    let failure = |message: String, run: &CommandRun| {
        let stderr = if run.stderr_last_line.is_empty() {
            String::new()
        } else {
            format!("; last stderr line: {}", run.stderr_last_line)
        };
        CommandFailure {
            message: format!(
                "{message}{stderr} (full stderr: `commands/{side}/{table}/district_id={district}/stderr.log` in the run folder)"
            ),
            run: Some(run.clone()),
        }
    };
    if timed_out {
        return Err(failure(
            format!(
                "`{program}` ran past its time limit of {} s and was killed",
                spec.timeout.as_secs_f64()
            ),
            &run,
        ));
    }
    match status {
        Some(s) if s.success() => {}
        Some(s) => {
            let how = s.code().map_or_else(
                || "was killed by a signal".to_owned(),
                |c| format!("exited with status {c}"),
            );
            return Err(failure(
                format!("`{program}` {how} after {:.1} s", elapsed.as_secs_f64()),
                &run,
            ));
        }
        None => return Err(failure(format!("cannot wait for `{program}`"), &run)),
    }
    let output = output_dir.join(&spec.output);
    if !output.is_file() {
        let mut wrote: Vec<String> = std::fs::read_dir(&output_dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        wrote.sort();
        let wrote = if wrote.is_empty() {
            "nothing".to_owned()
        } else {
            wrote.join(", ")
        };
        return Err(failure(
            format!(
                "`{program}` exited 0 but wrote no `{}` in its output folder (it wrote: {wrote})",
                spec.output
            ),
            &run,
        ));
    }
    let (schema, batches) = pathway_input::read_output_file(&output, spec.format)
        .map_err(|e| failure(format!("`{program}` wrote {e}"), &run))?;
    // The output was read; only the stderr log stays.
    let _ = std::fs::remove_dir_all(&output_dir);
    Ok((schema, batches, run))
}

/// Read a pipe to its end, keeping the last [`STDERR_KEPT`] bytes.
async fn read_capped(mut pipe: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buffer[..n]);
        if kept.len() > STDERR_KEPT {
            let cut = kept.len() - STDERR_KEPT;
            kept.drain(..cut);
        }
    }
    kept
}

fn kill_group(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.start_kill();
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}
