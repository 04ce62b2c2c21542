//! Triage: decide, reading each side as little as possible, which groups and keys need the exact
//! row diff.
//!
//! Most districts match on most nights, and in a district that differs most rows are still
//! identical. So before the row diff, per group and side, the row count and the fingerprint of
//! all rows (see [`crate::fingerprint`]). Equal counts and fingerprints mean the same multiset
//! of rows: a FULL MATCH with no join, once the group's duplicated keys are known (one side's
//! keys are enough for that). In the other groups, one `GROUP BY` of both sides on a single
//! hash of group and key finds the *residual* keys: on one side only, duplicated, or with rows
//! that differ. Only rows under those keys reach the exact row diff of [`crate::plan`], so with
//! 1% of rows differing the expensive join sees about 1% of the data.
//!
//! Groups are triaged in chunks of bounded size, so memory follows the largest chunk, not the
//! whole night: a chunk is held in memory once, whole, or for a group larger than a chunk as
//! the hashes of its rows (about 40 bytes a row), whose keys are then grouped one range of key
//! hashes at a time.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::engine::{collect, hold_in_memory, ints, query_error, register_in_memory, strings};
use crate::error::Result;
use crate::model::GroupFootprints;
use crate::plan::Plan;

/// The chunk being triaged, held whole (legacy, beta).
const CHUNK_ROWS: [&str; 2] = ["__chunk_legacy", "__chunk_beta"];
/// Or as the hashes of its rows only.
const CHUNK_HASHES: [&str; 2] = ["__chunk_hashes_legacy", "__chunk_hashes_beta"];
/// The residual keys of the chunk being triaged.
const RESIDUAL_KEYS: &str = "__residual_keys";
/// Up to this many residual keys, the rows under them are picked by a list of constants
/// rather than a semi-join (see [`Plan::key_set`]).
const FEW_KEYS: usize = 256;

/// One side of one group, as the triage saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SideProfile {
    pub rows: u64,
    pub dup_keys: u64,
}

/// What the triage of one chunk found.
#[derive(Debug, Default)]
pub(crate) struct Triage {
    /// Per group: legacy and beta profiles (`None` when the side has no rows).
    pub profiles: BTreeMap<String, [Option<SideProfile>; 2]>,
    /// Groups whose rows need the row diff: their sides hold different multisets of rows, or
    /// some key is duplicated.
    pub differing: Vec<String>,
    /// Registered tables of the rows under residual keys, legacy then beta.
    pub residual_tables: Option<[String; 2]>,
    /// How many residual keys the chunk has.
    pub residual_keys: u64,
}

impl Triage {
    /// True when both sides of `group` hold the same multiset of rows, each key once.
    pub fn same_rows(&self, group: &str) -> bool {
        !self.differing.iter().any(|g| g == group)
    }
}

/// Rows per group and side (legacy, beta), excluded groups left out. Reads no data columns of a
/// Hive-partitioned table.
pub(crate) async fn group_sizes(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
) -> Result<BTreeMap<String, [u64; 2]>> {
    let mut sizes: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for (side, source) in [&plan.legacy_table, &plan.beta_table]
        .into_iter()
        .enumerate()
    {
        let batches = collect(
            ctx,
            &plan.group_sizes_sql(source),
            query_error(table, "counting rows per group"),
        )
        .await?;
        for batch in &batches {
            let (g, rows) = (strings(batch, 0), ints(batch, 1));
            for i in 0..batch.num_rows() {
                // A null group and an empty one are one group (`Plan::group_expr`).
                sizes.entry(g[i].clone().unwrap_or_default()).or_default()[side] += rows[i];
            }
        }
    }
    Ok(sizes)
}

/// The rows per group of both sides as [`group_sizes`] counts them, taken from footprints that
/// cover every row of both tables ([`GroupFootprints::complete`]) instead of scanning the group
/// column: groups the plan excludes are left out, and so are groups without a row (a count
/// never lists them).
pub(crate) fn sizes_of_footprints(
    plan: &Plan,
    footprints: &GroupFootprints,
) -> BTreeMap<String, [u64; 2]> {
    let mut sizes: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for (side, found) in [&footprints.legacy, &footprints.beta]
        .into_iter()
        .enumerate()
    {
        for (name, footprint) in found {
            if footprint.rows > 0 && !plan.exclude_groups.contains(name) {
                sizes.entry(name.clone()).or_default()[side] += footprint.rows;
            }
        }
    }
    sizes
}

