//! Database sources against the real PostgreSQL server (see
//! `pathway_testkit::databases` for which one, and when a test is skipped).
#![cfg(feature = "postgres")]

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionContext, col, lit};
use pathway_audit::Relation;
use pathway_db::{DatabaseUrl, connect};
use pathway_testkit::databases::PgSchema;

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
