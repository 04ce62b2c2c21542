//! A night published to PostgreSQL (`pathway run --publish`): the night's summary and column
//! diff, and the whole history of district counts per night, in tables a BI tool can read.
//!
//! Everything goes in one transaction: a failure (or a killed process) leaves the tables as they
//! were. Tables are created when missing. Summary rows are upserted by
//! (audit, `audit_date`, `table_name`, `district_id`); the night's column diff replaces that night's
//! earlier rows (a district fixed since the last publish leaves no stale mismatch behind);
//! history rows are upserted by (audit, `audit_date`, `table_name`).

use std::path::Path;

use pathway_db::{DatabaseUrl, Error, Result};
use pathway_report::{ColumnDiffRow, HistoryCount, RunReport, SummaryRow};

/// Publish `report`'s night, and the history of its audit's folder `nights`, to the
/// PostgreSQL database of `url`.
///
/// # Errors
/// The URL is not PostgreSQL or cannot be parsed, history.csv cannot be read, or publishing
/// fails (then nothing was written; the night on disk stands).
pub async fn publish_night(url: &str, nights: &Path, report: &RunReport) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(url)?;
    let history = pathway_report::read_history(&nights.join("history.csv"))?;
    let counts = publish(
        &url,
        PublishRows {
            audit: &report.audit,
            audit_date: &report.audit_date,
            summary: &report.summary,
            column_diff: &report.column_diff,
            history: &pathway_report::full_match_counts(&history),
        },
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "the run is saved in {}, but publishing it failed: {e}",
            nights.display()
        )
    })?;
    tracing::info!(
        "published to {}: {} summary, {} column-diff and {} history rows",
        url.redacted(),
        counts.summary,
        counts.column_diff,
        counts.history
    );
    Ok(())
}

/// What to publish.
#[derive(Debug, Clone, Copy)]
pub struct PublishRows<'a> {
    /// Audit name.
    pub audit: &'a str,
    /// Night (`YYYY-MM-DD`).
    pub audit_date: &'a str,
    /// The night's summary (summary.csv).
    pub summary: &'a [SummaryRow],
    /// The night's column diff (`column_diff.csv`).
    pub column_diff: &'a [ColumnDiffRow],
    /// Districts per status for every night in history.csv.
    pub history: &'a [HistoryCount],
}

/// Rows written per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishCounts {
    /// Summary rows upserted.
    pub summary: u64,
    /// Column-diff rows written.
    pub column_diff: u64,
    /// History rows upserted.
    pub history: u64,
}

#[cfg(feature = "postgres")]
const CREATE: [&str; 9] = [
    "CREATE TABLE IF NOT EXISTS {schema}.pathway_summary (
        audit text NOT NULL, audit_date date NOT NULL, table_name text NOT NULL,
        district_id text NOT NULL, status text NOT NULL,
        legacy_rows bigint NOT NULL, beta_rows bigint NOT NULL, matched_rows bigint NOT NULL,
        changed_rows bigint NOT NULL, missing_in_beta bigint NOT NULL, extra_in_beta bigint NOT NULL,
        legacy_dup_keys bigint NOT NULL, beta_dup_keys bigint NOT NULL,
        changed_columns text NOT NULL, error text NOT NULL, accepted_cells bigint NOT NULL,
        reused boolean NOT NULL, published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audit, audit_date, table_name, district_id))",
    "CREATE TABLE IF NOT EXISTS {schema}.pathway_column_diff (
        audit text NOT NULL, audit_date date NOT NULL, table_name text NOT NULL,
        district_id text NOT NULL, column_name text NOT NULL, mismatches bigint NOT NULL,
        legacy_example text, beta_example text, categories text NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audit, audit_date, table_name, district_id, column_name))",
    "CREATE TABLE IF NOT EXISTS {schema}.pathway_history (
        audit text NOT NULL, audit_date date NOT NULL, table_name text NOT NULL,
        districts bigint NOT NULL, full_match bigint NOT NULL, mismatch bigint NOT NULL,
        legacy_only bigint NOT NULL, beta_only bigint NOT NULL, error bigint NOT NULL,
        accepted bigint NOT NULL, published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audit, audit_date, table_name))",
    // Added with the NO INPUT status: tables published by an earlier version gain the column.
    "ALTER TABLE {schema}.pathway_history ADD COLUMN IF NOT EXISTS no_input bigint NOT NULL DEFAULT 0",
    // Added with capped row diffs, pairing without a key and declared pairs: likewise.
    "ALTER TABLE {schema}.pathway_summary ADD COLUMN IF NOT EXISTS row_diff_capped boolean NOT NULL DEFAULT false",
    "ALTER TABLE {schema}.pathway_summary ADD COLUMN IF NOT EXISTS paired_rows bigint NOT NULL DEFAULT 0",
    "ALTER TABLE {schema}.pathway_column_diff ADD COLUMN IF NOT EXISTS expected_cells bigint NOT NULL DEFAULT 0",
    // Added with the match score (null: no score, as in summary.csv).
    "ALTER TABLE {schema}.pathway_summary ADD COLUMN IF NOT EXISTS match_pct double precision",
    "ALTER TABLE {schema}.pathway_history ADD COLUMN IF NOT EXISTS match_pct double precision",
];

