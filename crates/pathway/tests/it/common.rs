//! Running the binary (the helpers every test crate shares are in `pathway-testkit`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use pathway_testkit::files::{copy_tree, header_line, read_csv};

/// The repository root.
pub fn root() -> PathBuf {
    pathway_testkit::files::repo_root()
}

/// Run `pathway` with `args` from the repository root.
pub fn pathway(args: &[&str]) -> Output {
    pathway_with_env(args, &[])
}

/// Run `pathway` with extra environment variables (the masking key is otherwise unset).
pub fn pathway_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pathway"));
    command
        .args(args)
        .current_dir(root())
        .env_remove("PATHWAY_MASK_KEY")
        .env_remove("PATHWAY_MASK_KEY_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// Run `pathway` with `args` from the folder `cwd` (default paths such as `--out runs` are then
/// below it).
pub fn pathway_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pathway"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PATHWAY_MASK_KEY")
        .env_remove("PATHWAY_MASK_KEY_FILE")
        .output()
        .unwrap()
}

/// The folder of `audit`'s night `date` in output folder `out`: `<out>/<audit>/<date>`.
pub fn night(out: &Path, audit: &str, date: &str) -> PathBuf {
    out.join(audit).join(date)
}

/// Run the example audit on the bundled fixtures into `out` for `date`.
pub fn run_example(out: &Path, date: &str) -> Output {
    run_audit(
        "audits/example",
        &root().join("fixtures/districts"),
        out,
        date,
    )
}

/// Run an audit on an input folder.
pub fn run_audit(audit: &str, input: &Path, out: &Path, date: &str) -> Output {
    pathway(&[
        "run",
        audit,
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--date",
        date,
    ])
}

/// Panic with the command's output when it did not exit with `code`.
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Make district 102 of an input copy regress: one first name sent with a trailing space.
/// Only ASCII bytes change, so the file's Windows-1252 characters stay as they are.
pub fn regress_district_102(input: &Path) {
    let students = input.join("102/students.txt");
    let bytes = std::fs::read(&students).unwrap();
    let at = bytes.windows(6).position(|w| w == b"|John|").unwrap();
    std::fs::write(
        &students,
        [&bytes[..at], b"|John |", &bytes[at + 6..]].concat(),
    )
    .unwrap();
}
