//! Row hashes and order-independent fingerprints, as DataFusion functions.
//!
//! - `pathway_row_hash(c1, …, cn)`: a 126-bit hash of each row's values (a `DECIMAL(38, 0)`),
//!   column by column with xxh3-128 seeded by the column's position, with a marker for null:
//!   `'a', 'bc'` and `'ab', 'c'` hash differently, as do null and `''` (see [`hash_rows`]).
//! - `pathway_fingerprint(h)`: the sum of the hashes modulo 2^126, so the order of rows does not
//!   matter but their multiplicity does. With the row count beside it, two groups with equal
//!   fingerprints hold the same multiset of rows, except with probability about 2^-126.
//!
//! Hashes see values bit for bit, except floats, which are hashed canonical: `-0.0` as `0.0` and
//! every NaN as one NaN, the form the diff compares them in (`pathway_canonical`). Rows with
//! equal hashes are therefore equal for the diff; rows with different hashes go to the exact
//! comparison, which judges them by SQL.
//!
//! The hashes fit `DECIMAL(38, 0)` (126 bits < 10^38), so DataFusion groups, joins and filters
//! on them as plain 128-bit integers.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, EmitTo, GroupsAccumulator,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// Name of the row hash function.
pub const ROW_HASH: &str = "pathway_row_hash";
/// Name of the fingerprint aggregate.
pub const FINGERPRINT: &str = "pathway_fingerprint";

/// The type of hashes and fingerprints.
pub const HASH_TYPE: DataType = DataType::Decimal128(38, 0);

/// Register `pathway_row_hash` and `pathway_fingerprint` in `ctx` (idempotent).
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(row_hash_udf());
    ctx.register_udaf(fingerprint_udaf());
}

/// The `pathway_fingerprint` aggregate.
#[must_use]
pub fn fingerprint_udaf() -> AggregateUDF {
    AggregateUDF::from(Fingerprint::new())
}

/// The `pathway_row_hash` function, for building expressions without SQL.
#[must_use]
pub fn row_hash_udf() -> ScalarUDF {
    ScalarUDF::from(RowHash::new())
}

/// Hash each row of `columns` (all of the same length) to a 126-bit value: see
/// [`pathway_hash::hash_rows`], which the transform's writer uses too.
///
/// # Errors
/// A column type Arrow's row format cannot encode.
pub fn hash_rows(columns: &[ArrayRef]) -> Result<Vec<i128>> {
    Ok(pathway_hash::hash_rows(columns)?)
}

pub use pathway_hash::combine;

#[derive(Debug, PartialEq, Eq, Hash)]
struct RowHash {
    signature: Signature,
}

impl RowHash {
    fn new() -> Self {
        RowHash {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        ROW_HASH
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(HASH_TYPE)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let hashes = hash_rows(&arrays)?;
        let array = Decimal128Array::from(hashes).with_precision_and_scale(38, 0)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Fingerprint {
    signature: Signature,
}

impl Fingerprint {
    fn new() -> Self {
        Fingerprint {
            signature: Signature::exact(vec![HASH_TYPE], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Fingerprint {
    fn name(&self) -> &str {
        FINGERPRINT
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(HASH_TYPE)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SumAccumulator(0)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(SumGroups::default()))
    }
}

fn hashes(array: &ArrayRef) -> Result<&Decimal128Array> {
    match array.data_type() {
        DataType::Decimal128(_, _) => Ok(array.as_primitive::<Decimal128Type>()),
        other => exec_err!("{FINGERPRINT} expects {HASH_TYPE}, got {other}"),
    }
}

fn decimal_array(values: Vec<i128>) -> Result<ArrayRef> {
    Ok(Arc::new(
        Decimal128Array::from(values).with_precision_and_scale(38, 0)?,
    ))
}

/// Sums over one group (used without GROUP BY).
#[derive(Debug)]
struct SumAccumulator(i128);

impl Accumulator for SumAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for h in hashes(&values[0])?.iter().flatten() {
            self.0 = combine(self.0, h);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Decimal128(Some(self.0), 38, 0))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}

/// Sums per group (used with GROUP BY, where there may be millions of groups).
#[derive(Debug, Default)]
struct SumGroups {
    sums: Vec<i128>,
}

impl SumGroups {
    fn add(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.sums.resize(total_num_groups, 0);
        let values = hashes(&values[0])?;
        for (row, &group) in group_indices.iter().enumerate() {
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            if values.is_valid(row) {
                self.sums[group] = combine(self.sums[group], values.value(row));
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for SumGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        decimal_array(emit_to.take_needed(&mut self.sums))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = hashes(&values[0])?;
        let state: Vec<i128> = (0..values.len())
            .map(|row| {
                let kept = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
                if kept && values.is_valid(row) {
                    values.value(row)
                } else {
                    0
                }
            })
            .collect();
        Ok(vec![decimal_array(state)?])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<i128>()
    }
}
