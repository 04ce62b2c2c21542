//! Column types and cell values of the reference's tables, and the one rule by which two cells
//! compare.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};

/// A column type the generator produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Int32,
    Int64,
    Float64,
    /// Precision and scale.
    Decimal(u8, i8),
    Text,
    Bool,
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since 1970-01-01, with an optional time zone.
    Timestamp(Option<String>),
}

impl Ty {
    /// The Arrow type of a column of this type.
    #[must_use]
    pub fn arrow(&self) -> DataType {
        match self {
            Ty::Int32 => DataType::Int32,
            Ty::Int64 => DataType::Int64,
            Ty::Float64 => DataType::Float64,
            Ty::Decimal(p, s) => DataType::Decimal128(*p, *s),
            Ty::Text => DataType::Utf8,
            Ty::Bool => DataType::Boolean,
            Ty::Date => DataType::Date32,
            Ty::Timestamp(tz) => {
                DataType::Timestamp(TimeUnit::Microsecond, tz.as_deref().map(Arc::from))
            }
        }
    }

    /// Integers, floats and decimals.
    #[must_use]
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int32 | Ty::Int64 | Ty::Float64 | Ty::Decimal(..))
    }

    /// Dates and timestamps.
    #[must_use]
    pub fn is_temporal(&self) -> bool {
        matches!(self, Ty::Date | Ty::Timestamp(_))
    }
}

/// One cell. What a value means depends on its column's [`Ty`] (a `Decimal` is the unscaled
/// integer; a `Date` days and a `Timestamp` microseconds since 1970-01-01).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Decimal(i128),
    Text(String),
    Bool(bool),
    Date(i32),
    Timestamp(i64),
}

impl Value {
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// An Arrow array of `values`, all of type `ty`.
///
/// # Panics
/// A value that does not belong to `ty` (a generator bug).
#[must_use]
pub fn to_array(ty: &Ty, values: &[Value]) -> ArrayRef {
    let bad = |v: &Value| -> ! { panic!("value {v:?} is not of type {ty:?}") };
    match ty {
        Ty::Int32 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Int(i) => Some(i32::try_from(*i).expect("an Int32 value fits")),
                    other => bad(other),
                })
                .collect::<Int32Array>(),
        ),
        Ty::Int64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Int(i) => Some(*i),
                    other => bad(other),
                })
                .collect::<Int64Array>(),
        ),
        Ty::Float64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Float(f) => Some(*f),
                    other => bad(other),
                })
                .collect::<Float64Array>(),
        ),
        Ty::Decimal(p, s) => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Decimal(d) => Some(*d),
                    other => bad(other),
                })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(*p, *s)
                .expect("a valid decimal type"),
        ),
        Ty::Text => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Text(t) => Some(t.as_str()),
                    other => bad(other),
                })
                .collect::<StringArray>(),
        ),
        Ty::Bool => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Bool(b) => Some(*b),
                    other => bad(other),
                })
                .collect::<BooleanArray>(),
        ),
        Ty::Date => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Date(d) => Some(*d),
                    other => bad(other),
                })
                .collect::<Date32Array>(),
        ),
        Ty::Timestamp(tz) => {
            let array = values
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Timestamp(t) => Some(*t),
                    other => bad(other),
                })
                .collect::<TimestampMicrosecondArray>();
            Arc::new(array.with_timezone_opt(tz.clone()))
        }
    }
}

/// A value as the text Arrow's cast to `Utf8` gives (what SQL's `CAST(x AS VARCHAR)` shows);
/// `None` for null.
#[must_use]
pub fn arrow_text(ty: &Ty, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let array = to_array(ty, std::slice::from_ref(value));
    array_text(&array, 0)
}

/// Row `row` of any Arrow array as the text Arrow's cast to `Utf8` gives; `None` for null.
///
/// # Panics
/// A type Arrow cannot cast to text.
#[must_use]
pub fn array_text(array: &ArrayRef, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let text = arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8)
        .expect("every generated type casts to text");
    let text = text
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("a cast to Utf8 gives a StringArray");
    Some(text.value(0).to_owned())
}

/// Whether Arrow casts values of `ty` to the type a `cast` rule names (`text`, `integer`,
/// `decimal`, `date`, `timestamp`).
#[must_use]
pub fn can_cast(ty: &Ty, to: &str) -> bool {
    let target = match to {
        "integer" => DataType::Int64,
        "decimal" => DataType::Float64,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Nanosecond, None),
        _ => DataType::Utf8,
    };
    arrow::compute::can_cast_types(&ty.arrow(), &target)
}

