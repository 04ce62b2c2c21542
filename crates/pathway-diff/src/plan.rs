//! The SQL the engine runs, built from column lists.
//!
//! Kept as plain strings so that an engineer can print and rerun them (`pathway query` sees the
//! same tables). Every identifier goes through [`ident`] and every literal through [`literal`]:
//! names and values never reach SQL unquoted. Every `IS [NOT] DISTINCT FROM` is parenthesised:
//! the SQL parser binds it more loosely than `AND`.
//!
//! The row diff is one FULL OUTER JOIN on (group, key). A pair joins only when its key occurs once
//! on each side, so rows under duplicated keys stay unmatched, each on its own, and a window count
//! over the unmatched rows of a key tells a one-sided key (missing / extra) from a duplicated one.

use datafusion::arrow::datatypes::DataType;

use crate::model::ColumnRules;

/// Quote an identifier for DataFusion SQL (`"name"`, inner quotes doubled).
#[must_use]
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a string literal (`'value'`, inner quotes doubled).
#[must_use]
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A column taking part in the diff.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanColumn {
    /// Column name (same on both sides).
    pub name: String,
    /// The sides disagree on its type: compare (and join) it as text.
    pub as_text: bool,
    /// Both sides are numbers of different types (`DECIMAL(4,2)` and `DECIMAL(38,20)`, `INT`
    /// and `BIGINT`): their text is normalised first (`3.50` and `3.50000` are both `3.5`), so
    /// equal numbers compare equal whatever their precision and scale.
    pub as_number: bool,
    /// Both sides hold text, so the text rules (trim, case, null = empty) apply.
    pub is_text: bool,
    /// Both sides hold floats of one type: compared through [`CANONICAL`], so `-0.0` equals
    /// `0.0` and a NaN equals a NaN, as they hash (see [`crate::fingerprint`]).
    pub is_float: bool,
    /// A number on both sides: tolerances apply.
    pub is_numeric: bool,
    /// An integer or decimal on both sides (no float): the scale a tolerance subtracts them
    /// in, exactly (the larger of the two; 0 for integers).
    pub decimal_scale: Option<i8>,
    /// A date or timestamp on both sides: the date tolerance applies.
    pub is_temporal: bool,
    /// How its values compare (exact by default).
    pub rules: ColumnRules,
}

/// `t` as an exact decimal literal, as the user wrote it (`0.1` is one tenth, not the double
/// nearest to it).
fn decimal_literal(t: f64) -> String {
    let text = t.to_string();
    let scale = text
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
        .min(38);
    format!("CAST({} AS DECIMAL(38, {scale}))", literal(&text))
}

/// The scale of an integer (0) or decimal type; `None` for any other.
fn scale_of(t: &DataType) -> Option<i8> {
    match t {
        DataType::Decimal32(_, s)
        | DataType::Decimal64(_, s)
        | DataType::Decimal128(_, s)
        | DataType::Decimal256(_, s) => Some(*s),
        t if t.is_integer() => Some(0),
        _ => None,
    }
}

/// `pathway_canonical(x)`: a float with one zero and one NaN; any other value as it is.
pub const CANONICAL: &str = "pathway_canonical";

/// The type a column is compared in: the text types (`Utf8`, `LargeUtf8`, `Utf8View`) are one,
/// as are the binary types, and a dictionary is its values' type. A CSV side (text read as
/// `Utf8`) and a Parquet side (read as `Utf8View`) hold the same type.
#[must_use]
pub fn comparable_type(t: &DataType) -> DataType {
    match t {
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::Dictionary(_, values) => comparable_type(values),
        other => other.clone(),
    }
}

impl PlanColumn {
    /// Column `name`, of type `legacy` on the legacy side and `beta` on the beta side.
    #[must_use]
    pub fn new(name: &str, legacy: &DataType, beta: &DataType, rules: ColumnRules) -> PlanColumn {
        let (l, b) = (comparable_type(legacy), comparable_type(beta));
        let as_text = l != b;
        PlanColumn {
            name: name.to_owned(),
            as_text,
            as_number: as_text && l.is_numeric() && b.is_numeric(),
            is_text: l == DataType::Utf8 && b == DataType::Utf8,
            is_float: !as_text && l.is_floating(),
            is_numeric: l.is_numeric() && b.is_numeric(),
            decimal_scale: scale_of(&l).zip(scale_of(&b)).map(|(x, y)| x.max(y).max(0)),
            is_temporal: [&l, &b].iter().all(|t| {
                matches!(
                    t,
                    DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
                )
            }),
            rules,
        }
    }
}

/// What `trim` removes from both ends of a value: every character of Unicode's `White_Space`
/// property (space, tab, CR, LF, no-break space, ...), as Rust's `char::is_whitespace`.
static WHITE_SPACE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    (0..=0x3000_u32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .collect()
});

/// The SQL type a `cast` rule names.
fn cast_type(rule: &str) -> &'static str {
    match rule {
        "integer" => "BIGINT",
        "decimal" => "DOUBLE",
        "date" => "DATE",
        "timestamp" => "TIMESTAMP",
        _ => "VARCHAR",
    }
}

/// The Arrow type a `cast` rule's SQL type is.
#[must_use]
pub fn cast_data_type(rule: &str) -> DataType {
    match cast_type(rule) {
        "BIGINT" => DataType::Int64,
        "DOUBLE" => DataType::Float64,
        "DATE" => DataType::Date32,
        "TIMESTAMP" => {
            DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None)
        }
        _ => DataType::Utf8,
    }
}

/// The row diff's own columns: a user column of one of these names is written under another
/// (see [`Plan::row_diff_names`]).
pub const ROW_DIFF_OWN_COLUMNS: [&str; 6] = [
    "diff",
    "side",
    "changed_columns",
    "hidden_columns",
    "rows",
    PAIRED_BETA_KEY,
];

/// The row diff's column holding, for a row paired without a key, the beta row's key (its
/// parts as text joined by `|`, `NULL` for a null part); null for every other row.
pub const PAIRED_BETA_KEY: &str = "paired_beta_key";

/// The names the user's columns have in the row diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDiffNames {
    /// The group column's (the Hive partition's).
    pub group: Option<String>,
    /// The key columns', in order; for a table without a key, the compared columns'.
    pub key: Vec<String>,
}

/// `name`, or `key_<name>` (repeated) while that is taken.
fn free_name(name: &str, taken: &[String]) -> String {
    let mut name = name.to_owned();
    while taken.contains(&name) {
        name = format!("key_{name}");
    }
    name
}

/// `column` holds `;name;` in a `;`-separated list column of the row diff.
fn listed(list_column: &str, name: &str) -> String {
    format!(
        "strpos(';' || {} || ';', {}) > 0",
        ident(list_column),
        literal(&format!(";{name};"))
    )
}

/// Everything the SQL builders need to know about the two tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Registered name of the legacy table.
    pub legacy_table: String,
    /// Registered name of the beta table.
    pub beta_table: String,
    /// Group column, if grouped.
    pub group: Option<String>,
    /// Rows are paired by key. False for a multiset diff (no key). True with no key columns
    /// when the key was only the group column: each group's rows then share one key.
    pub keyed: bool,
    /// Key columns, without the group column.
    pub key: Vec<PlanColumn>,
    /// Compared columns, in output order.
    pub compared: Vec<PlanColumn>,
    /// Groups to leave out.
    pub exclude_groups: Vec<String>,
    /// Rows left on one side are paired ([`crate::DiffSpec::pair_unmatched`]): the row diff
    /// has a `paired_beta_key` column.
    pub pair_unmatched: bool,
}

/// A column's values in the form they are compared, grouped and joined in: as text when the
/// sides' types differ, floats canonical.
fn value(prefix: &str, column: &PlanColumn) -> String {
    canonical(hashed_value(prefix, column), column)
}

