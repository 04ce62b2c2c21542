//! Publishing a night to the real PostgreSQL server (see `pathway_testkit::databases` for which one,
//! and when a test is skipped).
#![cfg(feature = "postgres")]

use pathway_db::DatabaseUrl;
use pathway_testkit::databases::PgSchema;

#[tokio::test(flavor = "multi_thread")]
async fn publishing_upserts_the_night_in_one_transaction() {
    use pathway_report::{ColumnDiffRow, HistoryCount, SummaryRow};
    let Some(schema) = PgSchema::create("publish") else {
        return;
    };
    let url = DatabaseUrl::parse(&format!("{}?schema={}", schema.url, schema.schema)).unwrap();
    let row = |district: &str, status: &str, changed: u64| SummaryRow {
        audit_date: "2026-11-21".into(),
        table: "students".into(),
        district_id: district.into(),
        status: pathway_report::Status::parse(status).expect("a status"),
        legacy_rows: 10,
        beta_rows: 10,
        matched_rows: 10 - changed,
        changed_rows: changed,
        audit: "example".into(),
        ..SummaryRow::default()
    };
    let mismatch = ColumnDiffRow {
        audit_date: "2026-11-21".into(),
        table: "students".into(),
        district_id: "101".into(),
        column: "grade_level".into(),
        mismatches: 4,
        legacy_example: Some("07".into()),
        beta_example: Some("7".into()),
        categories: "type_format=4".into(),
        expected_cells: 0,
    };
    let history = |full: u64| HistoryCount {
        audit_date: "2026-11-21".into(),
        audit: "example".into(),
        table: "students".into(),
        districts: 2,
        full_match: full,
        mismatch: 2 - full,
        ..HistoryCount::default()
    };
    let counts = pathway_night::warehouse::publish(
        &url,
        pathway_night::warehouse::PublishRows {
            audit: "example",
            audit_date: "2026-11-21",
            summary: &[row("101", "MISMATCH", 4), row("102", "FULL MATCH", 0)],
            column_diff: std::slice::from_ref(&mismatch),
            history: &[history(1)],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (counts.summary, counts.column_diff, counts.history),
        (2, 1, 1)
    );
    let s = &schema.schema;
    let read = |sql: &str| schema.sql(sql).trim().to_owned();
    assert_eq!(
        read(&format!(
            "SELECT district_id, status, changed_rows FROM {s}.pathway_summary ORDER BY 1"
        )),
        "101|MISMATCH|4\n102|FULL MATCH|0"
    );
    assert_eq!(
        read(&format!(
            "SELECT column_name, mismatches, legacy_example, beta_example FROM {s}.pathway_column_diff"
        )),
        "grade_level|4|07|7"
    );

    // The same night again, after the fix: rows are replaced, not added, and the stale
    // mismatch is gone.
    pathway_night::warehouse::publish(
        &url,
        pathway_night::warehouse::PublishRows {
            audit: "example",
            audit_date: "2026-11-21",
            summary: &[row("101", "FULL MATCH", 0), row("102", "FULL MATCH", 0)],
            column_diff: &[],
            history: &[history(2)],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        read(&format!(
            "SELECT district_id, status, changed_rows FROM {s}.pathway_summary ORDER BY 1"
        )),
        "101|FULL MATCH|0\n102|FULL MATCH|0"
    );
    assert_eq!(
        read(&format!("SELECT count(*) FROM {s}.pathway_column_diff")),
        "0"
    );
    assert_eq!(
        read(&format!(
            "SELECT audit_date, districts, full_match, mismatch FROM {s}.pathway_history"
        )),
        "2026-11-21|2|2|0"
    );

    // A failing statement rolls everything back: a summary row with an impossible date.
    let mut bad = row("103", "MISMATCH", 1);
    bad.audit_date = "not a date".into();
    let err = pathway_night::warehouse::publish(
        &url,
        pathway_night::warehouse::PublishRows {
            audit: "example",
            audit_date: "2026-11-21",
            summary: &[row("101", "MISMATCH", 9), bad],
            column_diff: &[],
            history: &[],
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        read(&format!(
            "SELECT district_id, status, changed_rows FROM {s}.pathway_summary ORDER BY 1"
        )),
        "101|FULL MATCH|0\n102|FULL MATCH|0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_table_published_before_no_input_gains_the_column() {
    use pathway_report::HistoryCount;
    let Some(schema) = PgSchema::create("publish_upgrade") else {
        return;
    };
    let s = &schema.schema;
    // pathway_history as earlier versions created it, with one night in it.
    let _ = schema.sql(&format!(
        "CREATE TABLE {s}.pathway_history (
            audit text NOT NULL, audit_date date NOT NULL, table_name text NOT NULL,
            districts bigint NOT NULL, full_match bigint NOT NULL, mismatch bigint NOT NULL,
            legacy_only bigint NOT NULL, beta_only bigint NOT NULL, error bigint NOT NULL,
            accepted bigint NOT NULL, published_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (audit, audit_date, table_name));
         INSERT INTO {s}.pathway_history VALUES
            ('example', '2026-11-20', 'enrollments', 5, 5, 0, 0, 0, 0, 0, now());"
    ));
    let url = DatabaseUrl::parse(&format!("{}?schema={}", schema.url, schema.schema)).unwrap();
    let night = HistoryCount {
        audit_date: "2026-11-21".into(),
        audit: "example".into(),
        table: "enrollments".into(),
        districts: 5,
        full_match: 3,
        mismatch: 1,
        no_input: 1,
        ..HistoryCount::default()
    };
    pathway_night::warehouse::publish(
        &url,
        pathway_night::warehouse::PublishRows {
            audit: "example",
            audit_date: "2026-11-21",
            summary: &[],
            column_diff: &[],
            history: &[night],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        schema
            .sql(&format!(
                "SELECT audit_date, districts, full_match, no_input FROM {s}.pathway_history \
                 ORDER BY 1"
            ))
            .trim(),
        "2026-11-20|5|5|0\n2026-11-21|5|3|1"
    );
}
