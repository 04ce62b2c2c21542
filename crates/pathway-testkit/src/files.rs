//! The repository's fixtures, and files a test reads back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository root (where `audits/`, `fixtures/` and `crates/` are).
///
/// # Panics
/// When this crate is not in the repository's `crates/` folder.
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// Every record of a CSV file as header -> value maps.
///
/// # Panics
/// When the file cannot be read as CSV.
#[must_use]
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("a CSV file");
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.expect("a record").iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The first line of a file.
///
/// # Panics
/// When the file cannot be read or is empty.
#[must_use]
pub fn header_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("a readable file")
        .lines()
        .next()
        .expect("a first line")
        .to_owned()
}

/// Copy a folder tree.
///
/// # Panics
/// When a file cannot be read or written.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's folder");
    for entry in std::fs::read_dir(from).expect("a readable folder") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("a copied file");
        }
    }
}
