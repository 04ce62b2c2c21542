//! Plain data describing what to diff and what came out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How two values of one column compare. The default is exact: null equals null, null differs
/// from any value, and values compare by type and value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ColumnRules {
    /// Text: ignore leading and trailing white space.
    pub trim: bool,
    /// Text: ignore case.
    pub ignore_case: bool,
    /// Text: null and the empty string are equal.
    pub null_equals_empty: bool,
    /// Numbers: equal when they differ by at most this much.
    pub abs_tolerance: Option<f64>,
    /// Numbers: equal when they differ by at most this fraction of the larger magnitude.
    pub rel_tolerance: Option<f64>,
    /// Dates and timestamps: equal when at most this many days apart.
    pub date_tolerance_days: Option<f64>,
    /// Cast both sides to this type before comparing (`text`, `integer`, `decimal`, `date`);
    /// a value that does not cast becomes null. Without it, columns whose types differ between
    /// the sides are compared as text.
    pub cast: Option<String>,
    /// Declared recodings: a cell whose legacy value is `.0` and beta value `.1` (each side's
    /// value as text, as written, before any other rule) is equal. An undeclared pair still
    /// differs, so a wrong recoding is never hidden.
    pub expected: Vec<(String, String)>,
}

impl ColumnRules {
    /// True when no rule is set: exact comparison.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        *self == ColumnRules::default()
    }

    /// The rules set, as `trim+ignore_case`, for reports.
    #[must_use]
    pub fn names(&self) -> String {
        let mut names = Vec::new();
        if let Some(cast) = &self.cast {
            names.push(format!("cast:{cast}"));
        }
        for (set, name) in [
            (self.trim, "trim"),
            (self.ignore_case, "ignore_case"),
            (self.null_equals_empty, "null_equals_empty"),
            (self.abs_tolerance.is_some(), "abs_tolerance"),
            (self.rel_tolerance.is_some(), "rel_tolerance"),
            (self.date_tolerance_days.is_some(), "date_tolerance"),
            (!self.expected.is_empty(), "expected"),
        ] {
            if set {
                names.push(name.to_owned());
            }
        }
        names.join("+")
    }
}

/// Values of one column that differ exactly but are equal under its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHidden {
    /// Column.
    pub column: String,
    /// The rules that made them equal (`trim+ignore_case`).
    pub rules: String,
    /// How many cells.
    pub cells: u64,
    /// Of those, the cells whose values are a declared pair ([`ColumnRules::expected`]).
    pub expected_cells: u64,
}

/// What to compare and how.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffSpec {
    /// Name used in messages and reports.
    pub table: String,
    /// Columns identifying a row within a group.
    pub key: Vec<String>,
    /// Columns left out of the comparison.
    pub ignore: Vec<String>,
    /// Group column (`district_id` for audits); `None` makes the whole table one group named `*`.
    pub group_by: Option<String>,
    /// Groups to leave out (districts whose transform failed).
    pub exclude_groups: Vec<String>,
    /// Columns compared under different names: (legacy name, beta name). Reports use the legacy
    /// name.
    pub rename: Vec<(String, String)>,
    /// Rules for columns not listed in `column_rules`.
    pub default_rules: ColumnRules,
    /// Rules per column (by legacy name).
    pub column_rules: Vec<(String, ColumnRules)>,
    /// Triage first (see the crate docs): groups whose fingerprints match skip the join, and the
    /// join sees only rows under keys that differ. `false` joins every row; results are the same.
    pub triage: bool,
    /// Triage groups in chunks of about this many rows (both sides), which bounds memory.
    pub chunk_rows: u64,
    /// `Some` when the session runs its queries on a cluster: executors cannot see tables held
    /// in this process's memory, so there is no triage; the row diff's rows come back here and
    /// are written and aggregated in a local session with these settings.
    pub local_engine: Option<crate::EngineSettings>,
    /// Keep at most this many rows of the row diff per group, those of the first keys (rows
    /// under one key kept or dropped together); every count stays exact. `None` keeps all.
    pub max_row_diff: Option<u64>,
    /// Pair the rows a keyed diff leaves on one side with those left on the other that differ
    /// in the fewest compared columns (see `docs/cli.md`).
    pub pair_unmatched: bool,
    /// Pairs differ in at most this many compared columns; `None`: half of them (rounded down).
    pub max_pair_columns: Option<usize>,
    /// The footprints of each group's rows, per side, as pathway wrote them into the footers of
    /// a run's outputs (see [`GroupFootprints`]). A group whose two footprints say its sides
    /// hold the same rows, each key once, is a FULL MATCH without reading it.
    pub footprints: GroupFootprints,
}

