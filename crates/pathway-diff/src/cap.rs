//! A row diff capped at N rows per group (`--max-row-diff`, `max_row_diff`): every count stays
//! exact, the rows kept are the first by key, and a district where everything differs costs the
//! join and the counting, not the writing and re-reading of millions of rows nobody will read.
//!
//! The row diff's rows stream through [`CappedRowDiff::add`] once. Each batch adds to exact
//! counts per group (kinds of rows, per-column mismatches, cells a rule hid, declared pairs) from
//! the row diff's own list columns, and offers its rows to a per-group keeper that holds the
//! N + 1 smallest by key (arrow's row format compares any key types in SQL's ascending order,
//! nulls last). At the end a group keeps its rows under the keys before the (N + 1)-th row's
//! key: rows under one key are kept or dropped together, so the kept rows are exactly those of
//! `COUNT(*) OVER (PARTITION BY group ORDER BY key) <= N`, whatever the order rows arrived in.
//! Rows under duplicated keys are also held aside, uncapped, because FULL MATCH depends on
//! whether they balance as multisets.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{SortOptions, cast, concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};

use crate::error::{Error, Result};
use crate::plan::Plan;

/// A column with declared (legacy, beta) pairs: its name, its legacy and beta positions in
/// the row diff, and the pairs.
type ExpectedPairs = (String, usize, usize, HashSet<(String, String)>);

/// Exact counts of one group's row diff, whatever the cap kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExactCounts {
    /// Rows of the row diff.
    pub rows: u64,
    pub changed: u64,
    pub missing: u64,
    pub extra: u64,
    pub duplicate_legacy: u64,
    pub duplicate_beta: u64,
    /// Per compared column: changed rows where it differs.
    pub mismatches: BTreeMap<String, u64>,
    /// Per compared column: cells equal only under its rules.
    pub hidden: BTreeMap<String, u64>,
    /// Per compared column: of those, cells holding a declared pair.
    pub expected: BTreeMap<String, u64>,
}

/// What a capped row diff found.
#[derive(Debug)]
pub(crate) struct CapOutcome {
    /// The rows to write.
    pub kept: Vec<RecordBatch>,
    /// Groups whose row diff holds fewer rows than it found.
    pub capped: Vec<String>,
    pub counts: BTreeMap<String, ExactCounts>,
    /// Rows under duplicated keys, all of them.
    pub duplicates: Vec<RecordBatch>,
    pub schema: SchemaRef,
}

/// One group's candidates for the kept rows.
#[derive(Debug, Default)]
struct Keeper {
    batches: Vec<RecordBatch>,
    rows: usize,
    /// The (N + 1)-th smallest key seen so far: no row at or after it can be kept.
    threshold: Option<OwnedRow>,
}

/// The state of one table's capped row diff across the chunks of the triage.
#[derive(Debug)]
pub(crate) struct CappedRowDiff {
    limit: usize,
    table: String,
    /// Positions in the row diff of the group column and of the key columns.
    group: Option<usize>,
    key: Vec<usize>,
    diff: usize,
    side: usize,
    changed_columns: usize,
    hidden_columns: usize,
    /// Per compared column with declared pairs: its legacy and beta positions and the pairs.
    expected: Vec<ExpectedPairs>,
    schema: SchemaRef,
    converter: RowConverter,
    /// Per group: its name, exact counts and keeper; `index` finds a group by name.
    groups: Vec<(String, ExactCounts, Keeper)>,
    index: HashMap<String, usize>,
    /// Rows under duplicated keys, all of them.
    pub duplicates: Vec<RecordBatch>,
}

/// One more in `map` under `key`, allocating the key only the first time.
fn add_one(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

/// `batch`'s rows of `rows`, in buffers of their own. A `take` of a string-view column keeps
/// the source's data buffers alive (the whole row diff batch, and through it the chunk it was
/// read from): the kept rows would hold far more memory than they are.
fn take_compact(
    batch: &RecordBatch,
    rows: Vec<u32>,
) -> std::result::Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let taken = take_record_batch(batch, &UInt32Array::from(rows))?;
    let columns: Vec<Arc<dyn Array>> = taken
        .columns()
        .iter()
        .map(|c| -> Arc<dyn Array> {
            match c.data_type() {
                DataType::Utf8View => Arc::new(c.as_string_view().gc()),
                DataType::BinaryView => Arc::new(c.as_binary_view().gc()),
                _ => Arc::clone(c),
            }
        })
        .collect();
    RecordBatch::try_new(taken.schema(), columns)
}

fn position(schema: &SchemaRef, name: &str, table: &str) -> Result<usize> {
    schema.index_of(name).map_err(|e| Error::Query {
        table: table.to_owned(),
        step: "capping the row diff",
        source: e.into(),
    })
}

fn arrow_error(table: &str) -> impl Fn(datafusion::arrow::error::ArrowError) -> Error + '_ {
    move |e| Error::Query {
        table: table.to_owned(),
        step: "capping the row diff",
        source: e.into(),
    }
}