/// The groups whose footprints (see [`GroupFootprints`]) say that both sides hold the same
/// rows, with the number of keys duplicated on each side (the same on both, as the rows are).
/// Without a duplicated key the group is a FULL MATCH without being read; with some, only the
/// rows under those keys need the row diff (see [`Chunk::same_rows`]). `fields` are each
/// side's columns as the diff sees them (beta's after renaming); `sizes` the rows per group the
/// tables hold, which must be the footprints' rows, so that a footprint never stands for rows
/// it did not see.
pub(crate) fn decided_by_footprints(
    plan: &Plan,
    footprints: &GroupFootprints,
    fields: [&[(String, DataType)]; 2],
    sizes: &BTreeMap<String, [u64; 2]>,
) -> BTreeMap<String, SideProfile> {
    let mut decided = BTreeMap::new();
    let Some(group) = &plan.group else {
        return decided;
    };
    if !plan.keyed || plan.key.is_empty() || footprints.legacy.is_empty() {
        return decided;
    }
    // Both sides must have the same columns with the same types: the diff then applies the
    // same form to both, and rows equal as written are equal as compared.
    let [legacy, beta] = fields.map(|fields| {
        let mut columns: Vec<(String, DataType)> = fields
            .iter()
            .filter(|(name, _)| name != group)
            .cloned()
            .collect();
        columns.sort_by(|a, b| a.0.cmp(&b.0));
        columns
    });
    if legacy != beta {
        return decided;
    }
    let columns: Vec<(String, String)> = legacy
        .iter()
        .map(|(name, t)| (name.clone(), pathway_hash::type_class(t)))
        .collect();
    let key: Vec<String> = plan.key.iter().map(|k| k.name.clone()).collect();
    for (name, l) in &footprints.legacy {
        let Some(b) = footprints.beta.get(name) else {
            continue;
        };
        let agrees = [l, b].iter().all(|f| f.columns == columns && f.key == key)
            && l.rows > 0
            && l.rows == b.rows
            && l.fingerprint == b.fingerprint
            && l.dup_keys == b.dup_keys
            && sizes.get(name) == Some(&[l.rows, b.rows])
            && !plan.exclude_groups.contains(name);
        if agrees {
            decided.insert(
                name.clone(),
                SideProfile {
                    rows: l.rows,
                    dup_keys: l.dup_keys,
                },
            );
        }
    }
    decided
}

/// Split the groups of both sides (`sizes`, see [`group_sizes`]) into chunks of at most
/// `chunk_rows` rows (legacy plus beta; a larger group is a chunk of its own). Of the groups
/// the footprints decided (`decided`), those without a duplicated key are left out, and those
/// with some go into chunks of their own ([`Chunk::same_rows`]). A chunk is read as a range of
/// names, so a chunk of groups to triage never spans another group; a chunk of the same rows
/// may span groups decided whole (their keys are read with its own, and none is duplicated),
/// so that the few rows under duplicated keys are diffed in a few queries, not one per group.
pub(crate) fn chunks(
    sizes: &BTreeMap<String, [u64; 2]>,
    chunk_rows: u64,
    decided: &BTreeMap<String, SideProfile>,
) -> Vec<Chunk> {
    let limit = chunk_rows.max(1);
    let mut done: Vec<Chunk> = Vec::new();
    // The chunk being filled of each kind (to triage, of the same rows), with its rows.
    let mut open: [Option<(Chunk, u64)>; 2] = [None, None];
    for (group, [legacy, beta]) in sizes {
        let kind = match decided.get(group) {
            Some(profile) if profile.dup_keys == 0 => {
                // Decided whole: a chunk to triage may not span it.
                done.extend(open[0].take().map(|(c, _)| c));
                continue;
            }
            Some(_) => 1,
            None => 0,
        };
        // Neither kind may span a group of the other.
        done.extend(open[1 - kind].take().map(|(c, _)| c));
        let rows = legacy + beta;
        match &mut open[kind] {
            Some((chunk, current)) if *current + rows <= limit => {
                chunk.groups.push(group.clone());
                *current += rows;
            }
            slot => {
                done.extend(slot.take().map(|(c, _)| c));
                *slot = Some((
                    Chunk {
                        groups: vec![group.clone()],
                        in_memory: kind == 0 && rows <= chunk_rows,
                        key_slices: rows.div_ceil(limit).max(1),
                        same_rows: kind == 1,
                    },
                    rows,
                ));
            }
        }
    }
    done.extend(open.into_iter().flatten().map(|(c, _)| c));
    done.sort_by(|a, b| a.groups[0].cmp(&b.groups[0]));
    done
}

