#!/usr/bin/env bash
# How the cost of `pathway diff` grows with rows and with districts, in this process (embedded
# DataFusion) and on a Ballista cluster started here on loopback (one scheduler, one executor).
# Writes target/scaling/results.md; docs/scaling.md quotes it.
#
#   scripts/scaling/run.sh
#   CASES="1000000:200 10000000:200" REPS=1 MODES="embedded cluster" scripts/scaling/run.sh
#
# MODES: embedded (the default engine: triage, then the join on residual rows), embedded_join
# (`--no-triage --memory-limit 8GiB`: every row joined, the plan the cluster runs) and cluster
# (`--cluster`, on which triage is off).
#
# CASES: rows:districts pairs made by the project's generator (fixtures/generator), seeded, with
# 1% of rows differing and the truth of every district written beside them; each answer is
# checked against it. Wall time and peak RSS come from GNU time; on the cluster the executor's
# and scheduler's peaks are read from /proc before they are stopped.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
data=${SCALING_DATA:-/tmp/scaling-data}
cases=${CASES:-1000000:200 3000000:200 10000000:200 1000000:20 1000000:2000}
reps=${REPS:-3}
modes=${MODES:-embedded embedded_join cluster}
results=$root/target/scaling
mkdir -p "$results" "$data"

# One build for the binary, the generator and the scan-floor example, always with the cluster
# feature, so cargo resolves one feature set whatever the modes (another set recompiles all of
# DataFusion: about 25 minutes on 2 cores). scripts/bench/run.sh builds the same way.
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pathway -p pathway-fixtures \
    -p pathway-diff --bins --example scan_floor --features pathway/ballista
bin=$root/target/release/pathway
generate=$root/target/release/pathway-fixtures
scratch=$(mktemp -d /tmp/pathway-scaling.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

start_cluster() {
    local port executor_port grpc_port
    port=$(free_port); executor_port=$(free_port); grpc_port=$(free_port)
    "$bin" cluster scheduler --bind 127.0.0.1 --port "$port" --external-host 127.0.0.1 \
        >"$scratch/scheduler.log" 2>&1 &
    scheduler_pid=$!
    pids+=("$scheduler_pid")
    mkdir -p "$scratch/executor"
    "$bin" cluster executor --scheduler "127.0.0.1:$port" --bind 127.0.0.1 \
        --port "$executor_port" --grpc-port "$grpc_port" --work-dir "$scratch/executor" --vcores 2 \
        >"$scratch/executor.log" 2>&1 &
    executor_pid=$!
    pids+=("$executor_pid")
    cluster_url="df://127.0.0.1:$port"
}

# One timed diff: prints "seconds peak_mib".
time_diff() {
    local dir=$1 out=$scratch/out
    shift
    rm -rf "$out"
    /usr/bin/time -f '%e %M' -o "$scratch/time" "$bin" diff "$dir/legacy/students" "$dir/beta/students" \
        --key student_id --out "$out" --format csv "$@" >/dev/null 2>"$scratch/stderr" || {
        local status=$?
        [ "$status" = 1 ] || { cat "$scratch/stderr" >&2; return "$status"; }
    }
    python3 "$root/scripts/scaling/check_truth.py" "$dir/truth.json" "$out/summary.csv"
    # GNU time writes "Command exited with non-zero status 1" first when differences were found.
    tail -1 "$scratch/time" | awk '{printf "%s %.0f\n", $1, $2 / 1024}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

table=$results/results.md
{
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; median of $reps; every answer equals the generator's truth."
    echo
    echo "| rows per side | districts | mode | wall s | rows/s (both sides) | peak RSS MiB (client) | peak RSS MiB (executor / scheduler) |"
    echo "|---:|---:|---|---:|---:|---:|---|"
} >"$table"

for case in $cases; do
    rows=${case%:*}
    districts=${case#*:}
    dir=$data/r${rows}_d${districts}
    if [ ! -f "$dir/truth.json" ]; then
        "$generate" --rows "$rows" --districts "$districts" --out "$dir" >/dev/null
    fi
    for mode in $modes; do
        extra=()
        case $mode in
            embedded) ;;
            embedded_join) extra=(--no-triage --memory-limit 8GiB) ;;
            cluster)
                start_cluster
                extra=(--cluster "$cluster_url")
                ;;
            *) echo "unknown mode $mode" >&2; exit 2 ;;
        esac
        : >"$scratch/reps"
        failed=0
        for _ in $(seq "$reps"); do
            time_diff "$dir" "${extra[@]}" >>"$scratch/reps" || { failed=1; break; }
        done
        if [ "$failed" = 1 ]; then
            # Recorded, not fatal: the other sizes and modes still run.
            echo "| $rows | $districts | $mode | failed (error above) | | | |" | tee -a "$table"
            [ "$mode" = cluster ] && kill "$executor_pid" "$scheduler_pid" 2>/dev/null
            continue
        fi
        wall=$(cut -d' ' -f1 "$scratch/reps" | median)
        rss=$(cut -d' ' -f2 "$scratch/reps" | sort -n | tail -1)
        rate=$(awk -v r="$rows" -v s="$wall" 'BEGIN {printf "%.2fM", 2 * r / s / 1e6}')
        servers="-"
        if [ "$mode" = cluster ]; then
            servers="$(( $(peak_kib "$executor_pid") / 1024 )) / $(( $(peak_kib "$scheduler_pid") / 1024 ))"
            kill "$executor_pid" "$scheduler_pid"
            wait "$executor_pid" "$scheduler_pid" 2>/dev/null || true
        fi
        echo "| $rows | $districts | $mode | $wall | $rate | $rss | $servers |" | tee -a "$table"
    done
done
echo
cat "$table"
