//! One district: register its raw tables, run each table's SQL per side, write Parquet.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use pathway_audit::{AuditSpec, Side, TableSpec};
use pathway_input::DistrictInput;

use crate::error::{Error, Result};
use crate::parquet_out::{StreamError, output_file, write_stream};

/// What one transform wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Rows written.
    pub rows: u64,
    /// The Parquet file.
    pub path: PathBuf,
    /// Time spent running the SQL and writing.
    pub elapsed: Duration,
}

/// The outcome of one table on one side for one district.
#[derive(Debug)]
pub struct Outcome {
    /// Output table.
    pub table: String,
    /// Which side.
    pub side: Side,
    /// What was written, or why not.
    pub result: Result<Written>,
}

/// A session holding the district's raw tables under their input names.
///
/// # Errors
/// When a raw table cannot be registered (an internal problem rather than bad input).
pub fn district_context(input: &DistrictInput) -> Result<SessionContext> {
    let ctx = SessionContext::new();
    for table in &input.tables {
        let register = |source| Error::Register {
            district: input.district_id.clone(),
            input: table.name.clone(),
            source,
        };
        let mem = MemTable::try_new(table.schema.clone(), vec![table.batches.clone()])
            .map_err(register)?;
        ctx.register_table(table.name.as_str(), Arc::new(mem))
            .map_err(register)?;
    }
    Ok(ctx)
}

/// Run every table of the audit, both sides, for one district, writing below `run_dir`.
/// Failures are per table and side; the others still run.
pub async fn run_district(
    audit: &AuditSpec,
    input: &DistrictInput,
    run_dir: &Path,
) -> Vec<Outcome> {
    let ctx = match district_context(input) {
        Ok(ctx) => ctx,
        Err(e) => {
            let message = e.to_string();
            return audit
                .tables
                .iter()
                .flat_map(|t| Side::BOTH.map(|side| (t.name.clone(), side)))
                .map(|(table, side)| Outcome {
                    table,
                    side,
                    result: Err(Error::Write {
                        path: run_dir.to_path_buf(),
                        message: message.clone(),
                    }),
                })
                .collect();
        }
    };
    let mut outcomes = Vec::new();
    for table in &audit.tables {
        for side in Side::BOTH {
            let result = run_one(&ctx, table, side, input, run_dir).await;
            outcomes.push(Outcome {
                table: table.name.clone(),
                side,
                result,
            });
        }
    }
    outcomes
}

async fn run_one(
    ctx: &SessionContext,
    table: &TableSpec,
    side: Side,
    input: &DistrictInput,
    run_dir: &Path,
) -> Result<Written> {
    let started = Instant::now();
    let sql = table.sql(side);
    let sql_error = |e: DataFusionError| {
        let message = e.strip_backtrace();
        let hint = input
            .missing
            .iter()
            .find(|(name, _)| message.contains(name.as_str()))
            .map(|(name, glob)| {
                format!(
                    "\nhint: no file in this district's folder matches `{glob}` (input `{name}`)"
                )
            })
            .unwrap_or_default();
        Error::Sql {
            side: side.to_string(),
            path: sql.path.clone(),
            district: input.district_id.clone(),
            message,
            hint,
        }
    };
    let frame = ctx.sql(&sql.sql).await.map_err(sql_error)?;
    // The Hive partition carries the district; a district_id column in the output would clash.
    let frame = if frame
        .schema()
        .has_column_with_unqualified_name("district_id")
    {
        frame.drop_columns(&["district_id"]).map_err(sql_error)?
    } else {
        frame
    };
    let stream = frame.execute_stream().await.map_err(sql_error)?;
    let path = output_file(run_dir, side, &table.name, &input.district_id);
    let rows = write_stream(stream, &path).await.map_err(|e| match e {
        StreamError::Execution(source) => Error::Execution {
            side: side.to_string(),
            path: sql.path.clone(),
            district: input.district_id.clone(),
            message: pathway_mask::redact_quoted(&source.strip_backtrace()),
        },
        StreamError::Write(e) => e,
    })?;
    Ok(Written {
        rows,
        path,
        elapsed: started.elapsed(),
    })
}
