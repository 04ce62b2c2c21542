#!/usr/bin/env python3
"""What `--max-row-diff` saves: a bench pair where one district's every row differs, diffed
with and without a cap, beside the pair as generated (about 1% of rows differing, a few hundred
per district). Wall time and peak memory of each `pathway diff`, median of REPS runs, and a
check that the capped run's counts equal the uncapped run's.

    python3 scripts/bench/caps.py --bin target/release/pathway --dir /tmp/bench-data/r10m

The broken variant is written beside DIR (DIR-broken): beta's largest district with
`first_name` changed in every row (other districts linked, not copied). Needs pyarrow.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import tempfile

import pyarrow.compute as pc
import pyarrow.parquet as pq


def broken_variant(src, dst):
    """DIR-broken: DIR with every first_name of beta's largest district changed."""
    if os.path.exists(os.path.join(dst, "done")):
        with open(os.path.join(dst, "done")) as f:
            return json.load(f)
    shutil.rmtree(dst, ignore_errors=True)
    beta = os.path.join(src, "beta", "students")
    sizes = {
        d: pq.ParquetFile(os.path.join(beta, d, "part-0.parquet")).metadata.num_rows
        for d in os.listdir(beta)
        if d.startswith("district_id=")
    }
    largest = max(sizes, key=sizes.get)
    for side in ("legacy", "beta"):
        os.makedirs(os.path.join(dst, side, "students"))
        for d in os.listdir(os.path.join(src, side, "students")):
            target = os.path.join(dst, side, "students", d)
            if side == "beta" and d == largest:
                os.makedirs(target)
                table = pq.read_table(os.path.join(beta, d, "part-0.parquet"))
                i = table.schema.get_field_index("first_name")
                changed = pc.binary_join_element_wise(
                    table.column(i).cast("string"), "x", ""
                )
                table = table.set_column(i, "first_name", changed)
                pq.write_table(table, os.path.join(target, "part-0.parquet"))
            else:
                os.symlink(os.path.join(src, side, "students", d), target)
    info = {"district": largest.split("=")[1], "rows": sizes[largest]}
    with open(os.path.join(dst, "done"), "w") as f:
        json.dump(info, f)
    return info


def run(binary, data, extra, common):
    """One `pathway diff` of DATA: wall seconds, peak RSS in MiB, and its summary rows."""
    out = tempfile.mkdtemp(prefix="pathway-caps-")
    try:
        cmd = [
            "/usr/bin/time", "-f", "%e %M", binary, "diff",
            os.path.join(data, "legacy", "students"), os.path.join(data, "beta", "students"),
            "--key", "student_id", "--out", out, "--format", "csv",
        ] + common + extra
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{cmd} exited {done.returncode}: {done.stderr[-2000:]}")
        seconds, kib = done.stderr.strip().splitlines()[-1].split()
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            rows = [
                {k: v for k, v in r.items() if k not in ("row_diff_capped", "audit_date")}
                for r in csv.DictReader(f)
            ]
        written = sum(
            os.path.getsize(os.path.join(p, name))
            for p, _, names in os.walk(os.path.join(out, "row_diff"))
            for name in names
        )
        return float(seconds), int(kib) / 1024, rows, written
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cap", default="1000")
    ap.add_argument("--extra", default="", help="more pathway diff flags for every case")
    args = ap.parse_args()
    broken = args.dir.rstrip("/") + "-broken"
    info = broken_variant(args.dir, broken)
    cases = [
        ("as generated, no cap", args.dir, []),
        (f"as generated, cap {args.cap}", args.dir, ["--max-row-diff", args.cap]),
        (f"district {info['district']} all differ ({info['rows']} rows), no cap", broken, []),
        (f"district {info['district']} all differ, cap {args.cap}", broken, ["--max-row-diff", args.cap]),
    ]
    results = []
    answers = {}
    # Interleaved: one run of each case per round, so drift hits every case alike.
    runs = {name: [] for name, _, _ in cases}
    for _ in range(args.reps):
        for name, data, extra in cases:
            seconds, mib, rows, written = run(args.bin, data, extra, args.extra.split())
            runs[name].append((seconds, mib, written))
            answers.setdefault(data, {})[name] = rows
    for name, _, _ in cases:
        times = [r[0] for r in runs[name]]
        peaks = [r[1] for r in runs[name]]
        results.append({
            "case": name,
            "median_s": statistics.median(times),
            "runs_s": times,
            "peak_mib": max(peaks),
            "row_diff_mib": runs[name][0][2] / 2**20,
        })
    for data, by_case in answers.items():
        first = next(iter(by_case.values()))
        for name, rows in by_case.items():
            if rows != first:
                raise SystemExit(f"counts differ between cases on {data}: {name}")
    print("| case | median s | runs s | peak MiB | row diff MiB |")
    print("|---|---|---|---|---|")
    for r in results:
        runs_s = ", ".join(f"{t:.2f}" for t in r["runs_s"])
        print(f"| {r['case']} | {r['median_s']:.2f} | {runs_s} | {r['peak_mib']:.0f} | {r['row_diff_mib']:.1f} |")
    print("\ncounts with and without the cap: equal in every district")


if __name__ == "__main__":
    main()
