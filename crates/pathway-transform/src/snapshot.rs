//! A database side: one district's rows of a database table or query, copied into the run's
//! Parquet like any transform's output, so the diff reads files and can be repeated after the
//! database has moved on.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionContext, ident, lit};
use pathway_audit::{DatabaseSpec, Side, TableSpec};

use crate::error::{Error, Result};
use crate::parquet_out::{FootprintOf, StreamError, output_file, write_stream};
use crate::run::Written;

/// The database sides of an audit, connected: (table, side) → the table to read, or why it
/// cannot be read (every district of that side is then ERROR with the reason).
pub type DatabaseTables =
    BTreeMap<(String, Side), std::result::Result<Arc<dyn TableProvider>, String>>;

/// Copy the rows of `district` (those whose `spec.district_column` equals it) from `provider`
/// into the side's Parquet file below `run_dir`. The district filter and the column list are
/// pushed to the database; rows stream through.
///
/// # Errors
/// The district column is missing, the district id is not a value of its type, or the database
/// fails while reading.
pub async fn snapshot_district(
    provider: Arc<dyn TableProvider>,
    spec: &DatabaseSpec,
    table_spec: &TableSpec,
    side: Side,
    district: &str,
    run_dir: &Path,
    footprint: Option<&FootprintOf>,
) -> Result<Written> {
    let table = table_spec.name.as_str();
    let started = Instant::now();
    let failed = |message: String| Error::Database {
        side: side.to_string(),
        table: table.to_owned(),
        district: district.to_owned(),
        origin: spec_source(spec),
        message,
    };
    let schema = provider.schema();
    let Ok(field) = schema.field_with_name(&spec.district_column) else {
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(failed(format!(
            "no district column `{}` (set `district_column`); it has: {}",
            spec.district_column,
            columns.join(", ")
        )));
    };
    let value =
        ScalarValue::try_from_string(district.to_owned(), field.data_type()).map_err(|_| {
            failed(format!(
                "the district id `{district}` is not a value of `{}` ({})",
                spec.district_column,
                field.data_type()
            ))
        })?;
    let ctx = SessionContext::new();
    let data_error = |e: DataFusionError| failed(pathway_mask::redact_quoted(&e.strip_backtrace()));
    let mut frame = ctx
        .read_table(provider.clone())
        .map_err(data_error)?
        .filter(ident(&spec.district_column).eq(lit(value)))
        .map_err(data_error)?;
    // The Hive partition carries the district: no column of that name may stay in the file.
    let mut drop: Vec<&str> = vec![spec.district_column.as_str()];
    if spec.district_column != "district_id" && schema.field_with_name("district_id").is_ok() {
        drop.push("district_id");
    }
    frame = frame.drop_columns(&drop).map_err(data_error)?;
    let stream = frame.execute_stream().await.map_err(data_error)?;
    let path = output_file(run_dir, side, table, district);
    let rows = write_stream(stream, &path, footprint)
        .await
        .map_err(|e| match e {
            StreamError::Execution(source) => data_error(source),
            StreamError::Write(e) => e,
        })?;
    Ok(Written {
        rows,
        path,
        elapsed: started.elapsed(),
        command: None,
        code_mapping: Vec::new(),
    })
}

fn spec_source(spec: &DatabaseSpec) -> String {
    format!(
        "{} ({})",
        pathway_mask::redact_url(&spec.url),
        spec.relation
    )
}
