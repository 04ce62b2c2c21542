//! Reference-data code mapping: a district's own codes to a standard option set, by school year.
//!
//! Districts send their own codes (grade `K`, `KG`, `00`; race, sex and English-learner code
//! words) that must become the standard option sets (CEDS). An audit may name one mapping file,
//! a CSV with the columns `school_year`, `code_set`, `source_code`, `standard_code` (others, like
//! a description, are ignored). A school year that has no entries for a code set falls back to
//! the most recent earlier year that has them, and the lookup says that it did.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A loaded mapping file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodeMap {
    /// The CSV file it was read from.
    pub path: PathBuf,
    /// code set → school year → source code → standard code.
    sets: BTreeMap<String, BTreeMap<i32, HashMap<String, String>>>,
    /// Entries, in file order, for registering as a table.
    pub entries: Vec<CodeMapEntry>,
}

/// One line of the mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMapEntry {
    /// The school year's ending year (2025 for 2024–25).
    pub school_year: i32,
    /// Code set (e.g. `grade_level`).
    pub code_set: String,
    /// The district's code.
    pub source_code: String,
    /// The standard code.
    pub standard_code: String,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Mapped with the entries of the year asked for.
    Mapped(&'a str),
    /// Mapped with the entries of an earlier year, because the year asked for has none.
    FellBack {
        /// The standard code.
        standard: &'a str,
        /// The year whose entries were used.
        used_year: i32,
    },
    /// The code has no entry in the year used (`used_year`), or no year at or before the one
    /// asked for has entries (`None`).
    Unmapped {
        /// The year whose entries were searched.
        used_year: Option<i32>,
    },
    /// The mapping file has no such code set at all: a typo in the transform.
    UnknownCodeSet,
}

/// Parse a school year: `2025`, `2024-2025`, `2024-25` or `2024/25` all mean the year ending in
/// 2025.
#[must_use]
pub fn parse_school_year(text: &str) -> Option<i32> {
    let text = text.trim();
    let year = |s: &str| s.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y));
    if let Some((start, end)) = text.split_once(['-', '/']) {
        let start = year(start.trim())?;
        let end = end.trim();
        let end = match end.len() {
            4 => year(end)?,
            2 => start / 100 * 100 + end.parse::<i32>().ok()?,
            _ => return None,
        };
        // Also accept the one-digit-century wrap, 1999-00.
        let end = if end <= start { end + 100 } else { end };
        (end == start + 1).then_some(end)
    } else {
        year(text)
    }
}

