#!/usr/bin/env bash
# The nightly beta pathway job, for cron, a systemd timer or Jenkins.
#
#   INPUT=/data/districts/$(date +%F) scripts/nightly.sh
#
# Runs the audit on tonight's input, compares the night with the previous one
# (<out>/<date>/compare.csv), writes the HTML dashboard (<out>/report.html), keeps the
# last KEEP runs, and exits non-zero when a
# district regressed or errored, so the scheduler shows red.
#
# Settings (environment):
#   INPUT    tonight's input folder, one sub-folder per district (required)
#   AUDIT    audit folder                        (default: audits/example)
#   OUT      output folder                       (default: runs)
#   DATE     night, YYYY-MM-DD                   (default: today)
#   KEEP     runs to keep                        (default: 30)
#   FAIL_ON  what fails the job: mismatch, regression, error, no-input (default: regression,error)
#   PATHWAY  the pathway binary                  (default: pathway on PATH)
#
# Exit codes: those of `pathway run` (0 fine, 1 a --fail-on condition, 2 could not run,
# 3 some districts ERROR or NO INPUT when FAIL_ON does not match them).
set -uo pipefail

: "${INPUT:?set INPUT to the input folder of the night}"
AUDIT=${AUDIT:-audits/example}
OUT=${OUT:-runs}
DATE=${DATE:-$(date +%F)}
KEEP=${KEEP:-30}
FAIL_ON=${FAIL_ON:-regression,error}
PATHWAY=${PATHWAY:-pathway}

"$PATHWAY" run "$AUDIT" --input "$INPUT" --out "$OUT" --date "$DATE" --fail-on "$FAIL_ON"
status=$?
if [ "$status" -eq 2 ]; then
    echo "nightly: the audit could not run" >&2
    exit 2
fi

# The previous night, if any, for the day-over-day view.
previous=$(find "$OUT" -mindepth 1 -maxdepth 1 -type d -name '????-??-??' -printf '%f\n' | sort | awk -v d="$DATE" '$0 < d' | tail -n 1)
if [ -n "$previous" ]; then
    "$PATHWAY" compare "$OUT/$previous" "$OUT/$DATE" --format csv > "$OUT/$DATE/compare.csv.tmp" \
        && mv "$OUT/$DATE/compare.csv.tmp" "$OUT/$DATE/compare.csv"
fi

# The team's dashboard, replaced atomically.
"$PATHWAY" report --out "$OUT" --html "$OUT/report.html" || echo "nightly: the HTML report failed" >&2

# Keep the last KEEP nights; history.csv keeps every night's summary.
find "$OUT" -mindepth 1 -maxdepth 1 -type d -name '????-??-??' -printf '%f\n' | sort | head -n "-$KEEP" |
    while read -r old; do rm -rf "${OUT:?}/$old"; done

exit "$status"
