//! The diff's own scalar functions: the classification of [`crate::classify`], so the category
//! of every changed cell is computed inside the query that reads the row diff, and
//! `pathway_canonical`, the float form values are compared in.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;

use crate::classify::{classify, date_shift_days};

/// `pathway_classify(legacy text, beta text) -> text`.
pub const CLASSIFY: &str = "pathway_classify";
/// `pathway_date_shift(legacy text, beta text) -> bigint` (days, null unless both are dates).
pub const DATE_SHIFT: &str = "pathway_date_shift";

fn text_pairs(args: &[ColumnarValue]) -> datafusion::error::Result<(ArrayRef, ArrayRef)> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    Ok((
        cast(&arrays[0], &DataType::Utf8)?,
        cast(&arrays[1], &DataType::Utf8)?,
    ))
}

/// Register both functions in `ctx` (idempotent).
pub fn register(ctx: &SessionContext) {
    for udf in functions() {
        ctx.register_udf(udf);
    }
}

/// The classification functions.
pub fn functions() -> Vec<ScalarUDF> {
    let classify_fn = Arc::new(
        |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
            let (l, b) = text_pairs(args)?;
            let (l, b) = (l.as_string::<i32>(), b.as_string::<i32>());
            let out: StringArray = l
                .iter()
                .zip(b.iter())
                .map(|(l, b)| Some(classify(l, b)))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        },
    );
    let shift_fn = Arc::new(
        |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
            let (l, b) = text_pairs(args)?;
            let (l, b) = (l.as_string::<i32>(), b.as_string::<i32>());
            let out: Int64Array = l
                .iter()
                .zip(b.iter())
                .map(|(l, b)| date_shift_days(l, b))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        },
    );
    let text = vec![DataType::Utf8, DataType::Utf8];
    vec![
        ScalarUDF::from(Canonical {
            signature: Signature::any(1, Volatility::Immutable),
        }),
        create_udf(
            CLASSIFY,
            text.clone(),
            DataType::Utf8,
            Volatility::Immutable,
            classify_fn,
        ),
        create_udf(
            DATE_SHIFT,
            text,
            DataType::Int64,
            Volatility::Immutable,
            shift_fn,
        ),
    ]
}

/// `pathway_canonical(x)`: floats with one zero (`-0.0` is `0.0`) and one NaN, any other type
/// unchanged. Comparisons, joins and groupings of float columns go through it, so that they
/// agree with the row hashes (see [`crate::fingerprint`]) and with what a user means by equal.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Canonical {
    signature: Signature,
}

impl ScalarUDFImpl for Canonical {
    fn name(&self) -> &str {
        crate::plan::CANONICAL
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(args[0].clone())
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let array = ColumnarValue::values_to_arrays(&args.args)?.remove(0);
        Ok(ColumnarValue::Array(canonical_floats(&array)))
    }
}

/// `array` with floats made canonical (see [`Canonical`]).
pub(crate) fn canonical_floats(array: &ArrayRef) -> ArrayRef {
    pathway_hash::canonical_floats(array)
}