/// `value` of type `ty` as Arrow's safe cast to `to` gives it (null when it does not cast). A
/// cast to a timestamp is read at nanoseconds, as SQL's `TIMESTAMP`, and kept in microseconds.
#[must_use]
pub fn cast_value(ty: &Ty, value: &Value, to: &Ty) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let array = to_array(ty, std::slice::from_ref(value));
    let target = match to {
        Ty::Timestamp(_) => DataType::Timestamp(TimeUnit::Nanosecond, None),
        other => other.arrow(),
    };
    let Ok(cast) = arrow::compute::cast(&array, &target) else {
        return Value::Null;
    };
    if cast.is_null(0) {
        return Value::Null;
    }
    let any = cast.as_any();
    match to {
        Ty::Int64 => Value::Int(any.downcast_ref::<Int64Array>().expect("Int64").value(0)),
        Ty::Float64 => Value::Float(
            any.downcast_ref::<Float64Array>()
                .expect("Float64")
                .value(0),
        ),
        Ty::Date => Value::Date(any.downcast_ref::<Date32Array>().expect("Date32").value(0)),
        Ty::Timestamp(_) => Value::Timestamp(
            any.downcast_ref::<arrow::array::TimestampNanosecondArray>()
                .expect("Timestamp")
                .value(0)
                .div_euclid(1000),
        ),
        _ => Value::Text(
            any.downcast_ref::<StringArray>()
                .expect("Utf8")
                .value(0)
                .to_owned(),
        ),
    }
}

/// `text` as Arrow's cast to `Float64` reads it (what `TRY_CAST(x AS DOUBLE)` gives).
#[must_use]
pub fn text_as_double(text: &str) -> Option<f64> {
    let array: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let cast = arrow::compute::cast(&array, &DataType::Float64).ok()?;
    let cast = cast.as_any().downcast_ref::<Float64Array>()?;
    cast.is_valid(0).then(|| cast.value(0))
}

/// `text` as Arrow's cast to a timestamp reads it (what `TRY_CAST(x AS TIMESTAMP)` gives), in
/// seconds since 1970.
#[must_use]
pub fn text_as_seconds(text: &str) -> Option<f64> {
    let array: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let cast =
        arrow::compute::cast(&array, &DataType::Timestamp(TimeUnit::Nanosecond, None)).ok()?;
    let cast = cast
        .as_any()
        .downcast_ref::<arrow::array::TimestampNanosecondArray>()?;
    #[allow(clippy::cast_precision_loss)]
    cast.is_valid(0).then(|| cast.value(0) as f64 / 1e9)
}

/// The form in which a cell takes part in comparisons (see `docs/cli.md`, exact semantics).
///
/// - A column of the same type on both sides compares by value, with one rule for floats:
///   `-0.0` equals `0.0` and every NaN equals every NaN.
/// - A column whose types differ compares as text: Arrow's text of each value; when both types
///   are numbers, without trailing fractional zeros and point (`1.50` and `1.5`, `7.0` and `7`
///   are equal; a number Arrow writes with an exponent stays as written), and `-0` is `0`.
#[derive(Debug, Clone)]
pub enum Cmp {
    Null,
    Int(i64),
    Float(f64),
    Decimal(i128),
    Text(String),
    Bool(bool),
    Date(i32),
    Timestamp(i64),
}

impl Cmp {
    fn rank(&self) -> u8 {
        match self {
            Cmp::Int(_) => 0,
            Cmp::Float(_) => 1,
            Cmp::Decimal(_) => 2,
            Cmp::Text(_) => 3,
            Cmp::Bool(_) => 4,
            Cmp::Date(_) => 5,
            Cmp::Timestamp(_) => 6,
            // SQL's default ascending order puts nulls last.
            Cmp::Null => 7,
        }
    }

    /// The canonical float: one zero, one NaN.
    fn float(f: f64) -> f64 {
        if f.is_nan() {
            f64::NAN
        } else if f == 0.0 {
            0.0
        } else {
            f
        }
    }

    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Cmp::Null)
    }
}

