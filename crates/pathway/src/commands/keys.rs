//! `pathway keys LEFT RIGHT [--key K] [--by G]`: is the key a key, and which columns would be?
//!
//! ```text
//! pathway keys legacy/students beta/students --key student_id
//! pathway keys students.csv students_beta.csv --format csv
//! ```
//!
//! For the given key, per side and group: rows, rows with a null key part, duplicated keys and
//! the rows under them. Then the candidate keys: the smallest sets of up to three columns that
//! are unique and non-null within every group on both sides, ranked by size and then by how
//! id-like their names are. Every count is exact (DataFusion queries over both sides); the work
//! is bounded for wide tables: single columns are all tried, pairs and triples only among the
//! [`COMBINED`] columns with the most distinct values.

use std::io::Write;

use anyhow::{Context, bail};
use comfy_table::Table;
use pathway_diff::plan::ident;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::{Format, KeysArgs};
use crate::sources::{Side, default_group, register_sides};

/// Pairs and triples are formed from at most this many columns (45 pairs, 120 triples).
pub const COMBINED: usize = 10;
/// At most this many columns are tried as single-column keys.
const SINGLE: usize = 64;

/// One side and group under the given key.
#[derive(Debug, Clone, Serialize)]
struct GroupKeyHealth {
    side: &'static str,
    group: String,
    rows: u64,
    null_key_rows: u64,
    dup_keys: u64,
    dup_rows: u64,
}

/// One key's line of the CSV.
#[derive(Debug, Clone, Serialize)]
struct KeyLine {
    role: &'static str,
    key: String,
    legacy_null_keys: u64,
    beta_null_keys: u64,
    legacy_dup_keys: u64,
    beta_dup_keys: u64,
    unique: bool,
}

