//! Database sources against the real MySQL/MariaDB server (see `pathway_testkit::databases`).
#![cfg(feature = "mysql")]

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionContext, col, lit};
use pathway_audit::Relation;
use pathway_db::{DatabaseUrl, connect};
use pathway_testkit::databases::MyDatabase;

async fn plan_and_rows(
    provider: std::sync::Arc<dyn datafusion::datasource::TableProvider>,
) -> (String, String) {
    let ctx = SessionContext::new();
    let frame = ctx
        .read_table(provider)
        .unwrap()
        .filter(col("district_id").eq(lit("101")))
        .unwrap()
        .select(vec![col("student_id")])
        .unwrap()
        .sort(vec![col("student_id").sort(true, false)])
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
    let rows = pretty_format_batches(&frame.collect().await.unwrap())
        .unwrap()
        .to_string();
    (plan, rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_and_queries_are_filtered_by_the_database() {
    let Some(db) = MyDatabase::create("sources") else {
        return;
    };
    let _ = db.sql(
        "CREATE TABLE students (district_id VARCHAR(10), student_id VARCHAR(10), grade VARCHAR(2));
         INSERT INTO students VALUES ('101', 'S1', '07'), ('101', 'S2', 'KG'), ('102', 'S3', '08');",
    );
    let url = DatabaseUrl::parse(&db.url).unwrap();
    let database = connect(&url).await.unwrap();

    let table = database
        .provider(&Relation::Table("students".into()))
        .await
        .unwrap();
    let (plan, rows) = plan_and_rows(table).await;
    assert!(
        plan.contains("SELECT `students`.`student_id` FROM `students` WHERE (`students`.`district_id` = '101')"),
        "{plan}"
    );
    assert_eq!(
        rows,
        "+------------+\n| student_id |\n+------------+\n| S1         |\n| S2         |\n+------------+"
    );

    let query = "SELECT district_id, student_id FROM students WHERE grade <> 'KG'";
    let wrapped = database
        .provider(&Relation::Query(query.into()))
        .await
        .unwrap();
    let (plan, rows) = plan_and_rows(wrapped).await;
    assert!(
        plan.contains(&format!(
            "SELECT `student_id` FROM ({query}) AS pathway_source WHERE ((`district_id` = '101'))"
        )),
        "{plan}"
    );
    assert_eq!(
        rows,
        "+------------+\n| student_id |\n+------------+\n| S1         |\n+------------+"
    );
}
