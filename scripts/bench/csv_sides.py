#!/usr/bin/env python3
"""`pathway diff` of two CSV files against DuckDB's keyed diff of the same two files (every
column read as text, as pathway reads CSV), interleaved, median of REPS runs, with peak memory,
and a check that both give the same per-district counts.

    python3 scripts/bench/csv_sides.py --bin target/release/pathway --dir /tmp/bench-data/r3m

The CSV files are written once beside DIR (DIR-csv/legacy.csv, beta.csv: each side of the bench
pair as one file, district_id a column) by DuckDB. Needs duckdb (pip install duckdb).
"""
import argparse
import csv
import json
import os
import shutil
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
from harness import check_agree, print_runs, timed  # noqa: E402

COMPARE_COLUMNS = [
    "school_id", "first_name", "last_name", "birth_date", "grade_level", "gender_code",
    "race_code", "ell_status", "iep", "enroll_date", "exit_date", "gpa", "attendance_rate",
    "home_language", "updated_at",
]


def write_csvs(src, dst):
    """DIR-csv: each side of DIR as one CSV file."""
    import duckdb

    if os.path.exists(os.path.join(dst, "done")):
        return
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    for side in ("legacy", "beta"):
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{src}/{side}/students/*/*.parquet', "
            f"hive_partitioning=true)) TO '{dst}/{side}.csv' (HEADER, DELIMITER ',')"
        )
    open(os.path.join(dst, "done"), "w").close()


DUCKDB = r"""
import duckdb, json, sys
csvs, threads = sys.argv[1], sys.argv[2]
cols = json.loads(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from harness import keyed_diff_counts
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET enable_progress_bar=false")
for side, view in (("legacy", "L"), ("beta", "B")):
    con.execute(f"CREATE TEMP TABLE {view} AS SELECT * FROM read_csv('{csvs}/{side}.csv', all_varchar=true)")
print(json.dumps(keyed_diff_counts(con, "L", "B", cols)))
"""


def run_pathway(binary, csvs, extra):
    out = tempfile.mkdtemp(prefix="pathway-csv-")
    try:
        env = dict(os.environ, DATAFUSION_EXECUTION_TARGET_PARTITIONS="2")
        seconds, mib, _, _ = timed(
            [binary, "diff", f"{csvs}/legacy.csv", f"{csvs}/beta.csv", "--key", "student_id",
             "--by", "district_id", "--out", out, "--format", "csv"] + extra,
            env,
        )
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            counts = {
                r["district_id"]: [int(r["changed_rows"]), int(r["missing_in_beta"]),
                                   int(r["extra_in_beta"])]
                for r in csv.DictReader(f)
            }
        return seconds, mib, counts
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_duckdb(csvs):
    seconds, mib, stdout, _ = timed(
        [sys.executable, "-c", DUCKDB, csvs, "2", json.dumps(COMPARE_COLUMNS), BENCH]
    )
    return seconds, mib, json.loads(stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--extra", default="", help="more pathway diff flags")
    args = ap.parse_args()
    csvs = args.dir.rstrip("/") + "-csv"
    write_csvs(args.dir, csvs)
    sizes = {s: os.path.getsize(f"{csvs}/{s}.csv") / 2**20 for s in ("legacy", "beta")}
    runs = {"pathway": [], "duckdb": []}
    answers = {}
    # Interleaved: one run of each per round, so drift hits both alike.
    for _ in range(args.reps):
        s, m, counts = run_pathway(args.bin, csvs, args.extra.split())
        runs["pathway"].append((s, m))
        answers["pathway"] = counts
        s, m, counts = run_duckdb(csvs)
        runs["duckdb"].append((s, m))
        answers["duckdb"] = counts
    print(f"CSV files: legacy {sizes['legacy']:.0f} MiB, beta {sizes['beta']:.0f} MiB")
    print_runs(runs)
    check_agree(answers)
    print(f"\nchanged, missing and extra rows: equal in all {len(answers['pathway'])} districts")


if __name__ == "__main__":
    main()