/// A chunk: its groups and whether its rows are few enough to hold in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Sorted, and every group of both sides from the first to the last (but, in a chunk of
    /// the same rows, groups decided whole): the source tables are read by that range of
    /// names, not by a list.
    pub groups: Vec<String>,
    /// Read each side once into memory, so the rows that differ are picked from there rather
    /// than read again. False for a single group larger than the chunk size: it is held as the
    /// hashes of its rows, and its residual rows are read again.
    pub in_memory: bool,
    /// How many ranges of key hashes the per-key `GROUP BY` of step 2 runs in, one after the
    /// other: 1 for a chunk held whole; for a group larger than a chunk, its rows divided by
    /// the chunk size, rounded up. Each range's hash table then holds about a chunk's keys, not
    /// the whole group's: at 30M rows the largest district (4.7M rows a side) had pushed the
    /// night's peak past 1 GiB.
    pub key_slices: u64,
    /// The footprints say both sides of every group of the chunk hold the same rows, with some
    /// key duplicated: only the legacy side's key hashes are read (the beta side has the same
    /// keys), and only the rows under its duplicated keys are read again, for the row diff.
    pub same_rows: bool,
}

/// Per group, each side's rows and fingerprint (`None` for a side without rows).
type Fingerprints = BTreeMap<String, [Option<(u64, i128)>; 2]>;

/// Triage the groups of one chunk. Registers `__residual_keys` (and the chunk's rows when held
/// in memory) and, when some group differs, the residual rows; [`release`] drops them.
///
/// 1. Per group and side, rows and fingerprint: one aggregate into a few rows per group.
/// 2. The residual keys: in groups whose fingerprints match, the keys duplicated on the legacy
///    side (the sides hold the same rows, so the beta side has the same ones); in the others,
///    one `GROUP BY` of both sides on the key hash. Most nights most groups match, and then
///    the per-key work reads one side's keys instead of both sides' rows.
/// 3. The rows under those keys, and per group the duplicated keys among them.
pub(crate) async fn triage_chunk(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk: &Chunk,
    decided: &BTreeMap<String, SideProfile>,
    chunk_rows: u64,
) -> Result<Triage> {
    crate::fingerprint::register(ctx);
    let held = read_chunk(ctx, plan, table, chunk).await?;

    // 1. Fingerprints (known already for a chunk of the same rows).
    let fingerprints = if chunk.same_rows {
        chunk
            .groups
            .iter()
            .map(|group| {
                let rows = decided.get(group).map_or(0, |p| p.rows);
                (group.clone(), [Some((rows, 0)), Some((rows, 0))])
            })
            .collect()
    } else {
        group_fingerprints(ctx, plan, table, &held.hashes).await?
    };
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for (group, [legacy, beta]) in &fingerprints {
        if legacy.is_some() && legacy == beta {
            same.push(group.clone());
        } else {
            different.push(group.clone());
        }
    }

    // 2. Residual keys.
    let keys = KeysWanted {
        same: &same,
        different: &different,
        chunk_rows,
    };
    let found = find_residual_keys(ctx, plan, table, chunk, &held.hashes, &keys).await?;
    let residual_keys = found.count;
    // A group larger than a chunk whose residual keys are joined at once: its residual rows are
    // read into memory in one pass (see `read_residual_rows`).
    let read_once = (!chunk.in_memory && !joins_in_slices(residual_keys, chunk_rows))
        .then(|| found.hashes.iter().copied().collect::<HashSet<i128>>());
    let key_set = found.key_set;

    // 3. Residual rows, as views the row diff reads once; duplicated keys per group from the
    // hashes already in memory.
    let mut triage = Triage::default();
    let mut dup_keys: [BTreeMap<String, u64>; 2] = Default::default();
    if residual_keys > 0 {
        let (views, dups) =
            residual_rows(ctx, plan, table, chunk, &held, &key_set, read_once.as_ref()).await?;
        dup_keys = dups;
        triage.residual_tables = Some(views);
        triage.residual_keys = residual_keys;
    }

    for (name, sides) in &fingerprints {
        let profile = |side: usize| {
            sides[side].map(|(rows, _)| SideProfile {
                rows,
                dup_keys: dup_keys[side].get(name).copied().unwrap_or(0),
            })
        };
        triage
            .profiles
            .insert(name.clone(), [profile(0), profile(1)]);
        if different.contains(name) || dup_keys.iter().any(|d| d.contains_key(name)) {
            triage.differing.push(name.clone());
        }
    }
    Ok(triage)
}

