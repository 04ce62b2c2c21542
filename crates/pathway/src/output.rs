//! Printing query results as a table, CSV or JSON.

use std::io::Write;

use comfy_table::{Table, presets};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::cli::Format;

/// Every row of `batches` as display text, with `null` for nulls.
///
/// # Errors
/// When a column type has no display form (a bug).
pub fn text_rows(batches: &[RecordBatch], null: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null(null);
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Write `batches` (with `schema`, for the header of an empty result) in `format`.
///
/// # Errors
/// When writing fails (a closed pipe is handled by the caller).
pub fn write_batches(
    out: &mut dyn Write,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            let mut table = Table::new();
            table.load_preset(presets::UTF8_FULL_CONDENSED);
            table.set_header(
                schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect::<Vec<_>>(),
            );
            let rows = text_rows(batches, "NULL")?;
            let count = rows.len();
            for row in rows {
                table.add_row(row);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{count} row(s)")?;
        }
        Format::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                writer.write(&RecordBatch::new_empty(schema.clone()))?;
            }
            for batch in batches {
                writer.write(batch)?;
            }
        }
        Format::Json => {
            let mut writer = datafusion::arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, datafusion::arrow::json::writer::JsonArray>(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            drop(writer);
            writeln!(out)?;
        }
    }
    Ok(())
}

/// Two table lines per differing row of a row diff, legacy above beta: the batches hold the
/// `keys` key columns, `diff`, `side`, `changed_columns`, then `legacy_<c>` and `beta_<c>` of
/// each of `columns`. A `*` marks a cell that differs, `—` a side without the row.
///
/// # Errors
/// A column Arrow cannot format.
pub fn side_by_side(
    batches: &[RecordBatch],
    keys: usize,
    columns: &[String],
) -> anyhow::Result<Table> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    let mut header = vec!["side".to_owned(), "diff".to_owned()];
    if let Some(batch) = batches.first() {
        header.extend(
            batch
                .schema()
                .fields()
                .iter()
                .take(keys)
                .map(|f| f.name().clone()),
        );
    }
    header.extend(columns.iter().cloned());
    table.set_header(header);
    let options = FormatOptions::default().with_null("NULL");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        let text = |col: usize, row: usize| formatters[col].value(row).to_string();
        for row in 0..batch.num_rows() {
            let diff = text(keys, row);
            let side = text(keys + 1, row);
            let changed_column = batch.column(keys + 2);
            let changed: Vec<String> = if changed_column.is_null(row) {
                Vec::new()
            } else {
                text(keys + 2, row).split(';').map(str::to_owned).collect()
            };
            let key_cells: Vec<String> = (0..keys).map(|k| text(k, row)).collect();
            for (i, this_side) in ["legacy", "beta"].into_iter().enumerate() {
                let present = side == "both" || side == this_side;
                let mut cells = vec![
                    this_side.to_owned(),
                    if i == 0 { diff.clone() } else { String::new() },
                ];
                cells.extend(key_cells.iter().cloned());
                for (c, name) in columns.iter().enumerate() {
                    let value = if present {
                        text(keys + 3 + 2 * c + i, row)
                    } else {
                        "—".to_owned()
                    };
                    let mark = if changed.contains(name) { " *" } else { "" };
                    cells.push(format!("{value}{mark}"));
                }
                table.add_row(cells);
            }
        }
    }
    Ok(table)
}
