//! The columns each transform will produce, planned (not run) against one district's inputs:
//! what the audit's column names are checked against before a night runs (see
//! `pathway_audit::names`).

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};
use pathway_audit::names::SideColumns;
use pathway_audit::{AuditSpec, Side, Transform};
use pathway_input::DistrictInput;

use crate::code_map::{CodeMapStats, register_code_map};
use crate::inputs::TableInputs;
use crate::run::district_context;

/// One side of one table, planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSide {
    /// Its columns, when known before running.
    pub columns: SideColumns,
    /// Why they are not known: `a program`, `a database table`, `district 101 has no file for
    /// input grades_raw`, or the SQL's planning error (with DataFusion's hint).
    pub note: Option<String>,
    /// The SQL did not plan: an error of the audit, not of a district's data.
    pub failed: bool,
    /// The failure holds whatever the district (a `map_code` code set the code map lacks):
    /// `pathway run` stops before any district instead of making every one ERROR.
    pub stops_the_run: bool,
}

/// The code sets `plan` names as `map_code`'s first argument, written as a literal.
fn code_sets_named(plan: &LogicalPlan) -> Vec<String> {
    let mut sets = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && f.name() == crate::code_map::MAP_CODE
                    && let Some(Expr::Literal(value, _)) = f.args.first()
                    && let Some(Some(set)) = value.try_as_str()
                    && !sets.iter().any(|s| s == set)
                {
                    sets.push(set.to_owned());
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    sets
}

/// Plan every table's sides against `input` (one district's raw tables); `district_id` is not
/// among the columns (the pipeline writes it as the partition).
pub async fn plan_outputs(
    audit: &AuditSpec,
    input: &DistrictInput,
) -> Vec<(String, [PlannedSide; 2])> {
    let reads = TableInputs::of(audit);
    let ctx = district_context(input).ok();
    let mut planned = Vec::new();
    for table in &audit.tables {
        let blocked = reads.blocked(&table.name, input);
        let side = |side: Side| {
            let ctx = ctx.clone();
            let blocked = blocked.clone();
            async move {
                let unknown = |note: String| PlannedSide {
                    columns: SideColumns::Unknown,
                    note: Some(note),
                    failed: false,
                    stops_the_run: false,
                };
                match table.transform(side) {
                    Transform::Command(_) => {
                        unknown("a program: its columns are known once it runs".into())
                    }
                    Transform::Database(_) => unknown("a database table or query".into()),
                    Transform::Sql(sql) => {
                        if let Some(blocked) = blocked {
                            return unknown(blocked.error().to_string());
                        }
                        let Some(ctx) = ctx else {
                            return unknown(
                                "the district's raw tables could not be registered".into(),
                            );
                        };
                        if let Some(map) = &audit.code_map {
                            let map = std::sync::Arc::new(map.clone());
                            let _ = register_code_map(&ctx, &map, &CodeMapStats::default());
                        }
                        match ctx.sql(&sql.sql).await {
                            Ok(frame) => {
                                let unknown_sets: Vec<String> = match &audit.code_map {
                                    Some(map) => code_sets_named(frame.logical_plan())
                                        .into_iter()
                                        .filter(|set| !map.code_sets().any(|s| s == set))
                                        .collect(),
                                    None => Vec::new(),
                                };
                                if let Some(map) = &audit.code_map
                                    && !unknown_sets.is_empty()
                                {
                                    return PlannedSide {
                                        columns: SideColumns::Unknown,
                                        note: Some(format!(
                                            "`{}` calls map_code with code set(s) {} that the code map `{}` does not have (it has: {})",
                                            sql.path.display(),
                                            unknown_sets
                                                .iter()
                                                .map(|s| format!("`{s}`"))
                                                .collect::<Vec<_>>()
                                                .join(", "),
                                            map.path.display(),
                                            map.code_sets().collect::<Vec<_>>().join(", ")
                                        )),
                                        failed: true,
                                        stops_the_run: true,
                                    };
                                }
                                PlannedSide {
                                    columns: SideColumns::Known(
                                        frame
                                            .schema()
                                            .fields()
                                            .iter()
                                            .map(|f| f.name().clone())
                                            .filter(|name| name != "district_id")
                                            .collect(),
                                    ),
                                    note: None,
                                    failed: false,
                                    stops_the_run: false,
                                }
                            }
                            Err(e) => PlannedSide {
                                columns: SideColumns::Unknown,
                                note: Some(format!(
                                    "`{}` does not plan against district {}'s inputs: {}",
                                    sql.path.display(),
                                    input.district_id,
                                    // Planning sees the SQL and the headers, never a row:
                                    // its message quotes names, with DataFusion's hint.
                                    e.strip_backtrace()
                                )),
                                failed: true,
                                stops_the_run: false,
                            },
                        }
                    }
                }
            }
        };
        let legacy = side(Side::Legacy).await;
        let beta = side(Side::Beta).await;
        planned.push((table.name.clone(), [legacy, beta]));
    }
    planned
}
