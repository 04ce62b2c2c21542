//! Random table pairs of every shape a user may bring, from a seed: the same seed gives the same
//! pair on every machine.

use crate::diff::{Options, Rules};
use crate::table::Table;
use crate::value::{Ty, Value};

/// A small deterministic generator (splitmix64): the cases must not change with a crate's
/// version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One generated pair and the options to diff it with.
#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    pub legacy: Table,
    pub beta: Table,
    pub options: Options,
}

impl Case {
    /// The case as text: what a failing test prints to reproduce it by hand.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "seed {}\noptions {:?}\n-- legacy\n{}\n-- beta\n{}",
            self.seed,
            self.options,
            self.legacy.describe(),
            self.beta.describe()
        )
    }
}

/// What the generator may produce: some paths (CSV sides, say) cannot hold every type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shapes {
    /// Tolerance rules (`--abs-tolerance`, `--rel-tolerance`).
    pub tolerances: bool,
}

impl Default for Shapes {
    fn default() -> Shapes {
        Shapes { tolerances: true }
    }
}

const TEXTS: &[&str] = &[
    "",
    "a",
    "A",
    "a ",
    " a",
    "\ta\r\n",
    "b",
    "Ann",
    "ANN",
    "O'Brien",
    "\"quoted\"",
    "x,y",
    "é",
    "É",
    "ß",
    "日本",
    "null",
    "NULL",
    "  ",
    "1",
    "01",
    "1.0",
];
const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    1.5,
    -2.25,
    0.1,
    3.0,
    1e20,
    1e-7,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];
const ID_TYPES: &[Ty] = &[Ty::Int64, Ty::Int32, Ty::Text, Ty::Date];
const VALUE_NAMES: &[&str] = &[
    "name", "grade", "score", "gpa", "born", "active", "seen_at", "diff", "side", "rows", "note",
];

fn random_type(rng: &mut Rng) -> Ty {
    match rng.below(10) {
        0 => Ty::Int32,
        1 => Ty::Int64,
        2 => Ty::Float64,
        3 => Ty::Decimal(10, 2),
        4 | 5 => Ty::Text,
        6 => Ty::Bool,
        7 => Ty::Date,
        8 => Ty::Timestamp(None),
        _ => Ty::Timestamp(Some("UTC".into())),
    }
}

/// A random value of `ty`; null with probability `nulls` percent.
pub fn random_value(rng: &mut Rng, ty: &Ty, nulls: u64) -> Value {
    if rng.chance(nulls) {
        return Value::Null;
    }
    match ty {
        Ty::Int32 => Value::Int(rng.below(7) as i64 - 2),
        Ty::Int64 => {
            if rng.chance(10) {
                // Beyond the integers a double holds exactly.
                Value::Int((1_i64 << 53) + rng.below(3) as i64)
            } else {
                Value::Int(rng.below(7) as i64 - 2)
            }
        }
        Ty::Float64 => Value::Float(*rng.pick(FLOATS)),
        Ty::Decimal(..) => Value::Decimal(*rng.pick(&[0_i128, 10, 150, -150, 100, 1, 99_999])),
        Ty::Text => Value::Text((*rng.pick(TEXTS)).to_owned()),
        Ty::Bool => Value::Bool(rng.chance(50)),
        Ty::Date => Value::Date(19_000 + rng.below(4) as i32),
        Ty::Timestamp(_) => Value::Timestamp(
            1_700_000_000_000_000 + rng.below(3) as i64 * 86_400_000_000 + rng.below(2) as i64,
        ),
    }
}