/// Footprints of the groups of each side (see [`pathway_hash::Footprint`]), by group name as
/// the table's group column gives it. A footprint must cover all of its group's rows on that
/// side (the group's only file), and nothing else.
///
/// The diff uses a group's footprints only when it would reach the same verdict by reading
/// the group: both sides' tables have the same columns with the same types, the footprints
/// list exactly those columns and the diff's key, and they agree on rows (more than none) and
/// fingerprint with no duplicated key. Every other group is read as usual.
///
/// With the group's file ([`GroupFootprints::files`]), a group whose footprints agree but hold
/// a duplicated key is not read either: only the rows under its duplicated keys are, by their
/// positions in the two files ([`pathway_hash::Footprint::dup_rows`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFootprints {
    /// Legacy side.
    pub legacy: BTreeMap<String, pathway_hash::Footprint>,
    /// Beta side.
    pub beta: BTreeMap<String, pathway_hash::Footprint>,
    /// The one Parquet file holding each group's rows (legacy, beta), without the group column,
    /// its columns under the side's own names.
    pub files: [BTreeMap<String, std::path::PathBuf>; 2],
    /// Per side (legacy, beta): the footprints cover every row of the side's table, each group
    /// holding exactly the rows its footprint saw (every file of the table carries one). The
    /// rows per group are then read from the footprints, not counted with a scan.
    pub complete: [bool; 2],
}

/// Default [`DiffSpec::chunk_rows`]: a chunk of this many rows (both sides) is held in memory
/// once, a few hundred MB for a wide table.
pub const DEFAULT_CHUNK_ROWS: u64 = 1_000_000;

impl DiffSpec {
    /// A spec with a key, no ignored columns and no grouping.
    #[must_use]
    pub fn new(table: impl Into<String>, key: Vec<String>) -> DiffSpec {
        DiffSpec {
            table: table.into(),
            key,
            ignore: Vec::new(),
            group_by: None,
            exclude_groups: Vec::new(),
            rename: Vec::new(),
            default_rules: ColumnRules::default(),
            column_rules: Vec::new(),
            triage: true,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            local_engine: None,
            max_row_diff: None,
            pair_unmatched: false,
            max_pair_columns: None,
            footprints: GroupFootprints::default(),
        }
    }

    /// Set [`DiffSpec::pair_unmatched`].
    #[must_use]
    pub fn with_pair_unmatched(mut self, pair: bool, max_pair_columns: Option<usize>) -> DiffSpec {
        self.pair_unmatched = pair;
        self.max_pair_columns = max_pair_columns;
        self
    }

    /// Set [`DiffSpec::footprints`].
    #[must_use]
    pub fn with_footprints(mut self, footprints: GroupFootprints) -> DiffSpec {
        self.footprints = footprints;
        self
    }

    /// Set [`DiffSpec::max_row_diff`].
    #[must_use]
    pub fn with_max_row_diff(mut self, max_row_diff: Option<u64>) -> DiffSpec {
        self.max_row_diff = max_row_diff;
        self
    }

    /// Turn triage on or off (see [`DiffSpec::triage`]).
    #[must_use]
    pub fn with_triage(mut self, triage: bool) -> DiffSpec {
        self.triage = triage;
        self
    }

    /// Set [`DiffSpec::chunk_rows`].
    #[must_use]
    pub fn with_chunk_rows(mut self, chunk_rows: u64) -> DiffSpec {
        self.chunk_rows = chunk_rows;
        self
    }

    /// Set the comparison rules: table-wide defaults and per-column rules.
    #[must_use]
    pub fn with_rules(
        mut self,
        default_rules: ColumnRules,
        column_rules: Vec<(String, ColumnRules)>,
    ) -> DiffSpec {
        self.default_rules = default_rules;
        self.column_rules = column_rules;
        self
    }

    /// The rules of `column`.
    #[must_use]
    pub fn rules_for(&self, column: &str) -> &ColumnRules {
        self.column_rules
            .iter()
            .find(|(c, _)| c == column)
            .map_or(&self.default_rules, |(_, r)| r)
    }

