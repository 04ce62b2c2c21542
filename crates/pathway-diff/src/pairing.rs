//! Pairing rows without a key (`--pair-unmatched`, `pair_unmatched`): when the rewrite numbers
//! its surrogate ids differently, a keyed diff reports every row as missing plus extra. After
//! the keyed diff, within each group, the rows left on the legacy side (`missing_in_beta`) are
//! paired with those left on the beta side (`extra_in_beta`) that differ from them in the fewest
//! compared columns, under the columns' rules, at most `max` of them.
//!
//! The choice is greedy and deterministic: every candidate pair, ordered by (differing columns,
//! the legacy row's rank, the beta row's rank), is taken when neither row is taken yet; a row's
//! rank is its place among its side's leftover rows of the group ordered by key, then by the
//! compared columns (the order of the row diff: ascending, nulls last). A pair becomes one row
//! of the row diff: `changed` when a column differs, `paired_equal` when none does (only the
//! key did), with the legacy row's key in the key columns and the beta row's in
//! `paired_beta_key`. Work is bounded: a group whose leftover rows make more than
//! [`MAX_CANDIDATES`] candidate pairs is not paired.
//!
//! DataFusion computes the candidates (the same `differs` expressions as the row diff) and
//! rewrites the row diff; the greedy choice is plain Rust over the candidates.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

use crate::engine::{collect, hold_in_memory, ints, query_error, strings, write_frame};
use crate::error::{Error, Result};
use crate::model::DiffSpec;
use crate::plan::{PAIRED_BETA_KEY, Plan, ident, literal};

/// A group is paired only when its leftover rows make at most this many candidate pairs
/// (legacy leftovers times beta leftovers).
pub const MAX_CANDIDATES: u64 = 1_000_000;

const LEFTOVERS: &str = "__pairing_leftovers";
const PAIRS: &str = "__pairing_pairs";
const TAKEN: &str = "__pairing_taken";

/// Pairs chosen per group, and the groups left unpaired because they were too large.
#[derive(Debug, Default)]
pub(crate) struct Paired {
    pub per_group: BTreeMap<String, u64>,
    pub too_large: Vec<String>,
    /// Where the paired row diff was written (a listing path beside the row diff), when a
    /// pair was found: see [`replace_row_diff`].
    pub rewritten: Option<String>,
}

