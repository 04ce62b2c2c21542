//! A run folder as DataFusion tables, for `pathway query` and `pathway show`.
//!
//! | table | from |
//! |---|---|
//! | `summary`, `column_diff`, `categories` | the run's CSV files |
//! | `history` | the run's audit's rows of `history.csv` beside the run folder |
//! | `code_mapping` | `code_mapping.csv`, when the audit has a code map |
//! | `validation_errors` | `validation_errors.parquet` |
//! | `profile` | `profile.parquet`: column profiles of both sides (no values of personal columns) |
//! | `row_diff_<table>` | `row_diff/<table>/` (every column) |
//! | `row_diff` | all tables' row diffs: `table`, `district_id`, `diff`, `side`, `changed_columns` |
//! | `legacy_<table>`, `beta_<table>` | each side's output |
//!
//! Personal-data columns (the audit's `pii`, recorded in summary.json) are masked in every view,
//! by the `pathway_mask` SQL function (HMAC with the configured key, else `***`): a query never
//! shows them in clear, yet keyed masks still join and group.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use datafusion::arrow::array::{AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use pathway_diff::plan::{ident, literal};
use pathway_mask::Masker;
use pathway_report::TableInfo;
use serde::Deserialize;

use crate::layout::{contains_parquet, hive_partitions};

/// The SQL function that masks a personal value (registered per session, keyed like reports).
const MASK_FUNCTION: &str = "pathway_mask";

/// `pathway_mask(text)`: the masker as a DataFusion scalar function; null stays null.
fn mask_udf(masker: Masker) -> ScalarUDF {
    let function = Arc::new(
        move |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let text = cast(&arrays[0], &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let masked: StringArray = text
                .iter()
                .map(|v| v.map(|v| masker.mask_value(v)))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(masked)))
        },
    );
    create_udf(
        MASK_FUNCTION,
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        function,
    )
}

/// What [`register_run`] registered.
#[derive(Debug, Clone)]
pub struct RunCatalog {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Registered table names, sorted.
    pub tables: Vec<String>,
    /// The compared tables, from summary.json.
    pub info: Vec<TableInfo>,
    /// Per district, the files no input read, from summary.json (empty for older runs).
    pub unread_files: std::collections::BTreeMap<String, Vec<String>>,
    /// Keys with nulls or duplicates per table and district, from summary.json (empty for
    /// older runs).
    pub key_warnings: Vec<pathway_report::KeyWarning>,
}

impl RunCatalog {
    /// The root-cause hints (`pathway explain`) of every table, or of `table`, in every
    /// district or in `district`, from the views [`register_run`] registered in `ctx`.
    ///
    /// # Errors
    /// A hint query fails.
    pub async fn hints(
        &self,
        ctx: &SessionContext,
        table: Option<&str>,
        district: Option<&str>,
    ) -> anyhow::Result<Vec<pathway_profile::Hint>> {
        let mut hints = Vec::new();
        for info in self
            .info
            .iter()
            .filter(|t| table.is_none_or(|name| t.name == name))
        {
            let spec = pathway_profile::HintSpec {
                table: info.name.clone(),
                row_diff: format!("row_diff_{}", info.name),
                sides: [
                    format!("legacy_{}", info.name),
                    format!("beta_{}", info.name),
                ],
                key: info.key.clone(),
                compared: info.compared_columns.clone(),
                district: district.map(str::to_owned),
            };
            hints.extend(pathway_profile::explain_table(ctx, &spec).await?);
        }
        Ok(hints)
    }
}

#[derive(Deserialize)]
struct RunMeta {
    #[serde(default)]
    audit: String,
    #[serde(default)]
    tables: Vec<TableInfo>,
    #[serde(default)]
    unread_files: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    key_warnings: Vec<pathway_report::KeyWarning>,
}