/// A value of `ty` near `value`: the kind of change a rewrite makes (case, white space, a
/// rounding, a sign of zero, null for empty), or any other value.
fn mutate(rng: &mut Rng, ty: &Ty, value: &Value) -> Value {
    match (value, rng.below(3)) {
        (Value::Text(t), 0) => Value::Text(match rng.below(4) {
            0 => t.to_uppercase(),
            1 => format!("{t} "),
            2 => format!("\t{t}"),
            _ => t.to_lowercase(),
        }),
        (Value::Text(t), 1) if t.is_empty() => Value::Null,
        (Value::Null, 1) if *ty == Ty::Text => Value::Text(String::new()),
        (Value::Float(f), 0) => Value::Float(-f),
        (Value::Float(f), 1) => Value::Float(f + 0.25),
        (Value::Int(i), 0) => Value::Int(i + 1),
        (Value::Decimal(d), 0) => Value::Decimal(d + 1),
        (Value::Timestamp(t), 0) => Value::Timestamp(t + 86_400_000_000),
        (Value::Date(d), 0) => Value::Date(d + 1),
        _ => random_value(rng, ty, 15),
    }
}

/// A value of `to` standing for `value` of `from`: the same number or text where it can be.
fn convert(value: &Value, from: &Ty, to: &Ty) -> Value {
    match (value, to) {
        (Value::Null, _) => Value::Null,
        (Value::Int(i), Ty::Int32) => Value::Int((*i).clamp(-1000, 1000)),
        (Value::Int(i), Ty::Int64) => Value::Int(*i),
        #[allow(clippy::cast_precision_loss)]
        (Value::Int(i), Ty::Float64) => Value::Float(*i as f64),
        (Value::Int(i), Ty::Decimal(_, s)) => {
            Value::Decimal(i128::from(*i) * 10_i128.pow(*s as u32))
        }
        (v, Ty::Text) => Value::Text(crate::value::arrow_text(from, v).unwrap_or_default()),
        (Value::Decimal(d), Ty::Decimal(_, 4)) => Value::Decimal(d * 100),
        (Value::Timestamp(t), Ty::Timestamp(_)) => Value::Timestamp(*t),
        _ => Value::Null,
    }
}

/// Another type for a column of type `ty`, as a rewrite might give it.
fn other_type(rng: &mut Rng, ty: &Ty) -> Option<Ty> {
    let choices: &[Ty] = match ty {
        Ty::Int32 => &[Ty::Int64, Ty::Text],
        Ty::Int64 => &[Ty::Int32, Ty::Float64, Ty::Decimal(22, 2), Ty::Text],
        Ty::Float64 => &[Ty::Text],
        Ty::Decimal(..) => &[Ty::Decimal(14, 4), Ty::Text],
        Ty::Date | Ty::Bool => &[Ty::Text],
        Ty::Timestamp(None) => &[Ty::Timestamp(Some("UTC".into())), Ty::Text],
        Ty::Timestamp(Some(_)) => &[Ty::Timestamp(None)],
        Ty::Text => return None,
    };
    Some(rng.pick(choices).clone())
}

