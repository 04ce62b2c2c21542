//! What DataFusion itself needs before any diff: the floor under `pathway diff`'s time.
//!
//! For a pair laid out as `DIR/legacy/<table>` and `DIR/beta/<table>` (Hive-partitioned Parquet,
//! as the generators write), times three passes over both sides with the session `pathway diff`
//! uses (2 target partitions unless `DATAFUSION_EXECUTION_TARGET_PARTITIONS` says otherwise):
//!
//! 1. decode: every column of every row read into Arrow and dropped;
//! 2. fingerprint: the cheapest complete answer to "are the sides equal per district", one
//!    `pathway_fingerprint(pathway_row_hash(every column))` per district and side;
//! 3. key profile: the same plus a `GROUP BY district, key` (what counting duplicate keys needs).
//!
//! ```text
//! cargo run --release -p pathway-diff --example scan_floor -- /tmp/bench-data/r10m students student_id
//! ```

use std::time::Instant;

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
    Ok(())
}