/// A column's values as they are hashed: as [`value`], but floats as they are, since the hash
/// makes them canonical itself (cheaper than a function call per row).
fn hashed_value(prefix: &str, column: &PlanColumn) -> String {
    let expr = format!("{prefix}{}", ident(&column.name));
    if column.as_text {
        text_form(&expr, column)
    } else {
        expr
    }
}

/// `expr` through [`CANONICAL`] for a float column.
/// `expr`, a value of `column`, in the form both sides are compared in.
fn form_of(column: &PlanColumn, expr: &str) -> String {
    if column.as_text {
        text_form(expr, column)
    } else {
        canonical(expr.to_owned(), column)
    }
}

fn canonical(expr: String, column: &PlanColumn) -> String {
    if column.is_float {
        format!("{CANONICAL}({expr})")
    } else {
        expr
    }
}

/// `expr` as the text both sides are compared in when their types differ: plain text, or for
/// numbers their canonical text, without trailing fractional zeros.
fn text_form(expr: &str, column: &PlanColumn) -> String {
    let text = format!("CAST({expr} AS VARCHAR)");
    if column.as_number {
        let trimmed = format!(
            "CASE WHEN strpos({text}, '.') > 0 AND strpos(lower({text}), 'e') = 0 \
             THEN rtrim(rtrim({text}, '0'), '.') ELSE {text} END"
        );
        // A float's negative zero is the number zero.
        format!("CASE WHEN {trimmed} = '-0' THEN '0' ELSE {trimmed} END")
    } else {
        text
    }
}

/// "`legacy` and `beta` are a declared pair" (see [`ColumnRules::expected`]): never null. Each
/// value is matched as text, as written; a `CASE` on the legacy value with an `IN` list of its
/// beta values, which DataFusion evaluates by lookup rather than pair by pair.
///
/// [`ColumnRules::expected`]: crate::ColumnRules::expected
#[must_use]
pub fn expected_pair(pairs: &[(String, String)], legacy: &str, beta: &str) -> String {
    let mut by_legacy: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for (l, b) in pairs {
        by_legacy.entry(l).or_default().push(b);
    }
    let branches: Vec<String> = by_legacy
        .iter()
        .map(|(l, bs)| {
            let bs: Vec<String> = bs.iter().map(|b| literal(b)).collect();
            format!(
                "WHEN {} THEN CAST({beta} AS VARCHAR) IN ({})",
                literal(l),
                bs.join(", ")
            )
        })
        .collect();
    format!(
        "COALESCE(CASE CAST({legacy} AS VARCHAR) {} ELSE FALSE END, FALSE)",
        branches.join(" ")
    )
}

fn internal(prefix: &str, i: usize) -> String {
    ident(&format!("{prefix}{i}"))
}

impl Plan {
    /// The names of the group and key columns in the row diff: their own, except a name the
    /// row diff uses itself (`diff`, `side`, `changed_columns`, `hidden_columns`, `rows`, or a
    /// compared column's `legacy_<c>` / `beta_<c>`), which is prefixed with `key_` until free.
    /// A table without a key writes its compared columns under their names by the same rule.
    #[must_use]
    pub fn row_diff_names(&self) -> RowDiffNames {
        let mut taken: Vec<String> = ROW_DIFF_OWN_COLUMNS.iter().map(|&c| c.to_owned()).collect();
        if self.row_diff_has_sides() {
            for c in &self.compared {
                taken.push(format!("legacy_{}", c.name));
                taken.push(format!("beta_{}", c.name));
            }
        }
        let mut name = |column: &str| {
            let free = free_name(column, &taken);
            taken.push(free.clone());
            free
        };
        let group = self.group.as_deref().map(&mut name);
        let columns = if self.row_diff_has_sides() {
            &self.key
        } else {
            &self.compared
        };
        let key = columns.iter().map(|c| name(&c.name)).collect();
        RowDiffNames { group, key }
    }

    /// The row diff holds `legacy_<c>` and `beta_<c>` for each compared column: a keyed one,
    /// and a keyless one whose leftover rows are paired (one row per leftover row, so that a
    /// pair can hold both rows' values). Otherwise a keyless row diff holds each differing
    /// distinct row once, under the compared columns' own names, with its count in `rows`.
    #[must_use]
    pub fn row_diff_has_sides(&self) -> bool {
        self.keyed || self.pair_unmatched
    }

    /// This plan over a row diff whose values are already in their compared forms (a keyless
    /// row diff whose leftovers are paired, [`Plan::multiset_row_diff_sql`]): a column compared
    /// as text is text on both sides there, so it is compared as a text column, not converted
    /// to text again.
    #[must_use]
    pub fn over_forms(&self) -> Plan {
        let mut plan = self.clone();
        for c in plan.compared.iter_mut().filter(|c| c.as_text) {
            c.as_text = false;
            c.as_number = false;
            c.is_text = true;
            c.is_float = false;
            c.is_numeric = false;
            c.decimal_scale = None;
            c.is_temporal = false;
        }
        plan
    }

    /// The group as non-null text over a source table: what every query groups, joins and
    /// filters on. A null group is the empty one: the summary names groups by text, and the
    /// triage and the join must agree.
    fn group_expr(&self) -> String {
        match &self.group {
            Some(g) => format!("COALESCE(CAST({} AS VARCHAR), '')", ident(g)),
            None => literal("*"),
        }
    }

    /// ` WHERE` not an excluded group, or nothing when no group is excluded.
    fn where_clause(&self) -> String {
        self.not_excluded()
            .map(|f| format!(" WHERE {f}"))
            .unwrap_or_default()
    }

    fn key_partition(&self, prefix: &str) -> String {
        let mut parts = vec![format!("{prefix}\"__g\"")];
        parts.extend((0..self.key.len()).map(|i| format!("{prefix}{}", internal("__k", i))));
        parts.join(", ")
    }

    /// One side projected to internal names (`__g`, `__k<i>`, `__v<i>`, `__p`).
    fn side_rows(&self, table: &str) -> String {
        let mut cols = vec![format!("{} AS \"__g\"", self.group_expr())];
        for (i, k) in self.key.iter().enumerate() {
            cols.push(format!("{} AS {}", value("", k), internal("__k", i)));
        }
        for (i, c) in self.compared.iter().enumerate() {
            cols.push(format!("{} AS {}", ident(&c.name), internal("__v", i)));
        }
        cols.push("TRUE AS \"__p\"".into());
        format!(
            "SELECT {} FROM {}{}",
            cols.join(", "),
            ident(table),
            self.where_clause()
        )
    }

    /// Rows per key of a side's projected rows `rows` (`__g`, `__k<i>`, `__c`): a hash
    /// aggregate, where a window over the rows would sort them all (and a district whose every
    /// row differs made that sort fail for memory).
    fn key_counts(&self, rows: &str) -> String {
        let keys = self.key_partition("");
        format!("SELECT {keys}, count(*) AS \"__c\" FROM {rows} GROUP BY {keys}")
    }

    /// `rows` (a side's projected rows) with its own rows per key as `__n` and the other side's
    /// (`other`, key counts) as `__m`, 0 when the other side lacks the key.
    fn side_cte(&self, rows: &str, own: &str, other: &str) -> String {
        let on = |a: &str, b: &str| {
            // Null-safe throughout, as the diff's join: one kind of equi-join key.
            let mut on = vec![format!("({a}.\"__g\" IS NOT DISTINCT FROM {b}.\"__g\")")];
            for i in 0..self.key.len() {
                let k = internal("__k", i);
                on.push(format!("({a}.{k} IS NOT DISTINCT FROM {b}.{k})"));
            }
            on.join(" AND ")
        };
        format!(
            "SELECT r.*, o.\"__c\" AS \"__n\", COALESCE(x.\"__c\", 0) AS \"__m\" \
             FROM {rows} AS r JOIN {own} AS o ON {} LEFT JOIN {other} AS x ON {}",
            on("r", "o"),
            on("r", "x"),
        )
    }

