//! Where runs live in an output folder, and which night a command means.
//!
//! ```text
//! <out>/
//!   <audit>/                   one folder per audit: its nights never meet another audit's
//!     history.csv              every night of this audit
//!     metrics.csv
//!     <date>/                  one night (summary.csv, summary.json, Parquet, reuse.json, ...)
//! ```
//!
//! An output folder is shared by every audit a team runs (`--out /data/pathway-runs`), so two
//! audits run on one date never replace each other's night, and the lock, history, metrics and
//! the previous night used for reuse and `--fail-on regression` are each audit's own.
//!
//! Earlier versions wrote `<out>/<date>/` and one `<out>/history.csv` for every audit; a night of
//! one audit then replaced another's. [`migrate`] moves such a folder into this layout (run by
//! `pathway run`, under the locks); until then the commands that read runs still find the
//! nights of the earlier layout, by the audit recorded in each night's summary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use pathway_report::{MetricRow, SummaryRow, atomic_write, read_history, summary_csv};

use crate::NightDate;

/// Whether `name` is a night's folder name (`YYYY-MM-DD`, see [`NightDate::of_folder`]).
#[must_use]
pub fn is_date(name: &str) -> bool {
    NightDate::of_folder(name).is_some()
}

/// An audit's name names its folder in `--out`: it must be one plain folder name, and not one a
/// night or pathway's own files could take.
///
/// # Errors
/// When it is not, saying why and what to do.
pub fn check_audit_name(name: &str) -> anyhow::Result<()> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.starts_with('.') {
        Some("it starts with `.` (pathway's own hidden files do)")
    } else if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        Some("it holds `/`, `\\` or a control character")
    } else if is_date(name) {
        Some("it is a date, as the nights' folders are")
    } else if name.len() > 100 {
        Some("it is longer than 100 bytes")
    } else {
        None
    };
    match why {
        Some(why) => bail!(
            "audit `{name}` cannot be run: its name is the name of its folder in the output \
             folder (<out>/<audit>/<date>/), and {why}; set another `name` in audit.toml"
        ),
        None => Ok(()),
    }
}

/// The folder holding `audit`'s nights, history and metrics in output folder `out`.
#[must_use]
pub fn audit_folder(out: &Path, audit: &str) -> PathBuf {
    out.join(audit)
}

/// Night folders (`YYYY-MM-DD`) directly in `dir`, oldest first. An unreadable `dir` has none.
#[must_use]
pub fn dates_in(dir: &Path) -> Vec<NightDate> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dates: Vec<NightDate> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| NightDate::of_folder(&e.file_name().to_string_lossy()))
        .collect();
    dates.sort();
    dates
}

/// The audit a night belongs to: the `audit` of its summary.csv (every row holds it), else of
/// its summary.json.
///
/// # Errors
/// When `run` is not a run folder.
pub fn audit_of_night(run: &Path) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Audit {
        audit: String,
    }
    let summary = run.join("summary.csv");
    if !summary.is_file() {
        bail!(
            "`{}` is not a run folder (it has no summary.csv)",
            run.display()
        );
    }
    let mut reader = csv::Reader::from_path(&summary)
        .with_context(|| format!("cannot read `{}`", summary.display()))?;
    // The first row is enough: a night is one audit's.
    if let Some(row) = reader.deserialize::<Audit>().next() {
        let row = row.with_context(|| format!("`{}` is malformed", summary.display()))?;
        if !row.audit.is_empty() {
            return Ok(row.audit);
        }
    }
    let json = run.join("summary.json");
    let text = std::fs::read_to_string(&json)
        .with_context(|| format!("`{}` names no audit", run.display()))?;
    let audit: Audit = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a valid summary.json", json.display()))?;
    Ok(audit.audit)
}

/// The audits with a folder of their own in `out`: sub-folders that are neither nights nor
/// hidden and that hold a night or a history.csv.
#[must_use]
pub fn audit_folders(out: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let mut audits: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !is_date(n))
        .filter(|n| {
            let dir = out.join(n);
            dir.join("history.csv").is_file() || !dates_in(&dir).is_empty()
        })
        .collect();
    audits.sort();
    audits
}

