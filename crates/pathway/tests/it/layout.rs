//! Several audits in one output folder: each has its own folder (`<out>/<audit>/<date>/`), so no
//! night replaces another audit's; the commands that read a night find the right audit's, or ask
//! which; an output folder of the earlier layout is moved into per-audit folders.

use std::fs;
use std::path::Path;

use crate::common::{
    assert_exit, copy_tree, night, pathway, pathway_in, read_csv, regress_district_102, root,
    run_audit, run_example,
};

/// The date a run printed in its first line: `audit NAME · night DATE · ...`.
fn night_of(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().next().unwrap();
    line.split(" · night ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no night in {line}"))
        .to_owned()
}

/// Every night a history.csv of `out` names exists.
fn history_names_only_nights_that_exist(out: &Path) {
    for audit in ["example", "oneroster"] {
        let history = out.join(audit).join("history.csv");
        if !history.exists() {
            continue;
        }
        for row in read_csv(&history) {
            assert_eq!(row["audit"], audit);
            let dir = night(out, audit, &row["audit_date"]);
            let summary = read_csv(&dir.join("summary.csv"));
            assert!(
                summary
                    .iter()
                    .any(|s| s["table"] == row["table"] && s["district_id"] == row["district_id"]),
                "{audit} {} {} {} is not in {}",
                row["audit_date"],
                row["table"],
                row["district_id"],
                dir.display()
            );
        }
    }
}

