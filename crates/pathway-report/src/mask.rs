//! Masking personal data in everything a person reads.

/// The shown form of `value` from `column`: `***` when the column is personal, else the value.
/// A null stays `None`, so "was null" is still visible without exposing anything.
#[must_use]
pub fn mask(column: &str, value: Option<&str>, pii: &[String]) -> Option<String> {
    let value = value?;
    if pii.iter().any(|p| p == column) {
        Some("***".to_owned())
    } else {
        Some(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_only_personal_columns() {
        let pii = vec!["last_name".to_owned()];
        assert_eq!(
            mask("last_name", Some("Nguyễn"), &pii).as_deref(),
            Some("***")
        );
        assert_eq!(mask("grade", Some("09"), &pii).as_deref(), Some("09"));
        assert_eq!(mask("last_name", None, &pii), None);
    }
}
