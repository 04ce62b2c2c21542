//! `pathway query [--run runs/<audit>/<date>] "SQL"`: DataFusion SQL over a run.
//!
//! ```text
//! pathway query "SELECT status, count(*) FROM summary GROUP BY status"
//! pathway query --run runs/example/2026-11-21 --format csv "SELECT * FROM row_diff_students"
//! pathway query                      # interactive: statements end with `;`, \d lists tables, \q quits
//! ```
//!
//! Registered tables: see [`pathway_night::catalog`]. Personal-data columns are masked in every table.

use std::io::{IsTerminal, Read, Write};

use anyhow::Context;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;

use crate::ExitStatus;
use crate::cli::{Format, QueryArgs};
use crate::output::write_batches;
use pathway_night::RunFolder;
use pathway_night::catalog::RunCatalog;

/// Run the SQL (or the prompt) over the run.
///
/// # Errors
/// An unreadable run folder, or an SQL error when SQL was given on the command line.
pub async fn query(args: QueryArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    if let Some(sql) = &args.sql {
        let mut stdout = std::io::stdout().lock();
        run_sql(&ctx, sql, args.format, &mut stdout).await?;
        return Ok(ExitStatus::Completed);
    }
    if std::io::stdin().is_terminal() {
        interactive(&ctx, &catalog, args.format).await?;
    } else {
        // Piped SQL: run it all, stop at the first error.
        let mut sql = String::new();
        std::io::stdin()
            .read_to_string(&mut sql)
            .context("cannot read SQL from stdin")?;
        let mut stdout = std::io::stdout().lock();
        run_sql(&ctx, &sql, args.format, &mut stdout).await?;
    }
    Ok(ExitStatus::Completed)
}

/// Run every statement of `sql`, printing each result. Queries only: nothing is written.
async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let statements = DFParser::parse_sql(sql).map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = SQLOptions::new()
        .with_allow_ddl(true)
        .with_allow_dml(false)
        .with_allow_statements(false);
    for statement in statements {
        let plan = ctx
            .state()
            .statement_to_plan(statement)
            .await
            .map_err(|e| anyhow::anyhow!("SQL error: {}", e.strip_backtrace()))?;
        options
            .verify_plan(&plan)
            .map_err(|e| anyhow::anyhow!("SQL error: {}", e.strip_backtrace()))?;
        refuse_reading_around_the_masks(&plan)?;
        let frame = ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| anyhow::anyhow!("SQL error: {}", e.strip_backtrace()))?;
        let schema = frame.schema().inner().clone();
        let batches = frame
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("SQL error: {}", e.strip_backtrace()))?;
        write_batches(out, &schema, &batches, format)?;
    }
    Ok(())
}

/// Refuse the statements that could reach data around the masked views: a table over files
/// (`CREATE EXTERNAL TABLE ... LOCATION`), a catalog or schema, a function. Views and tables
/// built from the registered (masked) tables stay allowed, as do queries; writes (`COPY`,
/// `INSERT`) and `SET` are refused by the options above.
fn refuse_reading_around_the_masks(plan: &LogicalPlan) -> anyhow::Result<()> {
    let LogicalPlan::Ddl(ddl) = plan else {
        return Ok(());
    };
    match ddl {
        DdlStatement::CreateView(_)
        | DdlStatement::CreateMemoryTable(_)
        | DdlStatement::DropView(_)
        | DdlStatement::DropTable(_) => Ok(()),
        other => anyhow::bail!(
            "SQL error: `{}` is not allowed in pathway query: it reads only the run's tables, \
             whose personal columns are masked (CREATE VIEW and CREATE TABLE ... AS SELECT over \
             them are allowed)",
            other.name()
        ),
    }
}

async fn interactive(
    ctx: &SessionContext,
    catalog: &RunCatalog,
    format: Format,
) -> anyhow::Result<()> {
    let mut editor = rustyline::DefaultEditor::new().context("cannot start the prompt")?;
    let history =
        std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pathway_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!(
        "run {} · tables: {}\nend statements with `;` · \\d lists tables · \\q quits",
        catalog.run_dir.display(),
        catalog.tables.join(", ")
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "pathway> "
        } else {
            "      -> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let trimmed = line.trim();
        if buffer.is_empty() {
            match trimmed {
                "" => continue,
                "\\q" | "quit" | "exit" => break,
                "\\d" => {
                    println!("{}", catalog.tables.join("\n"));
                    continue;
                }
                _ => {}
            }
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if trimmed.ends_with(';') {
            let _ = editor.add_history_entry(buffer.trim());
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = run_sql(ctx, &buffer, format, &mut stdout).await {
                eprintln!("{e}");
            }
            buffer.clear();
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}