#[test]
fn the_readme_commands_keep_both_audits_nights() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let repo = root();
    let (example, districts) = (repo.join("audits/example"), repo.join("fixtures/districts"));
    let (oneroster, rosters) = (
        repo.join("audits/oneroster"),
        repo.join("fixtures/oneroster"),
    );
    let p = |path: &Path| path.to_str().unwrap().to_owned();

    // The README's two commands, one after the other, on the default --out (`runs`).
    let output = pathway_in(
        cwd,
        &[
            "run",
            &p(&example),
            "--input",
            &p(&districts),
            "--out",
            "runs",
            "--date",
            "2026-11-21",
        ],
    );
    assert_exit(&output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap()
            .ends_with("· 5 districts · 2 tables → runs/example/2026-11-21"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = pathway_in(cwd, &["run", &p(&oneroster), "--input", &p(&rosters)]);
    assert_exit(&output, 0);
    let today = night_of(&output);
    // And the case: the example run again on the OneRoster night's date.
    let output = pathway_in(
        cwd,
        &[
            "run",
            &p(&example),
            "--input",
            &p(&districts),
            "--out",
            "runs",
            "--date",
            &today,
        ],
    );
    assert_exit(&output, 0);

    let out = cwd.join("runs");
    let audit_of = |audit: &str, date: &str| {
        let json: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(night(&out, audit, date).join("summary.json")).unwrap(),
        )
        .unwrap();
        (json["audit"].clone(), json["audit_date"].clone())
    };
    for (audit, date) in [
        ("example", "2026-11-21"),
        ("example", today.as_str()),
        ("oneroster", today.as_str()),
    ] {
        assert_eq!(
            audit_of(audit, date),
            (serde_json::json!(audit), serde_json::json!(date)),
            "{audit} {date}"
        );
    }
    // The hand-checked FULL MATCH counts of both audits, night by night: the example's
    // enrollments 4 of 5 and students 2 of 5 (README), OneRoster's one grandbend export of two
    // per table (oneroster.rs).
    let output = pathway_in(cwd, &["history", "--format", "csv"]);
    assert_exit(&output, 0);
    let mut expected = Vec::new();
    let mut example_nights = vec!["2026-11-21".to_owned(), today.clone()];
    example_nights.dedup();
    for date in &example_nights {
        expected.push(format!("{date},example,enrollments,5,4,1,0,0,0,0,0,96.0"));
        expected.push(format!("{date},example,students,5,2,2,1,0,0,0,0,69.14"));
    }
    for (table, score) in [
        ("enrollments", "98.8"),
        ("scores", "50.0"),
        ("students", "93.75"),
    ] {
        expected.push(format!("{today},oneroster,{table},2,1,1,0,0,0,0,0,{score}"));
    }
    expected.sort();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(lines, expected);
    history_names_only_nights_that_exist(&out);

    // A command reading "the latest night" of a folder of two audits is told to say which.
    let output = pathway_in(cwd, &["show", "--table", "students", "--district", "101"]);
    assert_exit(&output, 2);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: `runs` holds the nights of 2 audits (`example`, `oneroster`): say which with \
         --audit NAME (e.g. --audit example), or pass --run runs/<audit>/<date>\n"
    );
    for command in [
        vec!["query", "SELECT 1"],
        vec!["patterns"],
        vec!["schema"],
        vec!["report", "--html", "r.html"],
    ] {
        let output = pathway_in(cwd, &command);
        assert_exit(&output, 2);
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("say which with --audit NAME"),
            "{command:?}"
        );
    }
    let output = pathway_in(
        cwd,
        &[
            "query",
            "--audit",
            "oneroster",
            "--format",
            "csv",
            "SELECT audit, audit_date, count(*) AS n FROM summary GROUP BY 1, 2",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("audit,audit_date,n\noneroster,{today},6\n")
    );
    let output = pathway_in(
        cwd,
        &[
            "query",
            "--audit",
            "example",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM history",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("n\n{}\n", 10 * example_nights.len()),
        "the example's history only"
    );
    let output = pathway_in(
        cwd,
        &[
            "show",
            "--audit",
            "example",
            "--table",
            "students",
            "--district",
            "101",
        ],
    );
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("students · district 101 · MISMATCH · 4 differing row(s), showing 4"),
        "{stdout}"
    );
    let output = pathway_in(
        cwd,
        &[
            "show",
            "--audit",
            "oneroster",
            "--run",
            &format!("runs/example/{today}"),
            "--table",
            "students",
            "--district",
            "101",
        ],
    );
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!(
            "`runs/example/{today}` is a night of audit `example`, not of `oneroster`"
        )),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = pathway_in(cwd, &["history", "--audit", "sis"]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "audit `sis` has no night in `runs`; it holds the nights of `example`, `oneroster`"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Two audits' nights are never compared with each other.
    let output = pathway_in(
        cwd,
        &[
            "compare",
            &format!("runs/example/{today}"),
            &format!("runs/oneroster/{today}"),
        ],
    );
    assert_exit(&output, 2);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: `runs/example/{today}` is a night of audit `example` and \
             `runs/oneroster/{today}` a night of audit `oneroster`: compare two nights of the \
             same audit, e.g. an earlier night of `oneroster` in `runs/oneroster` with \
             `runs/oneroster/{today}`\n"
        )
    );

    // Each audit's dashboard: its own trend and its own previous night.
    let output = pathway_in(
        cwd,
        &["report", "--audit", "oneroster", "--html", "oneroster.html"],
    );
    assert_exit(&output, 0);
    let page = fs::read_to_string(cwd.join("oneroster.html")).unwrap();
    assert!(page.contains(&format!(
        "<h1>Beta Pathway · audit oneroster · night {today}</h1>"
    )));
    assert!(
        page.contains("This is the first night."),
        "no other audit's night"
    );
    assert_eq!(page.matches("<circle class=\"point\"").count(), 3);
    assert!(!page.contains("data-table=\"enrollments\" data-date=\"2026-11-21\""));
}

#[test]
fn fail_on_regression_compares_with_the_audits_own_previous_night() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    // Another audit's night in between, into the same output folder.
    assert_exit(
        &run_audit(
            "audits/oneroster",
            &root().join("fixtures/oneroster"),
            &out,
            "2026-11-21",
        ),
        0,
    );
    let input = tmp.path().join("night3");
    copy_tree(&root().join("fixtures/districts"), &input);
    regress_district_102(&input);
    let output = pathway(&[
        "run",
        "audits/example",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-22",
        "--fail-on",
        "regression",
    ]);
    // 102 was FULL MATCH on the example's 2026-11-20: a regression, OneRoster's night or not.
    assert_exit(&output, 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("5 districts (4 reused from the previous run)"),
        "the example's 2026-11-20 is the night carried over: {stdout}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("failing the run (--fail-on): regression")
    );
}