    /// Set the group column.
    #[must_use]
    pub fn with_group_by(mut self, group_by: Option<String>) -> DiffSpec {
        self.group_by = group_by;
        self
    }

    /// Set the ignored columns.
    #[must_use]
    pub fn with_ignore(mut self, ignore: Vec<String>) -> DiffSpec {
        self.ignore = ignore;
        self
    }

    /// Compare legacy column `.0` with beta column `.1`.
    #[must_use]
    pub fn with_rename(mut self, rename: Vec<(String, String)>) -> DiffSpec {
        self.rename = rename;
        self
    }

    /// Set the groups to leave out.
    #[must_use]
    pub fn with_exclude_groups(mut self, groups: Vec<String>) -> DiffSpec {
        self.exclude_groups = groups;
        self
    }
}

/// A column present on both sides with different types; it is compared as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeChange {
    /// Column name.
    pub column: String,
    /// Arrow type on the legacy side.
    pub legacy_type: String,
    /// Arrow type on the beta side.
    pub beta_type: String,
}

/// How the two sides' columns differ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// Columns only the legacy side has (ignored columns excluded).
    pub legacy_only: Vec<String>,
    /// Columns only the beta side has (ignored columns excluded).
    pub beta_only: Vec<String>,
    /// Columns on both sides with different types.
    pub type_changes: Vec<TypeChange>,
}

impl SchemaDiff {
    /// True when some column exists on one side only.
    #[must_use]
    pub fn has_one_sided_columns(&self) -> bool {
        !self.legacy_only.is_empty() || !self.beta_only.is_empty()
    }
}

/// One column's mismatches within a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnDiff {
    /// Column name.
    pub column: String,
    /// Matched rows whose values differ in this column.
    pub mismatches: u64,
    /// The legacy value of the first differing row (by key), as text; `None` for null.
    pub legacy_example: Option<String>,
    /// The beta value of the same row.
    pub beta_example: Option<String>,
}

/// The outcome for one group (district).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupDiff {
    /// Group value (district id), or `*` when the table is not grouped.
    pub group: String,
    /// Rows on the legacy side.
    pub legacy_rows: u64,
    /// Rows on the beta side.
    pub beta_rows: u64,
    /// Rows whose key occurs once per side and whose compared columns are all equal.
    pub matched_rows: u64,
    /// Rows whose key occurs once per side and that differ in at least one compared column.
    pub changed_rows: u64,
    /// Legacy rows whose key beta does not have.
    pub missing_in_beta: u64,
    /// Beta rows whose key legacy does not have.
    pub extra_in_beta: u64,
    /// Distinct keys occurring more than once on the legacy side.
    pub legacy_dup_keys: u64,
    /// Distinct keys occurring more than once on the beta side.
    pub beta_dup_keys: u64,
    /// Legacy rows under a key present on both sides and duplicated on either.
    pub legacy_duplicate_rows: u64,
    /// Beta rows under such keys.
    pub beta_duplicate_rows: u64,
    /// Both sides hold the same multiset of rows over the key and compared columns.
    pub multiset_equal: bool,
    /// Columns with at least one mismatch, sorted by name.
    pub columns: Vec<ColumnDiff>,
    /// Differences hidden by comparison rules, per column.
    pub hidden: Vec<RuleHidden>,
    /// Rows paired without a key ([`DiffSpec::pair_unmatched`]): each pair is one legacy row
    /// and one beta row, counted as matched or changed instead of missing and extra.
    pub paired_rows: u64,
    /// The row diff holds fewer of this group's rows than it found ([`DiffSpec::max_row_diff`]);
    /// its examples and changed-cell categories are those of the rows kept.
    pub row_diff_capped: bool,
}

