//! One read of a side: every measure of every profiled column, per group, in a single pass over
//! the side's rows.
//!
//! Why not SQL: the measures need three groupings (per group; per group and value for the
//! distinct counts; per group, column and value for the top values), which DataFusion answers
//! with three reads of the side, the last one a scan per low-cardinality column, and together
//! they cost more than the rest of a night. Here DataFusion reads the files and leaves out the
//! skipped groups, its partitions are walked in parallel, and each value is hashed once per
//! column: the hash counts the value (exactly up to [`EXACT_DISTINCT_UP_TO`] distinct values,
//! then in a `HyperLogLog` sketch), and the counts of a column with few values give its top
//! values. Min and max are DataFusion's own accumulators, so they order values as SQL does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type, i256};
use cardinality_estimator::CardinalityEstimator;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::min_max::{MaxAccumulator, MinAccumulator};
use datafusion::logical_expr::Accumulator;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use futures::StreamExt;

use crate::measure::{Measure, number_text, top_text, value_label};
use crate::query::{Column, Kind, group_and_filter, quote};
use crate::{EXACT_DISTINCT_UP_TO, Error, LOW_CARDINALITY, ProfileSpec, Result};

type DfResult<T> = std::result::Result<T, DataFusionError>;

/// The values' hashes are already well mixed: a map keyed by them needs no second hash.
#[derive(Debug, Default)]
struct Unhashed(u64);

impl Hasher for Unhashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashCounts = HashMap<u64, u64, BuildHasherDefault<Unhashed>>;

/// The sketch of a column with more than [`EXACT_DISTINCT_UP_TO`] values in a group: 2^14
/// registers (the precision of DataFusion's `approx_distinct`), about 0.8% error.
type Sketch = CardinalityEstimator<u64, Unhashed, 14, 6>;

/// The hash of each value (DataFusion's, the one its hash joins use).
const VALUE_HASH: RandomState = RandomState::with_seed(0x005e_ed0f_9a7e);

