//! The profile of a table: each side measured in one read ([`crate::scan`]), the top values a
//! read could not list, and the two sides side by side.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use crate::measure::{Measure, delta, top_text, value_label};
use crate::scan::{Finished, measure_side};
use crate::{Error, LOW_CARDINALITY, ProfileRow, ProfileSpec, Result};

/// Up to this many districts whose sides hold the same rows are left out of beta's read by name.
const LISTED_SKIPS: usize = 256;

/// What can be measured of a column, from its Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Integer,
    Float,
    Decimal,
    Temporal,
    Boolean,
    /// Lists, structs, binary: nulls only.
    Other,
}

fn kind(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        t if t.is_integer() => Kind::Integer,
        t if t.is_floating() => Kind::Float,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Kind::Decimal,
        t if t.is_temporal() => Kind::Temporal,
        DataType::Boolean => Kind::Boolean,
        DataType::Dictionary(_, value) => kind(value),
        _ => Kind::Other,
    }
}

/// One profiled column of one side.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Its name in the side's table.
    pub name_in_table: String,
    /// Its name in the profile (the legacy name of a renamed column).
    pub name: String,
    pub kind: Kind,
    pub personal: bool,
}

/// A side's measures: (group, column, measure) → value as text. The `rows` measure has the
/// empty column.
type Values = BTreeMap<(String, String, Measure), String>;

pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The profile of `tables` (legacy, beta), registered in `ctx`: one row per district, column
/// and measure, the two sides side by side. A side without a district's rows has 0 rows there
/// and no other measure. Each side is read once ([`measure_side`]); a second, narrow read
/// lists the top values of a column only where one side has few values and the other too many
/// for their texts to have been kept.
///
/// # Errors
/// A query fails (a table that is not registered, a column type an aggregate refuses).
pub async fn profile_table(
    ctx: &SessionContext,
    tables: [&str; 2],
    spec: &ProfileSpec,
) -> Result<Vec<ProfileRow>> {
    let sides = ["legacy", "beta"];
    let mut columns: [Vec<Column>; 2] = [Vec::new(), Vec::new()];
    for i in 0..2 {
        columns[i] = columns_of(ctx, tables[i], sides[i], spec, i == 1).await?;
    }
    // A group whose two sides hold the same rows is measured once, on the legacy side.
    let same: BTreeSet<&String> = spec
        .same_rows
        .iter()
        .filter(|g| !spec.skip_groups.contains(g))
        .collect();
    // A few are left out of beta's read by name; past that, a list of names costs more than
    // the rows it saves (2,000 districts, 610 of them the same: 1.82 s against legacy's 1.35 s),
    // and they are read but passed over.
    let (beta_spec, passed_over) = if same.len() <= LISTED_SKIPS {
        let spec = ProfileSpec {
            skip_groups: spec
                .skip_groups
                .iter()
                .chain(same.iter().copied())
                .cloned()
                .collect(),
            ..spec.clone()
        };
        (spec, BTreeSet::new())
    } else {
        (spec.clone(), same.iter().map(|g| (*g).clone()).collect())
    };
    let mut measured = Vec::with_capacity(2);
    let none = BTreeSet::new();
    for (i, (spec, passed_over)) in [(spec, &none), (&beta_spec, &passed_over)]
        .into_iter()
        .enumerate()
    {
        let side = measure_side(ctx, tables[i], sides[i], &columns[i], spec, passed_over).await?;
        measured.push(side);
    }
    let [legacy, beta]: [Finished; 2] = measured.try_into().expect("two sides");
    let mut values = [legacy.values, beta.values];
    let tops = [legacy.top, beta.top];
    // Top values of the low-cardinality columns, in the districts where a side has few values.
    let low: BTreeSet<(String, String)> = values
        .iter()
        .flat_map(|v| v.iter())
        .filter(|((_, _, m), text)| {
            *m == Measure::Distinct && text.parse::<u64>().is_ok_and(|n| n <= LOW_CARDINALITY)
        })
        .map(|((g, c, _), _)| (g.clone(), c.clone()))
        .collect();
    for i in 0..2 {
        let mut missing: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for (c, column) in columns[i].iter().enumerate() {
            if column.personal || column.kind == Kind::Other {
                continue;
            }
            for (group, name) in &low {
                // A district this side has no rows of has no top values here.
                let has_rows =
                    values[i].contains_key(&(group.clone(), String::new(), Measure::Rows));
                if *name != column.name || !has_rows {
                    continue;
                }
                match tops[i].get(&(group.clone(), c)) {
                    Some(top) => {
                        values[i].insert((group.clone(), name.clone(), Measure::Top), top.clone());
                    }
                    None => {
                        missing.entry(c).or_default().insert(group.clone());
                    }
                }
            }
        }
        for (c, groups) in missing {
            for ((group, _), top) in
                top_values(ctx, tables[i], sides[i], &columns[i], c, &groups, spec).await?
            {
                values[i].insert((group, columns[i][c].name.clone(), Measure::Top), top);
            }
        }
    }
    let copied: Vec<_> = values[0]
        .iter()
        .filter(|((group, _, _), _)| same.contains(group))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    values[1].extend(copied);
    Ok(side_by_side(spec, &columns, &values))
}

/// The profiled columns of one side: every column but the group column and the ignored ones,
/// beta's renamed columns under their legacy names.
async fn columns_of(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    spec: &ProfileSpec,
    is_beta: bool,
) -> Result<Vec<Column>> {
    let frame = ctx.table(table).await.map_err(|source| Error::Query {
        table: spec.table.clone(),
        side,
        source,
    })?;
    Ok(frame
        .schema()
        .fields()
        .iter()
        .filter(|f| spec.group_by.as_deref() != Some(f.name().as_str()))
        .map(|f| {
            let name = if is_beta {
                spec.rename
                    .iter()
                    .find(|(_, beta)| beta == f.name())
                    .map_or_else(|| f.name().clone(), |(legacy, _)| legacy.clone())
            } else {
                f.name().clone()
            };
            Column {
                name_in_table: f.name().clone(),
                personal: spec.pii.contains(&name),
                name,
                kind: kind(f.data_type()),
            }
        })
        .filter(|c| !spec.ignore.contains(&c.name))
        .collect())
}

