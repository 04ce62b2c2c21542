#!/usr/bin/env python3
"""Exit non-zero unless a `pathway diff` summary.csv reports, for every district, the counts the
generator's truth.json says it injected. Standard library only.

    python3 scripts/scaling/check_truth.py DIR/truth.json OUT/summary.csv
"""
import csv
import json
import sys

FIELDS = ["legacy_rows", "beta_rows", "matched_rows", "changed_rows", "missing_in_beta",
          "extra_in_beta"]


def main():
    truth_path, summary_path = sys.argv[1:3]
    with open(truth_path) as f:
        truth = json.load(f)["districts"]
    with open(summary_path, newline="") as f:
        found = {row["district_id"]: row for row in csv.DictReader(f)}
    wrong = []
    for district, expected in truth.items():
        row = found.get(district)
        if row is None:
            wrong.append(f"district {district} missing from the summary")
            continue
        for field in FIELDS:
            if int(row[field]) != expected[field]:
                wrong.append(f"district {district}: {field} {row[field]} != {expected[field]}")
        if row["status"] != expected["status"]:
            wrong.append(f"district {district}: status {row['status']} != {expected['status']}")
    if len(found) != len(truth):
        wrong.append(f"{len(found)} districts in the summary, {len(truth)} in the truth")
    if wrong:
        sys.exit("answer differs from the truth:\n  " + "\n  ".join(wrong[:20]))


if __name__ == "__main__":
    main()