    /// Compared column `i` from a prefixed row source, cast and normalised by its rules.
    fn compared_value(&self, i: usize, prefix: &str) -> String {
        let column = &self.compared[i];
        let mut e = format!("{prefix}{}", internal("__v", i));
        if let Some(cast) = &column.rules.cast {
            e = format!("TRY_CAST({e} AS {})", cast_type(cast));
            if cast_type(cast) == "DOUBLE" {
                e = format!("{CANONICAL}({e})");
            }
        } else if column.as_text {
            e = text_form(&e, column);
        } else {
            e = canonical(e, column);
        }
        let text = match &column.rules.cast {
            Some(cast) => cast_type(cast) == "VARCHAR",
            None => column.is_text || column.as_text,
        };
        if text {
            if column.rules.trim {
                e = format!("btrim({e}, {})", literal(&WHITE_SPACE));
            }
            if column.rules.ignore_case {
                e = format!("lower({e})");
            }
            if column.rules.null_equals_empty {
                e = format!("NULLIF({e}, '')");
            }
        }
        e
    }

    /// "Values differ" for compared column `i` under its rules (null-safe).
    ///
    /// Values equal in their compared form are equal (so are two NaNs, two infinities). A
    /// tolerance applies to a pair of numbers: a column that is a number on both sides (or is
    /// cast to one), or text that reads as a number (`TRY_CAST`); the date tolerance likewise to
    /// dates, timestamps and text that reads as one. Other pairs compare exactly, so a
    /// table-wide tolerance leaves a name column exact. Integers and decimals are subtracted as
    /// decimals, exactly; floats and text as doubles, and only finite ones are ever close.
    fn differs(&self, i: usize, left: &str, right: &str) -> String {
        let column = &self.compared[i];
        if column.rules.is_exact() {
            return self.raw_differs(i, left, right);
        }
        // Values equal exactly are equal whatever the rules (a cast that turns `1.50` into 1 on
        // one side and into null on the other does not make them differ): the rules only
        // decide about values that differ exactly, as the triage's row hashes assume.
        let mut differs = format!(
            "({} AND {}",
            self.raw_differs(i, left, right),
            self.differs_under_rules(i, left, right)
        );
        if !column.rules.expected.is_empty() {
            let raw = |prefix: &str| format!("{prefix}{}", internal("__v", i));
            differs.push_str(&format!(
                " AND NOT {}",
                expected_pair(&column.rules.expected, &raw(left), &raw(right))
            ));
        }
        differs.push(')');
        differs
    }

    /// "Values differ" for compared column `i` under its rules, for values that differ exactly.
    fn differs_under_rules(&self, i: usize, left: &str, right: &str) -> String {
        let (l, b) = (self.compared_value(i, left), self.compared_value(i, right));
        let column = &self.compared[i];
        let rules = &column.rules;
        let (numeric, temporal) = match rules.cast.as_deref().map(cast_type) {
            Some("VARCHAR") => (true, true),
            Some(cast) => (
                matches!(cast, "BIGINT" | "DOUBLE"),
                matches!(cast, "DATE" | "TIMESTAMP"),
            ),
            None => {
                let text = column.is_text || column.as_text;
                (column.is_numeric || text, column.is_temporal || text)
            }
        };
        let mut within = Vec::new();
        if numeric && (rules.abs_tolerance.is_some() || rules.rel_tolerance.is_some()) {
            let exact = rules.cast.is_none() && column.decimal_scale.is_some();
            let number = |e: &str| match column.decimal_scale {
                Some(scale) if exact => format!("TRY_CAST({e} AS DECIMAL(38, {scale}))"),
                _ => format!("TRY_CAST({e} AS DOUBLE)"),
            };
            let tolerance = |t: f64| {
                if exact {
                    decimal_literal(t)
                } else {
                    format!("CAST({} AS DOUBLE)", literal(&t.to_string()))
                }
            };
            let (ln, bn) = (number(&l), number(&b));
            let mut bounds = Vec::new();
            if let Some(t) = rules.abs_tolerance {
                bounds.push(format!("abs({ln} - {bn}) <= {}", tolerance(t)));
            }
            if let Some(t) = rules.rel_tolerance {
                bounds.push(format!(
                    "abs({ln} - {bn}) <= {} * greatest(abs({ln}), abs({bn}))",
                    tolerance(t)
                ));
            }
            let bounds = bounds.join(" OR ");
            within.push(if exact {
                bounds
            } else {
                // A tolerance is about finite numbers: an infinity or a NaN is equal only to
                // itself (decided above), never "close" to anything.
                let finite = "CAST('inf' AS DOUBLE)";
                format!("(abs({ln}) < {finite} AND abs({bn}) < {finite} AND ({bounds}))")
            });
        }
        if temporal && let Some(days) = rules.date_tolerance_days {
            within.push(format!(
                "abs(date_part('epoch', TRY_CAST({b} AS TIMESTAMP)) - date_part('epoch', TRY_CAST({l} AS TIMESTAMP))) <= {}",
                days * 86_400.0
            ));
        }
        if within.is_empty() {
            format!("({l} IS DISTINCT FROM {b})")
        } else {
            format!(
                "(CASE WHEN {l} IS NULL AND {b} IS NULL THEN FALSE WHEN {l} IS NULL OR {b} IS NULL THEN TRUE \
                 WHEN NOT ({l} IS DISTINCT FROM {b}) THEN FALSE \
                 ELSE NOT COALESCE({}, FALSE) END)",
                within.join(" OR ")
            )
        }
    }

    /// Exact, null-safe "values differ" for compared column `i`, ignoring its rules.
    fn raw_differs(&self, i: usize, left: &str, right: &str) -> String {
        let column = &self.compared[i];
        let wrap = |e: String| {
            if column.as_text {
                text_form(&e, column)
            } else {
                canonical(e, column)
            }
        };
        format!(
            "({} IS DISTINCT FROM {})",
            wrap(format!("{left}{}", internal("__v", i))),
            wrap(format!("{right}{}", internal("__v", i)))
        )
    }

    /// Compared columns in name order: how `changed_columns` and `hidden_columns` list them.
    fn by_name(&self) -> Vec<usize> {
        let mut sorted: Vec<usize> = (0..self.compared.len()).collect();
        sorted.sort_by(|&a, &b| self.compared[a].name.cmp(&self.compared[b].name));
        sorted
    }

    /// The `;`-separated, sorted names of the compared columns that differ under their rules
    /// between row sources `left` and `right` (prefixes of the internal `__v<i>` names).
    #[must_use]
    pub fn changed_list(&self, left: &str, right: &str) -> String {
        let sorted = self.by_name();
        if sorted.is_empty() {
            return "''".to_owned();
        }
        let parts: Vec<String> = sorted
            .iter()
            .map(|&i| {
                format!(
                    "CASE WHEN {} THEN {} END",
                    self.differs(i, left, right),
                    literal(&self.compared[i].name)
                )
            })
            .collect();
        format!("concat_ws(';', {})", parts.join(", "))
    }

    /// As [`Plan::changed_list`], for the columns equal only under their rules.
    #[must_use]
    pub fn hidden_list(&self, left: &str, right: &str) -> String {
        let ruled: Vec<usize> = self
            .by_name()
            .into_iter()
            .filter(|&i| !self.compared[i].rules.is_exact())
            .collect();
        if ruled.is_empty() {
            return "''".to_owned();
        }
        let parts: Vec<String> = ruled
            .iter()
            .map(|&i| {
                format!(
                    "CASE WHEN {} AND NOT {} THEN {} END",
                    self.raw_differs(i, left, right),
                    self.differs(i, left, right),
                    literal(&self.compared[i].name)
                )
            })
            .collect();
        format!("concat_ws(';', {})", parts.join(", "))
    }

