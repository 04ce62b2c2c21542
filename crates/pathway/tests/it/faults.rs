//! A killed run, a concurrent run, leftovers and unwritable output: earlier results survive.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{assert_exit, read_csv, root, run_example};

fn spawn_run(out: &Path, date: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_pathway"))
        .args([
            "run",
            "audits/example",
            "--input",
            "fixtures/districts",
            "--out",
            out.to_str().unwrap(),
            "--date",
            date,
        ])
        .current_dir(root())
        .env_remove("PATHWAY_MASK_KEY")
        .env_remove("PATHWAY_MASK_KEY_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// History rows of one night, without `reused` (a re-run of a night may reuse its districts).
fn history_rows(out: &Path, date: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    read_csv(&out.join("example/history.csv"))
        .into_iter()
        .filter(|r| r["audit_date"] == date)
        .map(|mut r| {
            r.remove("reused");
            r
        })
        .collect()
}

#[test]
fn kill_9_at_any_moment_leaves_earlier_runs_and_history_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    let baseline_summary = fs::read(out.join("example/2026-11-20/summary.csv")).unwrap();
    let baseline_history = history_rows(&out, "2026-11-20");
    assert_eq!(baseline_history.len(), 10);

    // Kill runs of a new night and re-runs of the same night at delays spread over a whole run.
    for (i, delay_ms) in [0u64, 5, 15, 30, 50, 80, 120, 170, 230, 300, 400]
        .into_iter()
        .enumerate()
    {
        let date = if i % 2 == 0 {
            "2026-11-21"
        } else {
            "2026-11-20"
        };
        let mut child = spawn_run(&out, date);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        // Every night that exists is complete; history is readable and never half a night.
        for night in ["2026-11-20", "2026-11-21"] {
            let summary = out.join("example").join(night).join("summary.csv");
            if summary.exists() {
                // A night run after the first may reuse its districts: same rows, `reused`.
                assert_eq!(
                    without_reused_flag(&fs::read(&summary).unwrap()),
                    baseline_summary_for(night, &baseline_summary),
                    "{night} after kill at {delay_ms} ms"
                );
            }
        }
        assert_eq!(
            history_rows(&out, "2026-11-20"),
            baseline_history,
            "kill at {delay_ms} ms"
        );
        let new_rows = history_rows(&out, "2026-11-21").len();
        assert!(
            new_rows == 0 || new_rows == 10,
            "{new_rows} rows of 2026-11-21 after kill at {delay_ms} ms"
        );
    }

    // The next run recovers whatever was left and succeeds; nothing stays behind.
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    assert_eq!(
        without_reused_flag(&fs::read(out.join("example/2026-11-20/summary.csv")).unwrap()),
        baseline_summary
    );
    assert_eq!(history_rows(&out, "2026-11-20"), baseline_history);
    assert_eq!(history_rows(&out, "2026-11-21").len(), 10);
    let leftovers: Vec<String> = [out.clone(), out.join("example")]
        .iter()
        .flat_map(|dir| fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// summary.csv with its last column, `reused`, set to false on every row.
fn without_reused_flag(summary: &[u8]) -> Vec<u8> {
    let mut reader = csv::Reader::from_reader(summary);
    let header = reader.headers().unwrap().clone();
    let reused = header.iter().position(|h| h == "reused").unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let fields: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(i, f)| if i == reused { "false" } else { f })
            .collect();
        writer.write_record(&fields).unwrap();
    }
    writer.into_inner().unwrap()
}

/// The summary of night `night` is the baseline's with the date replaced.
fn baseline_summary_for(night: &str, baseline: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(baseline)
        .replace("2026-11-20", night)
        .into_bytes()
}

#[test]
fn a_second_run_on_the_same_output_refuses_while_the_first_lives() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    fs::create_dir_all(out.join("example")).unwrap();
    // A live holder: this test process. Each audit has its lock in its own folder.
    fs::write(
        out.join("example/.pathway.lock"),
        format!(
            "pid={}\naudit=example\nstarted=2026-11-21T01:00:00Z\n",
            std::process::id()
        ),
    )
    .unwrap();
    let output = run_example(&out, "2026-11-21");
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another run is writing to"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(!out.join("example/2026-11-21").exists());

    // A holder that no longer exists: its lock is taken over.
    let dead = (4_000_000u32..u32::MAX)
        .find(|p| !Path::new("/proc").join(p.to_string()).exists())
        .unwrap();
    fs::write(
        out.join("example/.pathway.lock"),
        format!("pid={dead}\naudit=example\nstarted=2026-11-21T01:00:00Z\n"),
    )
    .unwrap();
    let output = run_example(&out, "2026-11-21");
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stderr).contains(&format!(
        "taking over the lock of a run that no longer exists (pid {dead})"
    )));
    assert!(
        !out.join("example/.pathway.lock").exists(),
        "the lock is released at the end"
    );
}

#[test]
fn a_run_moved_aside_by_a_killed_publish_is_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    let summary = fs::read(out.join("example/2026-11-20/summary.csv")).unwrap();
    // As if killed between the two renames of a re-run of 2026-11-20, with its staging left.
    fs::rename(
        out.join("example/2026-11-20"),
        out.join("example/.replaced-2026-11-20-4242"),
    )
    .unwrap();
    fs::create_dir_all(out.join("example/.staging-2026-11-20-4242/legacy")).unwrap();
    let output = run_example(&out, "2026-11-21");
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stderr).contains("restoring"));
    assert_eq!(
        fs::read(out.join("example/2026-11-20/summary.csv")).unwrap(),
        summary
    );
    assert!(!out.join("example/.replaced-2026-11-20-4242").exists());
    assert!(!out.join("example/.staging-2026-11-20-4242").exists());
}

#[test]
fn an_unwritable_output_is_a_clear_error_and_history_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    let history = fs::read(out.join("example/history.csv")).unwrap();
    // The output path runs through a regular file: nothing can be created there.
    let blocked = out.join("example/history.csv").join("sub");
    let output = run_example(&blocked, "2026-11-21");
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot create the output folder"),
        "{stderr}"
    );
    assert_eq!(fs::read(out.join("example/history.csv")).unwrap(), history);
}
