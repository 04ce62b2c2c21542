//! Triage: one scan per side decides which groups and keys need the exact row diff.
//!
//! Most districts match on most nights, and in a district that differs most rows are still
//! identical. So before the row diff, each side is read once and reduced to one small row per
//! key: the key's hash, its row count and the fingerprint of its rows (see [`crate::fingerprint`]).
//! From those:
//!
//! - per group, row counts, duplicated keys and the fingerprint of all rows. Equal fingerprints
//!   and row counts on both sides mean the same multiset of rows: a FULL MATCH, with no join;
//! - for the other groups, the *residual* keys: on one side only, duplicated, or with rows that
//!   differ. Only rows under those keys reach the exact row diff of [`crate::plan`], so with 1%
//!   of rows differing the expensive join sees about 1% of the data.
//!
//! Groups are triaged in chunks of bounded size, so memory follows the largest chunk (at least
//! the largest group), not the whole night.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Decimal128Type;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::engine::{collect, hold_in_memory, ints, query_error, strings};
use crate::error::Result;
use crate::plan::Plan;

/// The per-key profile of the chunk being triaged.
const KEYS: &str = "__keys";
/// Its residual keys.
const RESIDUAL_KEYS: &str = "__residual_keys";

/// One side of one group, as the triage scan saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SideProfile {
    pub rows: u64,
    pub dup_keys: u64,
    pub fingerprint: i128,
}

/// What the triage of one chunk found.
#[derive(Debug, Default)]
pub(crate) struct Triage {
    /// Per group: legacy and beta profiles (`None` when the side has no rows).
    pub profiles: BTreeMap<String, [Option<SideProfile>; 2]>,
    /// Groups whose sides hold different multisets of rows.
    pub differing: Vec<String>,
    /// Registered views of the rows under residual keys, legacy then beta.
    pub residual_tables: Option<[String; 2]>,
}

impl Triage {
    /// True when both sides of `group` hold the same multiset of rows.
    pub fn same_rows(&self, group: &str) -> bool {
        !self.differing.iter().any(|g| g == group)
    }
}

/// Split the groups of both sides into chunks of at most `chunk_rows` rows (legacy plus beta;
/// a larger group is a chunk of its own). Sorted by group name.
pub(crate) async fn chunks(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk_rows: u64,
) -> Result<Vec<Chunk>> {
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for side in [&plan.legacy_table, &plan.beta_table] {
        let batches = collect(
            ctx,
            &plan.group_sizes_sql(side),
            query_error(table, "counting rows per group"),
        )
        .await?;
        for batch in &batches {
            let (g, rows) = (strings(batch, 0), ints(batch, 1));
            for i in 0..batch.num_rows() {
                *sizes.entry(g[i].clone().unwrap_or_default()).or_default() += rows[i];
            }
        }
    }
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current_rows = 0;
    for (group, rows) in sizes {
        match chunks.last_mut() {
            Some(chunk) if current_rows + rows <= chunk_rows.max(1) => {
                chunk.groups.push(group);
                current_rows += rows;
            }
            _ => {
                chunks.push(Chunk {
                    groups: vec![group],
                    in_memory: rows <= chunk_rows,
                });
                current_rows = rows;
            }
        }
    }
    Ok(chunks)
}

/// A chunk: its groups and whether its rows are few enough to hold in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub groups: Vec<String>,
    /// Read each side once into memory, so the rows that differ are picked from there rather
    /// than read again. False for a single group larger than the chunk size.
    pub in_memory: bool,
}