impl CodeMap {
    /// Read a mapping file.
    ///
    /// # Errors
    /// A missing column, an unparseable school year, or a code mapped to two standard codes in
    /// one year and set; the message names the file and line.
    pub fn load(path: &Path) -> Result<CodeMap, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("`{shown}` is not UTF-8 text"))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format!("`{shown}`: {e}"))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| format!("`{shown}` has no `{name}` column (it needs school_year, code_set, source_code, standard_code)"))
        };
        let (year_at, set_at, source_at, standard_at) = (
            column("school_year")?,
            column("code_set")?,
            column("source_code")?,
            column("standard_code")?,
        );
        let mut map = CodeMap {
            path: path.to_path_buf(),
            ..CodeMap::default()
        };
        for record in reader.records() {
            let record = record.map_err(|e| format!("`{shown}`: {e}"))?;
            let line = record.position().map_or(0, csv::Position::line);
            let field = |i: usize| record.get(i).unwrap_or_default();
            let school_year = parse_school_year(field(year_at)).ok_or_else(|| {
                format!(
                    "`{shown}` line {line}: school_year `{}` is not a year (2025, 2024-2025 or 2024-25)",
                    field(year_at)
                )
            })?;
            let entry = CodeMapEntry {
                school_year,
                code_set: field(set_at).trim().to_owned(),
                // Source codes are matched as sent: a district's ` K` is not `K`.
                source_code: field(source_at).to_owned(),
                standard_code: field(standard_at).trim().to_owned(),
            };
            if entry.code_set.is_empty() || entry.standard_code.is_empty() {
                return Err(format!(
                    "`{shown}` line {line}: code_set and standard_code must not be empty"
                ));
            }
            let codes = map
                .sets
                .entry(entry.code_set.clone())
                .or_default()
                .entry(school_year)
                .or_default();
            match codes.get(&entry.source_code) {
                Some(seen) if *seen != entry.standard_code => {
                    return Err(format!(
                        "`{shown}` line {line}: `{}` in code set `{}` for {school_year} maps to both `{seen}` and `{}`",
                        entry.source_code, entry.code_set, entry.standard_code
                    ));
                }
                _ => {
                    codes.insert(entry.source_code.clone(), entry.standard_code.clone());
                }
            }
            map.entries.push(entry);
        }
        Ok(map)
    }

    /// Map `source_code` of `code_set` for the school year ending in `school_year`.
    #[must_use]
    pub fn lookup(&self, code_set: &str, school_year: i32, source_code: &str) -> Lookup<'_> {
        let Some(years) = self.sets.get(code_set) else {
            return Lookup::UnknownCodeSet;
        };
        let Some((&used_year, codes)) = years.range(..=school_year).next_back() else {
            return Lookup::Unmapped { used_year: None };
        };
        match codes.get(source_code) {
            Some(standard) if used_year == school_year => Lookup::Mapped(standard),
            Some(standard) => Lookup::FellBack {
                standard,
                used_year,
            },
            None => Lookup::Unmapped {
                used_year: Some(used_year),
            },
        }
    }

    /// The code sets the file defines, sorted.
    pub fn code_sets(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Result<CodeMap, String> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("codes.csv");
        std::fs::write(&path, text).unwrap();
        CodeMap::load(&path)
    }

    #[test]
    fn school_years_in_every_spelling() {
        assert_eq!(parse_school_year("2025"), Some(2025));
        assert_eq!(parse_school_year(" 2024-2025 "), Some(2025));
        assert_eq!(parse_school_year("2024-25"), Some(2025));
        assert_eq!(parse_school_year("2024/25"), Some(2025));
        assert_eq!(parse_school_year("1999-00"), Some(2000));
        assert_eq!(parse_school_year("2024-2026"), None);
        assert_eq!(parse_school_year("K"), None);
        assert_eq!(parse_school_year(""), None);
    }

    #[test]
    fn a_year_without_entries_falls_back_to_the_latest_earlier_one() {
        let map = map(
            "school_year,code_set,source_code,standard_code,description\n\
                       2023,grade_level,K,KG,Kindergarten\n\
                       2023,grade_level,9,09,Ninth grade\n\
                       2025,grade_level,K,KG,\n\
                       2025,grade_level,TK,PK,Transitional K\n\
                       2024,sex,F,Female,\n",
        )
        .unwrap();
        assert_eq!(map.entries.len(), 5);
        assert_eq!(map.code_sets().collect::<Vec<_>>(), ["grade_level", "sex"]);
        assert_eq!(map.lookup("grade_level", 2025, "TK"), Lookup::Mapped("PK"));
        // 2025 has entries, so 9 is unmapped there even though 2023 knew it.
        assert_eq!(
            map.lookup("grade_level", 2025, "9"),
            Lookup::Unmapped {
                used_year: Some(2025)
            }
        );
        assert_eq!(
            map.lookup("grade_level", 2024, "9"),
            Lookup::FellBack {
                standard: "09",
                used_year: 2023
            }
        );
        assert_eq!(
            map.lookup("grade_level", 2027, "K"),
            Lookup::FellBack {
                standard: "KG",
                used_year: 2025
            }
        );
        assert_eq!(
            map.lookup("grade_level", 2022, "K"),
            Lookup::Unmapped { used_year: None }
        );
        assert_eq!(
            map.lookup("grade_level", 2025, " K"),
            Lookup::Unmapped {
                used_year: Some(2025)
            }
        );
        assert_eq!(map.lookup("race", 2025, "W"), Lookup::UnknownCodeSet);
    }

    #[test]
    fn bad_files_name_the_line() {
        let err = map("school_year,code_set,source_code\n2025,a,b\n").unwrap_err();
        assert!(err.ends_with("has no `standard_code` column (it needs school_year, code_set, source_code, standard_code)"), "{err}");
        let err = map("school_year,code_set,source_code,standard_code\n2025,a,b,c\nnext,a,b,c\n")
            .unwrap_err();
        assert!(
            err.ends_with("line 3: school_year `next` is not a year (2025, 2024-2025 or 2024-25)"),
            "{err}"
        );
        let err = map("school_year,code_set,source_code,standard_code\n2025,a,b,c\n2025,a,b,d\n")
            .unwrap_err();
        assert!(
            err.ends_with("line 3: `b` in code set `a` for 2025 maps to both `c` and `d`"),
            "{err}"
        );
        // The same entry twice is harmless.
        assert!(
            map("school_year,code_set,source_code,standard_code\n2025,a,b,c\n2025,a,b,c\n").is_ok()
        );
    }
}