/// The Arrow schema of a CSV file written from rows of `T` (`summary.csv`, `column_diff.csv`, ...):
/// its columns in the order `T`'s fields serialize (the CSV header), each typed by what
/// `sample`'s field holds: a count `UInt64`, a signed number `Int64`, a fraction `Float64`, a
/// flag `Boolean`, anything else (text, a status, a null) `Utf8`; every column nullable, as
/// a night written before a column was appended lacks it. Derived from the row types, so a
/// field added to a row is a column of the table with no second list to keep in step.
///
/// # Panics
/// When `T` does not serialize to a CSV record and a JSON object (every report row does).
fn csv_schema<T: serde::Serialize>(sample: &T) -> Schema {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .serialize(sample)
        .expect("a report row serializes to CSV");
    let text = String::from_utf8(writer.into_inner().expect("an in-memory writer"))
        .expect("CSV written as UTF-8");
    let serde_json::Value::Object(values) =
        serde_json::to_value(sample).expect("a report row serializes to JSON")
    else {
        panic!("a report row is a JSON object");
    };
    let header = text.lines().next().unwrap_or_default();
    let fields: Vec<Field> = header
        .split(',')
        .map(|name| {
            let ty = match values.get(name) {
                Some(serde_json::Value::Number(n)) if n.is_u64() => DataType::UInt64,
                Some(serde_json::Value::Number(n)) if n.is_i64() => DataType::Int64,
                Some(serde_json::Value::Number(_)) => DataType::Float64,
                Some(serde_json::Value::Bool(_)) => DataType::Boolean,
                _ => DataType::Utf8,
            };
            Field::new(name, ty, true)
        })
        .collect();
    Schema::new(fields)
}

/// The columns of summary.csv (and history.csv), as `query` and `compare` read them.
#[must_use]
pub fn summary_schema() -> Schema {
    // A score is a number with decimals: the sample has one, so it types as one.
    csv_schema(&pathway_report::SummaryRow {
        match_pct: Some(pathway_report::MatchScore::FULL),
        ..pathway_report::SummaryRow::default()
    })
}

/// The columns of categories.csv.
#[must_use]
pub fn categories_schema() -> Schema {
    // A shift in days is signed: the sample's is negative, so it types as one.
    csv_schema(&pathway_report::CategoryRow {
        shift_days: Some(-1),
        ..pathway_report::CategoryRow::default()
    })
}

/// The columns of `code_mapping.csv`.
pub(crate) fn code_mapping_schema() -> Schema {
    csv_schema(&pathway_report::CodeMappingRow::default())
}

/// The columns of `column_diff.csv`.
#[must_use]
pub fn column_diff_schema() -> Schema {
    csv_schema(&pathway_report::ColumnDiffRow::default())
}

/// How a night's CSV files are read: a night written before a column was appended lacks it,
/// read as null, not refused.
fn csv(schema: &Schema) -> CsvReadOptions<'_> {
    CsvReadOptions::new()
        .has_header(true)
        .schema(schema)
        .file_extension(".csv")
        .truncated_rows(true)
}

