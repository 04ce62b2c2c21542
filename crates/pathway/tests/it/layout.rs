//! Several audits in one output folder: each has its own folder (`<out>/<audit>/<date>/`), so no
//! night replaces another audit's; the commands that read a night find the right audit's, or ask
//! which.

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
        expected.push(format!("{date},example,enrollments,5,4,1,0,0,0,0,0"));
        expected.push(format!("{date},example,students,5,2,2,1,0,0,0,0"));
    }
    for table in ["enrollments", "scores", "students"] {
        expected.push(format!("{today},oneroster,{table},2,1,1,0,0,0,0,0"));
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