/// Pair the leftover rows of the row diff registered as `row_diff` (whose files are under
/// `dir`, a listing path). When a pair was found the row diff with its pairs is written beside
/// it: the caller reads that one, then puts it in the place of the old ([`replace_row_diff`]).
/// (Read from a new path: DataFusion caches a folder's listing.)
pub(crate) async fn pair_unmatched(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    row_diff: &str,
    dir: &str,
) -> Result<Paired> {
    let query = |step| query_error(&spec.table, step);
    let max = spec.max_pair_columns.unwrap_or(plan.compared.len() / 2);
    let names = plan.row_diff_names();
    let group = plan_group(plan);
    // Each side's leftover rows, ranked: the same ranks for the candidates and the rewrite.
    let form = |i: usize| {
        let c = &plan.compared[i];
        let l = plan.compared_form(i, &ident(&format!("legacy_{}", c.name)));
        let b = plan.compared_form(i, &ident(&format!("beta_{}", c.name)));
        format!("CASE WHEN \"diff\" = 'missing_in_beta' THEN {l} ELSE {b} END")
    };
    // The forms are projected first and the ranks order by those columns: DataFusion 55's
    // optimizer rewrites a CASE over boolean columns inside a window's ORDER BY into a form
    // its plan check then rejects.
    let forms: Vec<String> = (0..plan.compared.len())
        .map(|i| format!("{} AS \"__f{i}\"", form(i)))
        .collect();
    let mut order: Vec<String> = names.key.iter().map(|k| ident(k)).collect();
    order.extend((0..plan.compared.len()).map(|i| format!("\"__f{i}\"")));
    let order = if order.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", order.join(", "))
    };
    let mut projected = vec!["*".to_owned(), format!("{group} AS \"__g\"")];
    projected.extend(forms);
    let leftovers = format!(
        "SELECT *, CAST(ROW_NUMBER() OVER (PARTITION BY \"__g\", \"diff\"{order}) AS BIGINT) AS \"__o\" \
         FROM (SELECT {projected} FROM {table} \
               WHERE \"diff\" IN ('missing_in_beta', 'extra_in_beta')) AS leftovers",
        projected = projected.join(", "),
        table = ident(row_diff),
    );
    let frame = ctx
        .sql(&leftovers)
        .await
        .map_err(query("pairing rows: ranking the leftover rows"))?;
    hold_in_memory(
        ctx,
        frame,
        LEFTOVERS,
        query("pairing rows: holding the leftover rows"),
    )
    .await?;

    let mut paired = Paired::default();
    let result = async {
        // Groups small enough to pair.
        let sizes = format!(
            "SELECT \"__g\", sum(CASE WHEN \"diff\" = 'missing_in_beta' THEN 1 ELSE 0 END), \
             sum(CASE WHEN \"diff\" = 'extra_in_beta' THEN 1 ELSE 0 END) FROM {LEFTOVERS} GROUP BY 1"
        );
        let mut groups = Vec::new();
        for batch in collect(ctx, &sizes, query("pairing rows: sizing the groups")).await? {
            let (g, m, e) = (strings(&batch, 0), ints(&batch, 1), ints(&batch, 2));
            for i in 0..batch.num_rows() {
                let name = g[i].clone().unwrap_or_default();
                if m[i] == 0 || e[i] == 0 {
                    continue;
                }
                if m[i].saturating_mul(e[i]) > MAX_CANDIDATES {
                    paired.too_large.push(name);
                } else {
                    groups.push(name);
                }
            }
        }
        if groups.is_empty() {
            return Ok(());
        }
        let side = |diff: &str, prefix: &str| {
            let mut cols = vec!["\"__g\"".to_owned(), "\"__o\"".to_owned()];
            for (i, c) in plan.compared.iter().enumerate() {
                cols.push(format!(
                    "{} AS {}",
                    ident(&format!("{prefix}_{}", c.name)),
                    ident(&format!("__v{i}"))
                ));
            }
            format!(
                "SELECT {} FROM {LEFTOVERS} WHERE \"diff\" = '{diff}' AND \"__g\" IN ({})",
                cols.join(", "),
                groups.iter().map(|g| literal(g)).collect::<Vec<_>>().join(", ")
            )
        };
        let candidates = format!(
            "SELECT \"__g\", lo, bo, d FROM (\
               SELECT m.\"__g\", m.\"__o\" AS lo, e.\"__o\" AS bo, {d} AS d \
               FROM ({m}) AS m JOIN ({e}) AS e ON m.\"__g\" = e.\"__g\") AS c \
             WHERE d <= {max}",
            d = plan.differing_count("m.", "e."),
            m = side("missing_in_beta", "legacy"),
            e = side("extra_in_beta", "beta"),
        );
        let mut found: Vec<(String, u64, u64, u64)> = Vec::new();
        for batch in collect(ctx, &candidates, query("pairing rows: comparing leftover rows"))
            .await?
        {
            let g = strings(&batch, 0);
            let (lo, bo, d) = (ints(&batch, 1), ints(&batch, 2), ints(&batch, 3));
            for i in 0..batch.num_rows() {
                found.push((g[i].clone().unwrap_or_default(), d[i], lo[i], bo[i]));
            }
        }
        found.sort_unstable();
        let mut taken: HashSet<(String, bool, u64)> = HashSet::new();
        let mut chosen: Vec<(String, u64, u64)> = Vec::new();
        for (g, _, lo, bo) in found {
            if taken.contains(&(g.clone(), true, lo)) || taken.contains(&(g.clone(), false, bo)) {
                continue;
            }
            taken.insert((g.clone(), true, lo));
            taken.insert((g.clone(), false, bo));
            *paired.per_group.entry(g.clone()).or_default() += 1;
            chosen.push((g, lo, bo));
        }
        if chosen.is_empty() {
            return Ok(());
        }
        paired.rewritten = Some(rewrite(ctx, plan, spec, row_diff, dir, &chosen).await?);
        Ok(())
    }
    .await;
    let _ = ctx.deregister_table(LEFTOVERS);
    let _ = ctx.deregister_table(PAIRS);
    let _ = ctx.deregister_table(TAKEN);
    result.map(|()| paired)
}