/// Generate the case of `seed`.
#[must_use]
pub fn generate(seed: u64, shapes: Shapes) -> Case {
    let mut rng = Rng::new(seed);
    let rng = &mut rng;

    // Group column: a text district id (sometimes null or empty), a numeric one, or none.
    let group = match rng.below(10) {
        0..=5 => Some(("district_id".to_owned(), Ty::Text)),
        6 => Some(("district_id".to_owned(), Ty::Int64)),
        7 => Some(("school".to_owned(), Ty::Text)),
        _ => None,
    };
    let group_values: Vec<Value> = match &group {
        Some((_, Ty::Int64)) => (0..=rng.below(4))
            .map(|i| Value::Int(100 + i as i64))
            .chain(rng.chance(20).then_some(Value::Null))
            .collect(),
        Some(_) => {
            let mut values: Vec<Value> = (0..=rng.below(4))
                .map(|i| Value::Text(format!("{}", 101 + i)))
                .collect();
            if rng.chance(25) {
                values.push(Value::Null);
                values.push(Value::Text(String::new()));
            }
            values
        }
        None => vec![Value::Null],
    };

    // Key columns.
    let key_count = match rng.below(10) {
        0 => 0,
        1..=6 => 1,
        7 | 8 => 2,
        _ => 3,
    };
    let key: Vec<(String, Ty)> = (0..key_count)
        .map(|i| {
            let ty = if rng.chance(10) {
                rng.pick(&[Ty::Float64, Ty::Timestamp(None), Ty::Decimal(10, 2)])
                    .clone()
            } else {
                rng.pick(ID_TYPES).clone()
            };
            (["id", "term", "seq"][i].to_owned(), ty)
        })
        .collect();

    // Compared columns.
    let mut names: Vec<&str> = VALUE_NAMES.to_vec();
    let mut values: Vec<(String, Ty)> = Vec::new();
    for _ in 0..rng.below(5) {
        let name = names.remove(rng.below(names.len()));
        values.push((name.to_owned(), random_type(rng)));
    }

    // A table has at least one column (a file without columns holds no rows either).
    if group.is_none() && key.is_empty() && values.is_empty() {
        values.push(("note".to_owned(), Ty::Text));
    }
    let mut columns: Vec<(String, Ty)> = Vec::new();
    if let Some(g) = &group {
        columns.push(g.clone());
    }
    columns.extend(key.iter().cloned());
    columns.extend(values.iter().cloned());

    // Legacy rows: per group, a few rows over a small key domain, so keys repeat sometimes.
    let mut legacy_rows = Vec::new();
    for g in &group_values {
        let rows = rng.below(7);
        for _ in 0..rows {
            let mut row = Vec::new();
            if group.is_some() {
                row.push(g.clone());
            }
            for (_, ty) in &key {
                row.push(key_value(rng, ty, rows + 2));
            }
            for (_, ty) in &values {
                row.push(random_value(rng, ty, 20));
            }
            legacy_rows.push(row);
        }
    }

    // Beta rows: most copied, some changed, dropped, duplicated; a few new.
    let mut beta_rows = Vec::new();
    let value_start = usize::from(group.is_some()) + key.len();
    let changes = rng.below(4) * 10;
    for row in &legacy_rows {
        let mut row = row.clone();
        match rng.below(100) {
            n if n < changes => {
                let i = value_start + rng.below(values.len().max(1));
                if i < row.len() {
                    row[i] = mutate(rng, &columns[i].1, &row[i]);
                }
                beta_rows.push(row);
            }
            n if n < changes + 5 => {}
            n if n < changes + 10 => {
                beta_rows.push(row.clone());
                beta_rows.push(row);
            }
            n if n < changes + 13 && !key.is_empty() => {
                let i = usize::from(group.is_some()) + rng.below(key.len());
                row[i] = key_value(rng, &columns[i].1, 4);
                beta_rows.push(row);
            }
            _ => beta_rows.push(row),
        }
    }
    for _ in 0..rng.below(3) {
        let mut row = Vec::new();
        if group.is_some() {
            row.push(rng.pick(&group_values).clone());
        }
        for (_, ty) in &key {
            row.push(key_value(rng, ty, 6));
        }
        for (_, ty) in &values {
            row.push(random_value(rng, ty, 20));
        }
        beta_rows.push(row);
    }
    // A district that only one side has.
    if group.is_some() && rng.chance(10) {
        let dropped = rng.pick(&group_values).clone();
        beta_rows.retain(|row| row[0] != dropped);
    }
    if group.is_some() && rng.chance(10) {
        for _ in 0..=rng.below(3) {
            let mut row = vec![match &group {
                Some((_, Ty::Int64)) => Value::Int(999),
                _ => Value::Text("999".into()),
            }];
            for (_, ty) in &key {
                row.push(key_value(rng, ty, 3));
            }
            for (_, ty) in &values {
                row.push(random_value(rng, ty, 20));
            }
            beta_rows.push(row);
        }
    }
    // Rows in another order.
    for i in (1..beta_rows.len()).rev() {
        beta_rows.swap(i, rng.below(i + 1));
    }

    let mut legacy = Table {
        columns: columns.clone(),
        rows: legacy_rows,
    };
    let mut beta = Table {
        columns,
        rows: beta_rows,
    };

    // Schema changes on the beta side.
    if !values.is_empty() && rng.chance(15) {
        let i = value_start + rng.below(values.len());
        if let Some(to) = other_type(rng, &beta.columns[i].1) {
            retype(&mut beta, i, &to);
        }
    }
    if !key.is_empty() && rng.chance(8) {
        let i = usize::from(group.is_some()) + rng.below(key.len());
        if let Some(to) = other_type(rng, &beta.columns[i].1) {
            retype(&mut beta, i, &to);
        }
    }
    if rng.chance(8) {
        let ty = random_type(rng);
        beta.columns.push(("added".into(), ty.clone()));
        for row in &mut beta.rows {
            row.push(random_value(rng, &ty, 20));
        }
    }
    // (Never a side's last column: a file without columns holds no rows.)
    if !values.is_empty() && beta.columns.len() > 1 && rng.chance(8) {
        let i = value_start + rng.below(values.len());
        drop_column(&mut beta, i);
        values.retain(|(n, _)| *n != legacy.columns[i].0);
    }

    let mut options = Options {
        key: key.iter().map(|k| k.0.clone()).collect(),
        group: group.as_ref().map(|g| g.0.clone()),
        ..Options::default()
    };
    // The natural composite key of a district table: the district and an id.
    if let Some((g, _)) = &group
        && !key.is_empty()
        && rng.chance(20)
    {
        options
            .key
            .insert(rng.below(options.key.len() + 1), g.clone());
    }
    if values.len() > 1 && rng.chance(10) {
        options
            .ignore
            .push(values[rng.below(values.len())].0.clone());
    }
    // A rename: beta calls a compared column by another name.
    if let Some((name, _)) = values.get(rng.below(values.len().max(1)))
        && rng.chance(10)
        && !options.ignore.contains(name)
        && let Some(column) = beta.columns.iter_mut().find(|c| &c.0 == name)
    {
        column.0 = format!("{name}_v2");
        options.rename.push((name.clone(), column.0.clone()));
    }
    if rng.chance(25) {
        options.rules = Rules {
            trim: rng.chance(50),
            ignore_case: rng.chance(50),
            null_equals_empty: rng.chance(50),
            abs_tolerance: (shapes.tolerances && rng.chance(30))
                .then(|| *rng.pick(&[0.0, 0.25, 1.0])),
            rel_tolerance: (shapes.tolerances && rng.chance(20)).then(|| *rng.pick(&[0.1, 0.5])),
            date_tolerance_days: (shapes.tolerances && rng.chance(20))
                .then(|| *rng.pick(&[0.0, 1.0, 1.5])),
        };
    }

    // A cast on one compared column, as `--cast column=type`, of a kind that makes sense for
    // the column's types on both sides (text to anything, numbers to numbers or text, dates
    // and timestamps to either or text).
    if let Some((name, _)) = values.get(rng.below(values.len().max(1)))
        && rng.chance(10)
        && !options.ignore.contains(name)
        && !options.rename.iter().any(|(l, _)| l == name)
    {
        let to = *rng.pick(&["text", "integer", "decimal", "date", "timestamp"]);
        let sensible = |ty: &Ty| match ty {
            Ty::Text => true,
            t if t.is_numeric() => matches!(to, "integer" | "decimal" | "text"),
            t if t.is_temporal() => matches!(to, "date" | "timestamp" | "text"),
            _ => to == "text",
        };
        let types =
            [&legacy, &beta].map(|t| t.columns.iter().find(|c| &c.0 == name).map(|c| c.1.clone()));
        if types.iter().flatten().all(sensible) {
            options.cast.push((name.clone(), to.to_owned()));
        }
    }
    // Columns in another order on each side.
    shuffle_columns(rng, &mut legacy);
    shuffle_columns(rng, &mut beta);
    // Declared recodings on one compared column (drawn last, so earlier draws, and the cases of
    // older seeds, stay as they were): pairs of values the two sides hold, so some cells hit.
    if rng.chance(15) {
        let compared: Vec<String> = legacy
            .columns
            .iter()
            .map(|c| c.0.clone())
            .filter(|n| {
                !options.key.contains(n)
                    && !options.ignore.contains(n)
                    && options.group.as_ref() != Some(n)
            })
            .filter(|n| {
                let beta_name = options
                    .rename
                    .iter()
                    .find(|(l, _)| l == n)
                    .map_or(n.as_str(), |(_, b)| b.as_str());
                beta.columns.iter().any(|c| c.0 == beta_name)
            })
            .collect();
        if !compared.is_empty() && !legacy.rows.is_empty() && !beta.rows.is_empty() {
            let name = compared[rng.below(compared.len())].clone();
            let beta_name = options
                .rename
                .iter()
                .find(|(l, _)| *l == name)
                .map_or(name.clone(), |(_, b)| b.clone());
            let li = legacy.columns.iter().position(|c| c.0 == name).unwrap();
            let bi = beta.columns.iter().position(|c| c.0 == beta_name).unwrap();
            let mut pairs = Vec::new();
            for _ in 0..=rng.below(3) {
                let lr = rng.below(legacy.rows.len());
                let br = if rng.chance(50) && lr < beta.rows.len() {
                    lr
                } else {
                    rng.below(beta.rows.len())
                };
                let l = crate::value::arrow_text(&legacy.columns[li].1, &legacy.rows[lr][li]);
                let b = crate::value::arrow_text(&beta.columns[bi].1, &beta.rows[br][bi]);
                if let (Some(l), Some(b)) = (l, b) {
                    pairs.push((l, b));
                }
            }
            if !pairs.is_empty() {
                options.expected.push((name, pairs));
            }
        }
    }
    // A cap on the row diff, small enough to bite (drawn after the pairs, for the same reason).
    if rng.chance(15) {
        options.max_row_diff = Some(*rng.pick(&[0, 1, 2, 3, 5]));
    }
    // Pairing the rows a keyed (or multiset) diff leaves (drawn last, for the same reason);
    // more often without a key, which fewer cases have.
    if rng.chance(if options.key.is_empty() { 50 } else { 20 }) {
        options.pair_unmatched = true;
        options.max_pair_columns = *rng.pick(&[None, Some(0), Some(1), Some(2)]);
    }
    Case {
        seed,
        legacy,
        beta,
        options,
    }
}

