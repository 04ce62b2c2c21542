//! The date of a night: a calendar date, compared as one, and written `YYYY-MM-DD` wherever it
//! is written (the night's folder name, every CSV and JSON row, logs).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;

/// A night's date (`--date`, the name of `<out>/<audit>/<date>/`).
///
/// ```
/// use pathway_night::NightDate;
/// let night = NightDate::parse("2026-11-21").unwrap();
/// assert!(NightDate::parse("2026-11-20").unwrap() < night);
/// assert_eq!(night.as_str(), "2026-11-21");
/// // Written the one way it is written everywhere.
/// assert_eq!(NightDate::parse("2026-1-5").unwrap().as_str(), "2026-01-05");
/// assert!(NightDate::parse("2026-02-30").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NightDate {
    // Compared by the date; the text is the date's one spelling.
    date: NaiveDate,
    text: String,
}

impl NightDate {
    /// A date as a user types it (`2026-11-21`, or without the leading zeros).
    ///
    /// # Errors
    /// When `text` is not a calendar date in the form YYYY-MM-DD.
    pub fn parse(text: &str) -> Result<NightDate, String> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(NightDate::from)
            .map_err(|_| format!("`{text}` is not a date in the form YYYY-MM-DD"))
    }

    /// The date of a night's folder: only its one spelling (`2026-11-21`, not `2026-11-21.old`
    /// nor `2026-1-5`), so that every night has one folder.
    #[must_use]
    pub fn of_folder(name: &str) -> Option<NightDate> {
        NightDate::parse(name).ok().filter(|d| d.text == name)
    }

    /// Today, in the machine's time zone: the default night.
    #[must_use]
    pub fn today() -> NightDate {
        NightDate::from(chrono::Local::now().date_naive())
    }

    /// `YYYY-MM-DD`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<NaiveDate> for NightDate {
    fn from(date: NaiveDate) -> NightDate {
        NightDate {
            date,
            text: date.format("%Y-%m-%d").to_string(),
        }
    }
}

impl FromStr for NightDate {
    type Err = String;

    fn from_str(text: &str) -> Result<NightDate, String> {
        NightDate::parse(text)
    }
}

impl fmt::Display for NightDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The night's folder name: `nights.join(&date)`.
impl AsRef<Path> for NightDate {
    fn as_ref(&self) -> &Path {
        Path::new(&self.text)
    }
}
