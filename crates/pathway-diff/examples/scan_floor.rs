//! What DataFusion itself needs before any diff: the floor under `pathway diff`'s time.
//!
//! For a pair laid out as `DIR/legacy/<table>` and `DIR/beta/<table>` (Hive-partitioned Parquet,
//! as the generators write), times three passes over both sides with the session `pathway diff`
//! uses (2 target partitions unless `DATAFUSION_EXECUTION_TARGET_PARTITIONS` says otherwise):
//!
//! 1. decode: every column of every row read into Arrow and dropped; then, on the legacy side
//!    held in memory and on one thread, two ways of hashing every row: column by column (what
//!    `pathway_row_hash` does) and each row's Arrow row-format encoding hashed once;
//! 2. fingerprint: the cheapest complete answer to "are the sides equal per district", one
//!    `pathway_fingerprint(pathway_row_hash(every column))` per district and side;
//! 3. key profile: the same plus a `GROUP BY district, key` (what counting duplicate keys needs);
//! 4. ways of finding the residual keys with both sides in one `GROUP BY` (see below).
//!
//! ```text
//! cargo run --release -p pathway-diff --example scan_floor -- /tmp/bench-data/r10m students student_id
//! ```
// A test walks one scenario end to end, its local helpers next to their use.
#![allow(clippy::too_many_lines, clippy::items_after_statements)]