/// A further mix before a hash goes into the sketch, whose registers take its low and high
/// bits separately (splitmix64's finaliser).
fn mixed(hash: u64) -> u64 {
    let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How each output column of the side's query is measured.
#[derive(Debug, Clone)]
struct Measured {
    kind: Kind,
    personal: bool,
    /// The column's type once a dictionary is unpacked.
    data_type: DataType,
}

/// An exact sum: integers as `i128`, decimals in their own scale.
#[derive(Debug, Clone, Copy)]
enum ExactSum {
    Integer(i128),
    Decimal128(i128, i8),
    Decimal256(i256, i8),
    /// The sum left the type's range: no sum is written.
    Overflowed,
}

impl ExactSum {
    fn add(self, other: ExactSum) -> ExactSum {
        use ExactSum::{Decimal128, Decimal256, Integer, Overflowed};
        match (self, other) {
            (Integer(a), Integer(b)) => a.checked_add(b).map_or(Overflowed, Integer),
            (Decimal128(a, s), Decimal128(b, _)) => {
                a.checked_add(b).map_or(Overflowed, |x| Decimal128(x, s))
            }
            (Decimal256(a, s), Decimal256(b, _)) => {
                a.checked_add(b).map_or(Overflowed, |x| Decimal256(x, s))
            }
            _ => Overflowed,
        }
    }

    fn text(self) -> Option<String> {
        let scalar = match self {
            ExactSum::Integer(x) => ScalarValue::Decimal128(Some(x), 38, 0),
            ExactSum::Decimal128(x, s) => ScalarValue::Decimal128(Some(x), 38, s),
            ExactSum::Decimal256(x, s) => ScalarValue::Decimal256(Some(x), 76, s),
            ExactSum::Overflowed => return None,
        };
        scalar_text(&scalar)
    }
}

/// The text SQL's `CAST(x AS VARCHAR)` gives a value, `None` for null.
fn scalar_text(scalar: &ScalarValue) -> Option<String> {
    if scalar.is_null() {
        return None;
    }
    let array = scalar.to_array().ok()?;
    value_text(&array, 0)
}

fn value_text(array: &ArrayRef, i: usize) -> Option<String> {
    let one = cast(&array.slice(i, 1), &DataType::Utf8).ok()?;
    let text = one.as_string::<i32>();
    (!text.is_null(0)).then(|| text.value(0).to_owned())
}

/// One column's measures in one group, so far.
#[derive(Debug)]
struct ColumnMeasures {
    nulls: u64,
    empty: u64,
    min: Option<MinAccumulator>,
    max: Option<MaxAccumulator>,
    exact_sum: Option<ExactSum>,
    /// The sum as doubles, for the mean (`AVG(CAST(x AS DOUBLE))`) and a float's sum.
    float_sum: f64,
    numbers: u64,
    /// Count per value hash, while the group has at most [`EXACT_DISTINCT_UP_TO`] values.
    counts: Option<HashCounts>,
    /// The text of each counted value, while there are at most [`LOW_CARDINALITY`] of them
    /// (never for a personal column).
    texts: Option<HashMap<u64, String, BuildHasherDefault<Unhashed>>>,
    /// Past [`EXACT_DISTINCT_UP_TO`] values, their sketch instead of their counts.
    sketch: Option<Box<Sketch>>,
}

impl ColumnMeasures {
    fn new(column: &Measured) -> DfResult<Self> {
        let valued = !column.personal && column.kind != Kind::Other;
        let ordered = valued
            && matches!(
                column.kind,
                Kind::Text | Kind::Integer | Kind::Float | Kind::Decimal | Kind::Temporal
            );
        let counted = column.kind != Kind::Other;
        Ok(ColumnMeasures {
            nulls: 0,
            empty: 0,
            min: if ordered {
                Some(MinAccumulator::try_new(&column.data_type)?)
            } else {
                None
            },
            max: if ordered {
                Some(MaxAccumulator::try_new(&column.data_type)?)
            } else {
                None
            },
            exact_sum: None,
            float_sum: 0.0,
            numbers: 0,
            counts: counted.then(HashCounts::default),
            texts: valued.then(HashMap::default),
            sketch: None,
        })
    }

    /// Take in `values`, one group's run of a batch.
    fn add(&mut self, column: &Measured, values: &ArrayRef, hashes: &mut Vec<u64>) -> DfResult<()> {
        // Logical nulls: a column of type Null has no null buffer, yet every value is null.
        self.nulls += values.logical_null_count() as u64;
        if column.kind == Kind::Other {
            return Ok(());
        }
        self.count_values(values, hashes)?;
        if column.personal {
            return Ok(());
        }
        if let Some(min) = &mut self.min {
            min.update_batch(std::slice::from_ref(values))?;
        }
        if let Some(max) = &mut self.max {
            max.update_batch(std::slice::from_ref(values))?;
        }
        match column.kind {
            Kind::Text => self.empty += empty_strings(values),
            Kind::Integer | Kind::Float | Kind::Decimal => self.add_numbers(column, values)?,
            _ => {}
        }
        Ok(())
    }

    fn count_values(&mut self, values: &ArrayRef, hashes: &mut Vec<u64>) -> DfResult<()> {
        hashes.clear();
        hashes.resize(values.len(), 0);
        create_hashes([values], &VALUE_HASH, hashes)?;
        let valid = |i: usize| values.is_valid(i);
        if let Some(sketch) = &mut self.sketch {
            for (i, &h) in hashes.iter().enumerate() {
                if valid(i) {
                    sketch.insert_hash(mixed(h));
                }
            }
            return Ok(());
        }
        let Some(counts) = &mut self.counts else {
            return Ok(());
        };
        // The rows where a value first appears, while its text may still be kept: their texts
        // are taken in one cast after the loop, not one cast per value.
        let mut first: Vec<u32> = Vec::new();
        let mut listing = self.texts.is_some();
        for (i, &h) in hashes.iter().enumerate() {
            if !valid(i) {
                continue;
            }
            let count = counts.entry(h).or_insert(0);
            *count += 1;
            if *count == 1 && listing {
                if counts.len() as u64 > LOW_CARDINALITY {
                    listing = false;
                    first.clear();
                } else {
                    first.push(i as u32);
                }
            }
        }
        if !listing {
            self.texts = None;
        } else if !first.is_empty() {
            let picked = arrow::compute::take(values, &UInt32Array::from(first.clone()), None)?;
            let text = cast(&picked, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            // Texts are kept only while every counted value has one.
            match &mut self.texts {
                Some(texts) if text.null_count() == 0 => {
                    for (j, &i) in first.iter().enumerate() {
                        texts.insert(hashes[i as usize], text.value(j).to_owned());
                    }
                }
                _ => self.texts = None,
            }
        }
        if counts.len() as u64 > EXACT_DISTINCT_UP_TO {
            self.estimate_from_now_on();
        }
        Ok(())
    }

    fn estimate_from_now_on(&mut self) {
        let mut sketch = Box::new(Sketch::new());
        for &h in self.counts.take().iter().flat_map(HashMap::keys) {
            sketch.insert_hash(mixed(h));
        }
        self.texts = None;
        self.sketch = Some(sketch);
    }

    fn add_numbers(&mut self, column: &Measured, values: &ArrayRef) -> DfResult<()> {
        let present = (values.len() - values.null_count()) as u64;
        if present == 0 {
            return Ok(());
        }
        self.numbers += present;
        let doubles = cast(values, &DataType::Float64)?;
        self.float_sum += arrow::compute::sum(doubles.as_primitive::<Float64Type>()).unwrap_or(0.0);
        let sum = match &column.data_type {
            DataType::UInt64 => {
                let ints = values.as_primitive::<UInt64Type>();
                ExactSum::Integer(ints.iter().flatten().map(i128::from).sum())
            }
            t if t.is_integer() => {
                let ints = cast(values, &DataType::Int64)?;
                let ints = ints.as_primitive::<Int64Type>();
                ExactSum::Integer(ints.iter().flatten().map(i128::from).sum())
            }
            DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => {
                let wide = cast(values, &DataType::Decimal128(38, *s))?;
                let wide = wide.as_primitive::<arrow::datatypes::Decimal128Type>();
                wide.iter()
                    .flatten()
                    .try_fold(0_i128, i128::checked_add)
                    .map_or(ExactSum::Overflowed, |x| ExactSum::Decimal128(x, *s))
            }
            DataType::Decimal256(_, s) => {
                let wide = values.as_primitive::<arrow::datatypes::Decimal256Type>();
                wide.iter()
                    .flatten()
                    .try_fold(i256::ZERO, i256::checked_add)
                    .map_or(ExactSum::Overflowed, |x| ExactSum::Decimal256(x, *s))
            }
            // A float's sum is its double sum.
            _ => return Ok(()),
        };
        self.exact_sum = Some(match self.exact_sum {
            Some(before) => before.add(sum),
            None => sum,
        });
        Ok(())
    }

    /// Fold in the same column's measures of the same group from another partition.
    fn merge(&mut self, mut other: ColumnMeasures) -> DfResult<()> {
        self.nulls += other.nulls;
        self.empty += other.empty;
        if let (Some(min), Some(theirs)) = (&mut self.min, &mut other.min) {
            min.update_batch(&[theirs.evaluate()?.to_array()?])?;
        }
        if let (Some(max), Some(theirs)) = (&mut self.max, &mut other.max) {
            max.update_batch(&[theirs.evaluate()?.to_array()?])?;
        }
        self.exact_sum = match (self.exact_sum, other.exact_sum) {
            (Some(a), Some(b)) => Some(a.add(b)),
            (a, b) => a.or(b),
        };
        self.float_sum += other.float_sum;
        self.numbers += other.numbers;
        if self.counts.is_none() && self.sketch.is_none() {
            return Ok(());
        }
        // Both counted: add the counts, and the texts while both sides have them all.
        if let (Some(counts), Some(theirs)) = (&mut self.counts, &other.counts) {
            for (&h, &n) in theirs {
                *counts.entry(h).or_insert(0) += n;
            }
            let listed = counts.len() as u64 <= LOW_CARDINALITY;
            match (self.texts.as_mut(), other.texts.take()) {
                (Some(texts), Some(theirs)) if listed => texts.extend(theirs),
                _ => self.texts = None,
            }
            if counts.len() as u64 > EXACT_DISTINCT_UP_TO {
                self.estimate_from_now_on();
            }
            return Ok(());
        }
        // One side or both estimated: a sketch of both.
        if self.sketch.is_none() {
            self.estimate_from_now_on();
        }
        let sketch = self.sketch.as_mut().expect("made above");
        match (other.sketch, other.counts) {
            (Some(theirs), _) => sketch.merge(&theirs),
            (None, Some(theirs)) => {
                for &h in theirs.keys() {
                    sketch.insert_hash(mixed(h));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// The finished measures, as text; the distinct count is `~N` when it is an estimate.
    fn finish(&mut self, column: &Measured) -> DfResult<Vec<(Measure, String)>> {
        let mut measures = vec![(Measure::Nulls, self.nulls.to_string())];
        if column.kind == Kind::Other {
            return Ok(measures);
        }
        let distinct = match (&self.counts, &self.sketch) {
            (Some(counts), _) => counts.len().to_string(),
            (None, Some(sketch)) => format!("~{}", sketch.estimate()),
            (None, None) => "0".to_owned(),
        };
        measures.push((Measure::Distinct, distinct));
        if column.personal {
            return Ok(measures);
        }
        if column.kind == Kind::Text {
            measures.push((Measure::Empty, self.empty.to_string()));
        }
        let float = column.kind == Kind::Float;
        let number = |x: f64| {
            if x.is_finite() {
                number_text(x)
            } else {
                value_text(
                    &ScalarValue::Float64(Some(x)).to_array().expect("a scalar"),
                    0,
                )
                .unwrap_or_default()
            }
        };
        for (measure, value) in [
            (Measure::Min, self.min.as_mut().map(Accumulator::evaluate)),
            (Measure::Max, self.max.as_mut().map(Accumulator::evaluate)),
        ] {
            let Some(text) = value.transpose()?.as_ref().and_then(scalar_text) else {
                continue;
            };
            let text = match text.parse::<f64>() {
                Ok(x) if float && x.is_finite() => number_text(x),
                _ => text,
            };
            measures.push((measure, text));
        }
        if self.numbers > 0 {
            let sum = if float {
                Some(number(self.float_sum))
            } else {
                self.exact_sum.and_then(ExactSum::text)
            };
            if let Some(sum) = sum {
                measures.push((Measure::Sum, sum));
            }
            measures.push((Measure::Mean, number(self.float_sum / self.numbers as f64)));
        }
        Ok(measures)
    }

    /// The top values, when this side has every value's text: `value=count;...`, most
    /// frequent first, then by value.
    fn top(&self) -> Option<String> {
        let (counts, texts) = (self.counts.as_ref()?, self.texts.as_ref()?);
        let mut values: Vec<(u64, String)> = counts
            .iter()
            .map(|(h, &n)| Some((n, value_label(Some(texts.get(h)?.clone())))))
            .collect::<Option<_>>()?;
        if self.nulls > 0 {
            values.push((self.nulls, value_label(None)));
        }
        Some(top_text(values))
    }
}

/// The empty strings among `values` (text).
fn empty_strings(values: &ArrayRef) -> u64 {
    let count =
        |it: &mut dyn Iterator<Item = Option<&str>>| it.filter(|v| *v == Some("")).count() as u64;
    match values.data_type() {
        DataType::Utf8 => count(&mut values.as_string::<i32>().iter()),
        DataType::LargeUtf8 => count(&mut values.as_string::<i64>().iter()),
        DataType::Utf8View => count(&mut values.as_string_view().iter()),
        _ => 0,
    }
}

/// One group's measures.
#[derive(Debug)]
struct GroupMeasures {
    rows: u64,
    columns: Vec<ColumnMeasures>,
}

/// What a side's read found: per group, its rows and columns' measures.
#[derive(Debug, Default)]
pub(crate) struct SideMeasures {
    groups: BTreeMap<String, GroupMeasures>,
    /// Groups read but not measured.
    passed_over: Arc<BTreeSet<String>>,
}

/// The measures of one side, by group: (group, column, measure) → text, and the top values
/// of the (group, column index) whose values this side listed in full.
#[derive(Debug)]
pub(crate) struct Finished {
    pub values: BTreeMap<(String, String, Measure), String>,
    pub top: BTreeMap<(String, usize), String>,
}

impl SideMeasures {
    fn add_batch(&mut self, batch: &RecordBatch, measured: &[Measured]) -> DfResult<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let groups = cast(batch.column(0), &DataType::Utf8)?;
        let runs = runs(groups.as_string::<i32>());
        // Rows of many groups interleaved (a table not written by district): sorted first,
        // so that each group is one run.
        let (batch, groups, runs) = if runs.len() > 16 && runs.len() * 64 > batch.num_rows() {
            let order = sort_to_indices(&groups, None, None)?;
            let sorted = take_record_batch(batch, &order)?;
            let groups = cast(sorted.column(0), &DataType::Utf8)?;
            let runs = self::runs(groups.as_string::<i32>());
            (sorted, groups, runs)
        } else {
            (batch.clone(), groups, runs)
        };
        let groups = groups.as_string::<i32>();
        let columns: Vec<ArrayRef> = batch.columns()[1..]
            .iter()
            .zip(measured)
            .map(|(array, m)| {
                // Columns measured for nulls only are taken as they are.
                if array.data_type() == &m.data_type || m.kind == Kind::Other {
                    Ok(Arc::clone(array))
                } else {
                    cast(array, &m.data_type)
                }
            })
            .collect::<std::result::Result<_, _>>()?;
        let mut hashes = Vec::new();
        for (start, len) in runs {
            let group = if groups.is_null(start) {
                ""
            } else {
                groups.value(start)
            };
            if self.passed_over.contains(group) {
                continue;
            }
            if !self.groups.contains_key(group) {
                let columns = measured
                    .iter()
                    .map(ColumnMeasures::new)
                    .collect::<DfResult<_>>()?;
                self.groups
                    .insert(group.to_owned(), GroupMeasures { rows: 0, columns });
            }
            let state = self.groups.get_mut(group).expect("inserted above");
            state.rows += len as u64;
            for ((column, values), m) in state.columns.iter_mut().zip(&columns).zip(measured) {
                column.add(m, &values.slice(start, len), &mut hashes)?;
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: SideMeasures) -> DfResult<()> {
        for (group, theirs) in other.groups {
            match self.groups.get_mut(&group) {
                None => {
                    self.groups.insert(group, theirs);
                }
                Some(mine) => {
                    mine.rows += theirs.rows;
                    for (column, their) in mine.columns.iter_mut().zip(theirs.columns) {
                        column.merge(their)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, columns: &[Column], measured: &[Measured]) -> DfResult<Finished> {
        let mut finished = Finished {
            values: BTreeMap::new(),
            top: BTreeMap::new(),
        };
        for (group, state) in &mut self.groups {
            finished.values.insert(
                (group.clone(), String::new(), Measure::Rows),
                state.rows.to_string(),
            );
            for (c, column) in state.columns.iter_mut().enumerate() {
                for (measure, text) in column.finish(&measured[c])? {
                    finished
                        .values
                        .insert((group.clone(), columns[c].name.clone(), measure), text);
                }
                if let Some(top) = column.top() {
                    finished.top.insert((group.clone(), c), top);
                }
            }
        }
        Ok(finished)
    }
}

/// The (start, length) of each run of equal groups in `groups`.
fn runs(groups: &arrow::array::StringArray) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=groups.len() {
        let ended = i == groups.len()
            || groups.is_null(i) != groups.is_null(start)
            || groups.value(i) != groups.value(start);
        if ended {
            runs.push((start, i - start));
            start = i;
        }
    }
    runs
}

/// Read `table` (one side) once and measure `columns` in every group but those `spec` skips
/// (left out of the read) and those `passed_over` (read, not measured).
pub(crate) async fn measure_side(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    columns: &[Column],
    spec: &ProfileSpec,
    passed_over: &BTreeSet<String>,
) -> Result<Finished> {
    let error = |source| Error::Query {
        table: spec.table.clone(),
        side,
        source,
    };
    let (group, filter) = group_and_filter(spec, None);
    // The group's alias, unlike any column's name.
    let mut alias = "__profile_group".to_owned();
    while columns.iter().any(|c| c.name_in_table == alias) {
        alias.push('_');
    }
    let mut select = vec![format!("{group} AS {}", quote(&alias))];
    select.extend(columns.iter().map(|c| quote(&c.name_in_table)));
    let sql = format!(
        "SELECT {} FROM {} {filter}",
        select.join(", "),
        quote(table)
    );
    let clock = std::time::Instant::now();
    let frame = ctx.sql(&sql).await.map_err(error)?;
    let measured: Arc<Vec<Measured>> = Arc::new(
        frame
            .schema()
            .fields()
            .iter()
            .skip(1)
            .zip(columns)
            .map(|(field, c)| Measured {
                kind: c.kind,
                personal: c.personal,
                data_type: match field.data_type() {
                    DataType::Dictionary(_, value) => value.as_ref().clone(),
                    t => t.clone(),
                },
            })
            .collect(),
    );
    let streams = frame.execute_stream_partitioned().await.map_err(error)?;
    let passed_over = Arc::new(passed_over.clone());
    let tasks: Vec<SpawnedTask<DfResult<SideMeasures>>> = streams
        .into_iter()
        .map(|stream| {
            let side = SideMeasures {
                groups: BTreeMap::new(),
                passed_over: Arc::clone(&passed_over),
            };
            SpawnedTask::spawn(measure_partition(stream, side, Arc::clone(&measured)))
        })
        .collect();
    let mut side_measures = SideMeasures::default();
    for task in tasks {
        let partition = task
            .join()
            .await
            .map_err(|e| error(DataFusionError::External(Box::new(e))))?
            .map_err(error)?;
        side_measures.merge(partition).map_err(error)?;
    }
    let groups = side_measures.groups.len();
    let finished = side_measures.finish(columns, &measured).map_err(error)?;
    // What the read cost (names of tables and counts only, never values).
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        table = spec.table,
        side,
        groups,
        "profile read of {table}"
    );
    Ok(finished)
}

async fn measure_partition(
    mut stream: SendableRecordBatchStream,
    mut side: SideMeasures,
    measured: Arc<Vec<Measured>>,
) -> DfResult<SideMeasures> {
    while let Some(batch) = stream.next().await {
        side.add_batch(&batch?, &measured)?;
    }
    Ok(side)
}
