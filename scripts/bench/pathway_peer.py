#!/usr/bin/env python3
"""Run `pathway diff` on a dataset of ../shared/bench (gen_pair.py layout) and write the
answer in the JSON form its peers.py expects from an --external peer.

    python3 scripts/bench/pathway_peer.py --bin target/release/pathway --dir DIR --json OUT

The time reported (work_s) is the wall time of the pathway process: reading both sides,
diffing, and writing summary.csv, column_diff.csv, summary.json and the row diff.
Standard library only, so the harness's timing is not inflated by imports.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

COMPARE_COLUMNS = [
    "school_id", "first_name", "last_name", "birth_date", "grade_level", "gender_code",
    "race_code", "ell_status", "iep", "enroll_date", "exit_date", "gpa", "attendance_rate",
    "home_language", "updated_at",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--table", default="students")
    ap.add_argument("--key", default="student_id")
    ap.add_argument("--extra", default="", help="more pathway diff flags, space-separated")
    args = ap.parse_args()

    out = tempfile.mkdtemp(prefix="pathway-bench-")
    try:
        cmd = [args.bin, "diff",
               os.path.join(args.dir, "legacy", args.table),
               os.path.join(args.dir, "beta", args.table),
               "--key", args.key, "--out", out, "--format", "csv"] + args.extra.split()
        threads = os.environ.get("BENCH_THREADS", "default")
        env = dict(os.environ)
        if threads != "default":
            env["DATAFUSION_EXECUTION_TARGET_PARTITIONS"] = threads
        started = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        work_s = time.perf_counter() - started
        if done.returncode not in (0, 1):
            sys.stderr.write(done.stderr.decode(errors="replace"))
            sys.exit(f"pathway exited {done.returncode}")

        districts = {}
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            for row in csv.DictReader(f):
                n = lambda k: int(row[k])
                districts[row["district_id"]] = {
                    "legacy_rows": n("legacy_rows"),
                    "beta_rows": n("beta_rows"),
                    "missing_in_beta": n("missing_in_beta"),
                    "extra_in_beta": n("extra_in_beta"),
                    "matched_keys": n("matched_rows") + n("changed_rows"),
                    "dup_keys_legacy": n("legacy_dup_keys"),
                    "dup_keys_beta": n("beta_dup_keys"),
                    "changed_rows": n("changed_rows"),
                    "changed_by_column": {c: 0 for c in COMPARE_COLUMNS},
                    "full_match": row["status"] == "FULL MATCH",
                }
        with open(os.path.join(out, "column_diff.csv"), newline="") as f:
            for row in csv.DictReader(f):
                d = districts[row["district_id"]]
                d["changed_by_column"][row["column"]] = int(row["mismatches"])
        with open(args.json, "w") as f:
            json.dump({
                "districts": districts,
                "work_s": work_s,
                "fields": ["legacy_rows", "beta_rows", "missing_in_beta", "extra_in_beta",
                           "matched_keys", "dup_keys_legacy", "dup_keys_beta", "changed_rows",
                           "changed_by_column", "full_match"],
            }, f)
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