/// Triage the groups of one chunk. Registers `__keys` (and the chunk's rows when held in
/// memory) and, when some group differs, the residual views; [`release`] drops them.
pub(crate) async fn triage_chunk(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk: &Chunk,
) -> Result<Triage> {
    crate::fingerprint::register(ctx);
    let groups = &chunk.groups;
    let mut triage = Triage::default();
    let mut sources = [plan.legacy_table.clone(), plan.beta_table.clone()];
    let on_error = query_error(table, "profiling keys");
    if chunk.in_memory {
        // Read once, with both hashes computed once: the profile and the residual rows both
        // come from memory.
        for (side, source) in sources.iter_mut().enumerate() {
            let held = ["__chunk_legacy", "__chunk_beta"][side];
            let clock = std::time::Instant::now();
            let frame = ctx
                .sql(&plan.chunk_rows_sql(source, groups))
                .await
                .map_err(&on_error)?;
            hold_in_memory(ctx, frame, held, &on_error).await?;
            tracing::debug!(
                seconds = clock.elapsed().as_secs_f64(),
                groups = groups.len(),
                "read the chunk of {source}"
            );
            *source = held.to_owned();
        }
    }
    let clock = std::time::Instant::now();
    let frame = ctx
        .sql(&plan.key_profile_sql(&sources[0], &sources[1], groups, chunk.in_memory))
        .await
        .map_err(&on_error)?;
    hold_in_memory(ctx, frame, KEYS, &on_error).await?;
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        groups = groups.len(),
        "profiled the keys"
    );

    for batch in collect(
        ctx,
        &Plan::group_profile_sql(KEYS),
        query_error(table, "profiling groups"),
    )
    .await?
    {
        let g = strings(&batch, 0);
        let fingerprints = |i| batch.column(i).as_primitive::<Decimal128Type>();
        let sides = [
            (ints(&batch, 1), ints(&batch, 2), fingerprints(3)),
            (ints(&batch, 4), ints(&batch, 5), fingerprints(6)),
        ];
        for (i, name) in g.into_iter().enumerate() {
            let entry = triage.profiles.entry(name.unwrap_or_default()).or_default();
            for (side, (rows, dup_keys, fingerprint)) in sides.iter().enumerate() {
                entry[side] = (rows[i] > 0).then(|| SideProfile {
                    rows: rows[i],
                    dup_keys: dup_keys[i],
                    fingerprint: fingerprint.value(i),
                });
            }
        }
    }
    triage.differing = triage
        .profiles
        .iter()
        .filter(|(_, [l, b])| l != b || l.is_some_and(|l| l.dup_keys > 0))
        .map(|(g, _)| g.clone())
        .collect();
    if triage.differing.is_empty() {
        return Ok(triage);
    }

    // Residual keys per differing group; a group where most keys are residual is read whole.
    let residual_batches = collect(
        ctx,
        &Plan::residual_keys_sql(KEYS, &triage.differing),
        query_error(table, "finding the keys that differ"),
    )
    .await?;
    let mut residual_per_group: BTreeMap<String, u64> = BTreeMap::new();
    for batch in &residual_batches {
        for g in strings(batch, 0) {
            *residual_per_group.entry(g.unwrap_or_default()).or_default() += 1;
        }
    }
    let (mut whole, mut partial) = (Vec::new(), Vec::new());
    for group in &triage.differing {
        let keys = residual_per_group.get(group).copied().unwrap_or(0);
        let rows = triage.profiles[group]
            .iter()
            .flatten()
            .map(|p| p.rows)
            .max()
            .unwrap_or(0);
        if keys * 2 > rows {
            whole.push(group.clone());
        } else if keys > 0 {
            partial.push(group.clone());
        }
    }
    let on_error = query_error(table, "selecting the rows that differ");
    let schema = residual_batches
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| Arc::new(datafusion::arrow::datatypes::Schema::empty()));
    let residual = MemTable::try_new(schema, vec![residual_batches]).map_err(&on_error)?;
    ctx.deregister_table(RESIDUAL_KEYS).map_err(&on_error)?;
    ctx.register_table(RESIDUAL_KEYS, Arc::new(residual))
        .map_err(&on_error)?;
    let key_hash = if chunk.in_memory {
        "\"__kh\"".to_owned()
    } else {
        plan.key_hash_expr()
    };
    let mut views = [String::new(), String::new()];
    for (i, source) in sources.iter().enumerate() {
        views[i] = format!("__residual_{}", ["legacy", "beta"][i]);
        // A semi-join on the key hash (hashes of the same key in two districts only add rows
        // that then compare equal); whole groups by the group alone.
        let sql = plan.residual_rows_sql(source, &whole, &partial, &key_hash, RESIDUAL_KEYS);
        let view = ctx.sql(&sql).await.map_err(&on_error)?.into_view();
        ctx.deregister_table(views[i].as_str()).map_err(&on_error)?;
        ctx.register_table(views[i].as_str(), view)
            .map_err(&on_error)?;
    }
    triage.residual_tables = Some(views);
    Ok(triage)
}

/// Drop the tables [`triage_chunk`] registered.
pub(crate) fn release(ctx: &SessionContext, table: &str) -> Result<()> {
    for name in [
        KEYS,
        RESIDUAL_KEYS,
        "__chunk_legacy",
        "__chunk_beta",
        "__residual_legacy",
        "__residual_beta",
    ] {
        ctx.deregister_table(name)
            .map_err(query_error(table, "releasing triage tables"))?;
    }
    Ok(())
}