/// The group expression and the filter leaving out `spec.skip_groups` and, when `only` is
/// given, every group not in it.
pub(crate) fn group_and_filter(
    spec: &ProfileSpec,
    only: Option<&BTreeSet<String>>,
) -> (String, String) {
    let group = match &spec.group_by {
        Some(g) => format!("COALESCE(CAST({} AS VARCHAR), '')", quote(g)),
        None => "'*'".to_owned(),
    };
    let list = |groups: &mut dyn Iterator<Item = &String>| {
        groups.map(|g| literal(g)).collect::<Vec<_>>().join(", ")
    };
    let mut conditions = Vec::new();
    if !spec.skip_groups.is_empty() && spec.group_by.is_some() {
        conditions.push(format!(
            "{group} NOT IN ({})",
            list(&mut spec.skip_groups.iter())
        ));
    }
    if let Some(only) = only.filter(|_| spec.group_by.is_some()) {
        conditions.push(format!("{group} IN ({})", list(&mut only.iter())));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    (group, filter)
}

/// The rows of `batch`, every value as text.
fn texts(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>> {
    let columns = batch
        .columns()
        .iter()
        .map(|array| {
            arrow::compute::cast(array, &DataType::Utf8)
                .map_err(|e| Error::File(format!("reading a profile back: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let columns: Vec<&StringArray> = columns
        .iter()
        .map(|c| {
            c.as_any()
                .downcast_ref::<StringArray>()
                .expect("cast to Utf8")
        })
        .collect();
    Ok((0..batch.num_rows())
        .map(|i| {
            columns
                .iter()
                .map(|c| (!c.is_null(i)).then(|| c.value(i).to_owned()))
                .collect()
        })
        .collect())
}

pub(crate) async fn run(
    ctx: &SessionContext,
    sql: &str,
    spec: &ProfileSpec,
    side: &'static str,
) -> Result<Vec<Vec<Option<String>>>> {
    let error = |source| Error::Query {
        table: spec.table.clone(),
        side,
        source,
    };
    let clock = std::time::Instant::now();
    let batches = ctx
        .sql(sql)
        .await
        .map_err(error)?
        .collect()
        .await
        .map_err(error)?;
    // Which of a profile's queries costs what (the SQL names columns, never values).
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        table = spec.table,
        side,
        "profile query {}",
        sql.chars().take(120).collect::<String>()
    );
    let mut rows = Vec::new();
    for batch in &batches {
        rows.extend(texts(batch)?);
    }
    Ok(rows)
}

/// The most frequent values (null included, as `(null)`, and the empty string as `(empty)`) of
/// column `c` in `groups`: `value=count` joined by `;`, most frequent first, then by value.
/// Only for the groups where the one read did not keep every value's text.
async fn top_values(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    columns: &[Column],
    c: usize,
    groups: &BTreeSet<String>,
    spec: &ProfileSpec,
) -> Result<BTreeMap<(String, usize), String>> {
    let (group, filter) = group_and_filter(spec, Some(groups));
    let value = format!("CAST({} AS VARCHAR)", quote(&columns[c].name_in_table));
    let sql = format!(
        "SELECT {group} AS g, {value} AS v, COUNT(*) AS n FROM {} {filter} GROUP BY {group}, {value}",
        quote(table)
    );
    let mut counts: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for row in run(ctx, &sql, spec, side).await? {
        let g = row[0].clone().unwrap_or_default();
        let value = value_label(row[1].clone());
        let n: u64 = row[2].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        counts.entry(g).or_default().push((n, value));
    }
    let mut top = BTreeMap::new();
    for (g, values) in counts {
        top.insert((g, c), top_text(values));
    }
    Ok(top)
}

/// The two sides' measures as rows: per group (sorted), the `rows` line, then each column in
/// the legacy side's order (beta's own columns after), its measures in order.
fn side_by_side(
    spec: &ProfileSpec,
    columns: &[Vec<Column>; 2],
    values: &[Values; 2],
) -> Vec<ProfileRow> {
    let mut names: Vec<&str> = columns[0].iter().map(|c| c.name.as_str()).collect();
    for c in &columns[1] {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let groups: BTreeSet<&String> = values
        .iter()
        .flat_map(|v| v.keys().map(|(g, _, _)| g))
        .collect();
    let mut rows = Vec::new();
    for group in groups {
        let value = |side: usize, column: &str, measure: Measure| {
            let found = values[side]
                .get(&(group.clone(), column.to_owned(), measure))
                .cloned();
            // A side without the district's rows has none.
            if measure == Measure::Rows {
                return found.or_else(|| Some("0".to_owned()));
            }
            found
        };
        let mut line = |column: &str, measure: Measure| {
            let (legacy, beta) = (value(0, column, measure), value(1, column, measure));
            if legacy.is_none() && beta.is_none() {
                return;
            }
            rows.push(ProfileRow {
                table: spec.table.clone(),
                district_id: group.clone(),
                column: column.to_owned(),
                measure: measure.as_str().to_owned(),
                delta: delta(legacy.as_deref(), beta.as_deref()),
                legacy,
                beta,
            });
        };
        line("", Measure::Rows);
        for name in &names {
            for measure in &Measure::ALL[1..] {
                line(name, *measure);
            }
        }
    }
    rows
}