/// Where the steps of a chunk's triage read from, per side (legacy, beta).
struct HeldChunk {
    /// The hashes (steps 1 and 2, and the duplicate counts of 3).
    hashes: [String; 2],
    /// The rows (step 3): the chunk held in memory, or the side's table.
    rows: [String; 2],
}

/// Read the chunk once, with both hashes computed once. A chunk of few rows is held whole, so
/// every step reads from memory; a group larger than a chunk is held as its hashes only (about
/// 40 bytes a row), and only its residual rows are read again. For a chunk of the same rows,
/// only the legacy side's key hashes: the beta side has the same keys.
async fn read_chunk(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk: &Chunk,
) -> Result<HeldChunk> {
    let groups = &chunk.groups;
    let tables = [plan.legacy_table.clone(), plan.beta_table.clone()];
    let on_error = query_error(table, "reading the chunk");
    let read = |side: usize| {
        let source = tables[side].clone();
        let on_error = &on_error;
        async move {
            let (held, sql) = if chunk.same_rows {
                (
                    CHUNK_HASHES[side],
                    plan.chunk_key_hashes_sql(&source, groups),
                )
            } else if chunk.in_memory {
                (CHUNK_ROWS[side], plan.chunk_rows_sql(&source, groups))
            } else {
                (CHUNK_HASHES[side], plan.chunk_hashes_sql(&source, groups))
            };
            let clock = std::time::Instant::now();
            let frame = ctx.sql(&sql).await.map_err(on_error)?;
            hold_in_memory(ctx, frame, held, on_error).await?;
            tracing::debug!(
                seconds = clock.elapsed().as_secs_f64(),
                groups = groups.len(),
                whole_rows = chunk.in_memory,
                "read the chunk of {source}"
            );
            Ok::<_, crate::error::Error>(held)
        }
    };
    if chunk.same_rows {
        let held = read(0).await?;
        return Ok(HeldChunk {
            hashes: [held.to_owned(), held.to_owned()],
            rows: tables.clone(),
        });
    }
    // Both sides at once: each read has stretches on one thread (planning, opening files, the
    // last file of a partition), which the other side's read fills.
    let (legacy, beta) = futures::try_join!(read(0), read(1))?;
    let hashes = [legacy.to_owned(), beta.to_owned()];
    let rows = if chunk.in_memory {
        hashes.clone()
    } else {
        tables.clone()
    };
    Ok(HeldChunk { hashes, rows })
}

/// Step 1: per group and side, rows and fingerprint, from the held hashes.
async fn group_fingerprints(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    hashes: &[String; 2],
) -> Result<Fingerprints> {
    let mut fingerprints = Fingerprints::new();
    for (side, source) in hashes.iter().enumerate() {
        for batch in collect(
            ctx,
            &plan.group_fingerprints_sql(source),
            query_error(table, "fingerprinting groups"),
        )
        .await?
        {
            let (g, rows) = (strings(&batch, 0), ints(&batch, 1));
            let fingerprint = batch.column(2).as_primitive::<Decimal128Type>();
            for (i, name) in g.into_iter().enumerate() {
                // A null group and an empty one are one group (`Plan::group_expr`).
                let side_sums =
                    &mut fingerprints.entry(name.unwrap_or_default()).or_default()[side];
                let (sum_rows, sum) = side_sums.get_or_insert((0, 0));
                *sum_rows += rows[i];
                *sum = sum.wrapping_add(fingerprint.value(i));
            }
        }
    }
    Ok(fingerprints)
}

