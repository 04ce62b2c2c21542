//! Runs the diff queries of [`crate::plan`] and folds their results into a [`TableDiff`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::EmptyRecordBatchStream;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::StreamExt;

use crate::cap::{CapOutcome, CappedRowDiff};
use crate::columns::{Columns, check_roles, fields_of, plan_columns, rename_beta_columns};
use crate::error::{Error, Result};
use crate::model::{
    CategoryCount, ColumnDiff, DiffSpec, GroupDiff, RuleHidden, SchemaDiff, TableDiff,
};
use crate::plan::Plan;
use crate::triage;

/// Row diffs up to this many rows are aggregated from memory rather than from their files (and
/// changed cells up to this many classified from memory).
const ROW_DIFF_IN_MEMORY: u64 = 1_000_000;
/// The changed cells of the row diff, while they are counted per category.
const CHANGED_CELLS: &str = "__changed_cells";

/// Diff the registered tables `legacy` and `beta` per group, write the row diff as Parquet under
/// `row_diff_dir` (Hive-partitioned by the group column when there is one) and return the
/// per-group summary.
///
/// # Errors
/// A key or group column missing on a side, a failing query, or an unwritable `row_diff_dir`.
pub async fn diff_tables(
    ctx: &SessionContext,
    legacy: &str,
    beta: &str,
    spec: &DiffSpec,
    row_diff_dir: &Path,
) -> Result<TableDiff> {
    crate::udf::register(ctx);
    crate::fingerprint::register(ctx);
    let legacy_fields = fields_of(ctx, legacy, spec, "reading the legacy table").await?;
    check_roles(spec, &legacy_fields)?;
    let beta = &rename_beta_columns(ctx, beta, spec).await?;
    let beta_fields = fields_of(ctx, beta, spec, "reading the beta table").await?;
    let Columns {
        key,
        compared,
        schema,
    } = plan_columns(spec, &legacy_fields, &beta_fields)?;
    let plan = Plan {
        legacy_table: legacy.to_owned(),
        beta_table: beta.to_owned(),
        group: spec.group_by.clone(),
        keyed: !spec.key.is_empty(),
        key,
        compared,
        exclude_groups: spec.exclude_groups.clone(),
        pair_unmatched: spec.pair_unmatched,
    };
    if spec.pair_unmatched && spec.max_row_diff.is_some() {
        return Err(Error::Options {
            table: spec.table.clone(),
            message: "`pair_unmatched` and `max_row_diff` cannot be combined yet: pairing needs \
                      every leftover row, which a capped row diff does not keep"
                .into(),
        });
    }

    if !plan.keyed {
        return multiset_diff(ctx, &plan, spec, schema, row_diff_dir).await;
    }

    keyed_diff(
        ctx,
        plan,
        spec,
        schema,
        [&legacy_fields, &beta_fields],
        row_diff_dir,
    )
    .await
}

/// The diff of a keyed table: the footprints first (groups decided without being read), then
/// the triage of the others (or, with `--no-triage`, one join of every row), then what the row
/// diff says per group.
async fn keyed_diff(
    ctx: &SessionContext,
    mut plan: Plan,
    spec: &DiffSpec,
    schema: SchemaDiff,
    fields: [&[(String, DataType)]; 2],
    row_diff_dir: &Path,
) -> Result<TableDiff> {
    let dir = prepare_row_diff_dir(spec, row_diff_dir)?;
    let mut sink = RowDiffSink {
        dir: dir.clone(),
        capped: None,
    };
    let footprinted = Footprinted::find(ctx, &plan, spec, fields).await?;
    let mut groups = footprinted.decided_whole();
    let decided_by_footprints = groups.len();
    let same_by_footprints: Vec<String> = footprinted.decided.keys().cloned().collect();
    let mut row_diff_rows = if spec.triage {
        triage_and_diff(ctx, &plan, spec, &footprinted, &mut groups, &mut sink).await?
    } else {
        join_and_diff(ctx, &mut plan, spec, &footprinted, &mut groups, &mut sink).await?
    };
    // A capped row diff: its kept rows go to disk now, its exact counts replace those of the
    // queries below, which only see the kept rows.
    let capped = match sink.capped.take() {
        Some(state) => {
            let mut outcome = state.finish()?;
            row_diff_rows = outcome.kept.iter().map(|b| b.num_rows() as u64).sum();
            let kept = std::mem::take(&mut outcome.kept);
            write_kept_rows(spec, &plan, ctx, &dir, kept).await?;
            Some(outcome)
        }
        None => None,
    };

    let categories = summarize_row_diff(
        ctx,
        &plan,
        spec,
        &dir,
        row_diff_dir,
        row_diff_rows,
        capped,
        &mut groups,
    )
    .await?;

    let mut groups: Vec<GroupDiff> = groups.into_values().collect();
    for entry in &mut groups {
        entry.matched_rows = entry.legacy_rows.saturating_sub(
            entry.missing_in_beta + entry.changed_rows + entry.legacy_duplicate_rows,
        );
        entry.columns.sort_by(|a, b| a.column.cmp(&b.column));
        entry.hidden.sort_by(|a, b| a.column.cmp(&b.column));
    }
    let same_rows = same_rows(&plan, &schema, &groups, same_by_footprints);
    Ok(TableDiff {
        table: spec.table.clone(),
        key: spec.key.clone(),
        compared_columns: plan.compared.iter().map(|c| c.name.clone()).collect(),
        schema,
        groups,
        categories,
        decided_by_footprints,
        same_rows,
    })
}

/// The groups whose two sides hold the same rows as written (see [`TableDiff::same_rows`]):
/// `decided` by the footprints, and the groups of the same multiset of rows when that multiset
/// was compared as written. Under a rule, a cast to text or a column on one side only, equal
/// as compared is not equal as written.
fn same_rows(
    plan: &Plan,
    schema: &SchemaDiff,
    groups: &[GroupDiff],
    decided: Vec<String>,
) -> Vec<String> {
    let as_written = !schema.has_one_sided_columns()
        && plan
            .key
            .iter()
            .chain(&plan.compared)
            .all(|c| !c.as_text && !c.as_number && c.rules.is_exact());
    let mut same: std::collections::BTreeSet<String> = decided.into_iter().collect();
    if as_written {
        same.extend(
            groups
                .iter()
                .filter(|g| g.multiset_equal && g.legacy_rows > 0)
                .map(|g| g.group.clone()),
        );
    }
    same.into_iter().collect()
}

