#!/usr/bin/env bash
# Benchmark `pathway diff` against its peers (DuckDB, polars, datacompy) in one run, on the
# datasets of the shared bench kit, and write a markdown table per size.
#
#   scripts/bench/run.sh                 # 1M and 10M rows
#   SIZES="1m 10m 30m" REPS=3 scripts/bench/run.sh
#   SIZES=30m PEERS=scan_floor,duckdb_join scripts/bench/run.sh   # polars and datacompy need >20 GB at 30M
#
# Needs: the shared kit (BENCH_KIT, default ../shared/bench) and its Python packages
# (pip install numpy pyarrow duckdb polars datacompy). Data goes to /tmp/bench-data (BENCH_DATA).
# Results go to target/bench/<size>.{json,md}; docs/performance.md quotes them.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kit=${BENCH_KIT:-$root/../shared/bench}
data=${BENCH_DATA:-/tmp/bench-data}
sizes=${SIZES:-1m 10m}
reps=${REPS:-3}
peers=${PEERS:-scan_floor,duckdb_join,polars_join_streaming,datacompy_polars}
# JOIN=1 also times `pathway diff --no-triage` (needs a large --memory-limit past 1M rows).
join=${JOIN:-0}
results=$root/target/bench
mkdir -p "$results" "$data"

# The same build as scripts/scaling/run.sh (one feature set, so neither recompiles DataFusion).
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pathway -p pathway-fixtures \
    -p pathway-diff --bins --example scan_floor --features pathway/ballista
bin=$root/target/release/pathway

rows_of() {
    case $1 in
        *m) echo $(( ${1%m} * 1000000 )) ;;
        *k) echo $(( ${1%k} * 1000 )) ;;
        *) echo "$1" ;;
    esac
}

for size in $sizes; do
    dir=$data/r$size
    if [ ! -f "$dir/truth.json" ]; then
        python3 "$kit/gen_pair.py" --seed 42 --rows "$(rows_of "$size")" --districts 200 \
            --diff-rate 0.01 --out "$dir"
    fi
    externals=(--external "pathway=python3 $root/scripts/bench/pathway_peer.py --bin $bin --dir {dir} --json {out}")
    if [ "$join" = 1 ]; then
        externals+=(--external "pathway_join=python3 $root/scripts/bench/pathway_peer.py --bin $bin --dir {dir} --json {out} --extra=--no-triage")
    fi
    python3 "$kit/peers.py" "$dir" --reps "$reps" --threads 2 --peers "$peers" "${externals[@]}" \
        --json "$results/$size.json" --md "$results/$size.md"
    cat "$results/$size.md"
done