/// The group as text over the row diff (`'*'` when not grouped).
fn plan_group(plan: &Plan) -> String {
    match &plan.row_diff_names().group {
        Some(g) => format!("CAST({} AS VARCHAR)", ident(g)),
        None => literal("*"),
    }
}

/// Register the chosen pairs (group, legacy rank, beta rank) as `PAIRS`, and the leftover rows
/// they took (group, diff, rank) as `TAKEN`: what the rewrite leaves out.
fn register_pairs(
    ctx: &SessionContext,
    spec: &DiffSpec,
    chosen: &[(String, u64, u64)],
) -> Result<()> {
    let query = |step| query_error(&spec.table, step);
    let error = |e: datafusion::arrow::error::ArrowError| Error::Query {
        table: spec.table.clone(),
        step: "pairing rows",
        source: e.into(),
    };
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let pairs = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("g", DataType::Utf8, false),
            Field::new("lo", DataType::Int64, false),
            Field::new("bo", DataType::Int64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                chosen.iter().map(|c| c.0.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                chosen.iter().map(|c| to_i64(c.1)),
            )),
            Arc::new(Int64Array::from_iter_values(
                chosen.iter().map(|c| to_i64(c.2)),
            )),
        ],
    )
    .map_err(error)?;
    // The leftover rows a pair took, as (group, diff, rank): what the rewrite leaves out.
    let taken = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("g", DataType::Utf8, false),
            Field::new("diff", DataType::Utf8, false),
            Field::new("o", DataType::Int64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                chosen.iter().flat_map(|c| [c.0.as_str(), c.0.as_str()]),
            )),
            Arc::new(StringArray::from_iter_values(
                chosen
                    .iter()
                    .flat_map(|_| ["missing_in_beta", "extra_in_beta"]),
            )),
            Arc::new(Int64Array::from_iter_values(
                chosen.iter().flat_map(|c| [to_i64(c.1), to_i64(c.2)]),
            )),
        ],
    )
    .map_err(error)?;
    for (name, batch) in [(PAIRS, pairs), (TAKEN, taken)] {
        let frame = ctx
            .read_batches(vec![batch])
            .map_err(query("pairing rows: holding the pairs"))?;
        ctx.register_table(name, frame.into_view())
            .map_err(query("pairing rows: holding the pairs"))?;
    }
    Ok(())
}

