//! Command sides: a program run per district, its output read strictly, failures reported.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use datafusion::arrow::array::AsArray;
use pathway_audit::{CommandSpec, InputFormat, Side};
use pathway_transform::run_command;

fn spec(script: &str, output: &str, timeout_seconds: f64) -> CommandSpec {
    CommandSpec {
        argv: vec!["sh".into(), script.into()],
        output: output.into(),
        format: pathway_audit::format_from_name(output),
        timeout: Duration::from_secs_f64(timeout_seconds),
        env: BTreeMap::from([("GREETING".into(), "hello".into())]),
        types: BTreeMap::new(),
        defined_in: "audit.toml".into(),
    }
}

/// An audit folder holding `script`, and a district input folder holding one CSV.
fn setup(script: &str) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let input = tmp.path().join("input").join("101");
    std::fs::create_dir_all(audit.join("legacy")).unwrap();
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(audit.join("legacy/job.sh"), script).unwrap();
    std::fs::write(input.join("students.csv"), "id,grade\n1,K\n2,09\n3,12\n").unwrap();
    (tmp, audit, input)
}

async fn run(
    script: &str,
    output: &str,
    timeout_seconds: f64,
) -> (
    tempfile::TempDir,
    Result<
        (
            datafusion::arrow::datatypes::SchemaRef,
            Vec<datafusion::arrow::array::RecordBatch>,
            pathway_transform::CommandRun,
        ),
        pathway_transform::CommandFailure,
    >,
) {
    let (tmp, audit, input) = setup(script);
    let work = tmp
        .path()
        .join("run/commands/legacy/students/district_id=101");
    let result = run_command(
        &spec("legacy/job.sh", output, timeout_seconds),
        &audit,
        &input,
        &work,
        ("101", "students", Side::Legacy),
    )
    .await;
    (tmp, result)
}

#[tokio::test]
async fn a_program_reads_its_district_and_writes_a_table() {
    // Arguments and environment both name the folders; the script uses both.
    let script = r#"
in="$1"; out="$2"
[ "$in" = "$PATHWAY_INPUT_DIR" ] && [ "$out" = "$PATHWAY_OUTPUT_DIR" ] || exit 9
echo "district $PATHWAY_DISTRICT_ID $PATHWAY_TABLE $PATHWAY_SIDE $GREETING" >&2
{ echo "student_id,grade,district"; tail -n +2 "$in/students.csv" | sed "s/\$/,$PATHWAY_DISTRICT_ID/"; } > "$out/students.csv"
"#;
    let (_tmp, result) = run(script, "students.csv", 30.0).await;
    let (schema, batches, run) = result.unwrap();
    assert_eq!(
        schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["student_id", "grade", "district"]
    );
    let rows: usize = batches
        .iter()
        .map(datafusion::arrow::array::RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 3);
    let grades = batches[0].column(1).as_string::<i32>();
    assert_eq!(grades.value(0), "K");
    assert_eq!(grades.value(1), "09");
    assert_eq!(batches[0].column(2).as_string::<i32>().value(2), "101");
    assert_eq!(run.exit_code, Some(0));
    assert!(!run.timed_out);
    assert_eq!(run.stderr_last_line, "district 101 students legacy hello");
    assert_eq!(
        std::fs::read_to_string(&run.stderr_log).unwrap(),
        "district 101 students legacy hello\n"
    );
}

#[tokio::test]
async fn json_lines_and_parquet_outputs_are_read_by_their_extension() {
    let script =
        r#"printf '{"student_id": "1", "grade": 9}\n{"student_id": "2"}\n' > "$2/out.jsonl""#;
    let (_tmp, result) = run(script, "out.jsonl", 30.0).await;
    let (schema, batches, _) = result.unwrap();
    assert_eq!(schema.fields().len(), 2);
    assert_eq!(
        batches
            .iter()
            .map(datafusion::arrow::array::RecordBatch::num_rows)
            .sum::<usize>(),
        2
    );
    assert_eq!(spec("x", "a.parquet", 1.0).format, InputFormat::Parquet);
}

#[tokio::test]
async fn a_non_zero_exit_is_an_error_with_the_redacted_last_stderr_line() {
    let script = "echo 'loading' >&2\necho \"KeyError: 'Amelia' in row 3\" >&2\nexit 3\n";
    let (tmp, result) = run(script, "students.csv", 30.0).await;
    let failure = result.unwrap_err();
    let run = failure.run.clone().unwrap();
    assert_eq!(run.exit_code, Some(3));
    assert!(
        failure
            .message
            .starts_with("`sh` exited with status 3 after "),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("; last stderr line: KeyError: '***' in row 3 (full stderr: `commands/legacy/students/district_id=101/stderr.log` in the run folder)"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("Amelia"));
    // The full stderr is kept for the engineer, owner-only.
    let log = tmp
        .path()
        .join("run/commands/legacy/students/district_id=101/stderr.log");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "loading\nKeyError: 'Amelia' in row 3\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn a_hanging_program_is_killed_with_its_children_at_the_time_limit() {
    // The shell starts a child that would outlive it: the whole process group goes.
    let script = "sleep 300 &\necho started >&2\nwait\n";
    let started = std::time::Instant::now();
    let (_tmp, result) = run(script, "students.csv", 0.5).await;
    let failure = result.unwrap_err();
    assert!(
        failure.message.starts_with(
            "`sh` ran past its time limit of 0.5 s and was killed; last stderr line: started"
        ),
        "{}",
        failure.message
    );
    let run = failure.run.unwrap();
    assert!(run.timed_out);
    assert_eq!(run.exit_code, None);
    // Not a timing assertion: had the sleeping grandchild kept stderr open, this would wait 300 s.
    assert!(started.elapsed() < Duration::from_mins(2));
}

#[tokio::test]
async fn missing_and_malformed_outputs_are_errors() {
    let (_tmp, result) = run("echo 'a,b' > \"$2/other.csv\"\n", "students.csv", 30.0).await;
    let failure = result.unwrap_err();
    assert!(
        failure.message.starts_with(
            "`sh` exited 0 but wrote no `students.csv` in its output folder (it wrote: other.csv)"
        ),
        "{}",
        failure.message
    );
    let script = "printf 'id,name\\n1,Ann\\n2,Bob,Smith\\n' > \"$2/students.csv\"\n";
    let (_tmp, result) = run(script, "students.csv", 30.0).await;
    let failure = result.unwrap_err();
    assert!(
        failure.message.starts_with(
            "`sh` wrote malformed output `students.csv`: line 3: expected 2 fields, found 3"
        ),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("Smith"));
    let (tmp, result) = run("exit 0\n", "students.csv", 30.0).await;
    let failure = result.unwrap_err();
    assert!(
        failure.message.contains("(it wrote: nothing)"),
        "{}",
        failure.message
    );
    assert!(
        Path::new(
            &tmp.path()
                .join("run/commands/legacy/students/district_id=101/stderr.log")
        )
        .exists()
    );
}

#[tokio::test]
async fn a_program_that_cannot_start_is_named() {
    let (tmp, audit, input) = setup("");
    let mut spec = spec("legacy/job.sh", "students.csv", 30.0);
    spec.argv = vec!["no-such-program-here".into()];
    let failure = run_command(
        &spec,
        &audit,
        &input,
        &tmp.path().join("work"),
        ("101", "students", Side::Legacy),
    )
    .await
    .unwrap_err();
    assert!(
        failure
            .message
            .starts_with("cannot start `no-such-program-here` (run in `"),
        "{}",
        failure.message
    );
    assert!(failure.run.is_none());
}