/// Put a per-audit output folder back into the earlier layout: every night directly in `out`,
/// one history.csv and metrics.csv for every audit.
fn to_earlier_layout(out: &Path, nights: &[(&str, &str)], audits: &[&str]) {
    let (mut history, mut metrics) = (String::new(), String::new());
    for audit in audits {
        for (file, all) in [("history.csv", &mut history), ("metrics.csv", &mut metrics)] {
            let text = fs::read_to_string(out.join(audit).join(file)).unwrap();
            let mut lines = text.lines();
            let header = lines.next().unwrap();
            if all.is_empty() {
                all.push_str(header);
                all.push('\n');
            }
            for line in lines {
                all.push_str(line);
                all.push('\n');
            }
        }
    }
    for (audit, date) in nights {
        fs::rename(night(out, audit, date), out.join(date)).unwrap();
    }
    for audit in audits {
        fs::remove_dir_all(out.join(audit)).unwrap();
    }
    fs::write(out.join("history.csv"), history).unwrap();
    fs::write(out.join("metrics.csv"), metrics).unwrap();
}

/// An output folder as an earlier version left it: the example's nights of 2026-11-20 and
/// 2026-11-21 directly in it, the latter having replaced OneRoster's 2026-11-21, whose 6 rows
/// history.csv still holds (26 rows in all).
fn earlier_layout(tmp: &Path) -> std::path::PathBuf {
    let out = tmp.join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    assert_exit(
        &run_audit(
            "audits/oneroster",
            &root().join("fixtures/oneroster"),
            &out,
            "2026-11-21",
        ),
        0,
    );
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    to_earlier_layout(
        &out,
        &[("example", "2026-11-20"), ("example", "2026-11-21")],
        &["example", "oneroster"],
    );
    assert_eq!(read_csv(&out.join("history.csv")).len(), 26);
    out
}

/// The next run of the example (2026-11-22) moved everything into `runs/example/`, carried the
/// example's 2026-11-21 over from its new place, and dropped OneRoster's rows of its replaced
/// night.
fn assert_moved(out: &Path, output: &std::process::Output) {
    assert_exit(output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("5 districts (5 reused from the previous run)"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let mut left: Vec<String> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["example"],
        "no night, history or lock left in `runs`"
    );
    let mut nights: Vec<String> = fs::read_dir(out.join("example"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    nights.sort();
    assert_eq!(
        nights,
        [
            "2026-11-20",
            "2026-11-21",
            "2026-11-22",
            "history.csv",
            "metrics.csv"
        ]
    );
    assert_eq!(read_csv(&out.join("example/history.csv")).len(), 30);
    // Metrics: 21 rows a night (5 districts x 2 tables x 2 sides, and the run's).
    assert_eq!(read_csv(&out.join("example/metrics.csv")).len(), 63);
    history_names_only_nights_that_exist(out);
}

#[test]
fn an_output_folder_of_the_earlier_layout_is_moved_into_per_audit_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_layout(tmp.path());

    // Read as it is: the nights are found by the audit their summary names.
    let output = pathway(&[
        "query",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT audit_date, count(*) AS n FROM summary GROUP BY 1",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "audit_date,n\n2026-11-21,10\n"
    );

    let output = run_example(&out, "2026-11-22");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!(
            "6 history row(s) of `{}` described nights another audit's night had replaced; \
                 they are dropped",
            out.join("history.csv").display()
        )),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_moved(&out, &output);
}

#[test]
fn a_move_into_per_audit_folders_killed_half_way_is_finished_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_layout(tmp.path());
    // As a move killed after the example's history was written and its first night moved: the
    // shared history.csv and the other night are still where they were.
    fs::create_dir_all(out.join("example")).unwrap();
    let history = fs::read_to_string(out.join("history.csv")).unwrap();
    let example_rows: String = history
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",example,"))
        .flat_map(|(_, l)| [l, "\n"])
        .collect();
    fs::write(out.join("example/history.csv"), example_rows).unwrap();
    fs::rename(out.join("2026-11-20"), night(&out, "example", "2026-11-20")).unwrap();
    fs::write(out.join(".pathway.lock.tmp-4242"), "pid=4242\n").unwrap();
    assert_moved(&out, &run_example(&out, "2026-11-22"));
}

#[test]
fn an_audit_whose_name_cannot_name_a_folder_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("dated");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        toml.replace("name = \"example\"", "name = \"2026-11-21\""),
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &out,
        "2026-11-21",
    );
    assert_exit(&output, 2);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: audit `2026-11-21` cannot be run: its name is the name of its folder in the \
         output folder (<out>/<audit>/<date>/), and it is a date, as the nights' folders are; set \
         another `name` in audit.toml\n"
    );
    assert!(!out.exists(), "nothing written");
}