/// A column as text (`VARCHAR` results are `Utf8View` in DataFusion 55: cast, never downcast).
fn text(
    array: &dyn Array,
) -> std::result::Result<Arc<dyn Array>, datafusion::arrow::error::ArrowError> {
    cast(array, &DataType::Utf8)
}

impl CappedRowDiff {
    /// A capped row diff of `plan`'s row diff, whose rows have `schema`.
    pub fn new(plan: &Plan, table: &str, limit: u64, schema: SchemaRef) -> Result<CappedRowDiff> {
        let names = plan.row_diff_names();
        let group = match &names.group {
            Some(g) => Some(position(&schema, g, table)?),
            None => None,
        };
        let key = names
            .key
            .iter()
            .map(|k| position(&schema, k, table))
            .collect::<Result<Vec<_>>>()?;
        let sort = SortOptions {
            descending: false,
            nulls_first: false,
        };
        // Without key columns (the key was the group column) every row has the same key: a
        // constant column stands for it.
        let fields = if key.is_empty() {
            vec![SortField::new_with_options(DataType::Boolean, sort)]
        } else {
            key.iter()
                .map(|&i| SortField::new_with_options(schema.field(i).data_type().clone(), sort))
                .collect()
        };
        let converter = RowConverter::new(fields).map_err(arrow_error(table))?;
        let mut expected = Vec::new();
        if plan.keyed {
            for c in plan
                .compared
                .iter()
                .filter(|c| !c.rules.expected.is_empty())
            {
                expected.push((
                    c.name.clone(),
                    position(&schema, &format!("legacy_{}", c.name), table)?,
                    position(&schema, &format!("beta_{}", c.name), table)?,
                    c.rules.expected.iter().cloned().collect(),
                ));
            }
        }
        let (diff, side) = (
            position(&schema, "diff", table)?,
            position(&schema, "side", table)?,
        );
        // A table without a key has no rule columns: its row diff says `rows` instead.
        let (changed_columns, hidden_columns) = if plan.keyed {
            (
                position(&schema, "changed_columns", table)?,
                position(&schema, "hidden_columns", table)?,
            )
        } else {
            (usize::MAX, usize::MAX)
        };
        Ok(CappedRowDiff {
            limit: usize::try_from(limit).unwrap_or(usize::MAX - 1),
            table: table.to_owned(),
            group,
            key,
            diff,
            side,
            changed_columns,
            hidden_columns,
            expected,
            schema,
            converter,
            groups: Vec::new(),
            index: HashMap::new(),
            duplicates: Vec::new(),
        })
    }

    fn keys(&self, batch: &RecordBatch) -> Result<Rows> {
        let columns: Vec<Arc<dyn Array>> = if self.key.is_empty() {
            vec![Arc::new(datafusion::arrow::array::BooleanArray::from(
                vec![false; batch.num_rows()],
            ))]
        } else {
            self.key
                .iter()
                .map(|&i| Arc::clone(batch.column(i)))
                .collect()
        };
        self.converter
            .convert_columns(&columns)
            .map_err(arrow_error(&self.table))
    }

