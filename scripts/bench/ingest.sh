#!/usr/bin/env bash
# Time a whole `pathway run` on a generated night of raw CSV against DuckDB's read_csv -> Parquet
# of the same files (both sides), then the incremental nights: everything unchanged, and 5% of
# the districts changed.
#
#   ROWS=1000000 scripts/bench/ingest.sh
#
# Needs python3 with duckdb. Data goes to /tmp/bench-night (BENCH_NIGHT).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rows=${ROWS:-1000000}
night=${BENCH_NIGHT:-/tmp/bench-night}
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pathway -p pathway-fixtures
bin=$root/target/release

"$bin/pathway-fixtures" --rows "$rows" --districts 200 --csv --out "$night/data"
input=$night/data/input

timed() { /usr/bin/time -f "%e s, peak %M KB: $1" "${@:2}" 2>&1 >/dev/null | tail -1; }

for rep in 1 2 3; do
    rm -rf "$night/runs"
    timed "pathway run, full" "$bin/pathway" run "$root/audits/bench" --input "$input" \
        --out "$night/runs" --date 2026-01-01 --log-format json
    python3 - "$input" "$night/duckdb" <<'PY'
import duckdb, os, resource, sys, time
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
con.execute("SET threads=2")
t = time.perf_counter()
for side in ["legacy", "beta"]:
    con.execute(f"COPY (SELECT * FROM read_csv('{src}/*/students.csv')) "
                f"TO '{out}/{side}.parquet' (FORMAT parquet)")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{time.perf_counter() - t:.2f} s, peak {peak} KB: duckdb read_csv -> parquet, both sides")
PY
done

timed "pathway run, every district unchanged" "$bin/pathway" run "$root/audits/bench" \
    --input "$input" --out "$night/runs" --date 2026-01-02 --log-format json
# 5% of the districts send one more student.
for d in $(ls "$input" | head -10); do
    tail -1 "$input/$d/students.csv" | sed 's/^S/X/' >> "$input/$d/students.csv"
done
timed "pathway run, 5%% of districts changed" "$bin/pathway" run "$root/audits/bench" \
    --input "$input" --out "$night/runs" --date 2026-01-03 --log-format json