/// The audits whose nights an output folder holds, each with the folder holding them: its own
/// folder `<out>/<audit>`, or `out` itself for nights directly in it (the earlier layout, or an
/// audit's folder given as `--out`).
fn audits_in(out: &Path) -> BTreeMap<String, PathBuf> {
    let mut audits: BTreeMap<String, PathBuf> = audit_folders(out)
        .into_iter()
        .map(|a| {
            let dir = audit_folder(out, &a);
            (a, dir)
        })
        .collect();
    for date in dates_in(out) {
        if let Ok(audit) = audit_of_night(&out.join(&date)) {
            // An audit's own folder wins over nights of the earlier layout not yet moved.
            audits.entry(audit).or_insert_with(|| out.to_path_buf());
        }
    }
    audits
}

/// Which audit a command means, among the `audits` an output folder holds: the one `wanted`
/// names, else the only one.
///
/// # Errors
/// When there is none, `wanted` is not among them, or there are several and `wanted` is `None`
/// (the message lists them and says to pass `--audit`).
pub fn pick_audit(out: &str, audits: &[String], wanted: Option<&str>) -> anyhow::Result<String> {
    match (wanted, audits) {
        (Some(wanted), _) if audits.iter().any(|a| a == wanted) => Ok(wanted.to_owned()),
        (Some(wanted), []) => bail!(
            "audit `{wanted}` has no night in `{out}` (it holds no run): run `pathway run` \
             first, or pass --out with the output folder of its runs"
        ),
        (Some(wanted), _) => bail!(
            "audit `{wanted}` has no night in `{out}`; it holds the nights of {}: pass one of \
             them with --audit",
            names(audits)
        ),
        (None, []) => bail!("no run in `{out}`: run `pathway run` first or pass --run"),
        (None, [only]) => Ok(only.clone()),
        (None, _) => bail!(
            "`{out}` holds the nights of {} audits ({}): say which with --audit NAME (e.g. \
             --audit {}), or pass --run {out}/<audit>/<date>",
            audits.len(),
            names(audits),
            audits[0]
        ),
    }
}

fn names(audits: &[String]) -> String {
    audits
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The night a command reads, and where its audit's other nights are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The night's folder.
    pub run_dir: PathBuf,
    /// Its audit.
    pub audit: String,
    /// The folder holding the audit's nights and history.csv (`<out>/<audit>`), when known.
    pub nights: Option<PathBuf>,
}

/// The night a command that reads one means: `run` when given (it must be a night of `audit`,
/// when that is given too), else the latest night of the audit `audit` names in `out`, or of the
/// only audit there.
///
/// # Errors
/// No such run or audit, several audits and no `audit`, or a `run` of another audit.
pub fn select_run(out: &Path, run: Option<&Path>, audit: Option<&str>) -> anyhow::Result<Selected> {
    if let Some(run) = run {
        let found = audit_of_night(run)?;
        if let Some(wanted) = audit
            && wanted != found
        {
            bail!(
                "`{}` is a night of audit `{found}`, not of `{wanted}`: pass a night of \
                 `{wanted}` with --run, or leave out --audit",
                run.display()
            );
        }
        // A night's folder is named by its date and sits in its audit's folder; a copy fetched
        // from object storage is neither, and its audit's nights are those of --out.
        let dated = run
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_date);
        let nights = match run.parent() {
            Some(parent) if dated => Some(parent.to_path_buf()),
            _ => audits_in(out).remove(&found),
        };
        return Ok(Selected {
            run_dir: run.to_path_buf(),
            audit: found,
            nights,
        });
    }
    let audits = audits_in(out);
    let names: Vec<String> = audits.keys().cloned().collect();
    let audit = pick_audit(&out.display().to_string(), &names, audit)?;
    let nights = audits[&audit].clone();
    let Some(date) = nights_of(&nights, &audit).pop() else {
        bail!(
            "audit `{audit}` has no night in `{}`: run `pathway run` first or pass --run",
            nights.display()
        );
    };
    Ok(Selected {
        run_dir: nights.join(date),
        audit,
        nights: Some(nights),
    })
}