/// Register everything a run folder holds in `ctx`.
///
/// # Errors
/// When `run_dir` is not a run folder or a file in it is unreadable.
pub async fn register_run(
    ctx: &SessionContext,
    run_dir: &Path,
    masker: &Masker,
) -> anyhow::Result<RunCatalog> {
    ctx.register_udf(mask_udf(masker.clone()));
    // Row hashes and fingerprints, for checking by hand what the triage decided.
    pathway_diff::fingerprint::register(ctx);
    let summary_json = run_dir.join("summary.json");
    if !summary_json.exists() {
        bail!(
            "`{}` is not a run folder (it has no summary.json)",
            run_dir.display()
        );
    }
    let text = std::fs::read_to_string(&summary_json)
        .with_context(|| format!("cannot read `{}`", summary_json.display()))?;
    let meta: RunMeta = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a valid summary.json", summary_json.display()))?;
    let mut tables = Vec::new();

    let summary = summary_schema();
    ctx.register_csv(
        "summary",
        &run_dir.join("summary.csv").display().to_string(),
        csv(&summary),
    )
    .await
    .context("cannot read summary.csv")?;
    tables.push("summary".to_owned());
    let column_diff = column_diff_schema();
    ctx.register_csv(
        "column_diff",
        &run_dir.join("column_diff.csv").display().to_string(),
        csv(&column_diff),
    )
    .await
    .context("cannot read column_diff.csv")?;
    tables.push("column_diff".to_owned());
    let categories = run_dir.join("categories.csv");
    if categories.exists() {
        let schema = categories_schema();
        ctx.register_csv(
            "categories",
            &categories.display().to_string(),
            csv(&schema),
        )
        .await
        .context("cannot read categories.csv")?;
        tables.push("categories".to_owned());
    }
    let code_mapping = run_dir.join("code_mapping.csv");
    if code_mapping.exists() {
        let schema = code_mapping_schema();
        ctx.register_csv(
            "code_mapping",
            &code_mapping.display().to_string(),
            csv(&schema),
        )
        .await
        .context("cannot read code_mapping.csv")?;
        tables.push("code_mapping".to_owned());
    }
    let history = run_dir
        .parent()
        .map(|p| p.join("history.csv"))
        .filter(|p| p.exists());
    match history {
        Some(path) => {
            // The audit's own nights: a folder of the earlier layout kept every audit's rows in
            // one history.csv.
            ctx.register_csv("__all_history", &path.display().to_string(), csv(&summary))
                .await
                .context("cannot read history.csv")?;
            let view = ctx
                .sql(&format!(
                    "SELECT * FROM \"__all_history\" WHERE \"audit\" = {}",
                    literal(&meta.audit)
                ))
                .await?
                .into_view();
            ctx.register_table("history", view)?;
        }
        None => {
            ctx.register_table(
                "history",
                Arc::new(MemTable::try_new(Arc::new(summary.clone()), vec![vec![]])?),
            )?;
        }
    }
    tables.push("history".to_owned());
    // Nights written before pathway had profiles have no profile.parquet.
    for (name, file) in [
        ("validation_errors", "validation_errors.parquet"),
        ("profile", "profile.parquet"),
    ] {
        let path = run_dir.join(file);
        if path.exists() {
            ctx.register_parquet(
                name,
                &path.display().to_string(),
                ParquetReadOptions::default(),
            )
            .await
            .with_context(|| format!("cannot read {file}"))?;
            tables.push(name.to_owned());
        }
    }

    let mut narrow = Vec::new();
    for info in &meta.tables {
        let mut masked: Vec<String> = info.pii.clone();
        masked.extend(
            info.pii
                .iter()
                .flat_map(|c| [format!("legacy_{c}"), format!("beta_{c}")]),
        );
        let row_diff_dir = run_dir.join("row_diff").join(&info.name);
        let name = format!("row_diff_{}", info.name);
        if let Some(partitions) = register_folder(ctx, &row_diff_dir, &name, &masked).await? {
            let group = if partitions.iter().any(|p| p == "district_id") {
                "CAST(\"district_id\" AS VARCHAR)".to_owned()
            } else {
                literal("*")
            };
            narrow.push(format!(
                "SELECT {} AS \"table\", {group} AS \"district_id\", \"diff\", \"side\", \"changed_columns\" FROM {}",
                literal(&info.name),
                ident(&name)
            ));
            tables.push(name);
        }
        for side in ["legacy", "beta"] {
            let name = format!("{side}_{}", info.name);
            if register_folder(ctx, &run_dir.join(side).join(&info.name), &name, &info.pii)
                .await?
                .is_some()
            {
                tables.push(name);
            }
        }
    }
    if !narrow.is_empty() {
        let view = ctx.sql(&narrow.join(" UNION ALL ")).await?.into_view();
        ctx.register_table("row_diff", view)?;
        tables.push("row_diff".to_owned());
    }
    tables.sort();
    Ok(RunCatalog {
        run_dir: run_dir.to_path_buf(),
        tables,
        info: meta.tables,
        unread_files: meta.unread_files,
        key_warnings: meta.key_warnings,
    })
}