/// Verdict for one table in one district.
///
/// A row built without a verdict (`Default`) says ERROR: it was not judged, so it is never
/// taken for a match.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Status {
    /// Same multiset of rows on both sides.
    #[serde(rename = "FULL MATCH")]
    FullMatch,
    /// Rows on both sides, not the same.
    #[serde(rename = "MISMATCH")]
    Mismatch,
    /// Rows on the legacy side only.
    #[serde(rename = "LEGACY ONLY")]
    LegacyOnly,
    /// Rows on the beta side only.
    #[serde(rename = "BETA ONLY")]
    BetaOnly,
    /// A read or a transform failed for this district.
    #[serde(rename = "ERROR")]
    #[default]
    Error,
    /// Rows on both sides whose only differences are accepted ones (audit.toml `[[accepted]]`).
    #[serde(rename = "ACCEPTED")]
    Accepted,
    /// An input the table's transforms read gave nothing in this district (no file matches its
    /// glob, or its files hold no data row): the table was not transformed, so not compared.
    #[serde(rename = "NO INPUT")]
    NoInput,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 7] = [
        Status::FullMatch,
        Status::Mismatch,
        Status::LegacyOnly,
        Status::BetaOnly,
        Status::Error,
        Status::Accepted,
        Status::NoInput,
    ];

    /// The spelling used in CSV, JSON and terminal output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::FullMatch => "FULL MATCH",
            Status::Mismatch => "MISMATCH",
            Status::LegacyOnly => "LEGACY ONLY",
            Status::BetaOnly => "BETA ONLY",
            Status::Error => "ERROR",
            Status::Accepted => "ACCEPTED",
            Status::NoInput => "NO INPUT",
        }
    }

    /// Parse the spelling of [`Status::as_str`].
    #[must_use]
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl GroupDiff {
    /// An empty group (no rows on either side): a FULL MATCH.
    #[must_use]
    pub fn empty(group: impl Into<String>) -> GroupDiff {
        GroupDiff {
            group: group.into(),
            multiset_equal: true,
            ..GroupDiff::default()
        }
    }

    /// The verdict, given the table's schema differences.
    #[must_use]
    pub fn status(&self, schema: &SchemaDiff) -> Status {
        if self.legacy_rows > 0 && self.beta_rows == 0 {
            Status::LegacyOnly
        } else if self.legacy_rows == 0 && self.beta_rows > 0 {
            Status::BetaOnly
        } else if schema.has_one_sided_columns() || !self.multiset_equal {
            Status::Mismatch
        } else {
            Status::FullMatch
        }
    }

    /// The group's compared cells and unequal cells (docs/cli.md, "Match score"), given the
    /// number of compared columns and the table's schema differences. A row contributes a cell
    /// per compared column and per one-sided column (one cell when there are none); a pair of
    /// rows differs in its changed cells and its one-sided columns; a row on one side only, or
    /// under a duplicated key, differs in every cell, unless the two sides hold the same rows.
    #[must_use]
    pub fn cells(&self, compared_columns: usize, schema: &SchemaDiff) -> Cells {
        let one_sided = (schema.legacy_only.len() + schema.beta_only.len()) as u64;
        let per_row = (compared_columns as u64 + one_sided).max(1);
        let paired = self.matched_rows + self.changed_rows;
        let alone = self.missing_in_beta
            + self.extra_in_beta
            + self.legacy_duplicate_rows
            + self.beta_duplicate_rows;
        let compared = (paired + alone) * per_row;
        let unequal = if self.multiset_equal {
            (paired + alone) * one_sided
        } else {
            let changed_cells: u64 = self.columns.iter().map(|c| c.mismatches).sum();
            alone * per_row + paired * one_sided + changed_cells
        };
        Cells {
            compared,
            unequal: unequal.min(compared),
        }
    }

    /// Names of the columns with at least one mismatch, plus one-sided columns, sorted.
    #[must_use]
    pub fn changed_columns(&self, schema: &SchemaDiff) -> Vec<String> {
        let mut names: Vec<String> = self.columns.iter().map(|c| c.column.clone()).collect();
        names.extend(schema.legacy_only.iter().cloned());
        names.extend(schema.beta_only.iter().cloned());
        names.sort();
        names.dedup();
        names
    }
}

/// A group's compared cells and how many of them differ: what its [`MatchScore`] is made of
/// (the rule is in docs/cli.md, "Match score").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cells {
    /// Cells compared: one per compared column and per one-sided column, for every pair of rows
    /// and every row on one side only or under a duplicated key.
    pub compared: u64,
    /// Of those, the cells that differ.
    pub unequal: u64,
}

impl Cells {
    /// The score once `accepted` of the unequal cells (covered by accepted differences) are
    /// left out of both counts.
    #[must_use]
    pub fn score(self, accepted: u64) -> MatchScore {
        let accepted = accepted.min(self.unequal);
        MatchScore::of(
            self.compared - self.unequal,
            self.compared.saturating_sub(accepted),
        )
    }
}