/// The dates of `audit`'s nights in `nights`, oldest first. The audit of each night is checked:
/// a folder of the earlier layout holds several audits' nights.
#[must_use]
pub fn nights_of(nights: &Path, audit: &str) -> Vec<NightDate> {
    dates_in(nights)
        .into_iter()
        .filter(|d| audit_of_night(&nights.join(d)).is_ok_and(|a| a == audit))
        .collect()
}

/// The latest night of `audit` in `nights` before `date`: what "the previous night" means for
/// reuse, `--fail-on regression`, the report's "Since" section and `scripts/nightly.sh`.
#[must_use]
pub fn previous_night(nights: &Path, audit: &str, date: &NightDate) -> Option<PathBuf> {
    nights_of(nights, audit)
        .into_iter()
        .rev()
        .find(|d| d < date)
        .map(|d| nights.join(d))
}

/// (table, district) pairs that regressed since the latest earlier night of the same audit (in
/// its folder `nights`), as [`pathway_report::district_change`] defines it for `pathway compare`
/// too: FULL MATCH then, not now, and not NO INPUT now (the district sent nothing to compare;
/// `--fail-on no-input` is for them). No earlier night: none. What `pathway run --fail-on
/// regression` fails on.
///
/// # Errors
/// When the earlier night's summary.csv cannot be read.
pub fn regressions(
    nights: &Path,
    date: &NightDate,
    report: &pathway_report::RunReport,
) -> anyhow::Result<Vec<(String, String)>> {
    let Some(previous) = previous_night(nights, &report.audit, date) else {
        return Ok(Vec::new());
    };
    let before = pathway_report::read_summary_csv(&previous.join("summary.csv"))?;
    Ok(pathway_report::district_changes(&before, &report.summary)
        .into_iter()
        .filter(|c| c.change == pathway_report::DistrictChange::Regressed)
        .map(|c| (c.table, c.district_id))
        .collect())
}

/// The audit of two nights compared with each other, which must be the same: a night of one
/// audit says nothing about what became of another audit's districts.
///
/// # Errors
/// When either is not a run folder, or their audits differ (naming both and what to do).
pub fn same_audit(before: &Path, after: &Path) -> anyhow::Result<String> {
    let (b, a) = (audit_of_night(before)?, audit_of_night(after)?);
    if b != a {
        let folder = after
            .parent()
            .map_or_else(|| format!("<out>/{a}"), |p| p.display().to_string());
        bail!(
            "`{}` is a night of audit `{b}` and `{}` a night of audit `{a}`: compare two nights \
             of the same audit, e.g. an earlier night of `{a}` in `{folder}` with `{}`",
            before.display(),
            after.display(),
            after.display()
        );
    }
    Ok(a)
}

/// Whether `out` holds anything of the earlier layout: nights directly in it, the shared
/// history.csv or metrics.csv, or what a killed run of that layout left behind.
#[must_use]
pub fn has_earlier_layout(out: &Path) -> bool {
    if !dates_in(out).is_empty()
        || out.join("history.csv").is_file()
        || out.join("metrics.csv").is_file()
    {
        return true;
    }
    std::fs::read_dir(out).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(".staging-") || name.starts_with(".replaced-")
        })
    })
}

