//! `s3://` audits, inputs and outputs against a real S3-compatible server (s3s-fs, a file-system
//! backed implementation of the S3 API) started on loopback by the test, with authentication on.
//! `pathway` reaches it through the AWS variables a user would set.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{assert_exit, pathway_with_env, read_csv, root, run_example};

const ACCESS_KEY: &str = "pathway-test-key";
const SECRET_KEY: &str = "pathway-test-secret";

/// A running server; its buckets are the sub-folders of `root`.
struct S3Server {
    endpoint: String,
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl S3Server {
    fn start(buckets: &[&str]) -> S3Server {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s3");
        for bucket in buckets {
            std::fs::create_dir_all(root.join(bucket)).unwrap();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let serve_root = root.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                use hyper_util::rt::{TokioExecutor, TokioIo};
                let fs = s3s_fs::FileSystem::new(&serve_root).expect("s3s-fs root");
                let mut builder = s3s::service::S3ServiceBuilder::new(fs);
                builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
                let service = builder.build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let connection = http
                        .serve_connection(TokioIo::new(socket), service.clone())
                        .into_owned();
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
            });
        });
        let address = rx.recv().unwrap();
        S3Server {
            endpoint: format!("http://{address}"),
            root,
            _dir: dir,
        }
    }

    /// What a user exports to reach this server.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// An object's bytes, read from the server's backing folder.
    fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        std::fs::read(self.root.join(bucket).join(key))
            .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e}"))
    }

    fn run(&self, args: &[&str]) -> Output {
        let owned = self.env();
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pathway_with_env(args, &env)
    }
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn csv_text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn a_night_from_and_to_object_storage_equals_the_local_one() {
    let s3 = S3Server::start(&["audits", "night", "runs", "diffs"]);
    // What the scheduler would have put in the buckets: the audit and the night's files.
    copy_folder(
        &root().join("audits/example"),
        &s3.root.join("audits/example"),
    );
    copy_folder(
        &root().join("fixtures/districts"),
        &s3.root.join("night/2026-11-21"),
    );

    let output = s3.run(&[
        "run",
        "s3://audits/example",
        "--input",
        "s3://night/2026-11-21",
        "--out",
        "s3://runs",
        "--date",
        "2026-11-21",
    ]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("5 districts · 2 tables → s3://runs/example/2026-11-21"),
        "{stdout}"
    );

    // The same night run locally gives byte-identical reports.
    let local = tempfile::tempdir().unwrap();
    assert_exit(&run_example(local.path(), "2026-11-21"), 0);
    for file in ["summary.csv", "column_diff.csv", "categories.csv"] {
        assert_eq!(
            csv_text(&s3.object("runs", &format!("example/2026-11-21/{file}"))),
            std::fs::read_to_string(local.path().join("example/2026-11-21").join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        csv_text(&s3.object("runs", "example/history.csv")),
        std::fs::read_to_string(local.path().join("example/history.csv")).unwrap()
    );
    // The outputs are real Parquet in the bucket.
    let parquet = s3.object(
        "runs",
        "example/2026-11-21/legacy/students/district_id=101/part-0.parquet",
    );
    assert_eq!(&parquet[..4], b"PAR1");
    assert_eq!(&parquet[parquet.len() - 4..], b"PAR1");
    let json: serde_json::Value =
        serde_json::from_slice(&s3.object("runs", "example/2026-11-21/summary.json")).unwrap();
    assert_eq!(json["input"], "s3://night/2026-11-21");
    assert_eq!(json["audit_dir"], "s3://audits/example");

    // The next night, same files: every district is carried over from the bucket's last night.
    copy_folder(
        &root().join("fixtures/districts"),
        &s3.root.join("night/2026-11-22"),
    );
    let output = s3.run(&[
        "run",
        "s3://audits/example",
        "--input",
        "s3://night/2026-11-22",
        "--out",
        "s3://runs",
        "--date",
        "2026-11-22",
    ]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("5 districts (5 reused from the previous run)"),
        "{stdout}"
    );
    let history = csv_text(&s3.object("runs", "example/history.csv"));
    assert_eq!(history.lines().count(), 1 + 20, "two nights of 10 rows");

    // Ad hoc: diff the bucket's Parquet directly (DataFusion reads it from the store), with
    // the result written back to the store; query the run through the store.
    let output = s3.run(&[
        "diff",
        "s3://runs/example/2026-11-21/legacy/students",
        "s3://runs/example/2026-11-21/beta/students",
        "--key",
        "student_id",
        "--out",
        "s3://diffs/students",
    ]);
    assert_exit(&output, 1);
    let diffed = read_csv(&write_temp(&s3.object("diffs", "students/summary.csv")));
    let run = read_csv(&local.path().join("example/2026-11-21/summary.csv"));
    let statuses = |rows: &[std::collections::BTreeMap<String, String>]| -> Vec<String> {
        rows.iter()
            .filter(|r| r["table"] == "students")
            .map(|r| format!("{} {} {}", r["district_id"], r["status"], r["changed_rows"]))
            .collect()
    };
    assert_eq!(statuses(&diffed), statuses(&run));
    assert_eq!(
        statuses(&diffed),
        [
            "101 MISMATCH 4",
            "102 FULL MATCH 0",
            "103 MISMATCH 2",
            "104 LEGACY ONLY 0",
            "255901 FULL MATCH 0"
        ]
    );

    let output = s3.run(&[
        "query",
        "--out",
        "s3://runs",
        "--format",
        "csv",
        "SELECT audit_date, count(*) AS n FROM summary GROUP BY 1",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "audit_date,n\n2026-11-22,10\n"
    );

    // A second audit into the same bucket on the same night: its own folder, the example's
    // night untouched; a command reading "the latest night" is told to say which audit.
    copy_folder(
        &root().join("audits/oneroster"),
        &s3.root.join("audits/oneroster"),
    );
    copy_folder(
        &root().join("fixtures/oneroster"),
        &s3.root.join("night/oneroster"),
    );
    let example_night = s3.object("runs", "example/2026-11-22/summary.csv");
    let output = s3.run(&[
        "run",
        "s3://audits/oneroster",
        "--input",
        "s3://night/oneroster",
        "--out",
        "s3://runs",
        "--date",
        "2026-11-22",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        s3.object("runs", "example/2026-11-22/summary.csv"),
        example_night
    );
    assert_eq!(
        csv_text(&s3.object("runs", "oneroster/history.csv"))
            .lines()
            .count(),
        1 + 6,
        "one night of 3 tables x 2 districts"
    );
    let query = |audit: Option<&str>| {
        let mut args = vec!["query", "--out", "s3://runs", "--format", "csv"];
        if let Some(audit) = audit {
            args.extend(["--audit", audit]);
        }
        args.push("SELECT audit, count(*) AS n FROM summary GROUP BY 1");
        s3.run(&args)
    };
    let output = query(None);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "`s3://runs` holds the nights of 2 audits (`example`, `oneroster`): say which with \
             --audit NAME"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = query(Some("oneroster"));
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "audit,n\noneroster,6\n"
    );
    let output = s3.run(&["history", "--out", "s3://runs", "--format", "csv"]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "audit_date,audit,table,districts,full_match,mismatch,legacy_only,beta_only,error,accepted,no_input,match_pct\n\
         2026-11-21,example,enrollments,5,4,1,0,0,0,0,0,96.0\n\
         2026-11-21,example,students,5,2,2,1,0,0,0,0,69.14\n\
         2026-11-22,example,enrollments,5,4,1,0,0,0,0,0,96.0\n\
         2026-11-22,example,students,5,2,2,1,0,0,0,0,69.14\n\
         2026-11-22,oneroster,enrollments,2,1,1,0,0,0,0,0,98.8\n\
         2026-11-22,oneroster,scores,2,1,1,0,0,0,0,0,50.0\n\
         2026-11-22,oneroster,students,2,1,1,0,0,0,0,0,93.75\n"
    );
}

#[test]
fn a_wrong_secret_is_a_clear_error_and_writes_nothing() {
    let s3 = S3Server::start(&["runs"]);
    let mut env = s3.env();
    env[1].1 = "not-the-secret".into();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = pathway_with_env(
        &[
            "run",
            "audits/example",
            "--input",
            "fixtures/districts",
            "--out",
            "s3://runs",
            "--date",
            "2026-11-21",
        ],
        &env,
    );
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("s3://runs"), "{stderr}");
    assert!(!stderr.contains("not-the-secret"), "{stderr}");
    assert_eq!(std::fs::read_dir(s3.root.join("runs")).unwrap().count(), 0);
}

fn write_temp(bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "pathway-s3-{}-{}.csv",
        std::process::id(),
        bytes.len()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}
