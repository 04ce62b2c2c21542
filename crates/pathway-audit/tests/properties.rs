//! No audit.toml, however malformed, makes the loader panic: it loads or explains.

use pathway_audit::AuditSpec;
use proptest::prelude::*;

/// TOML-ish text built from the audit's own vocabulary.
fn tomlish() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("[inputs.students_raw]\n"),
        Just("[tables.students]\n"),
        Just("[tables.Bad Name]\n"),
        Just("glob = \"students*.csv\"\n"),
        Just("glob = \"[\"\n"),
        Just("delimiter = \"tab\"\n"),
        Just("delimiter = \"##\"\n"),
        Just("encoding = \"latin-1\"\n"),
        Just("encoding = \"ebcdic\"\n"),
        Just("format = \"parquet\"\n"),
        Just("key = [\"student_id\"]\n"),
        Just("key = []\n"),
        Just("key = 7\n"),
        Just("ignore = [\"student_id\"]\n"),
        Just("pii = [\"last_name\"]\n"),
        Just("name = \"x\"\n"),
        Just("\"unterminated\n"),
        Just("= = =\n"),
        Just("[[\n"),
        Just("é\u{0}\n"),
    ];
    prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn malformed_definitions_are_errors_not_panics(text in tomlish()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        std::fs::create_dir_all(dir.join("legacy")).unwrap();
        std::fs::create_dir_all(dir.join("beta")).unwrap();
        std::fs::write(dir.join("legacy/students.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.join("beta/students.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.join("audit.toml"), &text).unwrap();
        match AuditSpec::load(&dir) {
            Ok(audit) => prop_assert!(!audit.tables.is_empty() && !audit.inputs.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with("audit `"), "{e}"),
        }
    }
}