/// Step 2: the residual keys of the chunk, registered as `__residual_keys`, one range of key
/// hashes at a time (see `Chunk::key_slices`): every key falls in one range, so the ranges'
/// answers together are the whole answer.
async fn find_residual_keys(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk: &Chunk,
    hashes: &[String; 2],
    &KeysWanted {
        same,
        different,
        chunk_rows,
    }: &KeysWanted<'_>,
) -> Result<ResidualKeys> {
    let clock = std::time::Instant::now();
    let on_error = query_error(table, "finding the keys that differ");
    let mut schema = None;
    let mut found = Vec::new();
    // The held chunk holds only its own groups, so where every group is of one kind the
    // queries need no group filter (a cast to text and a lookup per row). Where both kinds
    // are mixed, each query keeps to its own: grouping both sides of the matching groups
    // instead cost more than the filter (on the 10M bench night, 1.81 s against 1.62).
    let mixed = !same.is_empty() && !different.is_empty();
    let (only_same, only_different) = if mixed {
        (Some(same), Some(different))
    } else {
        (None, None)
    };
    for slice in 0..chunk.key_slices {
        let range = Plan::key_hash_range(slice, chunk.key_slices);
        let mut parts = Vec::new();
        if !same.is_empty() {
            parts.push(plan.duplicate_keys_sql(&hashes[0], only_same, &range));
        }
        if !different.is_empty() {
            parts.push(plan.residual_keys_sql(&hashes[0], &hashes[1], only_different, &range));
        }
        let frame = ctx
            .sql(&parts.join(" UNION ALL "))
            .await
            .map_err(&on_error)?;
        schema.get_or_insert_with(|| Arc::new(frame.schema().as_arrow().clone()));
        found.extend(frame.collect().await.map_err(&on_error)?);
    }
    let schema = schema.expect("a chunk has at least one key range");
    // The hashes themselves where few (a list of constants) or where the rows are picked here
    // (a group larger than a chunk; at most half a chunk of keys, see `triage_chunk`).
    let count = found.iter().map(RecordBatch::num_rows).sum::<usize>();
    let picked_here = !chunk.in_memory && !joins_in_slices(count as u64, chunk_rows);
    let hashes: Vec<i128> = if count <= FEW_KEYS || picked_here {
        found
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_primitive::<Decimal128Type>()
                    .values()
                    .to_vec()
            })
            .collect()
    } else {
        Vec::new()
    };
    let few_keys = (count <= FEW_KEYS).then_some(hashes.as_slice());
    let key_set = Plan::key_set(RESIDUAL_KEYS, few_keys);
    let residual_keys = register_in_memory(ctx, RESIDUAL_KEYS, schema, found, &on_error)?;
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        groups = chunk.groups.len(),
        residual_keys,
        key_slices = chunk.key_slices,
        "found the residual keys"
    );
    Ok(ResidualKeys {
        count: residual_keys,
        key_set,
        hashes,
    })
}

/// Which groups step 2 looks at: those whose sides hold the same rows, the others, and the
/// chunk size.
struct KeysWanted<'a> {
    same: &'a [String],
    different: &'a [String],
    chunk_rows: u64,
}

/// What step 2 found: how many residual keys, the SQL that selects them, and their hashes
/// where step 3 needs them (few keys, or a group larger than a chunk).
struct ResidualKeys {
    count: u64,
    key_set: String,
    hashes: Vec<i128>,
}

/// Whether a chunk's residual rows are joined one range of key hashes at a time: past half a
/// chunk of residual keys, one side's residual rows of a group larger than a chunk would not
/// fit the memory pool in one hash join (which does not spill).
pub(crate) fn joins_in_slices(residual_keys: u64, chunk_rows: u64) -> bool {
    residual_keys > chunk_rows / 2
}

