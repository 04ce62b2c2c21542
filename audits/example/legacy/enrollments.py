"""Legacy enrollment load, as the old nightly job does it: a script nobody wants to touch.

Run by `pathway run` once per district as `python3 legacy/enrollments.py <input> <output>`
(see [tables.enrollments.legacy] in ../audit.toml). It reads the district's enrollment files
itself and writes enrollments.csv; rows without a school are dropped.
"""

import csv
import datetime
import glob
import os
import sys

input_dir, output_dir = sys.argv[1], sys.argv[2]

files = sorted(
    path
    for pattern in ("enrollments*.csv", "enrollments*.txt", "enrollments*.tsv")
    for path in glob.glob(os.path.join(input_dir, pattern))
)
if not files:
    sys.exit(f"no enrollments file in district {os.environ['PATHWAY_DISTRICT_ID']}")


def decode(raw):
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def parse_date(text):
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    raise ValueError(f"unparseable date {text!r}")


rows = set()
for path in files:
    with open(path, "rb") as f:
        text = decode(f.read())
    lines = text.splitlines()
    header_line = lines[0] if lines else ""
    delimiter = max(",\t|;", key=header_line.count)
    records = list(csv.reader(lines, delimiter=delimiter))
    header = [name.strip() for name in records[0]]
    for record in records[1:]:
        if not record or len(record) != len(header):
            continue  # the old job skipped ragged lines without a word
        row = {name: value.strip() for name, value in zip(header, record)}
        if row["SchoolID"] == "":
            continue
        exit_date = parse_date(row["ExitDate"]) if row["ExitDate"] else ""
        rows.add(
            (
                row["StudentID"],
                row["SectionID"],
                row["SchoolID"],
                parse_date(row["EntryDate"]),
                exit_date,
            )
        )

with open(os.path.join(output_dir, "enrollments.csv"), "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["student_id", "section_id", "school_id", "entry_date", "exit_date"])
    writer.writerows(sorted(rows))
print(f"wrote {len(rows)} enrollments", file=sys.stderr)