/// Register a folder of Hive-partitioned Parquet (a row diff, an output) as a view named `name`
/// whose `masked` columns `masker` masks, as a night's catalog does: what `pathway diff` shows of
/// the row diff it wrote. False when the folder holds no Parquet.
///
/// # Errors
/// An unreadable folder.
pub async fn register_masked_folder(
    ctx: &SessionContext,
    masker: &Masker,
    dir: &Path,
    name: &str,
    masked: &[String],
) -> anyhow::Result<bool> {
    ctx.register_udf(mask_udf(masker.clone()));
    Ok(register_folder(ctx, dir, name, masked).await?.is_some())
}

/// Register a folder of Hive-partitioned Parquet as a view named `name` with `masked` columns
/// masked. Returns the partition columns, or `None` when the folder holds no Parquet.
async fn register_folder(
    ctx: &SessionContext,
    dir: &Path,
    name: &str,
    masked: &[String],
) -> anyhow::Result<Option<Vec<String>>> {
    if !contains_parquet(dir) {
        return Ok(None);
    }
    let partitions = hive_partitions(dir);
    let options = ParquetReadOptions::default().table_partition_cols(
        partitions
            .iter()
            .map(|p| (p.clone(), DataType::Utf8))
            .collect(),
    );
    // The files are read into a view whose personal columns are masked; the unmasked table is
    // never registered under any name, so no SQL can reach around the view to it.
    let frame = ctx
        .read_parquet(format!("{}/", dir.display()), options)
        .await
        .with_context(|| format!("cannot read `{}`", dir.display()))?;
    let mask = datafusion::execution::FunctionRegistry::udf(ctx, MASK_FUNCTION)?;
    let columns: Vec<datafusion::prelude::Expr> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let column = datafusion::prelude::ident(f.name());
            if masked.contains(f.name()) {
                mask.call(vec![datafusion::logical_expr::cast(column, DataType::Utf8)])
                    .alias(f.name())
            } else {
                column
            }
        })
        .collect();
    let view = frame.select(columns)?.into_view();
    ctx.register_table(name, view)?;
    Ok(Some(partitions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(schema: &Schema) -> Vec<String> {
        schema
            .fields()
            .iter()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect()
    }

    /// The derived schemas are the files' headers, typed as the hand-written lists had them.
    #[test]
    fn the_csv_schemas_follow_the_row_types() {
        assert_eq!(
            columns(&summary_schema()).join(", "),
            "audit_date Utf8, table Utf8, district_id Utf8, status Utf8, legacy_rows UInt64, \
             beta_rows UInt64, matched_rows UInt64, changed_rows UInt64, missing_in_beta UInt64, \
             extra_in_beta UInt64, legacy_dup_keys UInt64, beta_dup_keys UInt64, \
             changed_columns Utf8, audit Utf8, error Utf8, accepted_cells UInt64, reused Boolean, \
             row_diff_capped Boolean, paired_rows UInt64, match_pct Float64"
        );
        assert_eq!(
            columns(&categories_schema()).join(", "),
            "audit_date Utf8, table Utf8, district_id Utf8, column Utf8, category Utf8, \
             cells UInt64, legacy_value Utf8, beta_value Utf8, shift_days Int64, \
             example_key Utf8, accepted Utf8"
        );
        assert_eq!(
            columns(&code_mapping_schema()).join(", "),
            "audit_date Utf8, table Utf8, district_id Utf8, side Utf8, code_set Utf8, \
             school_year Utf8, outcome Utf8, used_year Utf8, source_code Utf8, values UInt64"
        );
        assert_eq!(
            columns(&column_diff_schema()).join(", "),
            "audit_date Utf8, table Utf8, district_id Utf8, column Utf8, mismatches UInt64, \
             legacy_example Utf8, beta_example Utf8, categories Utf8, expected_cells UInt64"
        );
        // Every column may be absent from a night written before it was appended.
        assert!(summary_schema().fields().iter().all(|f| f.is_nullable()));
    }
}
