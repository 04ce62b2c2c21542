#!/usr/bin/env bash
# The nightly beta pathway job, for cron, a systemd timer or Jenkins.
#
#   INPUT=/data/districts/$(date +%F) scripts/nightly.sh
#
# Runs the audit on tonight's input into <out>/<audit>/<date>/ (each audit has its own folder,
# so one output folder serves every audit a team runs), compares the night with the audit's
# previous one (<out>/<audit>/<date>/compare.csv), writes the audit's HTML dashboard
# (<out>/<audit>/report.html), keeps the audit's last KEEP runs, and exits non-zero when a
# district regressed or errored, so the scheduler shows red.
#
# Settings (environment):
#   INPUT    tonight's input folder, one sub-folder per district (required)
#   AUDIT    audit folder                        (default: audits/example)
#   OUT      output folder, shared by audits     (default: runs)
#   DATE     night, YYYY-MM-DD                   (default: today)
#   KEEP     runs of the audit to keep           (default: 30)
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

# The summary goes to the log as usual; its first line ends with the night's folder
# ("audit example · night 2026-11-21 · ... → <out>/example/2026-11-21"), which names the audit's
# folder for the steps below without parsing audit.toml here.
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
"$PATHWAY" run "$AUDIT" --input "$INPUT" --out "$OUT" --date "$DATE" --fail-on "$FAIL_ON" > "$summary"
status=$?
cat "$summary"
if [ "$status" -eq 2 ]; then
    echo "nightly: the audit could not run" >&2
    exit 2
fi
night=$(head -n 1 "$summary" | sed -n 's/^audit .* → //p')
if [ -z "$night" ] || [ ! -d "$night" ]; then
    echo "nightly: cannot tell where the night was written (first line: $(head -n 1 "$summary"))" >&2
    exit 2
fi
audit_dir=$(dirname "$night")

# The audit's previous night, if any, for the day-over-day view; another audit's nights are in
# other folders and never compared with this one's.
previous=$(find "$audit_dir" -mindepth 1 -maxdepth 1 -type d -name '????-??-??' -printf '%f\n' | sort | awk -v d="$DATE" '$0 < d' | tail -n 1)
if [ -n "$previous" ]; then
    "$PATHWAY" compare "$audit_dir/$previous" "$night" --format csv > "$night/compare.csv.tmp" \
        && mv "$night/compare.csv.tmp" "$night/compare.csv"
fi

# The audit's dashboard, replaced atomically.
"$PATHWAY" report --out "$OUT" --run "$night" --html "$audit_dir/report.html" \
    || echo "nightly: the HTML report failed" >&2

# Keep the audit's last KEEP nights; its history.csv keeps every night's summary.
find "$audit_dir" -mindepth 1 -maxdepth 1 -type d -name '????-??-??' -printf '%f\n' | sort | head -n "-$KEEP" |
    while read -r old; do rm -rf "${audit_dir:?}/$old"; done

exit "$status"
