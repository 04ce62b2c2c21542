//! Database sources and publishing against the real PostgreSQL server (see
//! `pathway_db::testing` for which one, and when a test is skipped).
#![cfg(feature = "postgres")]

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionContext, col, lit};
use pathway_audit::Relation;
use pathway_db::testing::PgSchema;
use pathway_db::{DatabaseUrl, connect};

fn students(schema: &PgSchema) {
    let s = &schema.schema;
    let _ = schema.sql(&format!(
        "CREATE TABLE {s}.students (district_id text, student_id text, grade text, gpa numeric(4,2));
         INSERT INTO {s}.students VALUES
           ('101', 'S1', '07', 3.50), ('101', 'S2', 'KG', NULL), ('102', 'S3', '08', 2.25);"
    ));
}

async fn explain_and_rows(
    provider: std::sync::Arc<dyn datafusion::datasource::TableProvider>,
) -> (String, String) {
    let ctx = SessionContext::new();
    let frame = ctx
        .read_table(provider)
        .unwrap()
        .filter(col("district_id").eq(lit("101")))
        .unwrap()
        .select(vec![col("student_id")])
        .unwrap();
    let plan = pretty_format_batches(
        &frame
            .clone()
            .explain(false, false)
            .unwrap()
            .collect()
            .await
            .unwrap(),
    )
    .unwrap()
    .to_string();
    let rows = pretty_format_batches(
        &frame
            .sort(vec![col("student_id").sort(true, false)])
            .unwrap()
            .collect()
            .await
            .unwrap(),
    )
    .unwrap()
    .to_string();
    (plan, rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_gets_the_district_filter_and_columns_sent_to_the_database() {
    let Some(schema) = PgSchema::create("table") else {
        return;
    };
    students(&schema);
    let url = DatabaseUrl::parse(&schema.url).unwrap();
    let database = connect(&url).await.unwrap();
    let provider = database
        .provider(&Relation::Table(format!("{}.students", schema.schema)))
        .await
        .unwrap();
    let (plan, rows) = explain_and_rows(provider).await;
    // The database filters and projects; DataFusion receives two rows of one column.
    assert!(
        plan.contains(&format!(
            "SELECT \"students\".\"student_id\" FROM \"{}\".\"students\" WHERE (\"students\".\"district_id\" = '101')",
            schema.schema
        )),
        "{plan}"
    );
    assert_eq!(
        rows,
        "+------------+\n| student_id |\n+------------+\n| S1         |\n| S2         |\n+------------+"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_is_wrapped_and_filtered_by_the_database() {
    let Some(schema) = PgSchema::create("query") else {
        return;
    };
    students(&schema);
    let url = DatabaseUrl::parse(&schema.url).unwrap();
    let database = connect(&url).await.unwrap();
    let query = format!(
        "SELECT district_id, student_id, upper(grade) AS grade FROM {}.students WHERE gpa IS NOT NULL",
        schema.schema
    );
    let provider = database
        .provider(&Relation::Query(query.clone()))
        .await
        .unwrap();
    let (plan, rows) = explain_and_rows(provider).await;
    assert!(
        plan.contains(&format!(
            "SELECT \"student_id\" FROM ({query}) AS pathway_source WHERE ((\"district_id\" = '101'))"
        )),
        "{plan}"
    );
    assert_eq!(
        rows,
        "+------------+\n| student_id |\n+------------+\n| S1         |\n+------------+"
    );

    // A query without rows has no columns to learn.
    let err = database
        .provider(&Relation::Query(format!(
            "SELECT * FROM {}.students WHERE false",
            schema.schema
        )))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("returned no rows"), "{err}");
    assert!(err.contains("make it a view"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_the_table_and_never_the_password() {
    let Some(schema) = PgSchema::create("errors") else {
        return;
    };
    // Trust authentication accepts any password, so this one reaches the server.
    let with_password = schema.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:Pw-never-shown@",
        1,
    );
    let url = DatabaseUrl::parse(&with_password).unwrap();
    let database = connect(&url).await.unwrap();
    let err = database
        .provider(&Relation::Table(format!("{}.no_such_table", schema.schema)))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no_such_table"), "{err}");
    assert!(err.contains(":***@"), "{err}");
    assert!(!err.contains("Pw-never-shown"), "{err}");

    // Nothing listens on port 1.
    let closed = DatabaseUrl::parse("postgres://postgres:Pw-never-shown@127.0.0.1:1/test").unwrap();
    let err = connect(&closed).await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot connect to postgres://postgres:***@127.0.0.1:1/test"),
        "{err}"
    );
    assert!(!err.contains("Pw-never-shown"), "{err}");
}

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
    let counts = pathway_db::publish(
        &url,
        pathway_db::PublishRows {
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
    pathway_db::publish(
        &url,
        pathway_db::PublishRows {
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
    let err = pathway_db::publish(
        &url,
        pathway_db::PublishRows {
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
    pathway_db::publish(
        &url,
        pathway_db::PublishRows {
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