#[cfg(feature = "postgres")]
const UPSERT_SUMMARY: &str = "INSERT INTO {schema}.pathway_summary (audit, audit_date, table_name,
        district_id, status, legacy_rows, beta_rows, matched_rows, changed_rows, missing_in_beta,
        extra_in_beta, legacy_dup_keys, beta_dup_keys, changed_columns, error, accepted_cells, reused,
        row_diff_capped, paired_rows, match_pct)
    VALUES ($1, $2::text::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
        $18, $19, $20)
    ON CONFLICT (audit, audit_date, table_name, district_id) DO UPDATE SET
        status = EXCLUDED.status, legacy_rows = EXCLUDED.legacy_rows,
        beta_rows = EXCLUDED.beta_rows, matched_rows = EXCLUDED.matched_rows,
        changed_rows = EXCLUDED.changed_rows, missing_in_beta = EXCLUDED.missing_in_beta,
        extra_in_beta = EXCLUDED.extra_in_beta, legacy_dup_keys = EXCLUDED.legacy_dup_keys,
        beta_dup_keys = EXCLUDED.beta_dup_keys, changed_columns = EXCLUDED.changed_columns,
        error = EXCLUDED.error, accepted_cells = EXCLUDED.accepted_cells,
        reused = EXCLUDED.reused, row_diff_capped = EXCLUDED.row_diff_capped,
        paired_rows = EXCLUDED.paired_rows, match_pct = EXCLUDED.match_pct,
        published_at = now()";

#[cfg(feature = "postgres")]
const INSERT_COLUMN_DIFF: &str = "INSERT INTO {schema}.pathway_column_diff (audit, audit_date,
        table_name, district_id, column_name, mismatches, legacy_example, beta_example, categories,
        expected_cells)
    VALUES ($1, $2::text::date, $3, $4, $5, $6, $7, $8, $9, $10)";

#[cfg(feature = "postgres")]
const UPSERT_HISTORY: &str = "INSERT INTO {schema}.pathway_history (audit, audit_date, table_name,
        districts, full_match, mismatch, legacy_only, beta_only, error, accepted, no_input,
        match_pct)
    VALUES ($1, $2::text::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    ON CONFLICT (audit, audit_date, table_name) DO UPDATE SET
        districts = EXCLUDED.districts, full_match = EXCLUDED.full_match,
        mismatch = EXCLUDED.mismatch, legacy_only = EXCLUDED.legacy_only,
        beta_only = EXCLUDED.beta_only, error = EXCLUDED.error, accepted = EXCLUDED.accepted,
        no_input = EXCLUDED.no_input, match_pct = EXCLUDED.match_pct, published_at = now()";

/// Write `rows` into the tables of the schema named by the URL's `schema` parameter (default
/// `public`; created when missing), in one transaction.
///
/// # Errors
/// The URL is not PostgreSQL, the server cannot be reached, or a statement fails (then nothing
/// was written).
pub async fn publish(url: &DatabaseUrl, rows: PublishRows<'_>) -> Result<PublishCounts> {
    #[cfg(feature = "postgres")]
    {
        publish_postgres(url, rows).await
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = rows;
        let _ = url;
        Err(Error::NotBuilt {
            engine: "PostgreSQL",
            feature: "postgres",
        })
    }
}

#[cfg(feature = "postgres")]
async fn publish_postgres(url: &DatabaseUrl, rows: PublishRows<'_>) -> Result<PublishCounts> {
    let failed = |message: String| Error::Publish {
        url: url.redacted().to_owned(),
        message: pathway_db::scrub(&message, url),
    };
    if url.engine != pathway_db::Engine::Postgres {
        return Err(failed(
            "results are published to PostgreSQL only: give a postgres:// URL".into(),
        ));
    }
    let schema_name = url.param("schema").unwrap_or("public");
    let schema = quote(schema_name);

    let mut config = tokio_postgres::Config::new();
    config
        .host(&url.host)
        .port(url.port)
        .user(&url.user)
        .dbname(&url.database)
        .application_name("pathway");
    if let Some(password) = url.password() {
        config.password(password);
    }
    // Publishing goes over loopback or a trusted network in the setups this is tested in; TLS
    // for publishing is not wired (the sources support it).
    if matches!(
        url.param("sslmode"),
        Some("require" | "verify-ca" | "verify-full")
    ) {
        return Err(failed(
            "sslmode=require is not supported for --publish yet: publish over a trusted network \
             or a local socket tunnel"
                .into(),
        ));
    }
    let (mut client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| failed(format!("cannot connect: {e}")))?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("publish connection closed: {e}");
        }
    });
    let sql_error = |what: &str, e: tokio_postgres::Error| {
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |db| db.message().to_owned());
        failed(format!("{what}: {detail}"))
    };

    let result = async {
        let tx = client
            .transaction()
            .await
            .map_err(|e| sql_error("starting the transaction", e))?;
        let counts = write_night(&tx, &schema, rows, &sql_error).await?;
        tx.commit().await.map_err(|e| sql_error("committing", e))?;
        Ok(counts)
    }
    .await;
    drop(client);
    let _ = driver.await;
    result
}