/// Move an output folder of the earlier layout into per-audit folders: each night
/// `<out>/<date>/` to `<out>/<audit>/<date>/` (its audit from its summary), and each audit's rows
/// of `<out>/history.csv` and `<out>/metrics.csv` into `<out>/<audit>/`. Rows of a night another
/// audit's night replaced (the reason for this layout) are dropped: that night no longer exists.
/// Rows of nights deleted on purpose (`KEEP`) stay, as they always have.
///
/// Run under `<out>/.pathway.lock` (which runs of the earlier layout take too), taking each
/// audit's lock while moving into its folder. Each step is a rename or an atomic write, and the
/// shared files go last, so a run killed while moving leaves nothing lost: the next run moves
/// the rest.
///
/// # Errors
/// A lock held by a live run, or a file that cannot be read, written or moved.
pub fn migrate(out: &Path) -> anyhow::Result<()> {
    use crate::pipeline::{RunLock, recover};
    let _lock = RunLock::acquire(out, "(moving nights into per-audit folders)")?;
    recover(out)?;
    let mut nights: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for date in dates_in(out) {
        match audit_of_night(&out.join(&date)) {
            Ok(audit) if check_audit_name(&audit).is_ok() => {
                nights.entry(audit).or_default().push(date.to_string());
            }
            Ok(audit) => tracing::warn!(
                "warning: `{}` (audit `{audit}`) stays where it is: that audit's name cannot name \
                 a folder",
                out.join(&date).display()
            ),
            Err(e) => tracing::warn!(
                "warning: `{}` stays where it is: {e:#}",
                out.join(&date).display()
            ),
        }
    }
    let history_path = out.join("history.csv");
    let history = read_history(&history_path)
        .with_context(|| format!("cannot read `{}`", history_path.display()))?;
    let metrics_path = out.join("metrics.csv");
    let metrics = read_metrics(&metrics_path)?;
    // Which audits have a night of each date, wherever it is: moving a night does not change
    // this, so it is known once. A row of an audit whose night of its date is gone while another
    // audit's is there described a night that other one replaced.
    let mut existing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (audit, dates) in &nights {
        for date in dates {
            existing
                .entry(date.clone())
                .or_default()
                .insert(audit.clone());
        }
    }
    for audit in audit_folders(out) {
        for date in dates_in(&audit_folder(out, &audit)) {
            existing
                .entry(date.to_string())
                .or_default()
                .insert(audit.clone());
        }
    }
    let replaced = |audit: &str, date: &str| {
        existing
            .get(date)
            .is_some_and(|audits| !audits.contains(audit))
    };
    let mut audits: BTreeSet<String> = nights.keys().cloned().collect();
    audits.extend(history.iter().map(|r| r.audit.clone()));
    audits.extend(metrics.iter().map(|r| r.audit.clone()));
    let (mut kept_history, mut kept_metrics) = (Vec::new(), Vec::new());
    let mut dropped = 0;
    for audit in &audits {
        if check_audit_name(audit).is_err() {
            kept_history.extend(history.iter().filter(|r| r.audit == *audit).cloned());
            kept_metrics.extend(metrics.iter().filter(|r| r.audit == *audit).cloned());
            continue;
        }
        let theirs: Vec<SummaryRow> = history
            .iter()
            .filter(|r| r.audit == *audit)
            .cloned()
            .collect();
        let (theirs, gone): (Vec<SummaryRow>, Vec<SummaryRow>) = theirs
            .into_iter()
            .partition(|r| !replaced(audit, &r.audit_date));
        dropped += gone.len();
        let their_metrics: Vec<MetricRow> = metrics
            .iter()
            .filter(|r| r.audit == *audit && !replaced(audit, &r.audit_date))
            .cloned()
            .collect();
        if theirs.is_empty() && their_metrics.is_empty() && !nights.contains_key(audit) {
            continue;
        }
        let dir = audit_folder(out, audit);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let _audit_lock = RunLock::acquire(&dir, audit)?;
        // The audit's own rows win: they were written in this layout (or by an earlier,
        // interrupted move of these same rows).
        let mut rows = read_history(&dir.join("history.csv"))?;
        let own: BTreeSet<String> = rows.iter().map(|r| r.audit_date.clone()).collect();
        rows.extend(theirs.into_iter().filter(|r| !own.contains(&r.audit_date)));
        rows.sort_by(|a, b| {
            (&a.audit_date, &a.table, &a.district_id).cmp(&(
                &b.audit_date,
                &b.table,
                &b.district_id,
            ))
        });
        if !rows.is_empty() {
            atomic_write(&dir.join("history.csv"), summary_csv(&rows)?.as_bytes())?;
        }
        let mut rows = read_metrics(&dir.join("metrics.csv"))?;
        let own: BTreeSet<String> = rows.iter().map(|r| r.audit_date.clone()).collect();
        rows.extend(
            their_metrics
                .into_iter()
                .filter(|r| !own.contains(&r.audit_date)),
        );
        if !rows.is_empty() {
            write_metrics(&dir.join("metrics.csv"), &rows)?;
        }
        for date in nights.get(audit).into_iter().flatten() {
            let (from, to) = (out.join(date), dir.join(date));
            if to.exists() {
                tracing::warn!(
                    "warning: `{}` stays where it is: `{}` already holds that night of audit \
                     `{audit}`; remove the one you do not want",
                    from.display(),
                    to.display()
                );
                continue;
            }
            std::fs::rename(&from, &to).with_context(|| {
                format!("cannot move `{}` to `{}`", from.display(), to.display())
            })?;
        }
        tracing::info!(
            "moved audit `{audit}`'s nights and history into `{}`",
            dir.display()
        );
    }
    if dropped > 0 {
        tracing::warn!(
            "warning: {dropped} history row(s) of `{}` described nights another audit's night had \
             replaced; they are dropped",
            history_path.display()
        );
    }
    // The shared files last: until they are gone, an interrupted move is taken up again.
    for (path, kept) in [
        (&history_path, kept_history.is_empty()),
        (&metrics_path, kept_metrics.is_empty()),
    ] {
        if path.is_file() && kept {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove `{}`", path.display()))?;
        }
    }
    if !kept_history.is_empty() {
        atomic_write(&history_path, summary_csv(&kept_history)?.as_bytes())?;
    }
    if !kept_metrics.is_empty() {
        write_metrics(&metrics_path, &kept_metrics)?;
    }
    Ok(())
}