/// Step 3: the rows under the residual keys (`key_set`), registered as tables the row diff
/// reads, and per group and side the duplicated keys among them. With `read_once` (the
/// residual keys' hashes, for a group larger than a chunk), the rows are read into memory in
/// one pass; otherwise they are views over the held chunk, or over the source for a group
/// whose rows are joined range by range.
async fn residual_rows(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    chunk: &Chunk,
    held: &HeldChunk,
    key_set: &str,
    read_once: Option<&HashSet<i128>>,
) -> Result<([String; 2], [BTreeMap<String, u64>; 2])> {
    let on_error = query_error(table, "selecting the rows that differ");
    let mut views = [String::new(), String::new()];
    let mut dup_keys: [BTreeMap<String, u64>; 2] = Default::default();
    for side in 0..2 {
        views[side] = format!("__residual_{}", ["legacy", "beta"][side]);
        if let Some(keys) = read_once {
            let (schema, rows) =
                read_residual_rows(ctx, plan, table, &held.rows[side], &chunk.groups, keys).await?;
            register_in_memory(ctx, &views[side], schema, rows, &on_error)?;
        } else {
            let sql =
                plan.residual_rows_sql(&held.rows[side], &chunk.groups, chunk.in_memory, key_set);
            let view = ctx.sql(&sql).await.map_err(&on_error)?.into_view();
            ctx.deregister_table(views[side].as_str())
                .map_err(&on_error)?;
            ctx.register_table(views[side].as_str(), view)
                .map_err(&on_error)?;
        }
        for batch in collect(
            ctx,
            &plan.residual_groups_sql(&held.hashes[side], key_set),
            query_error(table, "counting duplicated keys"),
        )
        .await?
        {
            let (g, dups) = (strings(&batch, 0), ints(&batch, 1));
            for (i, name) in g.into_iter().enumerate() {
                dup_keys[side].insert(name.unwrap_or_default(), dups[i]);
            }
        }
    }
    Ok((views, dup_keys))
}

/// The rows of `source` in `groups` whose key hash is one of `keys`, read once: one streaming
/// pass computes each row's key hash, and the rows under residual keys are kept here. As a view
/// with a semi-join, the row diff read the source again for each of its references to a side,
/// and DataFusion built the semi-join's hash table on the source's side rather than on the
/// keys': 452 MB for the 1.58M rows of the 10M bench pair's largest district, which pushed
/// the diff's peak past 1 GiB (#26).
async fn read_residual_rows(
    ctx: &SessionContext,
    plan: &Plan,
    table: &str,
    source: &str,
    groups: &[String],
    keys: &HashSet<i128>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let on_error = query_error(table, "reading the rows that differ");
    let arrow_error = |e| on_error(DataFusionError::from(e));
    let frame = ctx
        .sql(&plan.rows_with_key_hash_sql(source, groups))
        .await
        .map_err(&on_error)?;
    let hashed = frame.schema().as_arrow().clone();
    let key_hash = hashed.index_of("__kh").map_err(arrow_error)?;
    let columns: Vec<usize> = (0..hashed.fields().len())
        .filter(|&i| i != key_hash)
        .collect();
    let schema = Arc::new(hashed.project(&columns).map_err(arrow_error)?);
    let mut stream = frame.execute_stream().await.map_err(&on_error)?;
    let mut rows = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(&on_error)?;
        let hashes = batch.column(key_hash).as_primitive::<Decimal128Type>();
        let wanted: BooleanArray = hashes
            .iter()
            .map(|h| Some(h.is_some_and(|h| keys.contains(&h))))
            .collect();
        if wanted.true_count() == 0 {
            continue;
        }
        let kept = filter_record_batch(&batch.project(&columns).map_err(arrow_error)?, &wanted)
            .map_err(arrow_error)?;
        rows.push(compact(&kept).map_err(arrow_error)?);
    }
    Ok((schema, rows))
}

/// `batch` with its string and binary views copied out of the buffers they share with the
/// batch they were filtered from: a few kept rows would otherwise hold a whole decoded page
/// each.
fn compact(
    batch: &RecordBatch,
) -> std::result::Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => Arc::clone(column),
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns)
}

/// The residual rows of chunks already triaged, held until enough are pending to diff them
/// in one query: most chunks of most nights have a few residual rows (about a dozen a chunk on
/// a night where every district matches, all duplicated keys), and a row diff query costs
/// about 30 ms to plan and run whatever it reads. Groups are disjoint across chunks, so one
/// join over the rows of many chunks gives the same rows as one join per chunk.
#[derive(Debug, Default)]
pub(crate) struct PendingRows {
    sides: [Vec<RecordBatch>; 2],
    schemas: [Option<SchemaRef>; 2],
    rows: u64,
    groups: usize,
}

/// The pending rows, while they are diffed (legacy, beta).
const PENDING: [&str; 2] = ["__pending_legacy", "__pending_beta"];
/// Diff the pending rows once this many groups have some: the row diff writes a file per
/// group, each with its writer open until the last row (see `write_row_diff`).
const PENDING_GROUPS: usize = 256;