/// The share of compared cells that are equal, rounded down to a hundredth of a percent, so
/// that 100 means every cell is equal. In CSV and JSON a number (`99.87`), in the terminal
/// `99.87%`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MatchScore {
    hundredths: u16,
}

impl MatchScore {
    /// Every cell equal.
    pub const FULL: MatchScore = MatchScore { hundredths: 10_000 };

    /// `equal` of `compared` cells; no cell compared is a full score (nothing differs).
    #[must_use]
    pub fn of(equal: u64, compared: u64) -> MatchScore {
        if compared == 0 {
            return MatchScore::FULL;
        }
        let equal = u128::from(equal.min(compared));
        let hundredths = equal * 10_000 / u128::from(compared);
        MatchScore {
            hundredths: u16::try_from(hundredths).unwrap_or(10_000),
        }
    }

    /// The mean of `scores` (each district counts once), rounded down; `None` for no score.
    #[must_use]
    pub fn mean(scores: impl IntoIterator<Item = MatchScore>) -> Option<MatchScore> {
        let (mut sum, mut n) = (0_u64, 0_u64);
        for score in scores {
            sum += u64::from(score.hundredths);
            n += 1;
        }
        (n > 0).then(|| MatchScore {
            hundredths: u16::try_from(sum / n).unwrap_or(10_000),
        })
    }

    /// The score in hundredths of a percent (`9987` for 99.87%).
    #[must_use]
    pub fn hundredths(self) -> u16 {
        self.hundredths
    }

    /// The score in percent.
    #[must_use]
    pub fn percent(self) -> f64 {
        f64::from(self.hundredths) / 100.0
    }

    /// A score read back from its percent (CSV, JSON); `None` outside 0..=100.
    #[must_use]
    pub fn from_percent(percent: f64) -> Option<MatchScore> {
        let hundredths = (percent * 100.0).round();
        (0.0..=10_000.0)
            .contains(&hundredths)
            .then_some(MatchScore {
                hundredths: hundredths as u16,
            })
    }
}

impl std::fmt::Display for MatchScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.hundredths / 100, self.hundredths % 100)
    }
}

impl Serialize for MatchScore {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.percent())
    }
}

impl<'de> Deserialize<'de> for MatchScore {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let percent = f64::deserialize(deserializer)?;
        MatchScore::from_percent(percent).ok_or_else(|| {
            serde::de::Error::custom(format!("a match score is 0 to 100, not {percent}"))
        })
    }
}

/// Changed cells of one kind in one group and column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    /// Group (district).
    pub group: String,
    /// Column.
    pub column: String,
    /// Category (see [`crate::classify`]).
    pub category: String,
    /// For `value_remap`: the legacy value.
    pub legacy_value: Option<String>,
    /// For `value_remap`: the beta value it always becomes.
    pub beta_value: Option<String>,
    /// For `date_shift`: beta minus legacy, in days.
    pub shift_days: Option<i64>,
    /// Changed cells of this kind.
    pub cells: u64,
    /// The first such row's key (key values joined by `|`).
    pub example_key: String,
}

/// The diff of one table across all groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    /// Table name.
    pub table: String,
    /// Key columns used.
    pub key: Vec<String>,
    /// Columns compared (present on both sides, not key, not ignored).
    pub compared_columns: Vec<String>,
    /// Schema differences.
    pub schema: SchemaDiff,
    /// One entry per group present on either side, sorted by group.
    pub groups: Vec<GroupDiff>,
    /// Changed cells per group, column and category, sorted.
    pub categories: Vec<CategoryCount>,
    /// How many groups the footprints in the files' footers decided, without reading them (see
    /// [`GroupFootprints`]). How the answer was reached, not part of it.
    #[serde(skip)]
    pub decided_by_footprints: usize,
    /// The groups whose two sides hold the same rows as written, sorted: those whose footprints
    /// agree (with or without duplicated keys: a superset of those counted in
    /// `decided_by_footprints`), and, when every column is compared exactly and as written (the
    /// same type on both sides, no rule, no column on one side only), those found to hold the
    /// same multiset of rows. Floats count as the diff compares them, `-0.0` as `0.0` and every
    /// NaN as one (so do the footprints): such a district is a FULL MATCH, and its profile
    /// shows no difference there either. The column profile measures them on one side only.
    #[serde(skip)]
    pub same_rows: Vec<String>,
}