/// Write the row diff again, each chosen pair's two rows replaced by one.
async fn rewrite(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    row_diff: &str,
    dir: &str,
    chosen: &[(String, u64, u64)],
) -> Result<String> {
    let query = |step| query_error(&spec.table, step);
    register_pairs(ctx, spec, chosen)?;

    // The row diff's columns, in its order: every part of the union lists them so.
    let columns: Vec<String> = ctx
        .table(row_diff)
        .await
        .map_err(query("pairing rows: reading the row diff"))?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let names = plan.row_diff_names();
    let plain = |prefix: &str| {
        columns
            .iter()
            .map(|c| format!("{prefix}{}", ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let beta_key = if names.key.is_empty() {
        "''".to_owned()
    } else {
        format!(
            "concat_ws('|', {})",
            names
                .key
                .iter()
                .map(|k| format!("COALESCE(CAST(e.{} AS VARCHAR), 'NULL')", ident(k)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // A pair's row: the legacy row's group and key, both rows' values, the rules' verdicts.
    let internal = |side: &str| {
        let mut cols = vec!["\"__g\"".to_owned(), "\"__o\"".to_owned()];
        cols.extend(columns.iter().map(|c| ident(c)));
        for (i, c) in plan.compared.iter().enumerate() {
            cols.push(format!(
                "{} AS {}",
                ident(&format!("{side}_{}", c.name)),
                ident(&format!("__v{i}"))
            ));
        }
        format!("SELECT {} FROM {LEFTOVERS}", cols.join(", "))
    };
    let changed = plan.changed_list("m.", "e.");
    let hidden = plan.hidden_list("m.", "e.");
    let pair_columns: Vec<String> = columns
        .iter()
        .map(|c| {
            let expr = match c.as_str() {
                "diff" => {
                    format!("CASE WHEN {changed} <> '' THEN 'changed' ELSE 'paired_equal' END")
                }
                "side" => "'both'".to_owned(),
                "changed_columns" => changed.clone(),
                "hidden_columns" => hidden.clone(),
                c if c == PAIRED_BETA_KEY => beta_key.clone(),
                c if c.starts_with("beta_")
                    && plan
                        .compared
                        .iter()
                        .any(|p| format!("beta_{}", p.name) == c) =>
                {
                    format!("e.{}", ident(c))
                }
                c => format!("m.{}", ident(c)),
            };
            format!("{expr} AS {}", ident(c))
        })
        .collect();
    let m = format!("{} WHERE \"diff\" = 'missing_in_beta'", internal("legacy"));
    let e = format!("{} WHERE \"diff\" = 'extra_in_beta'", internal("beta"));
    let sql = format!(
        "SELECT {all} FROM {table} WHERE \"diff\" NOT IN ('missing_in_beta', 'extra_in_beta') \
         UNION ALL \
         SELECT {left} FROM {LEFTOVERS} AS l LEFT JOIN {TAKEN} AS t \
           ON t.g = l.\"__g\" AND t.\"diff\" = l.\"diff\" AND t.o = l.\"__o\" \
           WHERE t.g IS NULL \
         UNION ALL \
         SELECT {pairs} FROM {PAIRS} AS p \
           JOIN ({m}) AS m ON m.\"__g\" = p.g AND m.\"__o\" = p.lo \
           JOIN ({e}) AS e ON e.\"__g\" = p.g AND e.\"__o\" = p.bo",
        all = plain(""),
        table = ident(row_diff),
        left = plain("l."),
        pairs = pair_columns.join(", "),
    );
    let frame = ctx
        .sql(&sql)
        .await
        .map_err(query("pairing rows: rewriting the row diff"))?;
    // Written beside the row diff, then put in its place: a killed run leaves the unpaired row
    // diff or the paired one, never half of either.
    let folder = Path::new(dir.trim_end_matches('/'));
    let staged = folder.with_file_name(format!(
        ".{}.pairing",
        folder
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let io = |source| Error::Io {
        table: spec.table.clone(),
        path: staged.clone(),
        source,
    };
    if staged.exists() {
        std::fs::remove_dir_all(&staged).map_err(io)?;
    }
    std::fs::create_dir_all(&staged).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    let staged_listing = format!("{}/", staged.display());
    write_frame(frame, plan, spec, &staged_listing).await?;
    Ok(staged_listing)
}

/// Put the paired row diff written at `staged` (a listing path) in the place of the one at
/// `dir`, once nothing reads either.
pub(crate) fn replace_row_diff(spec: &DiffSpec, staged: &str, dir: &str) -> Result<()> {
    let (staged, folder) = (
        Path::new(staged.trim_end_matches('/')),
        Path::new(dir.trim_end_matches('/')),
    );
    let io = |source| Error::Io {
        table: spec.table.clone(),
        path: folder.to_path_buf(),
        source,
    };
    std::fs::remove_dir_all(folder).map_err(io)?;
    std::fs::rename(staged, folder).map_err(io)
}