/// A key value of `ty` from a domain of about `domain` values, sometimes null.
fn key_value(rng: &mut Rng, ty: &Ty, domain: usize) -> Value {
    if rng.chance(4) {
        return Value::Null;
    }
    let n = rng.below(domain.max(1));
    match ty {
        Ty::Int32 | Ty::Int64 => Value::Int(n as i64),
        Ty::Text => Value::Text(format!("S{n}")),
        Ty::Date => Value::Date(19_000 + n as i32),
        Ty::Float64 => Value::Float(*rng.pick(&[n as f64, 0.0, -0.0, f64::NAN])),
        Ty::Decimal(..) => Value::Decimal(n as i128 * 50),
        Ty::Timestamp(_) => Value::Timestamp(1_700_000_000_000_000 + n as i64 * 1_000_000),
        Ty::Bool => Value::Bool(n.is_multiple_of(2)),
    }
}

fn retype(table: &mut Table, i: usize, to: &Ty) {
    let from = table.columns[i].1.clone();
    for row in &mut table.rows {
        row[i] = convert(&row[i], &from, to);
    }
    table.columns[i].1 = to.clone();
}

fn drop_column(table: &mut Table, i: usize) {
    table.columns.remove(i);
    for row in &mut table.rows {
        row.remove(i);
    }
}

fn shuffle_columns(rng: &mut Rng, table: &mut Table) {
    let mut order: Vec<usize> = (0..table.columns.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    table.columns = order.iter().map(|&i| table.columns[i].clone()).collect();
    for row in &mut table.rows {
        *row = order.iter().map(|&i| row[i].clone()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_case() {
        let (a, b) = (
            generate(7, Shapes::default()),
            generate(7, Shapes::default()),
        );
        assert_eq!(a.legacy, b.legacy);
        assert_eq!(a.beta, b.beta);
        assert_eq!(a.options, b.options);
    }

    #[test]
    fn generated_tables_are_well_formed() {
        for seed in 0..500 {
            let case = generate(seed, Shapes::default());
            for table in [&case.legacy, &case.beta] {
                // Building the Arrow batch checks every value against its column's type.
                let batch = table.to_batch();
                assert_eq!(batch.num_rows(), table.rows.len());
            }
        }
    }
}