/// What the footprints in the files' footers decided (see `GroupFootprints`), with the rows
/// per group the triage needs anyway.
struct Footprinted {
    /// Rows per group and side.
    sizes: BTreeMap<String, [u64; 2]>,
    /// Groups whose two sides hold the same rows, with their rows and duplicated keys.
    decided: BTreeMap<String, triage::SideProfile>,
    /// Of those with a duplicated key, the ones whose files and duplicated rows are known: they
    /// are read by those rows' positions alone, after the chunks.
    picked: Vec<String>,
}

impl Footprinted {
    async fn find(
        ctx: &SessionContext,
        plan: &Plan,
        spec: &DiffSpec,
        fields: [&[(String, DataType)]; 2],
    ) -> Result<Footprinted> {
        // Footprints that cover every row of both tables give the group sizes without a scan.
        let sizes = if spec.footprints.complete == [true, true] && plan.group.is_some() {
            triage::sizes_of_footprints(plan, &spec.footprints)
        } else if spec.triage || !spec.footprints.legacy.is_empty() {
            triage::group_sizes(ctx, plan, &spec.table).await?
        } else {
            BTreeMap::new()
        };
        let decided = triage::decided_by_footprints(plan, &spec.footprints, fields, &sizes);
        if !decided.is_empty() {
            tracing::debug!(
                groups = decided.len(),
                "decided by the footprints in the files' footers"
            );
        }
        let picked: Vec<String> = decided
            .iter()
            .filter(|(name, side)| {
                side.dup_keys > 0
                    && [&spec.footprints.legacy, &spec.footprints.beta]
                        .iter()
                        .all(|f| f.get(*name).is_some_and(|f| f.dup_rows.is_some()))
                    && spec.footprints.files.iter().all(|f| f.contains_key(*name))
            })
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Footprinted {
            sizes,
            decided,
            picked,
        })
    }

    /// The groups decided without a duplicated key: FULL MATCH without being read.
    fn decided_whole(&self) -> BTreeMap<String, GroupDiff> {
        self.decided
            .iter()
            .filter(|(_, side)| side.dup_keys == 0)
            .map(|(name, side)| {
                let mut entry = GroupDiff::empty(name);
                entry.legacy_rows = side.rows;
                entry.beta_rows = side.rows;
                entry.multiset_equal = true;
                (name.clone(), entry)
            })
            .collect()
    }
}

/// The triage: chunk by chunk, the groups' fingerprints and residual keys, and the row diff of
/// the residual rows only; then the rows under duplicated keys of the picked groups. Fills
/// `groups` with each group's rows and duplicated keys; returns the rows written to the row
/// diff.
async fn triage_and_diff(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    footprinted: &Footprinted,
    groups: &mut BTreeMap<String, GroupDiff>,
    sink: &mut RowDiffSink,
) -> Result<u64> {
    let Footprinted {
        sizes,
        decided,
        picked,
    } = footprinted;
    let mut row_diff_rows = 0;
    let mut pending = triage::PendingRows::default();
    // The chunks leave the picked groups out, as those decided whole.
    let mut chunked = decided.clone();
    for name in picked {
        if let Some(side) = chunked.get_mut(name) {
            side.dup_keys = 0;
        }
    }
    for chunk in triage::chunks(sizes, spec.chunk_rows, &chunked) {
        let found =
            triage::triage_chunk(ctx, plan, &spec.table, &chunk, decided, spec.chunk_rows).await?;
        for (name, [legacy_side, beta_side]) in &found.profiles {
            let mut entry = GroupDiff::empty(name);
            if let Some(side) = legacy_side {
                entry.legacy_rows = side.rows;
                entry.legacy_dup_keys = side.dup_keys;
            }
            if let Some(side) = beta_side {
                entry.beta_rows = side.rows;
                entry.beta_dup_keys = side.dup_keys;
            }
            entry.multiset_equal = found.same_rows(name);
            groups.insert(name.clone(), entry);
        }
        if let Some(tables) = &found.residual_tables {
            if triage::PendingRows::can_hold(&found, &chunk, spec.chunk_rows) {
                pending.hold(ctx, &spec.table, &found).await?;
            } else {
                row_diff_rows += diff_pending(ctx, plan, spec, sink, &mut pending).await?;
                // Few residual keys join at once, like a chunk; many, a range at a time.
                let slices = if triage::joins_in_slices(found.residual_keys, spec.chunk_rows) {
                    chunk.key_slices
                } else {
                    1
                };
                row_diff_rows +=
                    diff_residual_in_slices(ctx, plan, spec, sink, tables, slices).await?;
            }
        }
        triage::release(ctx, &spec.table)?;
        if pending.is_due(spec.chunk_rows) {
            row_diff_rows += diff_pending(ctx, plan, spec, sink, &mut pending).await?;
        }
    }
    row_diff_rows += diff_pending(ctx, plan, spec, sink, &mut pending).await?;
    if !picked.is_empty() {
        row_diff_rows += diff_picked(ctx, plan, spec, sink, picked).await?;
        for name in picked {
            let side = decided[name];
            let mut entry = GroupDiff::empty(name);
            entry.legacy_rows = side.rows;
            entry.beta_rows = side.rows;
            entry.legacy_dup_keys = side.dup_keys;
            entry.beta_dup_keys = side.dup_keys;
            groups.insert(name.clone(), entry);
        }
    }
    Ok(row_diff_rows)
}

