//! `pathway schema [--run runs/<date>]`: each table's columns on both sides and how they compare.
//!
//! ```text
//! pathway schema --run runs/example/2026-11-21 --format csv
//! ```
//!
//! One row per table and column: its type on each side (empty where the side lacks it), its role
//! (`key`, `compared`, `ignored`, `legacy only`, `beta only`) and the comparison applied (`exact`,
//! `as text` when the types differ, or the audit's rules). A column on one side only, or with
//! different types, is a schema difference, never a crash.

use std::io::Write;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

use crate::ExitStatus;
use crate::cli::SchemaArgs;
use crate::output::write_batches;
use pathway_night::RunFolder;

/// Print the columns of every table of the run.
///
/// # Errors
/// An unreadable run.
pub async fn schema(args: SchemaArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    let mut rows: Vec<[String; 6]> = Vec::new();
    for info in &catalog.info {
        let mut sides = Vec::new();
        for side in ["legacy", "beta"] {
            // The files' own schema: the masked views would report personal columns as text.
            let dir = run_dir.join(side).join(&info.name);
            let read = async {
                if pathway_night::layout::contains_parquet(&dir) {
                    ctx.read_parquet(
                        format!("{}/", dir.display()),
                        datafusion::prelude::ParquetReadOptions::default(),
                    )
                    .await
                } else {
                    Err(datafusion::error::DataFusionError::Plan(
                        "no Parquet".into(),
                    ))
                }
            };
            let fields: Vec<(String, String)> = match read.await {
                Ok(frame) => frame
                    .schema()
                    .fields()
                    .iter()
                    .filter(|f| f.name() != "district_id")
                    .map(|f| (f.name().clone(), f.data_type().to_string()))
                    .collect(),
                Err(_) => Vec::new(),
            };
            sides.push(fields);
        }
        let mut columns: Vec<String> = sides[0].iter().map(|(n, _)| n.clone()).collect();
        columns.extend(
            sides[1]
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| !sides[0].iter().any(|(l, _)| l == n)),
        );
        let type_of = |side: usize, column: &str| {
            sides[side]
                .iter()
                .find(|(n, _)| n == column)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        for column in columns {
            let (legacy, beta) = (type_of(0, &column), type_of(1, &column));
            let role = if info.key.contains(&column) {
                "key"
            } else if info.ignore.contains(&column) {
                "ignored"
            } else if beta.is_empty() {
                "legacy only"
            } else if legacy.is_empty() {
                "beta only"
            } else {
                "compared"
            };
            let comparison = match (role, info.rules.get(&column)) {
                ("key" | "compared", Some(rules)) => rules.clone(),
                ("key" | "compared", None) if legacy != beta => "as text (types differ)".to_owned(),
                ("key" | "compared", None) => "exact".to_owned(),
                _ => String::new(),
            };
            rows.push([
                info.name.clone(),
                column,
                legacy,
                beta,
                role.to_owned(),
                comparison,
            ]);
        }
    }
    let names = [
        "table",
        "column",
        "legacy_type",
        "beta_type",
        "role",
        "comparison",
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns = (0..names.len())
        .map(|i| {
            Arc::new(
                rows.iter()
                    .map(|r| Some(r[i].as_str()))
                    .collect::<StringArray>(),
            ) as _
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let mut stdout = std::io::stdout().lock();
    write_batches(&mut stdout, &schema, &[batch], args.format)?;
    stdout.flush()?;
    Ok(ExitStatus::Completed)
}