impl PendingRows {
    /// Whether the residual rows of `triage`, of `chunk`, may wait in memory: rows of a chunk
    /// held whole, with few residual keys. Others (a group larger than a chunk, read from its
    /// source table with all its columns; or a chunk where most keys differ) are diffed at
    /// once, after the pending rows.
    pub fn can_hold(triage: &Triage, chunk: &Chunk, chunk_rows: u64) -> bool {
        chunk.in_memory && triage.residual_keys <= chunk_rows / 8
    }

    /// Copy the residual rows of `triage` (before [`release`]) into memory.
    pub async fn hold(&mut self, ctx: &SessionContext, table: &str, triage: &Triage) -> Result<()> {
        let Some(views) = &triage.residual_tables else {
            return Ok(());
        };
        let on_error = query_error(table, "holding the rows that differ");
        for (side, view) in views.iter().enumerate() {
            let frame = ctx.table(view.as_str()).await.map_err(&on_error)?;
            self.schemas[side].get_or_insert_with(|| Arc::new(frame.schema().as_arrow().clone()));
            let batches = frame.collect().await.map_err(&on_error)?;
            self.rows += batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
            self.sides[side].extend(batches);
        }
        self.groups += triage.differing.len();
        Ok(())
    }

    /// Enough rows or groups pending to diff them now; pending rows stay under about a
    /// quarter of a chunk.
    pub fn is_due(&self, chunk_rows: u64) -> bool {
        self.rows >= chunk_rows / 4 || self.groups >= PENDING_GROUPS
    }

    /// Register the pending rows as two tables (legacy, beta) and forget them here; `None`
    /// when none are pending. [`release_pending`] drops the tables.
    pub fn register(&mut self, ctx: &SessionContext, table: &str) -> Result<Option<[String; 2]>> {
        let taken = std::mem::take(self);
        let [Some(legacy), Some(beta)] = taken.schemas else {
            return Ok(None);
        };
        let on_error = query_error(table, "holding the rows that differ");
        let [legacy_rows, beta_rows] = taken.sides;
        register_in_memory(ctx, PENDING[0], legacy, legacy_rows, &on_error)?;
        register_in_memory(ctx, PENDING[1], beta, beta_rows, &on_error)?;
        Ok(Some(PENDING.map(str::to_owned)))
    }
}

/// Drop the tables [`PendingRows::register`] registered.
pub(crate) fn release_pending(ctx: &SessionContext, table: &str) -> Result<()> {
    for name in PENDING {
        ctx.deregister_table(name)
            .map_err(query_error(table, "releasing triage tables"))?;
    }
    Ok(())
}

