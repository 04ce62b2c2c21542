//! One district: register its raw tables, run each table's SQL per side, write Parquet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use pathway_audit::{AuditSpec, CommandSpec, Side, TableSpec, Transform};
use pathway_input::DistrictInput;

use crate::code_map::{CodeMapStats, CodeMapUse, register_code_map};
use crate::command::{CommandRun, command_folder, run_command};
use crate::error::{Error, Result};
use crate::inputs::TableInputs;
use crate::parquet_out::{FootprintOf, StreamError, output_file, write_stream};
use crate::snapshot::{DatabaseTables, snapshot_district};

/// What one transform wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Rows written.
    pub rows: u64,
    /// The Parquet file.
    pub path: PathBuf,
    /// Time spent running the SQL or the program, and writing.
    pub elapsed: Duration,
    /// For a command side: how the program ran.
    pub command: Option<CommandRun>,
    /// What `map_code` found while the SQL ran, with counts (empty without a code map).
    pub code_mapping: Vec<(CodeMapUse, u64)>,
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

/// Run every table of the audit, both sides, for one district, writing below `run_dir`; database
/// sides are read from `databases`. Failures are per table and side; the others still run. A
/// table that reads (per `reads`) an input that failed or gave no row in the district is not run:
/// both its sides are [`Error::Input`] or [`Error::NoInput`]. Every output's footer gets its
/// footprint, except those of the tables in `no_footprints` (where the diff could not use it).
pub async fn run_district(
    audit: &AuditSpec,
    reads: &TableInputs,
    input: &DistrictInput,
    run_dir: &Path,
    databases: &DatabaseTables,
    no_footprints: &BTreeSet<String>,
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
    let code_map = audit.code_map.clone().map(Arc::new);
    let mut outcomes = Vec::new();
    for table in &audit.tables {
        if let Some(blocked) = reads.blocked(&table.name, input) {
            outcomes.extend(Side::BOTH.map(|side| Outcome {
                table: table.name.clone(),
                side,
                result: Err(blocked.error()),
            }));
            continue;
        }
        for side in Side::BOTH {
            let footprint =
                (!no_footprints.contains(&table.name)).then(|| FootprintOf::output(table, side));
            let footprint = footprint.as_ref();
            let result = match table.transform(side) {
                Transform::Database(spec) => match databases.get(&(table.name.clone(), side)) {
                    Some(Ok(provider)) => {
                        snapshot_district(
                            provider.clone(),
                            spec,
                            table,
                            side,
                            &input.district_id,
                            run_dir,
                            footprint,
                        )
                        .await
                    }
                    Some(Err(message)) => Err(Error::Database {
                        side: side.to_string(),
                        table: table.name.clone(),
                        district: input.district_id.clone(),
                        origin: format!(
                            "{} ({})",
                            pathway_mask::redact_url(&spec.url),
                            spec.relation
                        ),
                        message: message.clone(),
                    }),
                    None => Err(Error::Database {
                        side: side.to_string(),
                        table: table.name.clone(),
                        district: input.district_id.clone(),
                        origin: pathway_mask::redact_url(&spec.url),
                        message: "not connected (an internal error: the caller passed no table)"
                            .into(),
                    }),
                },
                Transform::Sql(_) => {
                    // Fresh counts for each transform, so each reports its own codes.
                    let stats = CodeMapStats::default();
                    let registered = match &code_map {
                        Some(map) => {
                            register_code_map(&ctx, map, &stats).map_err(|e| Error::Register {
                                district: input.district_id.clone(),
                                input: crate::code_map::CODE_MAP_TABLE.into(),
                                source: e,
                            })
                        }
                        None => Ok(()),
                    };
                    match registered {
                        Ok(()) => run_sql(&ctx, table, side, input, run_dir, footprint)
                            .await
                            .map(|written| Written {
                                code_mapping: stats.take(),
                                ..written
                            }),
                        Err(e) => Err(e),
                    }
                }
                Transform::Command(spec) => {
                    let work = command_folder(run_dir, side, &table.name, &input.district_id);
                    let started = Instant::now();
                    match run_command(
                        spec,
                        &audit.dir,
                        &input.folder,
                        &work,
                        (&input.district_id, &table.name, side),
                    )
                    .await
                    {
                        Ok((schema, batches, run)) => write_batches(
                            schema, batches, spec, table, side, input, run_dir, footprint,
                        )
                        .await
                        .map(|rows| Written {
                            rows,
                            path: output_file(run_dir, side, &table.name, &input.district_id),
                            elapsed: started.elapsed(),
                            command: Some(run),
                            code_mapping: Vec::new(),
                        }),
                        Err(failure) => Err(Error::Command {
                            side: side.to_string(),
                            table: table.name.clone(),
                            district: input.district_id.clone(),
                            message: failure.message,
                        }),
                    }
                }
            };
            outcomes.push(Outcome {
                table: table.name.clone(),
                side,
                result,
            });
        }
    }
    outcomes
}