use std::time::Instant;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(table), Some(key)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: scan_floor DIR TABLE KEY");
        std::process::exit(2);
    };
    let ctx = pathway_diff::session_context(&pathway_diff::EngineSettings::default())?;
    pathway_diff::fingerprint::register(&ctx);
    let read = ParquetReadOptions::default()
        .table_partition_cols(vec![("district_id".to_owned(), DataType::Utf8)]);
    for side in ["legacy", "beta"] {
        ctx.register_parquet(side, format!("{dir}/{side}/{table}/"), read.clone())
            .await?;
    }
    let columns: Vec<String> = ctx
        .table("legacy")
        .await?
        .schema()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .filter(|c| c != "\"district_id\"")
        .collect();
    let hash = format!("pathway_row_hash({})", columns.join(", "));

    let clock = Instant::now();
    let mut rows = 0;
    for side in ["legacy", "beta"] {
        let mut stream = ctx.table(side).await?.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            rows += batch?.num_rows();
        }
    }
    println!(
        "decode      {:>7.3} s  ({rows} rows)",
        clock.elapsed().as_secs_f64()
    );

    // Two ways of hashing rows, on the legacy side held in memory, one thread: column by
    // column (what `pathway_row_hash` does), and each row's Arrow row-format encoding hashed once.
    let held = ctx.table("legacy").await?.collect().await?;
    let data: Vec<Vec<datafusion::arrow::array::ArrayRef>> = held
        .iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&i| b.schema().field(i).name() != "district_id")
                .collect();
            keep.iter().map(|&i| b.column(i).clone()).collect()
        })
        .collect();
    let clock = Instant::now();
    let mut sum = 0_i128;
    for columns in &data {
        for h in pathway_diff::fingerprint::hash_rows(columns)? {
            sum = sum.wrapping_add(h);
        }
    }
    println!(
        "hash by column  {:>7.3} s  (legacy, one thread, {sum})",
        clock.elapsed().as_secs_f64()
    );
    let fields: Vec<datafusion::arrow::row::SortField> = data[0]
        .iter()
        .map(|c| datafusion::arrow::row::SortField::new(c.data_type().clone()))
        .collect();
    let converter = datafusion::arrow::row::RowConverter::new(fields)?;
    let clock = Instant::now();
    let mut sum = 0_u128;
    for columns in &data {
        let rows = converter.convert_columns(columns)?;
        for row in &rows {
            sum = sum.wrapping_add(xxhash_rust::xxh3::xxh3_128(row.as_ref()));
        }
    }
    println!(
        "hash row format {:>7.3} s  (legacy, one thread, {sum})",
        clock.elapsed().as_secs_f64()
    );
    drop(data);
    drop(held);

    let clock = Instant::now();
    for side in ["legacy", "beta"] {
        ctx.sql(&format!(
            "SELECT district_id, COUNT(*), pathway_fingerprint({hash}) FROM {side} GROUP BY district_id"
        ))
        .await?
        .collect()
        .await?;
    }
    println!("fingerprint {:>7.3} s", clock.elapsed().as_secs_f64());

    let clock = Instant::now();
    for side in ["legacy", "beta"] {
        ctx.sql(&format!(
            "SELECT district_id, COUNT(*), SUM(n) FROM (SELECT district_id, \"{key}\", COUNT(*) AS n, \
             pathway_fingerprint({hash}) AS f FROM {side} GROUP BY district_id, \"{key}\") GROUP BY district_id"
        ))
        .await?
        .collect()
        .await?;
    }
    println!("key profile {:>7.3} s", clock.elapsed().as_secs_f64());

    // Ways to find the keys that need the exact diff, both sides in one GROUP BY: by (district,
    // key hash) with per-side fingerprints (the triage before 2026-12-01), by one hash of
    // district and key with per-side fingerprints, by that hash with min/max of the row hash (a
    // key held once per side with equal hashes is the only kind that can be skipped: what the
    // triage does now); per-side fingerprints of hash buckets (fewer groups, but most buckets
    // differ at 1% of rows changed); and the keys duplicated on one side (what a district whose
    // fingerprints match still needs).
    let union = format!(
        "SELECT COALESCE(district_id, '') AS g, pathway_row_hash(\"{key}\") AS kh, \
         pathway_row_hash(district_id, \"{key}\") AS kgh, pathway_row_hash(district_id) AS gh, \
         {hash} AS rh, 1 AS l FROM legacy \
         UNION ALL SELECT COALESCE(district_id, ''), pathway_row_hash(\"{key}\"), \
         pathway_row_hash(district_id, \"{key}\"), pathway_row_hash(district_id), {hash}, 0 FROM beta"
    );
    let variants = [
        (
            "g, kh + fp×2",
            "SELECT g, kh, sum(l) AS nl, sum(1 - l) AS nb, \
             pathway_fingerprint(rh) FILTER (WHERE l = 1) AS fl, \
             pathway_fingerprint(rh) FILTER (WHERE l = 0) AS fb FROM u GROUP BY g, kh",
            "nl <> 1 OR nb <> 1 OR fl <> fb",
        ),
        (
            "kgh + fp×2",
            "SELECT kgh, sum(l) AS nl, sum(1 - l) AS nb, \
             pathway_fingerprint(rh) FILTER (WHERE l = 1) AS fl, \
             pathway_fingerprint(rh) FILTER (WHERE l = 0) AS fb FROM u GROUP BY kgh",
            "nl <> 1 OR nb <> 1 OR fl <> fb",
        ),
        (
            "kgh + min/max",
            "SELECT kgh, sum(l) AS nl, count(*) AS n, min(rh) AS lo, max(rh) AS hi \
             FROM u GROUP BY kgh",
            "nl <> 1 OR n <> 2 OR lo <> hi",
        ),
        (
            "kgh + min/max + gh",
            "SELECT kgh, max(gh) AS gh, sum(l) AS nl, count(*) AS n, min(rh) AS lo, max(rh) AS hi \
             FROM u GROUP BY kgh",
            "nl <> 1 OR n <> 2 OR lo <> hi",
        ),
        (
            "64Ki buckets fp×2",
            "SELECT kgh % 65536 AS b, sum(l) AS nl, sum(1 - l) AS nb, \
             pathway_fingerprint(rh) FILTER (WHERE l = 1) AS fl, \
             pathway_fingerprint(rh) FILTER (WHERE l = 0) AS fb FROM u GROUP BY kgh % 65536",
            "nl <> nb OR fl <> fb OR fl IS NULL OR fb IS NULL",
        ),
        (
            "1Mi buckets fp×2",
            "SELECT kgh % 1048576 AS b, sum(l) AS nl, sum(1 - l) AS nb, \
             pathway_fingerprint(rh) FILTER (WHERE l = 1) AS fl, \
             pathway_fingerprint(rh) FILTER (WHERE l = 0) AS fb FROM u GROUP BY kgh % 1048576",
            "nl <> nb OR fl <> fb OR fl IS NULL OR fb IS NULL",
        ),
        (
            "kgh dups, legacy",
            "SELECT kgh, count(*) AS n FROM u WHERE l = 1 GROUP BY kgh",
            "n > 1",
        ),
    ];
    for (name, profile, residual) in variants {
        let clock = Instant::now();
        let found = ctx
            .sql(&format!(
                "WITH u AS ({union}) SELECT count(*) FROM ({profile}) AS p WHERE {residual}"
            ))
            .await?
            .collect()
            .await?;
        let residual_keys = found[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0);
        println!(
            "{name:<19} {:>7.3} s  ({residual_keys} residual keys)",
            clock.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
