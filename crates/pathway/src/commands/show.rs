//! `pathway show --table T --district D`: one district's differing rows, side by side.
//!
//! ```text
//! pathway show --run runs/example/2026-11-21 --table students --district 101
//! pathway show --table students --district 103 --column first_name --limit 5
//! pathway show --table students --district 104 --kind missing --format csv
//! ```
//!
//! Each differing row is two lines, legacy above beta; a `*` marks the cells that differ, `—` a
//! side that has no such row. Personal-data columns read `***`.

use std::io::Write;

use anyhow::{Context, bail};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::prelude::SessionContext;
use pathway_diff::plan::{ident, literal};

use crate::ExitStatus;
use crate::cli::{Format, RowKind, ShowArgs};
use pathway_night::RunFolder;

/// Print the district's differing rows.
///
/// # Errors
/// An unknown table, district or column, or an unreadable run.
pub async fn show(args: ShowArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    let Some(info) = catalog.info.iter().find(|t| t.name == args.table) else {
        let names: Vec<&str> = catalog.info.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "table `{}` is not in run `{}` (tables: {})",
            args.table,
            run_dir.display(),
            names.join(", ")
        );
    };
    let status = summary_status(&ctx, &args.table, &args.district).await?;
    let Some(status) = status else {
        bail!(
            "district `{}` is not in the summary of table `{}` in `{}`",
            args.district,
            args.table,
            run_dir.display()
        );
    };
    let columns: Vec<String> = match &args.column {
        Some(c) if info.compared_columns.contains(c) => vec![c.clone()],
        Some(c) => bail!(
            "column `{c}` is not compared in `{}` (compared: {})",
            args.table,
            info.compared_columns.join(", ")
        ),
        None => info.compared_columns.clone(),
    };

    let mut stdout = std::io::stdout().lock();
    let view = format!("row_diff_{}", args.table);
    if !catalog.tables.contains(&view) {
        title(
            &mut stdout,
            args.format,
            &format!(
                "{} · district {} · {status} · no differing rows",
                args.table, args.district
            ),
        )?;
        if args.format == Format::Json {
            writeln!(stdout, "[]")?;
        }
        return Ok(ExitStatus::Completed);
    }
    let grouped = ctx
        .table(view.as_str())
        .await?
        .schema()
        .has_column_with_unqualified_name("district_id");
    let filter = row_diff_filter(grouped, &args);
    let total = count_rows(&ctx, &view, &filter).await?;

    if info.key.is_empty() {
        // A table without a key: each differing distinct row once, with how many more times it
        // occurs on its side. Ordered by every column after the kind of difference, so that
        // `--limit` shows the same rows every time.
        let sql = keyless_rows_sql(&ctx, &view, &filter, args.limit).await?;
        let frame = ctx.sql(&sql).await.context("cannot read the row diff")?;
        let schema = frame.schema().inner().clone();
        let batches = frame.collect().await?;
        let shown: usize = batches.iter().map(RecordBatch::num_rows).sum();
        title(
            &mut stdout,
            args.format,
            &format!(
                "{} · district {} · {status} · {total} differing distinct row(s), showing {shown}",
                args.table, args.district
            ),
        )?;
        crate::output::write_batches(&mut stdout, &schema, &batches, args.format)?;
        return Ok(ExitStatus::Completed);
    }
    let mut select: Vec<String> = info.key.iter().map(|k| ident(k)).collect();
    select.extend([
        "\"diff\"".to_owned(),
        "\"side\"".to_owned(),
        "\"changed_columns\"".to_owned(),
    ]);
    for c in &columns {
        select.push(ident(&format!("legacy_{c}")));
        select.push(ident(&format!("beta_{c}")));
    }
    // Rows under a duplicated key share diff, key and side: the values order them too, so
    // that `--limit` shows the same rows every time.
    let order: Vec<String> = std::iter::once("\"diff\"".to_owned())
        .chain(info.key.iter().map(|k| ident(k)))
        .chain(std::iter::once("\"side\"".to_owned()))
        .chain(select.iter().skip(info.key.len() + 2).cloned())
        .collect();
    let sql = format!(
        "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {}",
        select.join(", "),
        ident(&view),
        order.join(", "),
        args.limit
    );
    let frame = ctx.sql(&sql).await.context("cannot read the row diff")?;
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    let shown: usize = batches.iter().map(RecordBatch::num_rows).sum();

    title(
        &mut stdout,
        args.format,
        &format!(
            "{} · district {} · {status} · {total} differing row(s){}{}, showing {shown}",
            args.table,
            args.district,
            args.kind
                .map(|k| format!(" of kind {}", k.diff()))
                .unwrap_or_default(),
            args.column
                .as_ref()
                .map(|c| format!(" in `{c}`"))
                .unwrap_or_default()
        ),
    )?;
    if args.format != Format::Table {
        crate::output::write_batches(&mut stdout, &schema, &batches, args.format)?;
        return Ok(ExitStatus::Completed);
    }
    if shown > 0 {
        writeln!(
            stdout,
            "{}",
            crate::output::side_by_side(&batches, info.key.len(), &columns)?
        )?;
        writeln!(
            stdout,
            "* differs · — no row on this side · personal data shown as ***"
        )?;
    }
    Ok(ExitStatus::Completed)
}