/// Create the schema and tables when missing, then upsert the summary and history rows and
/// replace the night's column diff, inside `tx`.
#[cfg(feature = "postgres")]
async fn write_night(
    tx: &tokio_postgres::Transaction<'_>,
    schema: &str,
    rows: PublishRows<'_>,
    sql_error: &impl Fn(&str, tokio_postgres::Error) -> Error,
) -> Result<PublishCounts> {
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await
        .map_err(|e| sql_error("creating the schema", e))?;
    for create in CREATE {
        tx.batch_execute(&create.replace("{schema}", schema))
            .await
            .map_err(|e| sql_error("creating the tables", e))?;
    }
    let mut counts = PublishCounts::default();
    let upsert = tx
        .prepare(&UPSERT_SUMMARY.replace("{schema}", schema))
        .await
        .map_err(|e| sql_error("preparing the summary upsert", e))?;
    for row in rows.summary {
        tx.execute(
            &upsert,
            &[
                &rows.audit,
                &row.audit_date,
                &row.table,
                &row.district_id,
                &row.status.as_str(),
                &count(row.legacy_rows),
                &count(row.beta_rows),
                &count(row.matched_rows),
                &count(row.changed_rows),
                &count(row.missing_in_beta),
                &count(row.extra_in_beta),
                &count(row.legacy_dup_keys),
                &count(row.beta_dup_keys),
                &row.changed_columns,
                &row.error,
                &count(row.accepted_cells),
                &row.reused,
                &row.row_diff_capped,
                &count(row.paired_rows),
                &row.match_pct.map(pathway_report::MatchScore::percent),
            ],
        )
        .await
        .map_err(|e| sql_error("writing pathway_summary", e))?;
        counts.summary += 1;
    }
    tx.execute(
        &format!(
            "DELETE FROM {schema}.pathway_column_diff WHERE audit = $1 AND audit_date = $2::text::date"
        ),
        &[&rows.audit, &rows.audit_date],
    )
    .await
    .map_err(|e| sql_error("replacing the night's pathway_column_diff", e))?;
    let insert = tx
        .prepare(&INSERT_COLUMN_DIFF.replace("{schema}", schema))
        .await
        .map_err(|e| sql_error("preparing the column diff insert", e))?;
    for row in rows.column_diff {
        tx.execute(
            &insert,
            &[
                &rows.audit,
                &row.audit_date,
                &row.table,
                &row.district_id,
                &row.column,
                &count(row.mismatches),
                &row.legacy_example,
                &row.beta_example,
                &row.categories,
                &count(row.expected_cells),
            ],
        )
        .await
        .map_err(|e| sql_error("writing pathway_column_diff", e))?;
        counts.column_diff += 1;
    }
    let upsert = tx
        .prepare(&UPSERT_HISTORY.replace("{schema}", schema))
        .await
        .map_err(|e| sql_error("preparing the history upsert", e))?;
    for row in rows.history.iter().filter(|h| h.audit == rows.audit) {
        tx.execute(
            &upsert,
            &[
                &row.audit,
                &row.audit_date,
                &row.table,
                &count(row.districts),
                &count(row.full_match),
                &count(row.mismatch),
                &count(row.legacy_only),
                &count(row.beta_only),
                &count(row.error),
                &count(row.accepted),
                &count(row.no_input),
                &row.match_pct.map(pathway_report::MatchScore::percent),
            ],
        )
        .await
        .map_err(|e| sql_error("writing pathway_history", e))?;
        counts.history += 1;
    }
    Ok(counts)
}

#[cfg(feature = "postgres")]
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(feature = "postgres")]
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
