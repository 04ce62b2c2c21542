//! The diff on a real Ballista cluster: a scheduler and an executor started as `pathway cluster`
//! processes on loopback, and the same night and the same ad hoc diff run embedded and on the
//! cluster, with identical results.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{assert_exit, copy_tree, pathway, pathway_with_env, root, run_audit};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scheduler and one executor, killed when dropped.
struct Cluster {
    url: String,
    work_dir: tempfile::TempDir,
    processes: Vec<Child>,
}

impl Cluster {
    fn start() -> Cluster {
        let port = free_port();
        let spawn = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_pathway"))
                .args(args)
                .current_dir(root())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let scheduler = spawn(&[
            "cluster",
            "scheduler",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--external-host",
            "127.0.0.1",
        ]);
        let work_dir = tempfile::tempdir().unwrap();
        let executor = spawn(&[
            "cluster",
            "executor",
            "--scheduler",
            &format!("127.0.0.1:{port}"),
            "--bind",
            "127.0.0.1",
            "--port",
            &free_port().to_string(),
            "--grpc-port",
            &free_port().to_string(),
            "--work-dir",
            work_dir.path().to_str().unwrap(),
            "--vcores",
            "2",
        ]);
        Cluster {
            url: format!("df://127.0.0.1:{port}"),
            work_dir,
            processes: vec![scheduler, executor],
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

fn run_into(out: &Path, cluster: Option<&str>) -> std::process::Output {
    let mut args = vec![
        "run",
        "audits/example",
        "--input",
        "fixtures/districts",
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-21",
    ];
    if let Some(url) = cluster {
        args.extend(["--cluster", url]);
    }
    pathway(&args)
}

#[test]
fn the_cluster_gives_the_embedded_results() {
    let cluster = Cluster::start();
    let tmp = tempfile::tempdir().unwrap();
    let (embedded, distributed) = (tmp.path().join("embedded"), tmp.path().join("cluster"));
    assert_exit(&run_into(&embedded, None), 0);
    assert_exit(&run_into(&distributed, Some(&cluster.url)), 0);
    for file in ["summary.csv", "column_diff.csv", "categories.csv"] {
        let read = |out: &Path| {
            std::fs::read_to_string(out.join("example/2026-11-21").join(file)).unwrap()
        };
        assert_eq!(read(&distributed), read(&embedded), "{file}");
    }
    // The hand-checked figures of the example night, computed on the cluster.
    let summary =
        std::fs::read_to_string(distributed.join("example/2026-11-21/summary.csv")).unwrap();
    assert!(
        summary.contains("2026-11-21,students,101,MISMATCH,10,10,6,4,0,0,0,0,grade_level"),
        "{summary}"
    );
    // The executor did the work: it kept the job's shuffle data in its folder.
    assert!(
        std::fs::read_dir(cluster.work_dir.path()).unwrap().count() > 0,
        "the executor's work folder is empty"
    );

    // The same night with the cluster named in audit.toml instead of on the command line.
    let audit = tmp.path().join("audit");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = std::fs::read_to_string(audit.join("audit.toml")).unwrap();
    std::fs::write(
        audit.join("audit.toml"),
        format!("cluster = \"{}\"\n{toml}", cluster.url),
    )
    .unwrap();
    let from_audit = tmp.path().join("from-audit");
    let jobs = || std::fs::read_dir(cluster.work_dir.path()).unwrap().count();
    let jobs_before = jobs();
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &from_audit,
        "2026-11-21",
    );
    assert_exit(&output, 0);
    assert!(jobs() > jobs_before, "the audit's cluster ran no job");
    for file in ["summary.csv", "column_diff.csv"] {
        let read = |out: &Path| {
            std::fs::read_to_string(out.join("example/2026-11-21").join(file)).unwrap()
        };
        assert_eq!(read(&from_audit), read(&embedded), "{file}");
    }

    // pathway diff on the cluster: the same CSV as embedded, keyed and as multisets.
    let diff = |key: &[&str], cluster_url: Option<&str>| {
        let legacy = embedded.join("example/2026-11-21/legacy/students");
        let beta = embedded.join("example/2026-11-21/beta/students");
        let mut args = vec![
            "diff",
            legacy.to_str().unwrap(),
            beta.to_str().unwrap(),
            "--format",
            "csv",
        ];
        args.extend(key);
        if let Some(url) = cluster_url {
            args.extend(["--cluster", url]);
        }
        let output = pathway(&args);
        assert_exit(&output, 1);
        String::from_utf8(output.stdout).unwrap()
    };
    let keyed = diff(&["--key", "student_id"], Some(&cluster.url));
    assert_eq!(keyed, diff(&["--key", "student_id"], None));
    assert_eq!(keyed.lines().count(), 6, "{keyed}");
    let multiset = diff(&[], Some(&cluster.url));
    assert_eq!(multiset, diff(&[], None));
    assert_eq!(multiset.lines().count(), 6, "{multiset}");
}

/// `pathway diff --cluster` against the naive reference on random pairs (see
/// `differential.rs`): the distributed path joins every row on the executors.
#[test]
fn the_cluster_agrees_with_the_reference_on_random_pairs() {
    use crate::differential::{Format, check};
    let cluster = Cluster::start();
    let cases: u64 = std::env::var("PATHWAY_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let mut failures = Vec::new();
    for seed in 0..cases {
        let case = pathway_reference::generate(seed, pathway_reference::Shapes::default());
        let found = check(
            &case,
            (Format::Parquet, Format::Parquet),
            &["--cluster", &cluster.url],
        );
        if let Some(first) = found.first() {
            failures.push(format!("seed {seed}: {first}\n{}", case.describe()));
        }
    }
    assert!(
        failures.is_empty(),
        "the cluster disagrees with the reference in {} of {cases} cases:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let output = pathway_with_env(
        &[
            "run",
            "audits/example",
            "--input",
            "fixtures/districts",
            "--out",
            tmp.path().to_str().unwrap(),
            "--cluster",
            &format!("df://127.0.0.1:{}", free_port()),
        ],
        &[("PATHWAY_CLUSTER_WAIT_SECONDS", "1")],
    );
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not ready after 1 s: cannot reach the scheduler"),
        "{stderr}"
    );
}