impl PartialEq for Cmp {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Cmp {}

impl PartialOrd for Cmp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cmp {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Cmp::Int(a), Cmp::Int(b)) => a.cmp(b),
            (Cmp::Float(a), Cmp::Float(b)) => Cmp::float(*a).total_cmp(&Cmp::float(*b)),
            (Cmp::Decimal(a), Cmp::Decimal(b)) => a.cmp(b),
            (Cmp::Text(a), Cmp::Text(b)) => a.cmp(b),
            (Cmp::Bool(a), Cmp::Bool(b)) => a.cmp(b),
            (Cmp::Date(a), Cmp::Date(b)) => a.cmp(b),
            (Cmp::Timestamp(a), Cmp::Timestamp(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Cmp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Cmp::Int(i) => i.hash(state),
            Cmp::Float(f) => Cmp::float(*f).to_bits().hash(state),
            Cmp::Decimal(d) => d.hash(state),
            Cmp::Text(t) => t.hash(state),
            Cmp::Bool(b) => b.hash(state),
            Cmp::Date(d) => d.hash(state),
            Cmp::Timestamp(t) => t.hash(state),
            Cmp::Null => {}
        }
    }
}

/// Two column types that count as the same for comparison. Every generated type is its own.
#[must_use]
pub fn same_type(a: &Ty, b: &Ty) -> bool {
    a == b
}

/// `value` of a column of type `ty` whose other side has type `other`, in the form it is
/// compared in (see [`Cmp`]).
#[must_use]
pub fn comparison_form(ty: &Ty, other: &Ty, value: &Value) -> Cmp {
    if value.is_null() {
        return Cmp::Null;
    }
    if !same_type(ty, other) {
        let text = arrow_text(ty, value).expect("a non-null value has text");
        return Cmp::Text(if ty.is_numeric() && other.is_numeric() {
            number_text(&text)
        } else {
            text
        });
    }
    match value {
        Value::Null => Cmp::Null,
        Value::Int(i) => Cmp::Int(*i),
        Value::Float(f) => Cmp::Float(Cmp::float(*f)),
        Value::Decimal(d) => Cmp::Decimal(*d),
        Value::Text(t) => Cmp::Text(t.clone()),
        Value::Bool(b) => Cmp::Bool(*b),
        Value::Date(d) => Cmp::Date(*d),
        Value::Timestamp(t) => Cmp::Timestamp(*t),
    }
}

/// A number's text without trailing fractional zeros and point, unless it has an exponent;
/// `-0` is `0`.
#[must_use]
pub fn number_text(text: &str) -> String {
    let trimmed = if text.contains('.') && !text.contains(['e', 'E']) {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A comparison form as text, for keys in the row diff: what Arrow writes for the value of type
/// `ty` (the form's own type), or the text itself.
#[must_use]
pub fn form_text(ty: &Ty, form: &Cmp) -> Option<String> {
    let value = match form {
        Cmp::Null => return None,
        Cmp::Text(t) => return Some(t.clone()),
        Cmp::Int(i) => Value::Int(*i),
        Cmp::Float(f) => Value::Float(Cmp::float(*f)),
        Cmp::Decimal(d) => Value::Decimal(*d),
        Cmp::Bool(b) => Value::Bool(*b),
        Cmp::Date(d) => Value::Date(*d),
        Cmp::Timestamp(t) => Value::Timestamp(*t),
    };
    arrow_text(ty, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_have_one_zero_and_one_nan() {
        let f = |x| comparison_form(&Ty::Float64, &Ty::Float64, &Value::Float(x));
        assert_eq!(f(-0.0), f(0.0));
        assert_eq!(f(f64::NAN), f(-f64::NAN));
        assert_ne!(f(f64::NAN), f(f64::INFINITY));
        assert_ne!(f(1.0), Cmp::Null);
    }

    #[test]
    fn numbers_of_different_types_compare_by_their_text() {
        let int = comparison_form(&Ty::Int64, &Ty::Float64, &Value::Int(7));
        let float = comparison_form(&Ty::Float64, &Ty::Int64, &Value::Float(7.0));
        assert_eq!(int, float);
        let decimal = comparison_form(&Ty::Decimal(10, 2), &Ty::Int64, &Value::Decimal(150));
        assert_eq!(decimal, Cmp::Text("1.5".into()));
        assert_eq!(number_text("-0.0"), "0");
        assert_eq!(number_text("1e20"), "1e20");
        assert_eq!(number_text("100"), "100");
    }
}