/// Drop the tables [`triage_chunk`] registered.
pub(crate) fn release(ctx: &SessionContext, table: &str) -> Result<()> {
    for name in [
        RESIDUAL_KEYS,
        CHUNK_ROWS[0],
        CHUNK_ROWS[1],
        CHUNK_HASHES[0],
        CHUNK_HASHES[1],
        "__residual_legacy",
        "__residual_beta",
    ] {
        ctx.deregister_table(name)
            .map_err(query_error(table, "releasing triage tables"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanColumn;
    use pathway_hash::Footprint;

    fn plan() -> Plan {
        Plan {
            legacy_table: "l".into(),
            beta_table: "b".into(),
            group: Some("district_id".into()),
            keyed: true,
            key: vec![PlanColumn {
                name: "id".into(),
                ..PlanColumn::default()
            }],
            compared: Vec::new(),
            exclude_groups: vec!["9".into()],
            pair_unmatched: false,
        }
    }

    fn fields(id: DataType) -> Vec<(String, DataType)> {
        vec![
            ("name".into(), DataType::Utf8View),
            ("id".into(), id),
            ("district_id".into(), DataType::Utf8),
        ]
    }

    fn print(rows: u64, fingerprint: i128, dup_keys: u64) -> Footprint {
        Footprint {
            columns: vec![
                ("id".into(), "Int64".into()),
                ("name".into(), "text".into()),
            ],
            key: vec!["id".into()],
            rows,
            fingerprint,
            dup_keys,
            null_key_rows: 0,
            dup_rows: None,
        }
    }

    #[test]
    fn only_agreeing_footprints_of_whole_groups_decide() {
        let mut footprints = GroupFootprints::default();
        let mut sizes = BTreeMap::new();
        // (group, legacy, beta, rows the tables hold)
        let cases = [
            ("1", print(3, 7, 0), Some(print(3, 7, 0)), [3, 3]), // decided
            ("2", print(3, 7, 0), Some(print(3, 8, 0)), [3, 3]), // other rows
            ("3", print(3, 7, 1), Some(print(3, 7, 1)), [3, 3]), // the same, a key twice
            ("4", print(3, 7, 0), None, [3, 3]),                 // no beta footprint
            ("5", print(3, 7, 0), Some(print(3, 7, 0)), [3, 4]), // a file the footprint missed
            ("6", print(0, 0, 0), Some(print(0, 0, 0)), [0, 0]), // no rows: not a group
            ("9", print(3, 7, 0), Some(print(3, 7, 0)), [3, 3]), // excluded
        ];
        for (group, legacy, beta, rows) in cases {
            footprints.legacy.insert(group.into(), legacy);
            if let Some(beta) = beta {
                footprints.beta.insert(group.into(), beta);
            }
            sizes.insert(group.to_owned(), rows);
        }
        let decided = decided_by_footprints(
            &plan(),
            &footprints,
            [&fields(DataType::Int64), &fields(DataType::Int64)],
            &sizes,
        );
        // 3 holds the same rows on both sides, a key twice: decided, its duplicates to read.
        assert_eq!(decided.keys().collect::<Vec<_>>(), vec!["1", "3"]);
        assert_eq!((decided["1"].rows, decided["1"].dup_keys), (3, 0));
        assert_eq!((decided["3"].rows, decided["3"].dup_keys), (3, 1));
        // Sides of other types: nothing. Footprints of another key or other columns: not 1.
        let other_types = decided_by_footprints(
            &plan(),
            &footprints,
            [&fields(DataType::Int64), &fields(DataType::Int32)],
            &sizes,
        );
        assert!(other_types.is_empty());
        let mut other_key = footprints.clone();
        other_key.legacy.get_mut("1").unwrap().key = vec!["name".into()];
        other_key.beta.get_mut("1").unwrap().key = vec!["name".into()];
        let fields = fields(DataType::Int64);
        let decided = decided_by_footprints(&plan(), &other_key, [&fields, &fields], &sizes);
        assert_eq!(decided.keys().collect::<Vec<_>>(), vec!["3"]);
        let mut wider = footprints.clone();
        for side in [&mut wider.legacy, &mut wider.beta] {
            side.get_mut("1")
                .unwrap()
                .columns
                .push(("zip".into(), "text".into()));
        }
        let decided = decided_by_footprints(&plan(), &wider, [&fields, &fields], &sizes);
        assert_eq!(decided.keys().collect::<Vec<_>>(), vec!["3"]);
    }

    #[test]
    fn chunks_leave_out_decided_groups_and_never_span_another_kind() {
        let sizes: BTreeMap<String, [u64; 2]> = [
            ("a", 2),
            ("b", 2),
            ("c", 2),
            ("d", 2),
            ("e", 9),
            ("f", 1),
            ("g", 1),
            ("h", 1),
        ]
        .into_iter()
        .map(|(g, rows)| (g.to_owned(), [rows, rows]))
        .collect();
        let same = |dup_keys| SideProfile { rows: 1, dup_keys };
        // c and g: decided whole; f and h: the same rows, with a duplicated key.
        let decided: BTreeMap<String, SideProfile> = [
            ("c".to_owned(), same(0)),
            ("f".to_owned(), same(1)),
            ("g".to_owned(), same(0)),
            ("h".to_owned(), same(2)),
        ]
        .into();
        let chunks = chunks(&sizes, 10, &decided);
        let groups: Vec<Vec<&str>> = chunks
            .iter()
            .map(|c| c.groups.iter().map(String::as_str).collect())
            .collect();
        // a + b fit in 10 rows; c is decided, so d starts a chunk of its own although it would
        // fit beside b; e (18 rows) is larger than a chunk; f and h go together across g.
        assert_eq!(
            groups,
            vec![vec!["a", "b"], vec!["d"], vec!["e"], vec!["f", "h"]]
        );
        assert_eq!(
            chunks
                .iter()
                .map(|c| (c.in_memory, c.key_slices, c.same_rows))
                .collect::<Vec<_>>(),
            vec![
                (true, 1, false),
                (true, 1, false),
                (false, 2, false),
                (false, 1, true)
            ]
        );
    }
}