/// metrics.csv's rows (no file: none).
///
/// # Errors
/// An unreadable or malformed file.
pub fn read_metrics(path: &Path) -> anyhow::Result<Vec<MetricRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    reader
        .deserialize()
        .map(|row| row.with_context(|| format!("`{}` is malformed", path.display())))
        .collect()
}

/// Replace metrics.csv with `rows`, atomically.
///
/// # Errors
/// A write that fails.
pub fn write_metrics(path: &Path, rows: &[MetricRow]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    atomic_write(path, &writer.into_inner()?)?;
    Ok(())
}

/// Partition column names from the first `name=value` folders below `dir`.
#[must_use]
pub fn hive_partitions(dir: &Path) -> Vec<String> {
    let mut columns = Vec::new();
    let mut current = dir.to_path_buf();
    loop {
        let Ok(entries) = std::fs::read_dir(&current) else {
            break;
        };
        let mut next = None;
        let mut names: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        names.sort();
        for sub in names {
            let folder = sub
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if let Some((column, _)) = folder.split_once('=') {
                columns.push(column.to_owned());
                next = Some(sub);
                break;
            }
        }
        match next {
            Some(sub) => current = sub,
            None => break,
        }
    }
    columns
}

/// Whether `dir` holds a Parquet file, at any depth.
#[must_use]
pub fn contains_parquet(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            contains_parquet(&path)
        } else {
            path.extension().is_some_and(|x| x == "parquet")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_name_must_be_one_plain_folder_name() {
        for good in ["example", "oneroster", "sis db", "grand-bend_2"] {
            assert!(check_audit_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a\\b", "2026-11-21", "x\ny"] {
            let e = check_audit_name(bad).unwrap_err().to_string();
            assert!(e.contains("set another `name` in audit.toml"), "{bad}: {e}");
        }
    }

    #[test]
    fn several_audits_need_a_name() {
        let two = ["example".to_owned(), "oneroster".to_owned()];
        assert_eq!(
            pick_audit("runs", &two, Some("oneroster")).unwrap(),
            "oneroster"
        );
        let e = pick_audit("runs", &two, None).unwrap_err().to_string();
        assert_eq!(
            e,
            "`runs` holds the nights of 2 audits (`example`, `oneroster`): say which with \
             --audit NAME (e.g. --audit example), or pass --run runs/<audit>/<date>"
        );
        let e = pick_audit("runs", &two, Some("sis"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("audit `sis` has no night in `runs`"), "{e}");
        assert_eq!(pick_audit("runs", &two[..1], None).unwrap(), "example");
        assert!(pick_audit("runs", &[], None).is_err());
    }
}
