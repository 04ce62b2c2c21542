//! `pathway diff LEFT RIGHT --key ...`: the audit's diff on any two tables, no audit needed.
//!
//! ```text
//! pathway diff legacy/students beta/students --key student_id --out diff-out
//! pathway diff old.csv new.parquet --key id --by school_id --format json
//! pathway diff postgres://audit@sis/prod postgres://audit@sis/prod \
//!     --left-table legacy.students --right-table beta.students --key student_id
//! ```
//!
//! Same summary, column diff and row diff as `pathway run` (same headers and semantics). Exits 0
//! when every group is a FULL MATCH, 1 when something differs, 2 when it could not run.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use datafusion::arrow::array::RecordBatch;
use pathway_diff::plan::ident;
use pathway_diff::{DiffSpec, Status, diff_tables};
use pathway_report::{
    RunReport, TableInfo, mismatch_table, rows_for_table, status_table, summary_csv,
};

use crate::ExitStatus;
use crate::cli::{DiffArgs, Format};
use crate::sources::{Side, default_group, is_database_url, register_sides};
use pathway_night::storage::{Audits, OutFolder, Scratch};

/// Diff the two tables and report.
///
/// # Errors
/// Unreadable inputs, unknown key or group columns, an unwritable --out.
pub async fn diff(args: DiffArgs, scratch: &Scratch) -> anyhow::Result<ExitStatus> {
    // An s3:// --out is written locally and uploaded at the end.
    let out_folder = match &args.out {
        Some(out) => {
            Some(OutFolder::open(out, scratch, Audits::Nothing, |_: &[String]| Vec::new()).await?)
        }
        None => None,
    };
    let out = out_folder.as_ref().map(|f| f.local.clone());
    let started_at = now();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    pathway_input::DecompressedLimit::from_env().map_err(anyhow::Error::msg)?;
    let engine = args.engine.settings();
    let ctx = pathway_night::session::session(&engine).await?;
    // A database side is copied to Parquet first: the diff reads each side more than once, and
    // a live table must not change between those reads. A text side is copied to Parquet too
    // (in the scratch folder, gone when the diff is), so that each pass reads it in batches.
    let scratch_snapshots =
        tempfile::tempdir().context("cannot create a temporary folder for database snapshots")?;
    let snapshot_dir = match &out {
        Some(out) => out.join("snapshot"),
        None => scratch_snapshots.path().to_path_buf(),
    };
    let shown = register_sides(
        &ctx,
        [
            Side {
                name: "legacy",
                path: &args.left,
                table: args.left_table.as_deref(),
                query: args.left_query.as_deref(),
            },
            Side {
                name: "beta",
                path: &args.right,
                table: args.right_table.as_deref(),
                query: args.right_query.as_deref(),
            },
        ],
        &snapshot_dir,
        &scratch_snapshots.path().join("staged"),
    )
    .await?;
    let table = match &args.table {
        Some(table) => table.clone(),
        None => default_table_name(&args.left, args.left_table.as_deref()),
    };
    if !pathway_input::valid_district_id(&table) {
        bail!(
            "table name `{table}` is not usable as a folder name: pass --table with letters, digits, `_`, `-`"
        );
    }
    let group = default_group(&ctx, args.by.as_deref()).await?;

    let scratch;
    let out_dir = if let Some(out) = &out {
        out.clone()
    } else {
        scratch =
            tempfile::tempdir().context("cannot create a temporary folder for the row diff")?;
        scratch.path().to_path_buf()
    };
    // Executors of a cluster run elsewhere: they need absolute paths.
    let out_dir = std::path::absolute(&out_dir)?;
    let spec = DiffSpec::new(table.clone(), args.key.clone())
        .with_group_by(group)
        .with_ignore(args.ignore.clone())
        .with_rename(args.rename.clone())
        .with_engine(&engine);
    let (table_rules, column_rules) = rules_of(&args);
    let spec = spec
        .with_rules(table_rules, column_rules)
        .with_max_row_diff(args.max_row_diff)
        .with_pair_unmatched(args.pair_unmatched, args.max_pair_columns);
    let diff = diff_tables(
        &ctx,
        "legacy",
        "beta",
        &spec,
        &out_dir.join("row_diff").join(&table),
    )
    .await?;

    let date = chrono::Local::now().format("%Y-%m-%d").to_string();
    let (summary, column_diff) = rows_for_table(
        "diff",
        &date,
        &diff,
        &[],
        &BTreeMap::new(),
        &args.pii,
        &masker,
    );
    let mut report = report_of(
        &args,
        &table,
        &date,
        &spec,
        &diff,
        &masker,
        (summary, column_diff),
    );
    report.input = format!("{} vs {}", shown[0], shown[1]);
    report.started_at = started_at;
    report.finished_at = now();

    if let (Some(out), Some(folder)) = (&out, &out_folder) {
        if !args.no_profile {
            profile_sides(&ctx, &args, &diff, spec.group_by.as_ref(), &mut report).await;
        }
        report.write_files(out)?;
        folder.publish_all().await?;
    }

    let mut tables = status_table(&report.summary).to_string();
    for line in pathway_report::rule_hidden_lines(&report.rule_hidden) {
        tables = format!("{tables}\n{line}");
    }
    if report.summary.iter().any(|r| r.status != Status::FullMatch) {
        tables = format!("{tables}\n{}", mismatch_table(&report.summary));
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            writeln!(stdout, "{tables}")?;
            let row_diff = out_dir.join("row_diff").join(&table);
            if let Some(sample) =
                sample_rows(&args, &diff, spec.group_by.as_ref(), &masker, &row_diff).await?
            {
                writeln!(stdout, "{sample}")?;
            }
        }
        Format::Csv => {
            eprintln!("{tables}");
            stdout.write_all(summary_csv(&report.summary)?.as_bytes())?;
        }
        Format::Json => {
            eprintln!("{tables}");
            stdout.write_all(report.to_json()?.as_bytes())?;
        }
    }
    let all_match = report.summary.iter().all(|r| r.status == Status::FullMatch);
    Ok(if all_match {
        ExitStatus::Completed
    } else {
        ExitStatus::DiffsFound
    })
}