/// Check the key and find candidates.
///
/// # Errors
/// Unreadable sides, or a key or group column missing on a side.
pub async fn keys(args: KeysArgs) -> anyhow::Result<ExitStatus> {
    let ctx = pathway_diff::reading_session();
    let scratch =
        tempfile::tempdir().context("cannot create a temporary folder for database snapshots")?;
    register_sides(
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
        scratch.path(),
        &scratch.path().join("staged"),
    )
    .await?;
    let group = default_group(&ctx, args.by.as_deref()).await?;
    let mut columns: [Vec<String>; 2] = Default::default();
    for (i, side) in ["legacy", "beta"].into_iter().enumerate() {
        columns[i] = ctx
            .table(side)
            .await?
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for name in group.iter().chain(&args.key) {
            if !columns[i].contains(name) {
                bail!(
                    "column `{name}` is missing from the {side} side (columns there: {})",
                    columns[i].join(", ")
                );
            }
        }
    }
    // The group column is constant within a group: never part of a key to check or propose.
    let key: Vec<String> = args
        .key
        .iter()
        .filter(|k| Some(*k) != group.as_ref())
        .cloned()
        .collect();
    let g = match &group {
        Some(g) => format!("COALESCE(CAST({} AS VARCHAR), '')", ident(g)),
        None => "'*'".to_owned(),
    };

    let mut health = Vec::new();
    if !args.key.is_empty() {
        for side in ["legacy", "beta"] {
            health.extend(key_health(&ctx, side, &g, &key).await?);
        }
    }
    let common: Vec<String> = columns[0]
        .iter()
        .filter(|c| columns[1].contains(c) && Some(*c) != group.as_ref())
        .cloned()
        .collect();
    let candidates = candidate_keys(&ctx, &g, &common).await?;

    let lines = key_lines(&args.key, &health, &candidates);

    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            for line in &lines {
                writer.serialize(line)?;
            }
            if lines.is_empty() {
                writer.write_record([
                    "role",
                    "key",
                    "legacy_null_keys",
                    "beta_null_keys",
                    "legacy_dup_keys",
                    "beta_dup_keys",
                    "unique",
                ])?;
            }
            writer.flush()?;
        }
        Format::Json => {
            let json = serde_json::json!({
                "group": group,
                "key": args.key,
                "per_group": health,
                "keys": lines,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
        Format::Table => {
            if !args.key.is_empty() {
                let mut table = Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header([
                    "side",
                    "group",
                    "rows",
                    "null key rows",
                    "dup keys",
                    "rows under dup keys",
                ]);
                for h in &health {
                    table.add_row([
                        h.side.to_owned(),
                        h.group.clone(),
                        h.rows.to_string(),
                        h.null_key_rows.to_string(),
                        h.dup_keys.to_string(),
                        h.dup_rows.to_string(),
                    ]);
                }
                writeln!(out, "key {}:\n{table}", args.key.join("+"))?;
            }
            if candidates.is_empty() {
                writeln!(
                    out,
                    "no set of up to three columns is unique and non-null in every group on both sides"
                )?;
            } else {
                let names: Vec<String> = candidates.iter().map(|c| c.join("+")).collect();
                writeln!(
                    out,
                    "candidate keys (unique and non-null in every group on both sides): {}",
                    names.join(", ")
                )?;
            }
        }
    }
    Ok(ExitStatus::Completed)
}

/// Rows, null-key rows, duplicated keys and rows under them, per group of `side`.
async fn key_health(
    ctx: &datafusion::prelude::SessionContext,
    side: &'static str,
    g: &str,
    key: &[String],
) -> anyhow::Result<Vec<GroupKeyHealth>> {
    let parts: Vec<String> = key.iter().map(|k| ident(k)).collect();
    let any_null = if parts.is_empty() {
        "FALSE".to_owned()
    } else {
        parts
            .iter()
            .map(|p| format!("{p} IS NULL"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let mut grouping = vec!["__g".to_owned()];
    grouping.extend(parts.iter().cloned());
    let sql = format!(
        "SELECT __g, sum(n), sum(CASE WHEN has_null THEN n ELSE 0 END), \
                sum(CASE WHEN n > 1 THEN 1 ELSE 0 END), sum(CASE WHEN n > 1 THEN n ELSE 0 END) \
         FROM (SELECT __g, count(*) AS n, bool_or({any_null}) AS has_null \
               FROM (SELECT {g} AS __g, * FROM {side}) AS s GROUP BY {grouping}) AS k \
         GROUP BY __g ORDER BY __g",
        grouping = grouping.join(", "),
    );
    let mut found = Vec::new();
    for batch in ctx.sql(&sql).await?.collect().await? {
        let groups = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )?;
        let groups = datafusion::arrow::array::AsArray::as_string::<i32>(&groups);
        let (rows, nulls, dups, dup_rows) = (
            counts(&batch, 1)?,
            counts(&batch, 2)?,
            counts(&batch, 3)?,
            counts(&batch, 4)?,
        );
        for row in 0..batch.num_rows() {
            found.push(GroupKeyHealth {
                side,
                group: groups.value(row).to_owned(),
                rows: rows[row],
                null_key_rows: nulls[row],
                dup_keys: dups[row],
                dup_rows: dup_rows[row],
            });
        }
    }
    Ok(found)
}

/// How id-like a column name is: `id`, `..._id`, `...Id`, `sourcedId` first, then names with
/// `key`, `code`, `number`, `num` or `no`.
fn id_likeness(name: &str) -> u8 {
    let lower = name.to_lowercase();
    if lower == "id" || lower.ends_with("_id") || lower.ends_with("id") {
        0
    } else if ["key", "code", "number", "num", "_no"]
        .iter()
        .any(|w| lower.contains(w))
    {
        1
    } else {
        2
    }
}

/// The minimal sets of up to three of `columns` that are unique and non-null within every
/// group on both sides, ranked by size, then id-likeness, then name.
async fn candidate_keys(
    ctx: &datafusion::prelude::SessionContext,
    g: &str,
    columns: &[String],
) -> anyhow::Result<Vec<Vec<String>>> {
    let columns: Vec<String> = columns.iter().take(SINGLE).cloned().collect();
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let singles: Vec<Vec<String>> = columns.iter().map(|c| vec![c.clone()]).collect();
    let mut found = keys_among(ctx, g, singles).await?;
    // Pairs and triples among the columns with the most distinct values, skipping supersets
    // of a key already found.
    let pool: Vec<String> = most_distinct(ctx, &columns)
        .await?
        .into_iter()
        .take(COMBINED)
        .collect();
    for size in 2..=3 {
        let mut sets = Vec::new();
        combinations(&pool, size, &mut Vec::new(), 0, &mut sets);
        sets.retain(|set: &Vec<String>| {
            !found.iter().any(|key| key.iter().all(|k| set.contains(k)))
        });
        if sets.is_empty() {
            continue;
        }
        for mut set in keys_among(ctx, g, sets).await? {
            set.sort();
            found.push(set);
        }
    }
    found.sort_by(|a, b| {
        let score = |k: &Vec<String>| k.iter().map(|c| id_likeness(c)).min().unwrap_or(2);
        (a.len(), score(a), a).cmp(&(b.len(), score(b), b))
    });
    Ok(found)
}

/// The sets among `sets` that are keys: in every group of both sides, as many distinct
/// non-null tuples as rows. One aggregate per side for all the sets.
async fn keys_among(
    ctx: &datafusion::prelude::SessionContext,
    g: &str,
    sets: Vec<Vec<String>>,
) -> anyhow::Result<Vec<Vec<String>>> {
    // A value that identifies a tuple of columns without ambiguity: each part's text with its
    // length in front (a null part makes the tuple null, so it never counts as distinct).
    let tuple = |set: &[String]| -> String {
        let parts: Vec<String> = set
            .iter()
            .map(|c| {
                let text = format!("CAST({} AS VARCHAR)", ident(c));
                format!("CAST(character_length({text}) AS VARCHAR) || ':' || {text}")
            })
            .collect();
        parts.join(" || '|' || ")
    };
    let mut ok = vec![true; sets.len()];
    for side in ["legacy", "beta"] {
        let measures: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, set)| format!("count(DISTINCT {}) AS d{i}", tuple(set)))
            .collect();
        let sql = format!(
            "SELECT count(*) AS n, {} FROM (SELECT {g} AS __g, * FROM {side}) AS s GROUP BY __g",
            measures.join(", ")
        );
        for batch in ctx.sql(&sql).await?.collect().await? {
            let rows = counts(&batch, 0)?;
            for (i, ok) in ok.iter_mut().enumerate() {
                let distinct = counts(&batch, i + 1)?;
                if rows.iter().zip(&distinct).any(|(n, d)| d < n) {
                    *ok = false;
                }
            }
        }
    }
    Ok(sets
        .into_iter()
        .zip(ok)
        .filter(|(_, ok)| *ok)
        .map(|(set, _)| set)
        .collect())
}

/// Column `i` of `batch` as unsigned counts.
fn counts(batch: &datafusion::arrow::array::RecordBatch, i: usize) -> anyhow::Result<Vec<u64>> {
    let column = datafusion::arrow::compute::cast(
        batch.column(i),
        &datafusion::arrow::datatypes::DataType::UInt64,
    )?;
    Ok(datafusion::arrow::array::AsArray::as_primitive::<
        datafusion::arrow::datatypes::UInt64Type,
    >(&column)
    .values()
    .to_vec())
}

/// `columns` from most to fewest distinct values (the smaller side's count, over the whole
/// table), so the pool for pairs and triples holds the likeliest parts of a key.
async fn most_distinct(
    ctx: &datafusion::prelude::SessionContext,
    columns: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut distinct = vec![u64::MAX; columns.len()];
    for side in ["legacy", "beta"] {
        let measures: Vec<String> = columns
            .iter()
            .map(|c| format!("count(DISTINCT {})", ident(c)))
            .collect();
        let sql = format!("SELECT {} FROM {side}", measures.join(", "));
        for batch in ctx.sql(&sql).await?.collect().await? {
            for (i, count) in distinct.iter_mut().enumerate() {
                *count = (*count).min(counts(&batch, i)?.first().copied().unwrap_or(0));
            }
        }
    }
    let mut ranked: Vec<(u64, String)> =
        distinct.into_iter().zip(columns.iter().cloned()).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(ranked.into_iter().map(|(_, c)| c).collect())
}

/// Every `size`-subset of `pool`, in order.
fn combinations(
    pool: &[String],
    size: usize,
    current: &mut Vec<String>,
    start: usize,
    out: &mut Vec<Vec<String>>,
) {
    if current.len() == size {
        out.push(current.clone());
        return;
    }
    for i in start..pool.len() {
        current.push(pool[i].clone());
        combinations(pool, size, current, i + 1, out);
        current.pop();
    }
}

/// One line per key: the given one (`--key`) with its null and duplicated keys summed over
/// the groups of each side, then every candidate (unique and non-null by construction).
fn key_lines(
    given: &[String],
    health: &[GroupKeyHealth],
    candidates: &[Vec<String>],
) -> Vec<KeyLine> {
    let mut lines = Vec::new();
    if !given.is_empty() {
        let total = |side: &str, f: fn(&GroupKeyHealth) -> u64| -> u64 {
            health.iter().filter(|h| h.side == side).map(f).sum()
        };
        let line = KeyLine {
            role: "given",
            key: given.join("+"),
            legacy_null_keys: total("legacy", |h| h.null_key_rows),
            beta_null_keys: total("beta", |h| h.null_key_rows),
            legacy_dup_keys: total("legacy", |h| h.dup_keys),
            beta_dup_keys: total("beta", |h| h.dup_keys),
            unique: false,
        };
        let unique =
            line.legacy_null_keys + line.beta_null_keys + line.legacy_dup_keys + line.beta_dup_keys
                == 0;
        lines.push(KeyLine { unique, ..line });
    }
    lines.extend(candidates.iter().map(|c| KeyLine {
        role: "candidate",
        key: c.join("+"),
        legacy_null_keys: 0,
        beta_null_keys: 0,
        legacy_dup_keys: 0,
        beta_dup_keys: 0,
        unique: true,
    }));
    lines
}