async fn summary_status(
    ctx: &SessionContext,
    table: &str,
    district: &str,
) -> anyhow::Result<Option<String>> {
    let sql = format!(
        "SELECT status FROM summary WHERE \"table\" = {} AND district_id = {}",
        literal(table),
        literal(district)
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0).as_string::<i32>().value(0).to_owned()))
}

/// The `WHERE` clause picking the district's rows of the row diff (when it is grouped) that
/// changed `--column` (when given), of `--kind` (when given; else every kind but the pairs equal
/// under the rules).
fn row_diff_filter(grouped: bool, args: &ShowArgs) -> String {
    let mut filters = Vec::new();
    if grouped {
        filters.push(format!("\"district_id\" = {}", literal(&args.district)));
    }
    if let Some(c) = &args.column {
        filters.push(format!(
            "strpos(';' || \"changed_columns\" || ';', {}) > 0",
            literal(&format!(";{c};"))
        ));
    }
    match args.kind {
        Some(kind) => filters.push(format!("\"diff\" = {}", literal(kind.diff()))),
        // A pair equal under the rules is kept in the row diff to be counted, but is no
        // difference.
        None => filters.push(format!(
            "\"diff\" <> {}",
            literal(RowKind::EqualByRule.diff())
        )),
    }
    format!(" WHERE {}", filters.join(" AND "))
}

/// The title line: above the table for people, on stderr for CSV and JSON so that stdout holds
/// only the records.
fn title(stdout: &mut dyn Write, format: Format, line: &str) -> std::io::Result<()> {
    if format == Format::Table {
        writeln!(stdout, "{line}")
    } else {
        eprintln!("{line}");
        Ok(())
    }
}

/// The rows of the row diff `view` that `filter` keeps.
async fn count_rows(ctx: &SessionContext, view: &str, filter: &str) -> anyhow::Result<i64> {
    let total = ctx
        .sql(&format!("SELECT count(*) FROM {}{filter}", ident(view)))
        .await?
        .collect()
        .await?;
    Ok(total[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .value(0))
}

/// The first `limit` rows of a keyless table's row diff `view` that `filter` keeps, ordered by
/// the kind of difference then every column.
async fn keyless_rows_sql(
    ctx: &SessionContext,
    view: &str,
    filter: &str,
    limit: usize,
) -> anyhow::Result<String> {
    let columns = ctx.table(view).await?.schema().clone();
    let order: Vec<String> = std::iter::once("\"diff\"".to_owned())
        .chain(
            columns
                .fields()
                .iter()
                .filter(|f| f.name() != "diff")
                .map(|f| ident(f.name())),
        )
        .collect();
    Ok(format!(
        "SELECT * FROM {}{filter} ORDER BY {} LIMIT {limit}",
        ident(view),
        order.join(", "),
    ))
}