    /// The index of `group` in `self.groups`, entering it when new.
    fn group_index(&mut self, group: &str) -> usize {
        if let Some(&i) = self.index.get(group) {
            return i;
        }
        self.groups
            .push((group.to_owned(), ExactCounts::default(), Keeper::default()));
        self.index.insert(group.to_owned(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Count a batch of the row diff and offer its rows to the keepers.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let table = self.table.clone();
        let error = arrow_error(&table);
        let groups = match self.group {
            Some(i) => Some(text(batch.column(i)).map_err(&error)?),
            None => None,
        };
        let groups = groups
            .as_ref()
            .map(datafusion::arrow::array::AsArray::as_string::<i32>);
        let diff = text(batch.column(self.diff)).map_err(&error)?;
        let side = text(batch.column(self.side)).map_err(&error)?;
        let (diff, side) = (diff.as_string::<i32>(), side.as_string::<i32>());
        let lists = |i: usize| -> Result<Option<Arc<dyn Array>>> {
            if i == usize::MAX {
                Ok(None)
            } else {
                Ok(Some(text(batch.column(i)).map_err(&error)?))
            }
        };
        let (changed, hidden) = (lists(self.changed_columns)?, lists(self.hidden_columns)?);
        let (changed, hidden) = (
            changed
                .as_ref()
                .map(datafusion::arrow::array::AsArray::as_string::<i32>),
            hidden
                .as_ref()
                .map(datafusion::arrow::array::AsArray::as_string::<i32>),
        );
        let expected_values: Vec<(Arc<dyn Array>, Arc<dyn Array>)> = self
            .expected
            .iter()
            .map(|(_, l, b, _)| {
                Ok((
                    text(batch.column(*l)).map_err(&error)?,
                    text(batch.column(*b)).map_err(&error)?,
                ))
            })
            .collect::<Result<_>>()?;

        let keys = self.keys(batch)?;
        let mut offered: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        let mut duplicates = Vec::new();
        let mut previous: Option<(usize, usize)> = None;
        for row in 0..batch.num_rows() {
            let at = u32::try_from(row).expect("a batch's rows fit in u32");
            // Rows of one group often come together: look the group up only when it changes.
            let name = groups.map_or("*", |g| g.value(row));
            let g = match previous {
                Some((r, g)) if groups.is_none_or(|a| a.value(r) == name) => g,
                _ => self.group_index(name),
            };
            previous = Some((row, g));
            let (_, counts, keeper) = &mut self.groups[g];
            counts.rows += 1;
            let kind = diff.value(row);
            match kind {
                "changed" => counts.changed += 1,
                "missing_in_beta" => counts.missing += 1,
                "extra_in_beta" => counts.extra += 1,
                "duplicate_key" => {
                    duplicates.push(at);
                    if side.value(row) == "legacy" {
                        counts.duplicate_legacy += 1;
                    } else {
                        counts.duplicate_beta += 1;
                    }
                }
                _ => {}
            }
            if kind == "changed"
                && let Some(changed) = changed
            {
                for column in changed.value(row).split(';').filter(|c| !c.is_empty()) {
                    add_one(&mut counts.mismatches, column);
                }
            }
            if let Some(hidden) = hidden {
                for column in hidden.value(row).split(';').filter(|c| !c.is_empty()) {
                    add_one(&mut counts.hidden, column);
                    if let Some(at) = self.expected.iter().position(|e| e.0 == column) {
                        let (l, b) = &expected_values[at];
                        let (l, b) = (l.as_string::<i32>(), b.as_string::<i32>());
                        if l.is_valid(row)
                            && b.is_valid(row)
                            && self.expected[at]
                                .3
                                .contains(&(l.value(row).to_owned(), b.value(row).to_owned()))
                        {
                            add_one(&mut counts.expected, column);
                        }
                    }
                }
            }
            if keeper
                .threshold
                .as_ref()
                .is_none_or(|t| keys.row(row) < t.row())
            {
                offered.entry(g).or_default().push(at);
            }
        }
        if !duplicates.is_empty() {
            self.duplicates
                .push(take_record_batch(batch, &UInt32Array::from(duplicates)).map_err(&error)?);
        }
        // Compacting sorts the candidates: do it when they are half the cap (or 1024) past it,
        // so a district holds at most about 1.5 N + 1024 rows.
        let slack = (self.limit / 2).max(1024);
        for (g, rows) in offered {
            let taken = take_compact(batch, rows).map_err(&error)?;
            let keeper = &mut self.groups[g].2;
            keeper.rows += taken.num_rows();
            keeper.batches.push(taken);
            if keeper.rows > self.limit.saturating_add(1).saturating_add(slack) {
                let mut keeper = std::mem::take(keeper);
                self.compact(&mut keeper)?;
                self.groups[g].2 = keeper;
            }
        }
        Ok(())
    }

    /// Keep the N + 1 smallest candidates by key, in key order, and remember the last one's key.
    fn compact(&self, keeper: &mut Keeper) -> Result<()> {
        let error = arrow_error(&self.table);
        let all = concat_batches(&self.schema, &keeper.batches).map_err(&error)?;
        let keys = self.keys(&all)?;
        let mut order: Vec<u32> =
            (0..u32::try_from(all.num_rows()).expect("rows fit in u32")).collect();
        order.sort_by(|&a, &b| keys.row(a as usize).cmp(&keys.row(b as usize)));
        order.truncate(self.limit.saturating_add(1));
        if order.len() == self.limit.saturating_add(1) {
            keeper.threshold = Some(keys.row(*order.last().expect("not empty") as usize).owned());
        }
        let kept = take_compact(&all, order).map_err(&error)?;
        keeper.rows = kept.num_rows();
        keeper.batches = vec![kept];
        Ok(())
    }

    /// The kept rows of every group, the groups whose row diff lost rows to the cap, the exact
    /// counts and the rows under duplicated keys.
    pub fn finish(mut self) -> Result<CapOutcome> {
        let mut kept = Vec::new();
        let mut capped = Vec::new();
        let mut counts = BTreeMap::new();
        for (group, group_counts, mut keeper) in std::mem::take(&mut self.groups) {
            let total = group_counts.rows;
            counts.insert(group.clone(), group_counts);
            if total <= self.limit as u64 {
                kept.extend(keeper.batches);
                continue;
            }
            capped.push(group);
            self.compact(&mut keeper)?;
            let Some(all) = keeper.batches.pop() else {
                continue;
            };
            // `all` holds the N + 1 smallest rows in key order; keep those before the last
            // one's key, so a key's rows stay together.
            let keys = self.keys(&all)?;
            let last = keys.row(all.num_rows() - 1);
            let before = (0..all.num_rows())
                .take_while(|&i| keys.row(i) < last)
                .count();
            kept.push(all.slice(0, before));
        }
        capped.sort();
        Ok(CapOutcome {
            kept,
            capped,
            counts,
            duplicates: self.duplicates,
            schema: self.schema,
        })
    }
}