/// The column profile of both sides into `report` (profile.parquet); a profile that fails is a
/// warning, since the counts stand without it.
async fn profile_sides(
    ctx: &datafusion::prelude::SessionContext,
    args: &DiffArgs,
    diff: &pathway_diff::TableDiff,
    group: Option<&String>,
    report: &mut RunReport,
) {
    let profiled = pathway_profile::ProfileSpec {
        table: diff.table.clone(),
        group_by: group.cloned(),
        pii: args.pii.clone(),
        ignore: args.ignore.clone(),
        rename: args.rename.clone(),
        skip_groups: Vec::new(),
        // The districts whose sides hold the same rows as written: read on one side only.
        same_rows: diff.same_rows.clone(),
    };
    match pathway_profile::profile_table(ctx, ["legacy", "beta"], &profiled).await {
        Ok(rows) => report.profile = rows,
        Err(e) => {
            let warning = format!("no column profile: {e}");
            tracing::warn!("warning: {warning}");
            report.warnings.push(warning);
        }
    }
}

/// The first `--sample` rows of the row diff in `row_diff` (by kind of difference, group, key),
/// legacy above beta, with a title line; `None` when nothing differs, for a table without a key,
/// or with `--sample 0`.
async fn sample_rows(
    args: &DiffArgs,
    diff: &pathway_diff::TableDiff,
    group: Option<&String>,
    masker: &pathway_mask::Masker,
    row_diff: &Path,
) -> anyhow::Result<Option<String>> {
    if args.sample == 0 || diff.key.is_empty() {
        return Ok(None);
    }
    let ctx = pathway_diff::reading_session();
    let mut masked = args.pii.clone();
    masked.extend(
        args.pii
            .iter()
            .flat_map(|c| [format!("legacy_{c}"), format!("beta_{c}")]),
    );
    let view = "__sample";
    if !pathway_night::catalog::register_masked_folder(&ctx, masker, row_diff, view, &masked)
        .await?
    {
        return Ok(None);
    }
    let present: Vec<String> = ctx
        .table(view)
        .await?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    // The group (the row diff's partition) then the key as the row diff holds it.
    let key: Vec<&String> = group
        .into_iter()
        .chain(diff.key.iter().filter(|k| Some(*k) != group))
        .filter(|k| present.contains(*k))
        .collect();
    let columns: Vec<String> = diff
        .compared_columns
        .iter()
        .filter(|c| {
            diff.groups
                .iter()
                .any(|g| g.columns.iter().any(|d| &&d.column == c))
        })
        .cloned()
        .collect();
    let mut select: Vec<String> = key.iter().map(|k| ident(k)).collect();
    select.extend(["\"diff\"", "\"side\"", "\"changed_columns\""].map(String::from));
    for c in &columns {
        select.push(ident(&format!("legacy_{c}")));
        select.push(ident(&format!("beta_{c}")));
    }
    let mut order = vec!["\"diff\"".to_owned()];
    order.extend(key.iter().map(|k| ident(k)));
    order.push("\"side\"".to_owned());
    order.extend(select[key.len() + 3..].iter().cloned());
    // A pair equal under the rules is kept in the row diff to be counted, but is no difference.
    let differing = "\"diff\" <> 'equal_by_rule'";
    let sql = format!(
        "SELECT {} FROM {view} WHERE {differing} ORDER BY {} LIMIT {}",
        select.join(", "),
        order.join(", "),
        args.sample
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let total = ctx
        .sql(&format!("SELECT * FROM {view} WHERE {differing}"))
        .await?
        .count()
        .await?;
    let shown: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if shown == 0 {
        return Ok(None);
    }
    let table = crate::output::side_by_side(&batches, key.len(), &columns)?;
    Ok(Some(format!(
        "{shown} of {total} differing row(s) (* differs · — no row on this side · personal data \
         shown as ***; --out keeps them all):\n{table}"
    )))
}

/// `students` for `legacy/students/`, `students.parquet`, `students.csv`, `students.csv.gz` or a
/// database's `--left-table sis.students` (`table` for a query).
fn default_table_name(path: &Path, database_table: Option<&str>) -> String {
    if is_database_url(&path.to_string_lossy()) {
        return database_table
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("table")
            .to_owned();
    }
    let plain = pathway_input::strip_compression_suffix(path).map(|(plain, _)| plain);
    let path = plain.as_deref().unwrap_or(path);
    let stem = if path.is_dir() {
        path.file_name()
    } else {
        path.file_stem()
    };
    stem.map_or_else(|| "table".to_owned(), |s| s.to_string_lossy().into_owned())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The table's comparison rules from the options (`--trim`, tolerances, ...), and the rules of
/// each column with a `--cast` or `--expected` pairs: the table's, plus those.
fn rules_of(
    args: &DiffArgs,
) -> (
    pathway_diff::ColumnRules,
    Vec<(String, pathway_diff::ColumnRules)>,
) {
    let table_rules = pathway_diff::ColumnRules {
        trim: args.trim,
        ignore_case: args.ignore_case,
        null_equals_empty: args.null_equals_empty,
        abs_tolerance: args.abs_tolerance,
        rel_tolerance: args.rel_tolerance,
        date_tolerance_days: args.date_tolerance_days,
        cast: None,
        expected: Vec::new(),
    };
    // A column with a cast or declared pairs has its own rules: the table's, plus those.
    let mut ruled: Vec<&String> = args.cast.iter().map(|(c, _)| c).collect();
    ruled.extend(args.expected.iter().map(|(c, _)| c));
    ruled.sort();
    ruled.dedup();
    let column_rules: Vec<(String, pathway_diff::ColumnRules)> = ruled
        .into_iter()
        .map(|column| {
            let mut rules = table_rules.clone();
            rules.cast = args
                .cast
                .iter()
                .find(|(c, _)| c == column)
                .map(|(_, cast)| cast.clone());
            rules.expected = args
                .expected
                .iter()
                .filter(|(c, _)| c == column)
                .flat_map(|(_, pairs)| pairs.iter().cloned())
                .collect();
            (column.clone(), rules)
        })
        .collect();
    (table_rules, column_rules)
}

/// summary.json's report of one diff (but for the input shown and the start time).
fn report_of(
    args: &DiffArgs,
    table: &str,
    date: &str,
    spec: &DiffSpec,
    diff: &pathway_diff::TableDiff,
    masker: &pathway_mask::Masker,
    (summary, column_diff): (
        Vec<pathway_report::SummaryRow>,
        Vec<pathway_report::ColumnDiffRow>,
    ),
) -> RunReport {
    let mut report = RunReport {
        audit: "diff".into(),
        audit_date: date.to_owned(),
        pathway_version: env!("CARGO_PKG_VERSION").into(),
        districts: diff.groups.iter().map(|g| g.group.clone()).collect(),
        tables: vec![TableInfo {
            name: table.to_owned(),
            key: args.key.clone(),
            ignore: args.ignore.clone(),
            pii: args.pii.clone(),
            compared_columns: diff.compared_columns.clone(),
            rules: diff
                .compared_columns
                .iter()
                .map(|c| (c.clone(), spec.rules_for(c).names()))
                .filter(|(_, names)| !names.is_empty())
                .collect(),
        }],
        ..RunReport::default()
    };
    report
        .schema_diff
        .insert(table.to_owned(), diff.schema.clone());
    report.rows_read.legacy.insert(
        table.to_owned(),
        summary.iter().map(|r| r.legacy_rows).sum(),
    );
    report
        .rows_read
        .beta
        .insert(table.to_owned(), summary.iter().map(|r| r.beta_rows).sum());
    let counts = report.status_counts.entry(table.to_owned()).or_default();
    for status in Status::ALL {
        counts.insert(
            status.as_str().to_owned(),
            summary.iter().filter(|r| r.status == status).count() as u64,
        );
    }
    report.summary = summary;
    report.column_diff = column_diff;
    report.rule_hidden = pathway_report::rule_hidden_rows(&report.audit_date, diff);
    report.categories = pathway_report::category_rows(&report.audit_date, diff, &args.pii, masker);
    report
}
