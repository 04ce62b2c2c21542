#!/usr/bin/env python3
"""A whole `pathway run` of a generated night of raw CSV (200 district folders) against a DuckDB
script doing the same work: read every district's CSV as text, run both sides' SQL (the bench
audit's own files), write each side as Parquet partitioned by district, and diff the two per
district on the key. Interleaved, median of REPS runs, with peak memory, and a check that both
give the same per-district counts (changed, missing, extra).

    python3 scripts/bench/night.py --bin target/release/pathway \\
        --fixtures target/release/pathway-fixtures --rows 3000000

Scenarios (--scenario, default both):
- match: audits/bench as it is; the two sides load the same rows, every district matches (those
  with a duplicated key are still FULL MATCH). The night most nights are.
- drift: beta upper-cases the last name of students whose id ends in 00 (1% of the rows, in every
  district): no district matches.

The night is generated once into DIR (default /tmp/bench-night-<rows>). Needs duckdb
(pip install duckdb).
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH))
sys.path.insert(0, BENCH)
from harness import check_agree, print_runs, timed  # noqa: E402
AUDIT = os.path.join(ROOT, "audits", "bench")
DRIFT = ("last_name,",
         "CASE WHEN student_id LIKE '%00' THEN upper(last_name) ELSE last_name END AS last_name,")


def audit_for(scenario, work):
    """The audit folder of SCENARIO: the bench audit, or a copy with beta drifting."""
    if scenario == "match":
        return AUDIT
    folder = os.path.join(work, "audit-drift")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(AUDIT, folder)
    beta = os.path.join(folder, "beta", "students.sql")
    sql = open(beta).read()
    assert DRIFT[0] in sql
    open(beta, "w").write(sql.replace("    " + DRIFT[0], "    " + DRIFT[1], 1))
    return folder


def select_of(audit, side):
    """A side's SQL, reading `raw` and keeping district_id."""
    sql = open(os.path.join(audit, side, "students.sql")).read()
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    sql = sql.replace("SELECT", "SELECT district_id,", 1)
    return re.sub(r"FROM\s+students_raw", "FROM raw", sql)


DUCKDB = r"""
import duckdb, json, sys
src, out, legacy_sql, beta_sql, threads, bench = sys.argv[1:7]
sys.path.insert(0, bench)
from harness import keyed_diff_counts
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET enable_progress_bar=false")
# Every district's file once, as text (as pathway reads CSV), the district from its folder.
con.execute(f'''CREATE TEMP TABLE raw AS
  SELECT regexp_extract(filename, '/([^/]+)/students\\.csv$', 1) AS district_id,
         * EXCLUDE (filename)
  FROM read_csv('{src}/*/students.csv', all_varchar=true, filename=true)''')
for side, sql in (("legacy", legacy_sql), ("beta", beta_sql)):
    con.execute(f"COPY ({sql}) TO '{out}/{side}' (FORMAT parquet, PARTITION_BY (district_id))")
con.execute("DROP TABLE raw")
for side, view in (("legacy", "L"), ("beta", "B")):
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{out}/{side}/*/*.parquet', "
                f"hive_partitioning=true)")
cols = [r[0] for r in con.execute("DESCRIBE L").fetchall()
        if r[0] not in ("district_id", "student_id")]
print(json.dumps(keyed_diff_counts(con, "L", "B", cols)))
"""


def run_pathway(binary, audit, night, work):
    out = tempfile.mkdtemp(prefix="pathway-night-", dir=work)
    try:
        env = dict(os.environ, DATAFUSION_EXECUTION_TARGET_PARTITIONS="2",
                   PATHWAY_LOG="warn,pathway_night::pipeline=debug")
        seconds, mib, _, log = timed(
            [binary, "run", audit, "--input", f"{night}/input", "--out", out,
             "--date", "2026-01-01", "--jobs", "2"],
            env,
        )
        diffed = [line for line in log.splitlines() if "diffed" in line]
        summary = next(
            os.path.join(d, "2026-01-01", "summary.csv")
            for d in (os.path.join(out, n) for n in os.listdir(out))
            if os.path.isfile(os.path.join(d, "2026-01-01", "summary.csv"))
        )
        with open(summary, newline="") as f:
            counts = {
                r["district_id"]: [int(r["changed_rows"]), int(r["missing_in_beta"]),
                                   int(r["extra_in_beta"])]
                for r in csv.DictReader(f)
            }
        return seconds, mib, counts, diffed
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_duckdb(audit, night, work):
    out = tempfile.mkdtemp(prefix="duckdb-night-", dir=work)
    try:
        seconds, mib, stdout, _ = timed(
            [sys.executable, "-c", DUCKDB, f"{night}/input", out,
             select_of(audit, "legacy"), select_of(audit, "beta"), "2", BENCH]
        )
        return seconds, mib, json.loads(stdout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True, help="the pathway-fixtures binary")
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--dir")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scenario", choices=["match", "drift", "both"], default="both")
    args = ap.parse_args()
    night = args.dir or f"/tmp/bench-night-{args.rows}"
    if not os.path.exists(os.path.join(night, "truth.json")):
        subprocess.run([args.fixtures, "--rows", str(args.rows), "--districts", "200", "--csv",
                        "--out", night], check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="bench-night-work-")
    size = sum(os.path.getsize(os.path.join(r, f))
               for r, _, fs in os.walk(os.path.join(night, "input")) for f in fs) / 2**20
    scenarios = ["match", "drift"] if args.scenario == "both" else [args.scenario]
    try:
        for scenario in scenarios:
            audit = audit_for(scenario, work)
            runs = {"pathway": [], "duckdb": []}
            answers = {}
            diffed = []
            # Interleaved: one run of each per round, so drift of the machine hits both alike.
            for _ in range(args.reps):
                s, m, counts, diffed = run_pathway(args.bin, audit, night, work)
                runs["pathway"].append((s, m))
                answers["pathway"] = counts
                s, m, counts = run_duckdb(audit, night, work)
                runs["duckdb"].append((s, m))
                answers["duckdb"] = counts
            print(f"\n## {scenario}: {args.rows} rows, 200 districts, {size:.0f} MiB of CSV")
            print_runs(runs)
            for line in diffed:
                print(f"pathway's diff step (last run): {line.strip()}")
            check_agree(answers)
            changed = sum(c[0] for c in answers["pathway"].values())
            print(f"changed, missing and extra rows equal in all {len(answers['pathway'])} "
                  f"districts ({changed} changed rows)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