    /// How many compared columns differ under their rules between `left` and `right`.
    #[must_use]
    pub fn differing_count(&self, left: &str, right: &str) -> String {
        if self.compared.is_empty() {
            return "0".to_owned();
        }
        (0..self.compared.len())
            .map(|i| {
                format!(
                    "(CASE WHEN {} THEN 1 ELSE 0 END)",
                    self.differs(i, left, right)
                )
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// `expr`, a value of compared column `i`, in the form it is compared and ordered in (as
    /// text when the sides' types differ, floats canonical).
    #[must_use]
    pub fn compared_form(&self, i: usize, expr: &str) -> String {
        form_of(&self.compared[i], expr)
    }

    /// The row diff: one row per differing row, with the group column (if any), the key, `diff`,
    /// `side`, `changed_columns`, `hidden_columns` (equal only under a comparison rule) and
    /// `legacy_<c>` / `beta_<c>` for every compared column. A pair whose only differences are
    /// hidden by rules is kept as `equal_by_rule`, so the rules' effect can be counted.
    #[must_use]
    pub fn row_diff_sql(&self) -> String {
        let mut join_on = vec!["(l.\"__g\" IS NOT DISTINCT FROM b.\"__g\")".to_owned()];
        for i in 0..self.key.len() {
            let k = internal("__k", i);
            join_on.push(format!("(l.{k} IS NOT DISTINCT FROM b.{k})"));
        }
        // "Both sides hold the key once", as one more equi-join key rather than a join filter:
        // 0 on a side where the key is unique, a value per side that never matches otherwise.
        // A plain equi-join plans the same everywhere; Ballista 55's fallback from hash join to
        // sort-merge join mis-indexes a join filter's columns (an out-of-bounds panic at 10M rows).
        join_on.push(
            "((CASE WHEN l.\"__n\" = 1 THEN 0 ELSE -1 END) \
             IS NOT DISTINCT FROM (CASE WHEN b.\"__n\" = 1 THEN 0 ELSE -2 END))"
                .into(),
        );

        let changed_list = self.changed_list("l.", "b.");
        let mut any_differs: Vec<String> = (0..self.compared.len())
            .map(|i| self.differs(i, "l.", "b."))
            .collect();
        // Columns with rules also keep rows that differ only exactly, to count what rules hid.
        any_differs.extend(
            (0..self.compared.len())
                .filter(|&i| !self.compared[i].rules.is_exact())
                .map(|i| self.raw_differs(i, "l.", "b.")),
        );
        let any_differs = if any_differs.is_empty() {
            "FALSE".to_owned()
        } else {
            any_differs.join(" OR ")
        };
        let hidden_list = self.hidden_list("l.", "b.");

        let mut joined = vec!["COALESCE(l.\"__g\", b.\"__g\") AS \"__g\"".to_owned()];
        for i in 0..self.key.len() {
            let k = internal("__k", i);
            joined.push(format!("COALESCE(l.{k}, b.{k}) AS {k}"));
        }
        joined.push("l.\"__p\" AS \"__lp\"".into());
        joined.push("b.\"__p\" AS \"__bp\"".into());
        for i in 0..self.compared.len() {
            let v = internal("__v", i);
            joined.push(format!("l.{v} AS {}", internal("__l", i)));
            joined.push(format!("b.{v} AS {}", internal("__b", i)));
        }
        joined.push(format!("{changed_list} AS \"__cc\""));
        joined.push(format!("{hidden_list} AS \"__hc\""));
        // The other side's rows under the row's key: 0 for a key one side lacks.
        joined.push("COALESCE(l.\"__m\", b.\"__n\") AS \"__nb\"".into());
        joined.push("COALESCE(b.\"__m\", l.\"__n\") AS \"__nl\"".into());

        let names = self.row_diff_names();
        let mut out = Vec::new();
        if let Some(g) = &names.group {
            out.push(format!("\"__g\" AS {}", ident(g)));
        }
        for (i, k) in names.key.iter().enumerate() {
            out.push(format!("{} AS {}", internal("__k", i), ident(k)));
        }
        out.push(
            "CASE WHEN \"__lp\" AND \"__bp\" AND \"__cc\" <> '' THEN 'changed' \
             WHEN \"__lp\" AND \"__bp\" THEN 'equal_by_rule' \
             WHEN \"__lp\" IS NOT NULL THEN CASE WHEN \"__nb\" = 0 THEN 'missing_in_beta' ELSE 'duplicate_key' END \
             ELSE CASE WHEN \"__nl\" = 0 THEN 'extra_in_beta' ELSE 'duplicate_key' END END AS \"diff\""
                .into(),
        );
        out.push(
            "CASE WHEN \"__lp\" AND \"__bp\" THEN 'both' WHEN \"__lp\" IS NOT NULL THEN 'legacy' ELSE 'beta' END AS \"side\""
                .into(),
        );
        out.push(
            "CASE WHEN \"__lp\" AND \"__bp\" THEN \"__cc\" ELSE '' END AS \"changed_columns\""
                .into(),
        );
        out.push(
            "CASE WHEN \"__lp\" AND \"__bp\" THEN \"__hc\" ELSE '' END AS \"hidden_columns\""
                .into(),
        );
        for (i, c) in self.compared.iter().enumerate() {
            out.push(format!(
                "{} AS {}",
                internal("__l", i),
                ident(&format!("legacy_{}", c.name))
            ));
            out.push(format!(
                "{} AS {}",
                internal("__b", i),
                ident(&format!("beta_{}", c.name))
            ));
        }
        if self.pair_unmatched {
            out.push(format!(
                "CAST(NULL AS VARCHAR) AS {}",
                ident(PAIRED_BETA_KEY)
            ));
        }

        format!(
            "WITH l0 AS ({legacy_rows}), b0 AS ({beta_rows}), \
             lc AS ({legacy_counts}), bc AS ({beta_counts}), \
             l AS ({legacy}), b AS ({beta}), \
             j AS (SELECT {joined} FROM l FULL OUTER JOIN b ON {on} \
                   WHERE l.\"__p\" IS NULL OR b.\"__p\" IS NULL OR {any_differs}) \
             SELECT {out} FROM j",
            legacy_rows = self.side_rows(&self.legacy_table),
            beta_rows = self.side_rows(&self.beta_table),
            legacy_counts = self.key_counts("l0"),
            beta_counts = self.key_counts("b0"),
            legacy = self.side_cte("l0", "lc", "bc"),
            beta = self.side_cte("b0", "bc", "lc"),
            joined = joined.join(", "),
            on = join_on.join(" AND "),
            out = out.join(", "),
        )
    }

    /// Both sides as one multiset: each distinct row (over the compared columns) with its count
    /// on each side (`__g`, `__v<i>`, `lc`, `bc`). For tables without a key.
    fn multiset_counts_cte(&self) -> String {
        let side = |table: &str, lw: u8, bw: u8| {
            let mut cols = vec![format!("{} AS \"__g\"", self.group_expr())];
            for (i, c) in self.compared.iter().enumerate() {
                cols.push(format!("{} AS {}", value("", c), internal("__v", i)));
            }
            cols.push(format!("{lw} AS \"__lw\", {bw} AS \"__bw\""));
            format!(
                "SELECT {} FROM {}{}",
                cols.join(", "),
                ident(table),
                self.where_clause()
            )
        };
        let mut group_cols = vec!["\"__g\"".to_owned()];
        group_cols.extend((0..self.compared.len()).map(|i| internal("__v", i)));
        format!(
            "SELECT {cols}, SUM(\"__lw\") AS \"lc\", SUM(\"__bw\") AS \"bc\" \
             FROM ({legacy} UNION ALL {beta}) AS u GROUP BY {cols}",
            cols = group_cols.join(", "),
            legacy = side(&self.legacy_table, 1, 0),
            beta = side(&self.beta_table, 0, 1),
        )
    }

    /// Per group, for a table without a key: rows per side, rows in both (with multiplicity),
    /// rows only in legacy, rows only in beta.
    #[must_use]
    pub fn multiset_counts_sql(&self) -> String {
        format!(
            "SELECT \"__g\", SUM(\"lc\"), SUM(\"bc\"), SUM(LEAST(\"lc\", \"bc\")), \
             SUM(GREATEST(\"lc\" - \"bc\", 0)), SUM(GREATEST(\"bc\" - \"lc\", 0)) \
             FROM ({}) AS c GROUP BY \"__g\"",
            self.multiset_counts_cte()
        )
    }

    /// The row diff of a table without a key: one row per distinct row whose count differs,
    /// with the compared columns, `diff` (`missing_in_beta` / `extra_in_beta`), `side`, empty
    /// `changed_columns` and `hidden_columns`, and `rows`, how many more times it occurs on that
    /// side.
    #[must_use]
    pub fn multiset_row_diff_sql(&self) -> String {
        if self.pair_unmatched {
            return self.multiset_leftovers_sql();
        }
        let names = self.row_diff_names();
        let mut out = Vec::new();
        if let Some(g) = &names.group {
            out.push(format!("\"__g\" AS {}", ident(g)));
        }
        for (i, name) in names.key.iter().enumerate() {
            out.push(format!("{} AS {}", internal("__v", i), ident(name)));
        }
        out.push(
            "CASE WHEN \"lc\" > \"bc\" THEN 'missing_in_beta' ELSE 'extra_in_beta' END AS \"diff\""
                .into(),
        );
        out.push("CASE WHEN \"lc\" > \"bc\" THEN 'legacy' ELSE 'beta' END AS \"side\"".into());
        out.push("'' AS \"changed_columns\", '' AS \"hidden_columns\"".into());
        out.push("abs(\"lc\" - \"bc\") AS \"rows\"".into());
        format!(
            "SELECT {} FROM ({}) AS c WHERE \"lc\" <> \"bc\"",
            out.join(", "),
            self.multiset_counts_cte()
        )
    }

    /// The row diff of a table without a key whose leftover rows are to be paired: each row
    /// one side holds more often than the other is repeated as many times more, with the
    /// group, `diff`, `side`, empty `changed_columns` and `hidden_columns`, and `legacy_<c>` /
    /// `beta_<c>` (the row's compared forms on its side, null on the other).
    fn multiset_leftovers_sql(&self) -> String {
        let names = self.row_diff_names();
        let mut out = Vec::new();
        if let Some(g) = &names.group {
            out.push(format!("\"__g\" AS {}", ident(g)));
        }
        out.push(
            "CASE WHEN \"lc\" > \"bc\" THEN 'missing_in_beta' ELSE 'extra_in_beta' END AS \"diff\""
                .into(),
        );
        out.push("CASE WHEN \"lc\" > \"bc\" THEN 'legacy' ELSE 'beta' END AS \"side\"".into());
        out.push("'' AS \"changed_columns\", '' AS \"hidden_columns\"".into());
        for (i, c) in self.compared.iter().enumerate() {
            let v = internal("__v", i);
            out.push(format!(
                "CASE WHEN \"lc\" > \"bc\" THEN {v} END AS {}",
                ident(&format!("legacy_{}", c.name))
            ));
            out.push(format!(
                "CASE WHEN \"lc\" < \"bc\" THEN {v} END AS {}",
                ident(&format!("beta_{}", c.name))
            ));
        }
        // One row per surplus copy: `unnest` of a list as long as the surplus.
        format!(
            "SELECT {} FROM (SELECT *, unnest(range(abs(\"lc\" - \"bc\"))) AS \"__copy\" \
                           FROM ({}) AS c WHERE \"lc\" <> \"bc\") AS c",
            out.join(", "),
            self.multiset_counts_cte()
        )
    }

    /// Per group: rows and duplicated keys of one side (`__g`, `rows`, `dup_keys`).
    #[must_use]
    pub fn side_stats_sql(&self, table: &str) -> String {
        let mut cols = vec![format!("{} AS \"__g\"", self.group_expr())];
        for (i, k) in self.key.iter().enumerate() {
            cols.push(format!("{} AS {}", value("", k), internal("__k", i)));
        }
        format!(
            "SELECT \"__g\", SUM(\"__n\") AS \"rows\", SUM(CASE WHEN \"__n\" > 1 THEN 1 ELSE 0 END) AS \"dup_keys\" \
             FROM (SELECT {partition}, COUNT(*) AS \"__n\" FROM (SELECT {cols} FROM {table}{filter}) AS s \
                   GROUP BY {partition}) AS k GROUP BY \"__g\"",
            partition = self.key_partition(""),
            cols = cols.join(", "),
            table = ident(table),
            filter = self.where_clause(),
        )
    }

    /// The hash of a row's group and key (see [`crate::fingerprint`]): one 128-bit value per
    /// key, so the triage groups and joins on a single primitive column.
    #[must_use]
    pub fn key_hash_expr(&self) -> String {
        let mut parts = vec![self.group_expr()];
        parts.extend(self.key.iter().map(|k| hashed_value("", k)));
        format!("{}({})", crate::fingerprint::ROW_HASH, parts.join(", "))
    }

    /// `IN` list of group names over [`Plan::group_expr`].
    fn in_groups(&self, groups: &[String]) -> String {
        let list: Vec<String> = groups.iter().map(|g| literal(g)).collect();
        format!("{} IN ({})", self.group_expr(), list.join(", "))
    }

    /// "In the listed groups, and in `range`": the filter of the per-key queries over a held
    /// chunk. `None` for all of the chunk's groups: the held chunk holds no others, and the
    /// group filter costs a cast to text and a lookup per row.
    fn in_groups_and(&self, groups: Option<&[String]>, range: &str) -> String {
        match groups {
            Some(groups) => format!("{} AND {range}", self.in_groups(groups)),
            None => range.to_owned(),
        }
    }

    /// The groups of a chunk, as the range from its first to its last name (see
    /// [`Plan::group_expr`]), less the excluded groups. `groups` must be sorted and hold
    /// every group of both sides in that range, as the triage's chunks do.
    ///
    /// This is the filter of every read of the source tables. DataFusion prunes a
    /// Hive-partitioned table by evaluating the filter once per file, building the expression
    /// anew each time: with an `IN` list of hundreds of names and thousands of files that cost
    /// more than reading the files (a chunk of a 2000-district night read a third of the rows
    /// in 0.74 s against 0.44 s for the whole table); two comparisons cost next to nothing.
    fn in_group_range(&self, groups: &[String]) -> String {
        let (Some(first), Some(last)) = (groups.first(), groups.last()) else {
            return "FALSE".to_owned();
        };
        let g = self.group_expr();
        // Below `last` followed by NUL, the first name after `last`, rather than `<= last`: for
        // a single group DataFusion would fold `>= x AND <= x` into `= x`, take the group
        // expression for a constant, and then reject its own plan of the row diff's window
        // ("does not satisfy order requirements") for the group "" larger than a chunk.
        let mut filter = format!(
            "{g} >= {} AND {g} < {}",
            literal(first),
            literal(&format!("{last}\u{0}"))
        );
        if let Some(excluded) = self.not_excluded() {
            filter.push_str(&format!(" AND {excluded}"));
        }
        filter
    }

    /// "Not an excluded group", over [`Plan::group_expr`]; `None` when nothing is
    /// excluded.
    fn not_excluded(&self) -> Option<String> {
        if self.exclude_groups.is_empty() || self.group.is_none() {
            return None;
        }
        let list: Vec<String> = self.exclude_groups.iter().map(|g| literal(g)).collect();
        Some(format!(
            "{} NOT IN ({})",
            self.group_expr(),
            list.join(", ")
        ))
    }

    /// Rows per group of one side (`__g`, `rows`), excluded groups left out. Reads no data
    /// columns of a Hive-partitioned table.
    #[must_use]
    pub fn group_sizes_sql(&self, table: &str) -> String {
        format!(
            "SELECT {g} AS \"__g\", count(*) AS \"rows\" FROM {table}{filter} GROUP BY 1",
            g = self.group_expr(),
            table = ident(table),
            filter = self.where_clause(),
        )
    }

    /// The rows of a chunk's groups (the range `in_group_range` reads) of one side, with only the
    /// columns the diff uses (group, key, compared) under their own names, plus `__kh` and
    /// `__rh`, the hashes of the group and key and of the row (key and compared columns).
    #[must_use]
    pub fn chunk_rows_sql(&self, table: &str, groups: &[String]) -> String {
        let mut columns: Vec<String> = self.group.iter().map(|g| ident(g)).collect();
        columns.extend(self.key.iter().map(|k| ident(&k.name)));
        columns.extend(self.compared.iter().map(|c| ident(&c.name)));
        format!(
            "SELECT {}, {} AS \"__kh\", {} AS \"__rh\" FROM {} WHERE {}",
            columns.join(", "),
            self.key_hash_expr(),
            self.row_hash_expr(),
            ident(table),
            self.in_group_range(groups)
        )
    }

    /// A chunk's groups of one side as hashes only: the group column (if any), `__kh` and
    /// `__rh` as in [`Plan::chunk_rows_sql`]. What the triage holds of a group too large to
    /// hold whole.
    #[must_use]
    pub fn chunk_hashes_sql(&self, table: &str, groups: &[String]) -> String {
        let mut columns: Vec<String> = self.group.iter().map(|g| ident(g)).collect();
        columns.push(format!("{} AS \"__kh\"", self.key_hash_expr()));
        columns.push(format!("{} AS \"__rh\"", self.row_hash_expr()));
        format!(
            "SELECT {} FROM {} WHERE {}",
            columns.join(", "),
            ident(table),
            self.in_group_range(groups)
        )
    }

    /// Every row of a chunk's groups of one side with its key hash as `__kh`: what a group
    /// larger than a chunk is read from once, in one streaming pass, to keep the rows under its
    /// residual keys (see `triage::read_residual_rows`).
    #[must_use]
    pub fn rows_with_key_hash_sql(&self, table: &str, groups: &[String]) -> String {
        format!(
            "SELECT *, {} AS \"__kh\" FROM {} WHERE {}",
            self.key_hash_expr(),
            ident(table),
            self.in_group_range(groups)
        )
    }

    /// A chunk's groups of one side as key hashes only: the group column (if any) and `__kh`
    /// as in [`Plan::chunk_rows_sql`]. Reads only the key columns: what the triage needs of
    /// groups whose sides hold the same rows (to find their duplicated keys).
    #[must_use]
    pub fn chunk_key_hashes_sql(&self, table: &str, groups: &[String]) -> String {
        let mut columns: Vec<String> = self.group.iter().map(|g| ident(g)).collect();
        columns.push(format!("{} AS \"__kh\"", self.key_hash_expr()));
        format!(
            "SELECT {} FROM {} WHERE {}",
            columns.join(", "),
            ident(table),
            self.in_group_range(groups)
        )
    }

    /// The hash of a row's key and compared columns.
    fn row_hash_expr(&self) -> String {
        let mut row: Vec<String> = self.key.iter().map(|k| hashed_value("", k)).collect();
        row.extend(self.compared.iter().map(|c| hashed_value("", c)));
        format!("{}({})", crate::fingerprint::ROW_HASH, row.join(", "))
    }

    /// Per group of one side's held chunk (a table with `__rh`, see
    /// [`Plan::chunk_hashes_sql`], holding only the chunk's groups): `__g`, `rows` and
    /// `fingerprint` (of all its rows). Equal rows and fingerprints on both sides mean the same
    /// multiset of rows.
    ///
    /// Grouped on the group column as held, with no filter: the text form of
    /// [`Plan::group_expr`] costs a cast of every row (a Hive partition column is held
    /// as a dictionary). A null group and an empty one come out as two rows here that the
    /// triage adds up, as both counts and fingerprints are sums.
    #[must_use]
    pub fn group_fingerprints_sql(&self, table: &str) -> String {
        let g = match &self.group {
            Some(g) => ident(g),
            None => literal("*"),
        };
        format!(
            "SELECT {g} AS \"__g\", count(*) AS \"rows\", {fp}(\"__rh\") AS \"fingerprint\" \
             FROM {table} GROUP BY 1",
            fp = crate::fingerprint::FINGERPRINT,
            table = ident(table),
        )
    }

    /// Range `slice` of `slices` equal ranges of key hashes, as a filter on `__kh` (`TRUE` for
    /// one range). Key hashes are spread evenly over [0, 2^126) (see [`crate::fingerprint`]), so
    /// each range holds about `1 / slices` of the keys.
    #[must_use]
    pub fn key_hash_range(slice: u64, slices: u64) -> String {
        Self::hash_range("\"__kh\"", slice, slices)
    }

    /// As [`Plan::key_hash_range`], over the key hash `expr`.
    #[must_use]
    pub fn hash_range(expr: &str, slice: u64, slices: u64) -> String {
        if slices <= 1 {
            return "TRUE".to_owned();
        }
        let width = (1_u128 << 126) / u128::from(slices);
        let bound = |i: u64| format!("CAST('{}' AS DECIMAL(38, 0))", width * u128::from(i));
        let mut filter = Vec::new();
        if slice > 0 {
            filter.push(format!("{expr} >= {}", bound(slice)));
        }
        if slice + 1 < slices {
            filter.push(format!("{expr} < {}", bound(slice + 1)));
        }
        filter.join(" AND ")
    }

    /// The key hashes (`__kh`) in `range` (see [`Plan::key_hash_range`]) held by more than one
    /// row of `table`, a held chunk, in the listed groups (`None`: all of them). For groups
    /// whose sides hold the same rows, these are the only keys the row diff must see, and one
    /// side is enough to find them.
    #[must_use]
    pub fn duplicate_keys_sql(
        &self,
        table: &str,
        groups: Option<&[String]>,
        range: &str,
    ) -> String {
        format!(
            "SELECT \"__kh\" FROM {table} WHERE {filter} GROUP BY 1 HAVING count(*) > 1",
            table = ident(table),
            filter = self.in_groups_and(groups, range),
        )
    }

    /// The key hashes (`__kh`) in `range` (see [`Plan::key_hash_range`]) of two held chunks,
    /// in the listed groups (`None`: all of them), that need the exact row diff: on one side
    /// only, on more than one row of a side, or on one row per side with different row hashes.
    /// A key held by one identical row per side cannot appear in the row diff, so it is left
    /// out. One `GROUP BY` of both sides on the single key-hash column.
    #[must_use]
    pub fn residual_keys_sql(
        &self,
        legacy: &str,
        beta: &str,
        groups: Option<&[String]>,
        range: &str,
    ) -> String {
        let side = |table: &str, is_legacy: u8| {
            format!(
                "SELECT \"__kh\", \"__rh\", {is_legacy} AS \"__l\" FROM {table} WHERE {filter}",
                table = ident(table),
                filter = self.in_groups_and(groups, range),
            )
        };
        format!(
            "SELECT \"__kh\" FROM ({legacy} UNION ALL {beta}) AS s GROUP BY \"__kh\" \
             HAVING sum(\"__l\") <> 1 OR count(*) <> 2 OR min(\"__rh\") <> max(\"__rh\")",
            legacy = side(legacy, 1),
            beta = side(beta, 0),
        )
    }

    /// The set of residual key hashes, for `__kh IN …`: the literals `keys` when given (a
    /// filter against a set of constants, cheaper than the semi-join on `keys_table`'s `__kh`
    /// for the few keys of most chunks), else a subquery on `keys_table`.
    #[must_use]
    pub fn key_set(keys_table: &str, keys: Option<&[i128]>) -> String {
        match keys {
            Some(keys) if !keys.is_empty() => {
                let list: Vec<String> = keys
                    .iter()
                    .map(|k| format!("CAST('{k}' AS DECIMAL(38, 0))"))
                    .collect();
                format!("({})", list.join(", "))
            }
            _ => format!("(SELECT \"__kh\" FROM {})", ident(keys_table)),
        }
    }

    /// The rows of `table` in a chunk's groups whose key hash is in `keys` (see
    /// [`Plan::key_set`]): the rows the row diff must see. `hashed` when `table` is a held
    /// chunk with `__kh` (read by [`Plan::chunk_rows_sql`]); otherwise `table` is a source
    /// table and the hash is computed from its key columns.
    #[must_use]
    pub fn residual_rows_sql(
        &self,
        table: &str,
        groups: &[String],
        hashed: bool,
        keys: &str,
    ) -> String {
        // A held chunk holds only its own groups: no filter on the group, which would cost a
        // cast to text per row. A source table is read by the range, so its files are pruned.
        let filter = if hashed {
            format!("\"__kh\" IN {keys}")
        } else {
            format!(
                "{} AND {} IN {keys}",
                self.in_group_range(groups),
                self.key_hash_expr()
            )
        };
        format!("SELECT * FROM {} WHERE {filter}", ident(table))
    }

    /// Per group of one side with rows under the key hashes `keys` (see [`Plan::key_set`]):
    /// `__g` and `dup_keys`,
    /// the keys held by more than one row. Read from the side's hashes (a table with `__kh`,
    /// see [`Plan::chunk_hashes_sql`]). Every duplicated key is residual, so this counts all
    /// of the group's.
    #[must_use]
    pub fn residual_groups_sql(&self, hashes_table: &str, keys: &str) -> String {
        format!(
            "SELECT \"__g\", sum(CASE WHEN \"__n\" > 1 THEN 1 ELSE 0 END) AS \"dup_keys\" \
             FROM (SELECT {g} AS \"__g\", \"__kh\", count(*) AS \"__n\" FROM {table} \
                   WHERE \"__kh\" IN {keys} GROUP BY 1, 2) AS k \
             GROUP BY \"__g\"",
            g = self.group_expr(),
            table = ident(hashes_table),
        )
    }

    /// The group expression over the row diff table.
    fn row_diff_group(&self) -> String {
        match &self.row_diff_names().group {
            Some(g) => format!("CAST({} AS VARCHAR)", ident(g)),
            None => literal("*"),
        }
    }

    /// Per group counts of each kind of differing row, over the row diff table `row_diff`.
    #[must_use]
    pub fn counts_sql(&self, row_diff: &str) -> String {
        let count = |cond: &str| format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)");
        format!(
            "SELECT \"__g\", {} AS \"changed\", {} AS \"missing\", {} AS \"extra\", {} AS \"dup_legacy\", {} AS \"dup_beta\" \
             FROM (SELECT {} AS \"__g\", \"diff\", \"side\" FROM {}) AS d GROUP BY \"__g\"",
            count("\"diff\" = 'changed'"),
            count("\"diff\" = 'missing_in_beta'"),
            count("\"diff\" = 'extra_in_beta'"),
            count("\"diff\" = 'duplicate_key' AND \"side\" = 'legacy'"),
            count("\"diff\" = 'duplicate_key' AND \"side\" = 'beta'"),
            self.row_diff_group(),
            ident(row_diff),
        )
    }

    /// The row diff says column `c` differs (under its rules) in this row.
    fn row_diff_differs(column: &PlanColumn) -> String {
        listed("changed_columns", &column.name)
    }

    /// Per group and column with rules: how many cells were equal only thanks to the rules.
    /// `None` when no column has rules.
    #[must_use]
    pub fn hidden_sql(&self, row_diff: &str) -> Option<String> {
        let parts: Vec<String> = self
            .compared
            .iter()
            .filter(|c| !c.rules.is_exact())
            .map(|c| {
                let expected = if c.rules.expected.is_empty() {
                    "0".to_owned()
                } else {
                    let l = ident(&format!("legacy_{}", c.name));
                    let b = ident(&format!("beta_{}", c.name));
                    format!(
                        "sum(CASE WHEN {} THEN 1 ELSE 0 END)",
                        expected_pair(&c.rules.expected, &l, &b)
                    )
                };
                format!(
                    "SELECT {g} AS \"__g\", {name} AS \"column\", {rules} AS \"rules\", count(*) AS \"cells\", \
                     CAST({expected} AS BIGINT) AS \"expected_cells\" \
                     FROM {table} WHERE {hidden} GROUP BY 1",
                    g = self.row_diff_group(),
                    name = literal(&c.name),
                    rules = literal(&c.rules.names()),
                    table = ident(row_diff),
                    hidden = listed("hidden_columns", &c.name),
                )
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
    }

    /// Per group and compared column: mismatches among changed rows and the first example by key
    /// (then, for rows paired without a key, by the values of `all_compared`, the table's
    /// compared columns). `None` when there are no compared columns.
    #[must_use]
    pub fn columns_sql(&self, row_diff: &str, all_compared: &[PlanColumn]) -> Option<String> {
        if self.compared.is_empty() {
            return None;
        }
        let mut order: Vec<String> = self.row_diff_names().key.iter().map(|k| ident(k)).collect();
        // Rows paired without a key may share a legacy key: then the values decide, in their
        // compared forms, legacy before beta. Every compared column's values, not only those
        // of the columns this query lists (the ones that differ somewhere): the example is the
        // same whichever columns differ elsewhere in the table.
        if self.pair_unmatched {
            for side in ["legacy", "beta"] {
                for c in all_compared {
                    order.push(form_of(c, &ident(&format!("{side}_{}", c.name))));
                }
            }
        }
        // Without key columns a group holds at most one changed row: no order to choose by.
        let order = if order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", order.join(", "))
        };
        let parts: Vec<String> = self
            .compared
            .iter()
            .map(|c| {
                let l = ident(&format!("legacy_{}", c.name));
                let b = ident(&format!("beta_{}", c.name));
                format!(
                    "SELECT \"__g\", {name} AS \"column\", COUNT(*) AS \"mismatches\", \
                     first_value(CAST({l} AS VARCHAR){order}) AS \"legacy_example\", \
                     first_value(CAST({b} AS VARCHAR){order}) AS \"beta_example\" \
                     FROM (SELECT {g} AS \"__g\", * FROM {table} WHERE \"diff\" = 'changed' AND {differs}) AS d \
                     GROUP BY \"__g\"",
                    name = literal(&c.name),
                    g = self.row_diff_group(),
                    table = ident(row_diff),
                    differs = Self::row_diff_differs(c),
                )
            })
            .collect();
        Some(parts.join(" UNION ALL "))
    }

    /// Every changed cell: group, column, key as text, both values as text, category (see
    /// [`crate::classify`]) and date shift. What [`Plan::categories_sql`] counts; held in memory
    /// between the two, as that query reads it twice. `None` without compared columns.
    #[must_use]
    pub fn changed_cells_sql(&self, row_diff: &str) -> Option<String> {
        if self.compared.is_empty() {
            return None;
        }
        let key_text: Vec<String> = self
            .row_diff_names()
            .key
            .iter()
            .map(|k| format!("COALESCE(CAST({} AS VARCHAR), 'NULL')", ident(k)))
            .collect();
        let key_text = if key_text.is_empty() {
            "''".to_owned()
        } else {
            format!("concat_ws('|', {})", key_text.join(", "))
        };
        let cells: Vec<String> = self
            .compared
            .iter()
            .map(|c| {
                let l = format!("CAST({} AS VARCHAR)", ident(&format!("legacy_{}", c.name)));
                let b = format!("CAST({} AS VARCHAR)", ident(&format!("beta_{}", c.name)));
                format!(
                    "SELECT {g} AS \"__g\", {name} AS \"column\", {key_text} AS \"key\", \
                     {l} AS \"l\", {b} AS \"b\", {classify}({l}, {b}) AS \"category\", \
                     {shift}({l}, {b}) AS \"shift\" \
                     FROM {table} WHERE \"diff\" = 'changed' AND {differs}",
                    g = self.row_diff_group(),
                    name = literal(&c.name),
                    classify = crate::udf::CLASSIFY,
                    shift = crate::udf::DATE_SHIFT,
                    table = ident(row_diff),
                    differs = Self::row_diff_differs(c),
                )
            })
            .collect();
        Some(cells.join(" UNION ALL "))
    }

    /// Changed cells (the table of [`Plan::changed_cells_sql`]) counted per group, column and
    /// category, with `value_remap` decided across all groups: an `other` legacy value of a
    /// column that always becomes the same beta value, in at least two cells.
    #[must_use]
    pub fn categories_sql(cells: &str) -> String {
        format!(
            "WITH remap AS (SELECT \"column\", \"l\", min(\"b\") AS \"b\" FROM {cells} \
                       WHERE \"category\" = 'other' AND \"l\" IS NOT NULL AND \"b\" IS NOT NULL \
                       GROUP BY \"column\", \"l\" \
                       HAVING count(DISTINCT \"b\") = 1 AND count(*) >= 2), \
             classified AS (SELECT c.\"__g\", c.\"column\", c.\"key\", c.\"l\", c.\"b\", c.\"shift\", \
                       CASE WHEN c.\"category\" = 'other' AND r.\"l\" IS NOT NULL \
                            THEN 'value_remap' ELSE c.\"category\" END AS \"category\" \
                       FROM {cells} c LEFT JOIN remap r \
                       ON c.\"column\" = r.\"column\" AND c.\"l\" = r.\"l\") \
             SELECT \"__g\", \"column\", \"category\", \
                    CASE WHEN \"category\" = 'value_remap' THEN \"l\" END AS \"legacy_value\", \
                    CASE WHEN \"category\" = 'value_remap' THEN \"b\" END AS \"beta_value\", \
                    CASE WHEN \"category\" = 'date_shift' THEN \"shift\" END AS \"shift_days\", \
                    count(*) AS \"cells\", min(\"key\") AS \"example_key\" \
             FROM classified GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6",
            cells = ident(cells),
        )
    }

    /// The distinct pairs of `changed_columns` and `hidden_columns` over the rows of `row_diff`
    /// that list something, with how many rows hold each: a handful of combinations on a real
    /// night, found in one scan.
    #[must_use]
    pub fn listed_columns_sql(row_diff: &str) -> String {
        format!(
            "SELECT \"changed_columns\", \"hidden_columns\", count(*) FROM {} \
             WHERE \"changed_columns\" <> '' OR \"hidden_columns\" <> '' GROUP BY 1, 2",
            ident(row_diff)
        )
    }

    /// This plan with only the compared columns that occur in one of `lists` (values of
    /// `changed_columns` or `hidden_columns`), in their order. The per-column queries of the
    /// row diff are one `UNION ALL` branch per compared column; most nights only a few columns
    /// differ, and the other branches cost planning and a scan each for nothing.
    #[must_use]
    pub fn with_listed_columns(&self, lists: &[String]) -> Plan {
        let lists: Vec<String> = lists.iter().map(|l| format!(";{l};")).collect();
        let mut plan = self.clone();
        plan.compared.retain(|c| {
            let needle = format!(";{};", c.name);
            lists.iter().any(|l| l.contains(&needle))
        });
        plan
    }

    /// Per group: how many (key, values) combinations under duplicated keys occur a different
    /// number of times on the two sides. Zero means the duplicated rows match as multisets.
    #[must_use]
    pub fn multiset_sql(&self, row_diff: &str) -> String {
        let side_rows = |side: &str, weight: i32| {
            let mut cols = vec![format!("{} AS \"__g\"", self.row_diff_group())];
            for (i, k) in self.row_diff_names().key.iter().enumerate() {
                cols.push(format!("{} AS {}", ident(k), internal("__k", i)));
            }
            for (i, c) in self.compared.iter().enumerate() {
                let v = value(
                    "",
                    &PlanColumn {
                        name: format!("{side}_{}", c.name),
                        as_text: c.as_text,
                        as_number: c.as_number,
                        is_float: c.is_float,
                        ..PlanColumn::default()
                    },
                );
                cols.push(format!("{v} AS {}", internal("__v", i)));
            }
            cols.push(format!("{weight} AS \"__w\""));
            format!(
                "SELECT {} FROM {} WHERE \"diff\" = 'duplicate_key' AND \"side\" = {}",
                cols.join(", "),
                ident(row_diff),
                literal(side)
            )
        };
        let mut group_cols = vec![self.key_partition("")];
        group_cols.extend((0..self.compared.len()).map(|i| internal("__v", i)));
        format!(
            "SELECT \"__g\", COUNT(*) AS \"unbalanced\" FROM (SELECT \"__g\" FROM ({} UNION ALL {}) AS u \
             GROUP BY {} HAVING SUM(\"__w\") <> 0) AS x GROUP BY \"__g\"",
            side_rows("legacy", 1),
            side_rows("beta", -1),
            group_cols.join(", "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_escaped() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn key_hash_ranges_split_the_hashes_without_gaps() {
        assert_eq!(Plan::key_hash_range(0, 1), "TRUE");
        // 2^126 / 2 = 2^125.
        let half = "CAST('42535295865117307932921825928971026432' AS DECIMAL(38, 0))";
        assert_eq!(Plan::key_hash_range(0, 2), format!("\"__kh\" < {half}"));
        assert_eq!(Plan::key_hash_range(1, 2), format!("\"__kh\" >= {half}"));
        // A middle range is bounded on both sides by its neighbours' bounds.
        let third = (1_u128 << 126) / 3;
        assert_eq!(
            Plan::key_hash_range(1, 3),
            format!(
                "\"__kh\" >= CAST('{}' AS DECIMAL(38, 0)) AND \"__kh\" < CAST('{}' AS DECIMAL(38, 0))",
                third,
                2 * third
            )
        );
    }

    #[test]
    fn only_the_listed_columns_stay_compared() {
        let column = |name: &str| PlanColumn {
            name: name.into(),
            ..PlanColumn::default()
        };
        let plan = Plan {
            legacy_table: "l".into(),
            beta_table: "b".into(),
            group: None,
            keyed: true,
            key: vec![column("id")],
            compared: vec![column("a"), column("ab"), column("b"), column("c")],
            exclude_groups: vec![],
            pair_unmatched: false,
        };
        let kept = |lists: &[&str]| {
            let lists: Vec<String> = lists.iter().map(|l| (*l).to_owned()).collect();
            plan.with_listed_columns(&lists)
                .compared
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        // Whole names only: "ab" does not keep "a" or "b".
        assert_eq!(kept(&["ab;c"]), ["ab", "c"]);
        assert_eq!(kept(&["c", "a"]), ["a", "c"]);
        assert_eq!(kept(&[]), Vec::<String>::new());
    }

    #[test]
    fn excluded_groups_are_escaped_literals() {
        let plan = Plan {
            legacy_table: "l".into(),
            beta_table: "b".into(),
            group: Some("district_id".into()),
            keyed: true,
            key: vec![PlanColumn {
                name: "id".into(),
                ..PlanColumn::default()
            }],
            compared: vec![],
            exclude_groups: vec!["x'; DROP".into()],
            pair_unmatched: false,
        };
        assert!(plan.side_stats_sql("l").contains("NOT IN ('x''; DROP')"));
    }
}
