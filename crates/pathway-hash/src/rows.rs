//! Hashing rows: one 126-bit value per row, the same wherever pathway computes it.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, Float16Array, Float32Array, Float64Array,
};
use arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type};
use arrow::error::ArrowError;
use arrow::row::{RowConverter, SortField};
use xxhash_rust::xxh3::{xxh3_128, xxh3_128_with_seed};

/// Hashes and fingerprints keep their low 126 bits, so they fit `DECIMAL(38, 0)`.
pub const MASK: i128 = (1 << 126) - 1;

/// Hash each row of `columns` (all of the same length) to a 126-bit value.
///
/// Column by column, each value is hashed with xxh3-128 seeded by its column's position (text
/// and binary by their bytes, whatever their Arrow layout, fixed-width values by their bytes,
/// booleans as one byte, null as a marker no value hashes to); the per-column hashes of a row are
/// added, and the sum is hashed again, so that a fingerprint (a sum over rows) keeps which
/// values shared a row. Floats are hashed canonical (`-0.0` as `0.0`, every NaN as one NaN), the
/// form the diff compares them in. Other types (lists, structs, dictionaries) are hashed through
/// Arrow's row format.
///
/// # Errors
/// A column type Arrow's row format cannot encode.
pub fn hash_rows(columns: &[ArrayRef]) -> Result<Vec<i128>, ArrowError> {
    let Some(first) = columns.first() else {
        return Ok(Vec::new());
    };
    let mut sums = vec![0_u128; first.len()];
    for (position, column) in columns.iter().enumerate() {
        let seed = 0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(position as u64 + 1);
        add_column(column, seed, &mut sums)?;
    }
    Ok(sums
        .into_iter()
        .map(|sum| {
            let hash = xxh3_128(&sum.to_le_bytes());
            i128::from_ne_bytes(hash.to_ne_bytes()) & MASK
        })
        .collect())
}

/// Add the hash of each value of `column` to `sums`.
fn add_column(column: &ArrayRef, seed: u64, sums: &mut [u128]) -> Result<(), ArrowError> {
    let canonical;
    let column = if column.data_type().is_floating() {
        canonical = canonical_floats(column);
        &canonical
    } else {
        column
    };
    let null_hash = xxh3_128_with_seed(b"\xffpathway-null\xff", seed);
    let nulls = column.logical_nulls();
    let mut add = |value: &dyn Fn(usize) -> u128| {
        for (row, sum) in sums.iter_mut().enumerate() {
            let hash = if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                null_hash
            } else {
                value(row)
            };
            *sum = sum.wrapping_add(hash);
        }
    };
    let bytes = |b: &[u8]| xxh3_128_with_seed(b, seed);
    match column.data_type() {
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            add(&|row| bytes(a.value(row).as_bytes()));
        }
        DataType::LargeUtf8 => {
            let a = column.as_string::<i64>();
            add(&|row| bytes(a.value(row).as_bytes()));
        }
        DataType::Utf8View => {
            let a = column.as_string_view();
            add(&|row| bytes(a.value(row).as_bytes()));
        }
        DataType::Binary => {
            let a = column.as_binary::<i32>();
            add(&|row| bytes(a.value(row)));
        }
        DataType::LargeBinary => {
            let a = column.as_binary::<i64>();
            add(&|row| bytes(a.value(row)));
        }
        DataType::BinaryView => {
            let a = column.as_binary_view();
            add(&|row| bytes(a.value(row)));
        }
        DataType::Boolean => {
            let a = column.as_boolean();
            add(&|row| bytes(&[u8::from(a.value(row))]));
        }
        t if t.is_primitive() => {
            let width = t.primitive_width().expect("primitive types have a width");
            let data = column.to_data();
            let values = &data.buffers()[0].as_slice()[data.offset() * width..];
            add(&|row| bytes(&values[row * width..(row + 1) * width]));
        }
        other => {
            let converter = RowConverter::new(vec![SortField::new(other.clone())])?;
            let rows = converter.convert_columns(std::slice::from_ref(column))?;
            add(&|row| bytes(rows.row(row).as_ref()));
        }
    }
    Ok(())
}

/// Add `b` to the fingerprint `a` (modulo 2^126).
#[must_use]
pub fn combine(a: i128, b: i128) -> i128 {
    a.wrapping_add(b) & MASK
}

/// `array` with floats made canonical: `-0.0` as `0.0` and every NaN as one NaN, as the diff
/// compares them. Other types are returned as they are.
#[must_use]
pub fn canonical_floats(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Float64 => {
            let a: &Float64Array = array.as_primitive::<Float64Type>();
            Arc::new(a.unary::<_, Float64Type>(|v| {
                if v.is_nan() {
                    f64::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            }))
        }
        DataType::Float32 => {
            let a: &Float32Array = array.as_primitive::<Float32Type>();
            Arc::new(a.unary::<_, Float32Type>(|v| {
                if v.is_nan() {
                    f32::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            }))
        }
        DataType::Float16 => {
            type F16 = <Float16Type as ArrowPrimitiveType>::Native;
            let a: &Float16Array = array.as_primitive::<Float16Type>();
            Arc::new(a.unary::<_, Float16Type>(|v| {
                if v.is_nan() {
                    F16::NAN
                } else if v == F16::ZERO {
                    F16::ZERO
                } else {
                    v
                }
            }))
        }
        _ => Arc::clone(array),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, StringArray, StringViewArray};

    fn hash_of(columns: &[ArrayRef]) -> Vec<i128> {
        hash_rows(columns).unwrap()
    }

    #[test]
    fn boundaries_nulls_and_types_change_the_hash() {
        let split = hash_of(&[
            Arc::new(StringArray::from(vec!["a", "ab"])),
            Arc::new(StringArray::from(vec!["bc", "c"])),
        ]);
        assert_ne!(split[0], split[1]);
        let null_vs_empty = hash_of(&[Arc::new(StringArray::from(vec![None, Some("")]))]);
        assert_ne!(null_vs_empty[0], null_vs_empty[1]);
        // Floats hash as they compare: one zero, one NaN.
        let zeros = hash_of(&[Arc::new(Float64Array::from(vec![0.0, -0.0]))]);
        assert_eq!(zeros[0], zeros[1]);
        let nans = hash_of(&[Arc::new(Float64Array::from(vec![f64::NAN, -f64::NAN]))]);
        assert_eq!(nans[0], nans[1]);
        let int = hash_of(&[Arc::new(Int32Array::from(vec![1]))]);
        let text = hash_of(&[Arc::new(StringArray::from(vec!["1"]))]);
        assert_ne!(int[0], text[0]);
        assert!(split.iter().all(|&h| (0..=MASK).contains(&h)));
    }

    #[test]
    fn text_hashes_alike_in_every_arrow_layout() {
        let plain = hash_of(&[Arc::new(StringArray::from(vec![Some("ab"), None]))]);
        let view = hash_of(&[Arc::new(StringViewArray::from(vec![Some("ab"), None]))]);
        assert_eq!(plain, view);
    }

    #[test]
    fn combining_wraps_within_126_bits() {
        assert_eq!(combine(MASK, 1), 0);
        assert_eq!(combine(combine(5, MASK), 1), 5);
    }
}