/// Write what a program produced as that side's Parquet, like an SQL side's result, with the
/// column types its audit entry declares.
#[allow(clippy::too_many_arguments)]
async fn write_batches(
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: Vec<datafusion::arrow::array::RecordBatch>,
    spec: &CommandSpec,
    table: &TableSpec,
    side: Side,
    input: &DistrictInput,
    run_dir: &Path,
    footprint: Option<&FootprintOf>,
) -> Result<u64> {
    let path = output_file(run_dir, side, &table.name, &input.district_id);
    let internal = |e: DataFusionError| Error::Write {
        path: path.clone(),
        message: e.strip_backtrace(),
    };
    let typing = |message: String| Error::Command {
        side: side.to_string(),
        table: table.name.clone(),
        district: input.district_id.clone(),
        message,
    };
    if let Some(unknown) = spec.types.keys().find(|c| schema.index_of(c).is_err()) {
        let has: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(typing(format!(
            "`types` names column `{unknown}`, which `{}` does not have (it has: {})",
            spec.output,
            has.join(", ")
        )));
    }
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let quoted = format!("\"{}\"", f.name().replace('"', "\"\""));
            match spec.types.get(f.name()) {
                // Text formats write null as an empty field.
                Some(sql_type)
                    if f.data_type() == &datafusion::arrow::datatypes::DataType::Utf8 =>
                {
                    format!("CAST(NULLIF({quoted}, '') AS {sql_type}) AS {quoted}")
                }
                Some(sql_type) => format!("CAST({quoted} AS {sql_type}) AS {quoted}"),
                None => quoted,
            }
        })
        .collect();
    let mem = MemTable::try_new(schema, vec![batches]).map_err(internal)?;
    // A session of its own: the name must not shadow a raw input of the district.
    let own = SessionContext::new();
    own.register_table("command_output", Arc::new(mem))
        .map_err(internal)?;
    let sql = format!("SELECT {} FROM command_output", columns.join(", "));
    let frame = own
        .sql(&sql)
        .await
        .map_err(|e| typing(format!("`types`: {}", e.strip_backtrace())))?;
    let frame = without_district_id(frame).map_err(internal)?;
    let stream = frame.execute_stream().await.map_err(internal)?;
    write_stream(stream, &path, footprint)
        .await
        .map_err(|e| match e {
            StreamError::Execution(source) => typing(format!(
                "cannot apply `types` to `{}`: {}",
                spec.output,
                pathway_mask::redact_quoted(&source.strip_backtrace())
            )),
            StreamError::Write(e) => e,
        })
}

/// The Hive partition carries the district; a `district_id` column in the output would clash.
fn without_district_id(
    frame: datafusion::dataframe::DataFrame,
) -> std::result::Result<datafusion::dataframe::DataFrame, DataFusionError> {
    if frame
        .schema()
        .has_column_with_unqualified_name("district_id")
    {
        frame.drop_columns(&["district_id"])
    } else {
        Ok(frame)
    }
}

async fn run_sql(
    ctx: &SessionContext,
    table: &TableSpec,
    side: Side,
    input: &DistrictInput,
    run_dir: &Path,
    footprint: Option<&FootprintOf>,
) -> Result<Written> {
    let started = Instant::now();
    let Transform::Sql(sql) = table.transform(side) else {
        unreachable!("run_sql is called for SQL sides only");
    };
    // A raw table with no file never gets here (see `TableInputs::blocked`), so an unknown table
    // is a typo in the SQL.
    let sql_error = |e: DataFusionError| Error::Sql {
        side: side.to_string(),
        path: sql.path.clone(),
        district: input.district_id.clone(),
        message: e.strip_backtrace(),
    };
    let frame = ctx.sql(&sql.sql).await.map_err(sql_error)?;
    let frame = without_district_id(frame).map_err(sql_error)?;
    let stream = frame.execute_stream().await.map_err(sql_error)?;
    let path = output_file(run_dir, side, &table.name, &input.district_id);
    let rows = write_stream(stream, &path, footprint)
        .await
        .map_err(|e| match e {
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
        command: None,
        code_mapping: Vec::new(),
    })
}
