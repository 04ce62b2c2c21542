//! Masking personal data in everything a person reads: reports, terminal output, query results,
//! rejected-row samples.
//!
//! With a key ([`Masker::from_env`]: `PATHWAY_MASK_KEY`, or a file named by
//! `PATHWAY_MASK_KEY_FILE`), a value is shown as `h:` plus the first 16 hex digits of its
//! HMAC-SHA256: the same value masks the same way across runs and engineers, so masked columns can
//! still be joined and grouped, but the value cannot be read back. Without a key every value is
//! `***`. A null stays null either way, so "was null" remains visible.
//!
//! ```
//! let masker = pathway_mask::Masker::with_key(b"team secret");
//! assert_eq!(masker.mask_value("Amelia"), masker.mask_value("Amelia"));
//! assert_ne!(masker.mask_value("Amelia"), masker.mask_value("Amelia "));
//! assert_eq!(pathway_mask::Masker::without_key().mask_value("Amelia"), "***");
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt::Write as _;

/// Environment variable holding the masking key itself.
pub const KEY_ENV: &str = "PATHWAY_MASK_KEY";
/// Environment variable naming a file that holds the masking key.
pub const KEY_FILE_ENV: &str = "PATHWAY_MASK_KEY_FILE";

/// How personal values are shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Masker {
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Masker {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("keyed", &self.key.is_some())
            .finish()
    }
}

impl Masker {
    /// Mask every value as `***`.
    #[must_use]
    pub fn without_key() -> Masker {
        Masker { key: None }
    }

    /// Mask values with HMAC-SHA256 under `key`.
    #[must_use]
    pub fn with_key(key: &[u8]) -> Masker {
        Masker {
            key: Some(key.to_vec()),
        }
    }

    /// The masker configured by the environment: `PATHWAY_MASK_KEY`, else the file named by
    /// `PATHWAY_MASK_KEY_FILE` (surrounding whitespace trimmed), else no key.
    ///
    /// # Errors
    /// When the key file cannot be read or either source is empty.
    pub fn from_env() -> Result<Masker, String> {
        if let Some(key) = std::env::var_os(KEY_ENV) {
            let key = key.to_string_lossy().into_owned();
            if key.is_empty() {
                return Err(format!("{KEY_ENV} is set but empty"));
            }
            return Ok(Masker::with_key(key.as_bytes()));
        }
        if let Some(path) = std::env::var_os(KEY_FILE_ENV) {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!("cannot read the masking key file named by {KEY_FILE_ENV}: {e}")
            })?;
            let key = text.trim();
            if key.is_empty() {
                return Err(format!(
                    "the masking key file named by {KEY_FILE_ENV} is empty"
                ));
            }
            return Ok(Masker::with_key(key.as_bytes()));
        }
        Ok(Masker::without_key())
    }

    /// Whether values are hashed (true) or blanked as `***` (false).
    #[must_use]
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// The masked form of a (non-null) value.
    #[must_use]
    pub fn mask_value(&self, value: &str) -> String {
        match &self.key {
            None => "***".to_owned(),
            Some(key) => {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                    .expect("HMAC takes keys of any length");
                mac.update(value.as_bytes());
                let digest = mac.finalize().into_bytes();
                let mut shown = String::from("h:");
                for byte in digest.iter().take(8) {
                    let _ = write!(shown, "{byte:02x}");
                }
                shown
            }
        }
    }

    /// `value` as shown for `column`: masked when the column is in `pii`; null stays null.
    #[must_use]
    pub fn mask(&self, column: &str, value: Option<&str>, pii: &[String]) -> Option<String> {
        let value = value?;
        if pii.iter().any(|p| p == column) {
            Some(self.mask_value(value))
        } else {
            Some(value.to_owned())
        }
    }
}

/// `text` with the password of a `scheme://user:password@host/...` URL replaced by `***`, for
/// every place a database URL is shown (reports, logs, summary.json, errors). Text that is not
/// such a URL comes back unchanged.
///
/// ```
/// assert_eq!(
///     pathway_mask::redact_url("postgres://audit:s3cret@db:5432/sis?sslmode=require"),
///     "postgres://audit:***@db:5432/sis?sslmode=require"
/// );
/// assert_eq!(pathway_mask::redact_url("postgres://audit@db/sis"), "postgres://audit@db/sis");
/// ```
#[must_use]
pub fn redact_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    // The user info ends at the last `@` before the path.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

/// Replace every single-quoted span of an error message with `'***'`. DataFusion quotes the
/// offending value in data errors (`Cannot cast string 'Amelia' to ...`), and error messages end
/// up in reports and logs.
#[must_use]
pub fn redact_quoted(message: &str) -> String {
    redact_between(message, '\'')
}

/// [`redact_quoted`] for both single- and double-quoted text: free text written by a program
/// (a legacy job's stderr) may quote values either way.
#[must_use]
pub fn redact_all_quoted(message: &str) -> String {
    redact_between(&redact_between(message, '\''), '"')
}

fn redact_between(message: &str, quote: char) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(quote) {
        out.push_str(&rest[..start + quote.len_utf8()]);
        let after = &rest[start + quote.len_utf8()..];
        if let Some(end) = after.find(quote) {
            out.push_str("***");
            out.push(quote);
            rest = &after[end + quote.len_utf8()..];
        } else {
            out.push_str("***");
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_masks_are_stable_hex_and_key_dependent() {
        let a = Masker::with_key(b"k1");
        let b = Masker::with_key(b"k2");
        let masked = a.mask_value("Nguyễn");
        assert!(masked.starts_with("h:"));
        assert_eq!(masked.len(), 18);
        assert_eq!(masked, a.mask_value("Nguyễn"));
        assert_ne!(masked, b.mask_value("Nguyễn"));
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?") starts 5bdcc146bf60754e.
        assert_eq!(
            Masker::with_key(b"Jefe").mask_value("what do ya want for nothing?"),
            "h:5bdcc146bf60754e"
        );
    }

    #[test]
    fn only_personal_columns_are_masked_and_null_stays_null() {
        let pii = vec!["last_name".to_owned()];
        let m = Masker::without_key();
        assert_eq!(
            m.mask("last_name", Some("Nguyễn"), &pii).as_deref(),
            Some("***")
        );
        assert_eq!(m.mask("grade", Some("09"), &pii).as_deref(), Some("09"));
        assert_eq!(m.mask("last_name", None, &pii), None);
    }

    #[test]
    fn quoted_values_are_redacted_from_messages() {
        assert_eq!(
            redact_quoted("Cast error: Cannot cast string 'Amelia' to value of Date32 type"),
            "Cast error: Cannot cast string '***' to value of Date32 type"
        );
        assert_eq!(redact_quoted("a 'b' c 'd"), "a '***' c '***");
        assert_eq!(redact_quoted("no quotes"), "no quotes");
        assert_eq!(
            redact_all_quoted("KeyError: 'Ann' in \"Smith, Ann\" and 'x"),
            "KeyError: '***' in \"***\" and '***"
        );
    }
}