/// Without the triage (`--no-triage`): rows and duplicated keys per group and side by one
/// aggregate each, then one join of every row of the groups the footprints did not decide
/// whole. Returns the rows written to the row diff.
async fn join_and_diff(
    ctx: &SessionContext,
    plan: &mut Plan,
    spec: &DiffSpec,
    footprinted: &Footprinted,
    groups: &mut BTreeMap<String, GroupDiff>,
    sink: &mut RowDiffSink,
) -> Result<u64> {
    // The join leaves out the groups the footprints decided whole.
    plan.exclude_groups.extend(
        footprinted
            .decided
            .iter()
            .filter(|(_, side)| side.dup_keys == 0)
            .map(|(name, _)| name.clone()),
    );
    let group_entry = |groups: &mut BTreeMap<String, GroupDiff>, g: &str| {
        groups
            .entry(g.to_owned())
            .or_insert_with(|| GroupDiff::empty(g))
            .clone()
    };
    for (is_legacy, table) in [(true, &plan.legacy_table), (false, &plan.beta_table)] {
        let batches = collect(
            ctx,
            &plan.side_stats_sql(table),
            query_error(&spec.table, "counting rows per key"),
        )
        .await?;
        for batch in &batches {
            let (g, rows, dups) = (strings(batch, 0), ints(batch, 1), ints(batch, 2));
            for i in 0..batch.num_rows() {
                let name = g[i].clone().unwrap_or_default();
                let mut entry = group_entry(groups, &name);
                if is_legacy {
                    entry.legacy_rows = rows[i];
                    entry.legacy_dup_keys = dups[i];
                } else {
                    entry.beta_rows = rows[i];
                    entry.beta_dup_keys = dups[i];
                }
                groups.insert(name, entry);
            }
        }
    }
    // The row diff goes to disk first; the remaining aggregates read it back, so they only
    // touch the rows that differ.
    write_row_diff(ctx, plan, &plan.row_diff_sql(), spec, sink).await
}

