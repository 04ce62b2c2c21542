//! Every way we know to try to see a student's name through `pathway query`, a rejected row or
//! a file's permissions, with the masking key unset and set: none shows it.
//!
//! District 101 sends `Alvarez, Sofia` (legacy and beta both load her), a record with a ninth
//! field (line 12) and, added here, a ragged record whose name `Zed, Quinn` splits in two.

use std::fs;
use std::path::Path;

use crate::common::{assert_exit, copy_tree, pathway_with_env, root};

/// Names that must never appear in clear.
const NAMES: [&str; 6] = ["Alvarez", "Sofia", "Zed", "Quinn", "Jones", "Mia"];

fn night(tmp: &Path, key: Option<&str>) -> std::path::PathBuf {
    let input = tmp.join("districts");
    copy_tree(&root().join("fixtures/districts"), &input);
    let students = input.join("101/students.csv");
    let mut text = fs::read_to_string(&students).unwrap();
    // LastName "Zed, Quinn" unquoted: one field too many, every later field shifted.
    text.push_str("1099,0101,Zed, Quinn,Alex,2012-01-01,7,F,Active\n");
    fs::write(&students, text).unwrap();
    let runs = tmp.join("runs");
    // With debug logs on: they must not quote a value either.
    let mut with_logs = env(key);
    with_logs.push(("PATHWAY_LOG", "debug"));
    let output = pathway_with_env(
        &[
            "run",
            "audits/example",
            "--input",
            input.to_str().unwrap(),
            "--out",
            runs.to_str().unwrap(),
            "--date",
            "2026-11-21",
        ],
        &with_logs,
    );
    assert_exit(&output, 0);
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        logs.contains("wrote the row diff of students"),
        "debug logging is on: {logs}"
    );
    assert_no_name(&logs, "the run's output and debug logs");
    let run = runs.join("example/2026-11-21");
    for file in [
        "summary.json",
        "summary.csv",
        "column_diff.csv",
        "categories.csv",
    ] {
        assert_no_name(&fs::read_to_string(run.join(file)).unwrap(), file);
    }
    run
}

fn env(key: Option<&str>) -> Vec<(&'static str, &str)> {
    key.map(|k| vec![("PATHWAY_MASK_KEY", k)])
        .unwrap_or_default()
}

/// stdout and stderr of `pathway query` on `run`, and its exit code.
fn query(run: &Path, sql: &str, key: Option<&str>) -> (String, i32) {
    let output = pathway_with_env(
        &[
            "query",
            "--run",
            run.to_str().unwrap(),
            "--format",
            "csv",
            sql,
        ],
        &env(key),
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (text, output.status.code().unwrap_or(-1))
}

fn assert_no_name(text: &str, attempt: &str) {
    for name in NAMES {
        assert!(!text.contains(name), "{attempt} shows `{name}`:\n{text}");
    }
}

#[test]
fn no_attempt_shows_a_personal_value() {
    for key in [None, Some("team-secret")] {
        let tmp = tempfile::tempdir().unwrap();
        let run = night(tmp.path(), key);
        let masked = key.map_or_else(
            || "***".to_owned(),
            |k| pathway_mask::Masker::with_key(k.as_bytes()).mask_value("Sofia"),
        );

        // The masked views answer, masked.
        let (text, code) = query(
            &run,
            "SELECT first_name FROM legacy_students WHERE student_id = '1001'",
            key,
        );
        assert_eq!(
            (text.as_str(), code),
            (format!("first_name\n{masked}\n").as_str(), 0)
        );
        let (text, code) = query(
            &run,
            "CREATE VIEW v AS SELECT first_name, last_name FROM beta_students; SELECT * FROM v",
            key,
        );
        assert_eq!(code, 0, "{text}");
        assert_no_name(&text, "a view over a masked table");

        // Every way around the views is refused, and says why.
        let legacy = run.join("legacy/students");
        let file = legacy.join("district_id=101/part-0.parquet");
        for (attempt, message) in [
            (
                "SELECT first_name FROM __raw_legacy_students".to_owned(),
                "table 'datafusion.public.__raw_legacy_students' not found",
            ),
            (
                format!(
                    "CREATE EXTERNAL TABLE raw STORED AS PARQUET LOCATION '{}/'; SELECT first_name FROM raw",
                    legacy.display()
                ),
                "`CreateExternalTable` is not allowed in pathway query",
            ),
            (
                format!("SELECT first_name FROM '{}'", file.display()),
                "not found",
            ),
            (
                format!("COPY legacy_students TO '{}/out.csv'", tmp.path().display()),
                "DML not supported",
            ),
            (
                "SET datafusion.catalog.information_schema = true".to_owned(),
                "Statement not supported",
            ),
        ] {
            let (text, code) = query(&run, &attempt, key);
            assert_eq!(code, 2, "{attempt}: {text}");
            assert!(text.contains(message), "{attempt}: {text}");
            assert_no_name(&text, &attempt);
        }
        assert!(!tmp.path().join("out.csv").exists());

        // An error that quotes a value quotes the masked one.
        let (text, code) = query(
            &run,
            "SELECT CAST(first_name AS INT) FROM legacy_students",
            key,
        );
        assert_eq!(code, 2, "{text}");
        assert_no_name(&text, "a failing cast of a personal column");

        // The ragged record's fields lost their positions: it is kept masked whole.
        let (text, code) = query(
            &run,
            "SELECT line, raw_line FROM validation_errors WHERE district_id = '101'",
            key,
        );
        assert_eq!(code, 0, "{text}");
        // (Line 12 of the fixture has a ninth field, `late-add`: masked whole too.)
        let whole = |line: &str| {
            key.map_or_else(
                || "***".to_owned(),
                |k| pathway_mask::Masker::with_key(k.as_bytes()).mask_value(line),
            )
        };
        assert_eq!(
            text,
            format!(
                "line,raw_line\n12,{}\n14,{}\n",
                whole("1011,0101,Jones,Mia,2012-07-07,07,F,Active,late-add"),
                whole("1099,0101,Zed, Quinn,Alex,2012-01-01,7,F,Active")
            )
        );

        // pathway show (103's beta loads a student twice: duplicated-key rows), and the HTML
        // report.
        for district in ["101", "103"] {
            let output = pathway_with_env(
                &[
                    "show",
                    "--run",
                    run.to_str().unwrap(),
                    "--table",
                    "students",
                    "--district",
                    district,
                ],
                &env(key),
            );
            assert_exit(&output, 0);
            let shown = String::from_utf8_lossy(&output.stdout);
            assert_no_name(&shown, "pathway show");
            for name in ["Walker", "Amelia", "Young", "Benjamin"] {
                assert!(!shown.contains(name), "pathway show shows `{name}`");
            }
        }
        let html = tmp.path().join("report.html");
        let output = pathway_with_env(
            &[
                "report",
                "--run",
                run.to_str().unwrap(),
                "--out",
                run.parent().unwrap().to_str().unwrap(),
                "--html",
                html.to_str().unwrap(),
            ],
            &env(key),
        );
        assert_exit(&output, 0);
        assert_no_name(&fs::read_to_string(&html).unwrap(), "the HTML report");

        // Files that hold students' values are the owner's only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&run.join("validation_errors.parquet")), 0o600);
            assert_eq!(mode(&run.join("row_diff/students")), 0o700);
            assert_eq!(mode(&file), 0o600);
        }
    }
}
