"""What the bench scripts share: timing a command with its peak memory, and DuckDB's keyed diff
of two tables under pathway's rules (the peer every scenario is checked against).

Imported by csv_sides.py and night.py, and by the DuckDB scripts they run in a child process
(which put this folder on sys.path first).
"""
import statistics
import subprocess


def timed(cmd, env=None):
    """Run CMD under /usr/bin/time: wall seconds, peak RSS in MiB, stdout, stderr (without
    time's own line). Exit codes 0 and 1 (differences found) are success."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M"] + cmd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} exited {done.returncode}: {done.stderr[-2000:]}")
    lines = done.stderr.strip().splitlines()
    seconds, kib = lines[-1].split()
    return float(seconds), int(kib) / 1024, done.stdout, "\n".join(lines[:-1])


def keyed_diff_counts(con, legacy, beta, cols):
    """Per district_id: [changed, missing in beta, extra in beta] of tables LEGACY and BETA
    keyed on (district_id, student_id), comparing COLS, by DuckDB connection CON.

    pathway's rules: a pair is changed only under a key held once on each side (rows under a
    key duplicated on either side and present on both are duplicate_key, not changed)."""
    diffs = ", ".join(f'l."{c}" IS DISTINCT FROM b."{c}" AS "d_{c}"' for c in cols)
    anyd = " OR ".join(f'"d_{c}"' for c in cols)
    rows = con.execute(f'''
      WITH LK AS (SELECT district_id, student_id, count(*) AS n FROM {legacy} GROUP BY ALL),
      BK AS (SELECT district_id, student_id, count(*) AS n FROM {beta} GROUP BY ALL),
      J AS (
        SELECT coalesce(l.district_id, b.district_id) AS district_id,
               l.student_id IS NOT NULL AS in_l, b.student_id IS NOT NULL AS in_b,
               lk.n = 1 AND bk.n = 1 AS single, {diffs}
        FROM {legacy} l FULL OUTER JOIN {beta} b
          ON l.district_id = b.district_id AND l.student_id = b.student_id
        LEFT JOIN LK lk ON lk.district_id = l.district_id AND lk.student_id = l.student_id
        LEFT JOIN BK bk ON bk.district_id = b.district_id AND bk.student_id = b.student_id)
      SELECT district_id,
             count(*) FILTER (in_l AND in_b AND single AND ({anyd})),
             count(*) FILTER (in_l AND NOT in_b),
             count(*) FILTER (in_b AND NOT in_l)
      FROM J GROUP BY 1''').fetchall()
    return {str(r[0]): [int(r[1]), int(r[2]), int(r[3])] for r in rows}


def print_runs(runs):
    """RUNS ({tool: [(seconds, peak MiB), ...]}) as a markdown table: median, every run, peak."""
    print("| tool | median s | runs s | peak MiB |")
    print("|---|---|---|---|")
    for tool, r in runs.items():
        times = ", ".join(f"{t:.2f}" for t, _ in r)
        print(f"| {tool} | {statistics.median(t for t, _ in r):.2f} | {times} | "
              f"{max(m for _, m in r):.0f} |")


def check_agree(answers):
    """Stop when pathway's and DuckDB's per-district [changed, missing, extra] differ."""
    differing = [
        d for d in set(answers["pathway"]) | set(answers["duckdb"])
        if answers["pathway"].get(d, [0, 0, 0]) != answers["duckdb"].get(d, [0, 0, 0])
    ]
    if differing:
        raise SystemExit(f"pathway and DuckDB disagree on {len(differing)} district(s), "
                         f"e.g. {sorted(differing)[:5]}")