/// Read the row diff written under `dir` back (pairing its leftover rows first when asked) and
/// put in `groups` what it says: the counts of each kind of differing row, each column's
/// mismatches and example, the cells rules hid, whether each group holds the same rows; returns
/// the changed cells' categories. A capped row diff (`capped`) only holds the kept rows: its
/// exact counts come from the outcome instead.
#[allow(clippy::too_many_arguments)]
async fn summarize_row_diff(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    dir: &str,
    row_diff_dir: &Path,
    row_diff_rows: u64,
    capped: Option<CapOutcome>,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<Vec<CategoryCount>> {
    let query = |step| query_error(&spec.table, step);
    if !has_parquet(row_diff_dir) && capped.is_none() {
        // No row differs: whatever the fingerprints said (`-0.0` and `0.0`, say, or rows equal
        // only under a rule), every group holds the same rows.
        for entry in groups.values_mut() {
            entry.multiset_equal = true;
        }
        return Ok(Vec::new());
    }
    // On a cluster, the row diff was written by this process (see `write_row_diff`), so the
    // queries that read it back run here too: it is the small part of the night, and the
    // executors need not see the run's output folder.
    let ctx = &row_diff_session(ctx, spec)?;
    let name = format!("__row_diff_{}", spec.table);
    // The aggregates below read the row diff a few dozen times; read the files once and keep
    // the rows in memory unless the row diff is large.
    let on_error = query("reading the row diff back");
    let frame = match &capped {
        // A cap of 0 rows (or every group's first key holding more rows than the cap)
        // writes nothing: the queries below then see an empty row diff.
        Some(outcome) if !has_parquet(row_diff_dir) => ctx
            .read_batches(vec![RecordBatch::new_empty(outcome.schema.clone())])
            .map_err(&on_error)?,
        _ => ctx
            .read_parquet(dir, row_diff_read_options(plan))
            .await
            .map_err(&on_error)?,
    };
    hold_unless_large(ctx, frame, &name, row_diff_rows, &on_error).await?;
    let paired_row_diff = if spec.pair_unmatched {
        pair_leftover_rows(ctx, plan, spec, &name, dir, row_diff_rows, groups).await?
    } else {
        None
    };

    count_differing_rows(ctx, plan, spec, &name, groups).await?;
    // Only the columns that differ (or that a rule hid) somewhere tonight get a branch in
    // the per-column queries.
    let listed = listed_columns(ctx, &name, &spec.table).await?;
    let changed = plan.with_listed_columns(&listed.changed);
    let hidden = plan.with_listed_columns(&listed.hidden);
    column_mismatches(ctx, (plan, &changed), spec, &name, groups).await?;
    let categories =
        classify_changed_cells(ctx, &changed, spec, &name, listed.changed_cells).await?;
    cells_hidden_by_rules(ctx, &hidden, spec, &name, groups).await?;
    let mut unbalanced = unbalanced_groups(ctx, plan, spec, &name).await?;
    if let Some(outcome) = capped {
        unbalanced = exact_counts(ctx, plan, spec, outcome, groups).await?;
    }
    for (name, entry) in groups.iter_mut() {
        entry.multiset_equal = entry.changed_rows == 0
            && entry.missing_in_beta == 0
            && entry.extra_in_beta == 0
            && unbalanced.get(name).copied().unwrap_or(0) == 0;
    }
    ctx.deregister_table(&name)
        .map_err(query("releasing the row diff"))?;
    if let Some(staged) = paired_row_diff {
        crate::pairing::replace_row_diff(spec, &staged, dir)?;
    }
    Ok(categories)
}

/// Per group, how many (key, values) combinations under duplicated keys of the registered row
/// diff `name` occur a different number of times on the two sides ([`Plan::multiset_sql`]).
async fn unbalanced_groups(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    name: &str,
) -> Result<BTreeMap<String, u64>> {
    let mut unbalanced = BTreeMap::new();
    for batch in collect(
        ctx,
        &plan.multiset_sql(name),
        query_error(&spec.table, "comparing duplicated rows"),
    )
    .await?
    {
        let (g, n) = (strings(&batch, 0), ints(&batch, 1));
        for i in 0..batch.num_rows() {
            unbalanced.insert(g[i].clone().unwrap_or_default(), n[i]);
        }
    }
    Ok(unbalanced)
}

/// Pair the row diff's leftover rows (missing in beta, extra in beta) that differ in a few
/// columns only (`pair_unmatched`), count the pairs per group, and return the rewritten row
/// diff's staging folder, which from then on is the registered `name`.
async fn pair_leftover_rows(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    name: &str,
    dir: &str,
    row_diff_rows: u64,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<Option<String>> {
    let query = |step| query_error(&spec.table, step);
    let on_error = query("reading the row diff back");
    let mut paired_row_diff = None;
    let paired = crate::pairing::pair_unmatched(ctx, plan, spec, name, dir).await?;
    if let Some(staged) = &paired.rewritten {
        // The row diff with its pairs: what the counts below read.
        ctx.deregister_table(name)
            .map_err(query("releasing the row diff"))?;
        let frame = ctx
            .read_parquet(staged, row_diff_read_options(plan))
            .await
            .map_err(&on_error)?;
        hold_unless_large(ctx, frame, name, row_diff_rows, &on_error).await?;
        paired_row_diff = Some(staged.clone());
    }
    if !paired.too_large.is_empty() {
        tracing::warn!(
            "warning: table `{}`: rows not paired in {} group(s) whose leftover rows make more than {} candidate pairs: {}",
            spec.table,
            paired.too_large.len(),
            crate::pairing::MAX_CANDIDATES,
            paired.too_large.join(", ")
        );
    }
    for (group, n) in paired.per_group {
        groups
            .entry(group.clone())
            .or_insert_with(|| GroupDiff::empty(&group));
        if let Some(entry) = groups.get_mut(&group) {
            entry.paired_rows = n;
        }
    }
    Ok(paired_row_diff)
}

/// Per group, the rows of each kind in the row diff (`name`): changed, missing in beta, extra
/// in beta, and under duplicated keys on each side.
async fn count_differing_rows(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    name: &str,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<()> {
    let query = |step| query_error(&spec.table, step);
    for batch in collect(
        ctx,
        &plan.counts_sql(name),
        query("counting differing rows"),
    )
    .await?
    {
        let g = strings(&batch, 0);
        let (changed, missing, extra) = (ints(&batch, 1), ints(&batch, 2), ints(&batch, 3));
        let (dup_l, dup_b) = (ints(&batch, 4), ints(&batch, 5));
        for i in 0..batch.num_rows() {
            let name = g[i].clone().unwrap_or_default();
            let mut entry = groups
                .get(&name)
                .cloned()
                .unwrap_or_else(|| GroupDiff::empty(&name));
            entry.changed_rows = changed[i];
            entry.missing_in_beta = missing[i];
            entry.extra_in_beta = extra[i];
            entry.legacy_duplicate_rows = dup_l[i];
            entry.beta_duplicate_rows = dup_b[i];
            groups.insert(name, entry);
        }
    }
    Ok(())
}

/// Per group and changed column (those of `changed`), the mismatches and one example pair,
/// chosen in the order of `plan`'s rows.
async fn column_mismatches(
    ctx: &SessionContext,
    (plan, changed): (&Plan, &Plan),
    spec: &DiffSpec,
    name: &str,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<()> {
    let query = |step| query_error(&spec.table, step);
    if let Some(sql) = changed.columns_sql(name, &plan.compared) {
        for batch in collect(ctx, &sql, query("counting mismatches per column")).await? {
            let (g, column, n) = (strings(&batch, 0), strings(&batch, 1), ints(&batch, 2));
            let (le, be) = (strings(&batch, 3), strings(&batch, 4));
            for i in 0..batch.num_rows() {
                let name = g[i].clone().unwrap_or_default();
                if let Some(entry) = groups.get_mut(&name) {
                    entry.columns.push(ColumnDiff {
                        column: column[i].clone().unwrap_or_default(),
                        mismatches: n[i],
                        legacy_example: le[i].clone(),
                        beta_example: be[i].clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// What kind of difference each changed cell is ([`crate::classify`]), counted per group,
/// column and category.
async fn classify_changed_cells(
    ctx: &SessionContext,
    changed: &Plan,
    spec: &DiffSpec,
    name: &str,
    changed_cells: u64,
) -> Result<Vec<CategoryCount>> {
    let query = |step| query_error(&spec.table, step);
    let mut categories = Vec::new();
    if let Some(sql) = changed.changed_cells_sql(name) {
        crate::udf::register(ctx);
        let on_error = query("classifying changed cells");
        let frame = ctx.sql(&sql).await.map_err(&on_error)?;
        hold_unless_large(ctx, frame, CHANGED_CELLS, changed_cells, &on_error).await?;
        let sql = Plan::categories_sql(CHANGED_CELLS);
        for batch in collect(ctx, &sql, query("classifying changed cells")).await? {
            let (g, column, category) =
                (strings(&batch, 0), strings(&batch, 1), strings(&batch, 2));
            let (legacy_value, beta_value) = (strings(&batch, 3), strings(&batch, 4));
            let shift = strings(&batch, 5);
            let (cells, example) = (ints(&batch, 6), strings(&batch, 7));
            for i in 0..batch.num_rows() {
                categories.push(CategoryCount {
                    group: g[i].clone().unwrap_or_default(),
                    column: column[i].clone().unwrap_or_default(),
                    category: category[i].clone().unwrap_or_default(),
                    legacy_value: legacy_value[i].clone(),
                    beta_value: beta_value[i].clone(),
                    shift_days: shift[i].as_deref().and_then(|s| s.parse().ok()),
                    cells: cells[i],
                    example_key: example[i].clone().unwrap_or_default(),
                });
            }
        }
        ctx.deregister_table(CHANGED_CELLS)
            .map_err(query("releasing the changed cells"))?;
    }
    Ok(categories)
}

/// Per group and column, the cells a rule (trim, tolerance, expected pair, ...) made equal.
async fn cells_hidden_by_rules(
    ctx: &SessionContext,
    hidden: &Plan,
    spec: &DiffSpec,
    name: &str,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<()> {
    let query = |step| query_error(&spec.table, step);
    if let Some(sql) = hidden.hidden_sql(name) {
        for batch in collect(ctx, &sql, query("counting differences hidden by rules")).await? {
            let (g, column, rules, cells, expected) = (
                strings(&batch, 0),
                strings(&batch, 1),
                strings(&batch, 2),
                ints(&batch, 3),
                ints(&batch, 4),
            );
            for i in 0..batch.num_rows() {
                if let Some(entry) = groups.get_mut(g[i].as_deref().unwrap_or_default()) {
                    entry.hidden.push(RuleHidden {
                        column: column[i].clone().unwrap_or_default(),
                        rules: rules[i].clone().unwrap_or_default(),
                        cells: cells[i],
                        expected_cells: expected[i],
                    });
                }
            }
        }
    }
    Ok(())
}

/// Put a capped row diff's exact counts in `groups` in place of those the queries found in its
/// kept rows (examples and categories stay those of the kept rows), mark the capped groups, and
/// return, per group, how many rows under duplicated keys do not balance (from all of them).
async fn exact_counts(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    outcome: CapOutcome,
    groups: &mut BTreeMap<String, GroupDiff>,
) -> Result<BTreeMap<String, u64>> {
    let query = |step| query_error(&spec.table, step);
    for (name, entry) in groups.iter_mut() {
        let counts = outcome.counts.get(name).cloned().unwrap_or_default();
        entry.changed_rows = counts.changed;
        entry.missing_in_beta = counts.missing;
        entry.extra_in_beta = counts.extra;
        entry.legacy_duplicate_rows = counts.duplicate_legacy;
        entry.beta_duplicate_rows = counts.duplicate_beta;
        let examples = std::mem::take(&mut entry.columns);
        entry.columns = counts
            .mismatches
            .iter()
            .map(|(column, &mismatches)| {
                let example = examples.iter().find(|c| &c.column == column);
                ColumnDiff {
                    column: column.clone(),
                    mismatches,
                    legacy_example: example.and_then(|c| c.legacy_example.clone()),
                    beta_example: example.and_then(|c| c.beta_example.clone()),
                }
            })
            .collect();
        entry.hidden = counts
            .hidden
            .iter()
            .map(|(column, &cells)| RuleHidden {
                column: column.clone(),
                rules: plan
                    .compared
                    .iter()
                    .find(|c| &c.name == column)
                    .map(|c| c.rules.names())
                    .unwrap_or_default(),
                cells,
                expected_cells: counts.expected.get(column).copied().unwrap_or(0),
            })
            .collect();
        entry.row_diff_capped = outcome.capped.contains(name);
    }
    let duplicates: Vec<RecordBatch> = outcome
        .duplicates
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .collect();
    if duplicates.is_empty() {
        return Ok(BTreeMap::new());
    }
    let name = format!("__row_diff_duplicates_{}", spec.table);
    let frame = ctx
        .read_batches(duplicates)
        .map_err(query("comparing duplicated rows"))?;
    ctx.register_table(&name, frame.into_view())
        .map_err(query("comparing duplicated rows"))?;
    let unbalanced = unbalanced_groups(ctx, plan, spec, &name).await?;
    ctx.deregister_table(&name)
        .map_err(query("comparing duplicated rows"))?;
    Ok(unbalanced)
}

/// How the row diff's files are read back: its group column is the Hive partition.
fn row_diff_read_options(plan: &Plan) -> ParquetReadOptions<'static> {
    let read = ParquetReadOptions::default();
    match &plan.row_diff_names().group {
        Some(g) => read.table_partition_cols(vec![(g.clone(), DataType::Utf8)]),
        None => read,
    }
}

/// Empty (or create) `row_diff_dir`. Returns it as a listing path (`dir/`).
fn prepare_row_diff_dir(spec: &DiffSpec, row_diff_dir: &Path) -> Result<String> {
    let io = |source| Error::Io {
        table: spec.table.clone(),
        path: row_diff_dir.to_path_buf(),
        source,
    };
    if row_diff_dir.exists() {
        std::fs::remove_dir_all(row_diff_dir).map_err(io)?;
    }
    std::fs::create_dir_all(row_diff_dir).map_err(io)?;
    // The row diff holds students' values, and DataFusion creates its files with the default
    // mode: the folder is the owner's only, so nobody else can open them.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(row_diff_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io)?;
    }
    Ok(format!("{}/", row_diff_dir.display()))
}

/// Write the row diff of the residual rows in `tables` (legacy, beta); returns its rows.
async fn diff_residual(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    sink: &mut RowDiffSink,
    [legacy, beta]: &[String; 2],
) -> Result<u64> {
    let residual = Plan {
        legacy_table: legacy.clone(),
        beta_table: beta.clone(),
        ..plan.clone()
    };
    write_row_diff(ctx, &residual, &residual.row_diff_sql(), spec, sink).await
}

/// The row diff of a chunk's residual rows, joined one of `slices` ranges of key hashes at a
/// time: for a group larger than a chunk with many residual keys, so the join holds one side's
/// residual rows of a range, not of the whole group, and a district whose every row differs
/// stays within the memory pool (DataFusion's hash join does not spill).
async fn diff_residual_in_slices(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    sink: &mut RowDiffSink,
    tables: &[String; 2],
    slices: u64,
) -> Result<u64> {
    if slices <= 1 {
        return diff_residual(ctx, plan, spec, sink, tables).await;
    }
    let on_error = query_error(&spec.table, "slicing the residual rows");
    let mut rows = 0;
    for slice in 0..slices {
        let mut sliced = [String::new(), String::new()];
        for (i, table) in tables.iter().enumerate() {
            let name = format!("{table}__slice");
            let sql = format!(
                "SELECT * FROM {} WHERE {}",
                crate::plan::ident(table),
                Plan::hash_range(&plan.key_hash_expr(), slice, slices)
            );
            let view = ctx.sql(&sql).await.map_err(&on_error)?.into_view();
            ctx.deregister_table(&name).map_err(&on_error)?;
            ctx.register_table(&name, view).map_err(&on_error)?;
            sliced[i] = name;
        }
        rows += diff_residual(ctx, plan, spec, sink, &sliced).await?;
        for name in &sliced {
            ctx.deregister_table(name).map_err(&on_error)?;
        }
    }
    Ok(rows)
}

/// The picked rows while they are diffed (legacy, beta).
const PICKED: [&str; 2] = ["__picked_legacy", "__picked_beta"];

/// Write the row diff of the `picked` groups (see `GroupFootprints`): their rows under
/// duplicated keys, read by position from each side's file.
async fn diff_picked(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    sink: &mut RowDiffSink,
    picked: &[String],
) -> Result<u64> {
    let on_error = query_error(&spec.table, "reading the rows under duplicated keys");
    let group = plan.group.as_deref().unwrap_or_default();
    let no_rename = Vec::new();
    let clock = std::time::Instant::now();
    let mut schemas = Vec::new();
    for table in [&plan.legacy_table, &plan.beta_table] {
        schemas.push(Arc::new(
            ctx.table(table.as_str())
                .await
                .map_err(&on_error)?
                .schema()
                .as_arrow()
                .clone(),
        ));
    }
    let picks: Vec<Vec<crate::picked::Picks<'_>>> =
        [&spec.footprints.legacy, &spec.footprints.beta]
            .into_iter()
            .enumerate()
            .map(|(side, footprints)| {
                picked
                    .iter()
                    .map(|name| crate::picked::Picks {
                        group: name,
                        file: &spec.footprints.files[side][name],
                        rows: footprints[name].dup_rows.as_deref().unwrap_or_default(),
                    })
                    .collect()
            })
            .collect();
    // The two sides' files are read at the same time, one thread each: reading is decoding
    // pages, CPU-bound.
    let read: Vec<Result<Vec<RecordBatch>>> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..2)
            .map(|side| {
                let (picks, schema) = (&picks[side], &schemas[side]);
                let rename = if side == 1 { &spec.rename } else { &no_rename };
                scope.spawn(move || {
                    crate::picked::read_picks(&spec.table, picks, schema, group, rename)
                })
            })
            .collect();
        running
            .into_iter()
            .map(|reading| reading.join().expect("reading picked rows does not panic"))
            .collect()
    });
    for (side, (batches, schema)) in read.into_iter().zip(schemas).enumerate() {
        register_in_memory(ctx, PICKED[side], schema, batches?, &on_error)?;
    }
    tracing::debug!(
        groups = picked.len(),
        seconds = clock.elapsed().as_secs_f64(),
        "read the rows under duplicated keys by position"
    );
    let rows = diff_residual(ctx, plan, spec, sink, &PICKED.map(str::to_owned)).await?;
    for name in PICKED {
        ctx.deregister_table(name).map_err(&on_error)?;
    }
    Ok(rows)
}

/// Write the row diff of the pending residual rows, if any, and forget them.
async fn diff_pending(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    sink: &mut RowDiffSink,
    pending: &mut triage::PendingRows,
) -> Result<u64> {
    let Some(tables) = pending.register(ctx, &spec.table)? else {
        return Ok(0);
    };
    let rows = diff_residual(ctx, plan, spec, sink, &tables).await?;
    triage::release_pending(ctx, &spec.table)?;
    Ok(rows)
}

/// Add the rows of the row diff `sql` as Parquet files under `dir` (a listing path from
/// [`prepare_row_diff_dir`]), Hive-partitioned by the group column. Each call writes new files.
/// With a cap ([`DiffSpec::max_row_diff`]) the rows go to `capped` instead, which counts them and
/// keeps the first by key for [`write_kept_rows`]. Returns the number of rows of the row diff.
async fn write_row_diff(
    ctx: &SessionContext,
    plan: &Plan,
    sql: &str,
    spec: &DiffSpec,
    sink: &mut RowDiffSink,
) -> Result<u64> {
    let RowDiffSink { dir, capped } = sink;
    let on_error = |step| query_error(&spec.table, step);
    let row_diff = ctx
        .sql(sql)
        .await
        .map_err(on_error("planning the row diff"))?;
    if let Some(limit) = spec.max_row_diff {
        let mut rows = row_diff
            .execute_stream()
            .await
            .map_err(on_error("running the row diff"))?;
        let mut found = 0;
        while let Some(batch) = rows.next().await {
            let batch = batch.map_err(on_error("running the row diff"))?;
            let state = match capped {
                Some(state) => state,
                None => capped.insert(CappedRowDiff::new(
                    plan,
                    &spec.table,
                    limit,
                    batch.schema(),
                )?),
            };
            found += batch.num_rows() as u64;
            state.add(&batch)?;
        }
        return Ok(found);
    }
    let clock = std::time::Instant::now();
    // On a cluster the join runs on the executors and its rows stream back here, where the
    // Parquet is written: the run's output folder then need not be shared with the executors,
    // and Ballista 55's executors panicked ("index out of bounds") running this write
    // Hive-partitioned on small nights (docs/scaling.md).
    let local;
    let row_diff = if let Some(engine) = &spec.local_engine {
        local = local_session(&spec.table, engine)?;
        let rows = row_diff
            .execute_stream()
            .await
            .map_err(on_error("running the row diff on the cluster"))?;
        let schema = rows.schema();
        let table = StreamingTable::try_new(
            schema.clone(),
            vec![Arc::new(StreamOnce {
                schema,
                rows: Mutex::new(Some(rows)),
            })],
        )
        .map_err(on_error("receiving the row diff from the cluster"))?;
        local
            .read_table(Arc::new(table))
            .map_err(on_error("receiving the row diff from the cluster"))?
    } else {
        row_diff
    };
    let written = write_frame(row_diff, plan, spec, dir.as_str()).await?;
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        "wrote the row diff of {}",
        spec.table
    );
    Ok(written)
}

/// Where the row diff goes: its folder (a listing path from [`prepare_row_diff_dir`]) and, with a
/// cap, the state that counts and keeps its rows.
struct RowDiffSink {
    dir: String,
    capped: Option<CappedRowDiff>,
}

/// Write the rows a capped row diff kept under `dir`, as [`write_row_diff`] writes all of them:
/// in this process, also when `ctx` is a cluster's session.
async fn write_kept_rows(
    spec: &DiffSpec,
    plan: &Plan,
    ctx: &SessionContext,
    dir: &str,
    kept: Vec<RecordBatch>,
) -> Result<()> {
    let kept: Vec<RecordBatch> = kept.into_iter().filter(|b| b.num_rows() > 0).collect();
    if kept.is_empty() {
        return Ok(());
    }
    let ctx = &row_diff_session(ctx, spec)?;
    let frame = ctx.read_batches(kept).map_err(query_error(
        &spec.table,
        "writing the kept rows of the row diff",
    ))?;
    write_frame(frame, plan, spec, dir).await?;
    Ok(())
}

/// Write `frame`, rows of the row diff, as Parquet under `dir`; returns the rows written.
pub(crate) async fn write_frame(
    frame: datafusion::dataframe::DataFrame,
    plan: &Plan,
    spec: &DiffSpec,
    dir: &str,
) -> Result<u64> {
    let options = match &plan.row_diff_names().group {
        Some(g) => DataFrameWriteOptions::new().with_partition_by(vec![g.clone()]),
        None => DataFrameWriteOptions::new(),
    };
    // One small file per group: encoding each file's columns on parallel tasks (DataFusion's
    // default) costs more than it saves. Without it a 2000-district night took 7.6 s instead of
    // 8.2 s and peaked at about 1.1 GiB instead of 1.5; 200 districts took the same time.
    // And Snappy rather than DataFusion's default zstd: every group's writer stays open until
    // the chunk's last row, each with a zstd context per column, which put the 2000-district
    // night at 1.1 GiB; with Snappy 0.8 GiB, in the same time (docs/performance-log.md).
    let mut parquet = frame
        .task_ctx()
        .session_config()
        .options()
        .execution
        .parquet
        .clone();
    parquet.allow_single_file_parallelism = false;
    parquet.compression = Some("snappy".to_owned());
    let writer_options = TableParquetOptions {
        global: parquet,
        ..TableParquetOptions::default()
    };
    // DataFusion answers a write with one `count` row.
    let written = frame
        .write_parquet(dir, options, Some(writer_options))
        .await
        .map_err(query_error(&spec.table, "writing the row diff"))?;
    Ok(written
        .iter()
        .filter(|b| b.num_columns() > 0)
        .flat_map(|b| ints(b, 0))
        .sum())
}

/// The rows of a query run elsewhere, as a table this process can read once.
struct StreamOnce {
    schema: SchemaRef,
    rows: Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for StreamOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOnce")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PartitionStream for StreamOnce {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.rows.lock().map(|mut rows| rows.take()).ok().flatten();
        taken.unwrap_or_else(|| Box::pin(EmptyRecordBatchStream::new(self.schema.clone())))
    }
}

/// An embedded session for the work a distributed diff does in this process (memory pool and
/// The session the row diff is written and read back in: this process's own on a cluster
/// (`spec.local_engine`), else `ctx` itself (a clone shares its tables).
fn row_diff_session(ctx: &SessionContext, spec: &DiffSpec) -> Result<SessionContext> {
    match &spec.local_engine {
        Some(engine) => local_session(&spec.table, engine),
        None => Ok(ctx.clone()),
    }
}

/// spill folder as `--memory-limit` / `--spill-dir` say), with pathway's functions.
fn local_session(table: &str, engine: &crate::EngineSettings) -> Result<SessionContext> {
    let ctx =
        crate::session_context(engine).map_err(query_error(table, "starting the local session"))?;
    crate::udf::register(&ctx);
    crate::fingerprint::register(&ctx);
    Ok(ctx)
}

/// A table without a key: both sides compared as multisets of rows.
async fn multiset_diff(
    ctx: &SessionContext,
    plan: &Plan,
    spec: &DiffSpec,
    schema: SchemaDiff,
    row_diff_dir: &Path,
) -> Result<TableDiff> {
    let on_error = |step| query_error(&spec.table, step);
    let mut groups = Vec::new();
    for batch in collect(
        ctx,
        &plan.multiset_counts_sql(),
        on_error("counting rows per side"),
    )
    .await?
    {
        let g = strings(&batch, 0);
        let (legacy, beta, matched) = (ints(&batch, 1), ints(&batch, 2), ints(&batch, 3));
        let (missing, extra) = (ints(&batch, 4), ints(&batch, 5));
        for i in 0..batch.num_rows() {
            groups.push(GroupDiff {
                group: g[i].clone().unwrap_or_default(),
                legacy_rows: legacy[i],
                beta_rows: beta[i],
                matched_rows: matched[i],
                missing_in_beta: missing[i],
                extra_in_beta: extra[i],
                multiset_equal: missing[i] == 0 && extra[i] == 0,
                ..GroupDiff::default()
            });
        }
    }
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let dir = prepare_row_diff_dir(spec, row_diff_dir)?;
    let mut sink = RowDiffSink {
        dir: dir.clone(),
        capped: None,
    };
    let row_diff_rows =
        write_row_diff(ctx, plan, &plan.multiset_row_diff_sql(), spec, &mut sink).await?;
    let mut categories = Vec::new();
    if spec.pair_unmatched {
        // Each row left on one side is its own row of the row diff, with both sides' columns:
        // pairing then reads it as it reads a keyed one (with no key).
        let mut by_name: BTreeMap<String, GroupDiff> =
            groups.drain(..).map(|g| (g.group.clone(), g)).collect();
        categories = summarize_row_diff(
            ctx,
            &plan.over_forms(),
            spec,
            &dir,
            row_diff_dir,
            row_diff_rows,
            None,
            &mut by_name,
        )
        .await?;
        groups = by_name.into_values().collect();
        for entry in &mut groups {
            entry.matched_rows = entry
                .legacy_rows
                .saturating_sub(entry.missing_in_beta + entry.changed_rows);
            entry.columns.sort_by(|a, b| a.column.cmp(&b.column));
            entry.hidden.sort_by(|a, b| a.column.cmp(&b.column));
        }
    }
    if let Some(state) = sink.capped.take() {
        let outcome = state.finish()?;
        write_kept_rows(spec, plan, ctx, &dir, outcome.kept).await?;
        for entry in &mut groups {
            entry.row_diff_capped = outcome.capped.contains(&entry.group);
        }
    }
    let same_rows = same_rows(plan, &schema, &groups, Vec::new());
    Ok(TableDiff {
        table: spec.table.clone(),
        key: Vec::new(),
        compared_columns: plan.compared.iter().map(|c| c.name.clone()).collect(),
        schema,
        groups,
        categories,
        decided_by_footprints: 0,
        same_rows,
    })
}

/// Maps a DataFusion error of one step of diffing `table` to [`Error::Query`].
pub(crate) fn query_error(table: &str, step: &'static str) -> impl Fn(DataFusionError) -> Error {
    let table = table.to_owned();
    move |source| Error::Query {
        table: table.clone(),
        step,
        source,
    }
}

pub(crate) async fn collect(
    ctx: &SessionContext,
    sql: &str,
    on_error: impl Fn(DataFusionError) -> Error,
) -> Result<Vec<RecordBatch>> {
    let clock = std::time::Instant::now();
    let frame = ctx.sql(sql).await.map_err(&on_error)?;
    let batches = frame.collect().await.map_err(&on_error)?;
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        "query {}",
        sql.chars().take(90).collect::<String>()
    );
    Ok(batches)
}

/// Run `frame` and register its rows, held in memory, as `name` (replacing a table of that name);
/// returns how many rows it holds.
pub(crate) async fn hold_in_memory(
    ctx: &SessionContext,
    frame: datafusion::dataframe::DataFrame,
    name: &str,
    on_error: impl Fn(DataFusionError) -> Error,
) -> Result<u64> {
    let planned = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.map_err(&on_error)?;
    // The batches' own schema where there are some: DataFusion 55 can plan a column of a CASE
    // over text forms as one string type and produce another ("Mismatch between schema and
    // batches" when the table is registered).
    let schema = batches.first().map_or(planned, RecordBatch::schema);
    register_in_memory(ctx, name, schema, batches, on_error)
}

/// Register `batches` as the in-memory table `name` (replacing a table of that name); returns
/// how many rows it holds.
pub(crate) fn register_in_memory(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    on_error: impl Fn(DataFusionError) -> Error,
) -> Result<u64> {
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let table =
        datafusion::datasource::MemTable::try_new(schema, vec![batches]).map_err(&on_error)?;
    ctx.deregister_table(name).map_err(&on_error)?;
    ctx.register_table(name, Arc::new(table))
        .map_err(&on_error)?;
    Ok(rows)
}

/// What [`listed_columns`] found in the row diff.
struct ListedColumns {
    /// The distinct values of `changed_columns`.
    changed: Vec<String>,
    /// The distinct values of `hidden_columns`.
    hidden: Vec<String>,
    /// Changed cells: a changed row holds one per column its `changed_columns` lists.
    changed_cells: u64,
}

/// Which columns differ (or were hidden by a rule) anywhere in the row diff `row_diff`.
async fn listed_columns(
    ctx: &SessionContext,
    row_diff: &str,
    table: &str,
) -> Result<ListedColumns> {
    let batches = collect(
        ctx,
        &Plan::listed_columns_sql(row_diff),
        query_error(table, "listing the columns that differ"),
    )
    .await?;
    let mut listed = ListedColumns {
        changed: Vec::new(),
        hidden: Vec::new(),
        changed_cells: 0,
    };
    for batch in &batches {
        let (changed, hidden, rows) = (strings(batch, 0), strings(batch, 1), ints(batch, 2));
        for (i, rows) in rows.into_iter().enumerate() {
            if let Some(list) = changed[i].as_deref().filter(|l| !l.is_empty()) {
                listed.changed_cells += rows * (list.matches(';').count() as u64 + 1);
                listed.changed.push(list.to_owned());
            }
            if let Some(list) = hidden[i].as_deref().filter(|l| !l.is_empty()) {
                listed.hidden.push(list.to_owned());
            }
        }
    }
    Ok(listed)
}

/// Register `frame` as `name`: its rows in memory when there are at most
/// [`ROW_DIFF_IN_MEMORY`] of them (the queries after read it several times), else as a view.
async fn hold_unless_large(
    ctx: &SessionContext,
    frame: datafusion::dataframe::DataFrame,
    name: &str,
    rows: u64,
    on_error: impl Fn(DataFusionError) -> Error,
) -> Result<()> {
    if rows <= ROW_DIFF_IN_MEMORY {
        hold_in_memory(ctx, frame, name, on_error).await?;
    } else {
        ctx.register_table(name, frame.into_view())
            .map_err(on_error)?;
    }
    Ok(())
}

fn has_parquet(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            has_parquet(&path)
        } else {
            path.extension().is_some_and(|x| x == "parquet")
        }
    })
}

pub(crate) fn strings(batch: &RecordBatch, i: usize) -> Vec<Option<String>> {
    let column = cast(batch.column(i), &DataType::Utf8).expect("any column casts to text");
    let column = column.as_string::<i32>();
    (0..column.len())
        .map(|r| column.is_valid(r).then(|| column.value(r).to_owned()))
        .collect()
}

pub(crate) fn ints(batch: &RecordBatch, i: usize) -> Vec<u64> {
    let column = cast(batch.column(i), &DataType::Int64).expect("counts are integers");
    let column = column.as_primitive::<Int64Type>();
    (0..column.len())
        .map(|r| u64::try_from(column.value(r)).unwrap_or(0))
        .collect()
}
