//! Compressed text inputs (`.gz`, `.zst`, `.bz2`, `.xz`), decompressed in memory before parsing.
//!
//! Districts compress their exports, and some send a compressed file under a plain name. A file
//! is decompressed when its first bytes are the magic number of one of the four formats,
//! whatever its name; a file whose name says it is compressed but whose bytes do not is rejected,
//! as is a compressed file that does not decompress to its end (corrupt or truncated).
//!
//! A few kilobytes of gzip, xz or zstd can decompress to gigabytes (a decompression bomb), and the
//! whole file is held in memory: a file is decompressed only up to a limit, 200 times its
//! compressed size plus 64 MiB ([`DecompressedLimit`]), or what `PATHWAY_MAX_DECOMPRESSED_BYTES`
//! says; a file that would decompress to more is refused with its name and the limit.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that sets the most bytes a compressed file may decompress to.
pub const MAX_DECOMPRESSED_ENV: &str = "PATHWAY_MAX_DECOMPRESSED_BYTES";

/// How many bytes a compressed file may decompress to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecompressedLimit {
    /// 200 times the compressed size plus 64 MiB: far above what text compresses by, far below
    /// what a bomb expands to.
    Default,
    /// The number of bytes `PATHWAY_MAX_DECOMPRESSED_BYTES` gives.
    Set(u64),
}

impl DecompressedLimit {
    /// How many times its compressed size a file may grow to, by default.
    pub const RATIO: u64 = 200;
    /// What a file may decompress to by default, on top of `RATIO` times its size.
    pub const ALLOWANCE: u64 = 64 * 1024 * 1024;

    /// The limit `PATHWAY_MAX_DECOMPRESSED_BYTES` sets, or the default when it is unset.
    ///
    /// # Errors
    /// The variable is set to something other than a whole number of bytes.
    pub fn from_env() -> std::result::Result<DecompressedLimit, String> {
        match std::env::var(MAX_DECOMPRESSED_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(DecompressedLimit::Default),
            Ok(text) => Self::parse(&text),
            Err(std::env::VarError::NotUnicode(text)) => Self::parse(&text.to_string_lossy()),
        }
    }

    fn parse(text: &str) -> std::result::Result<DecompressedLimit, String> {
        text.trim()
            .parse::<u64>()
            .map(DecompressedLimit::Set)
            .map_err(|_| {
                format!(
                    "{MAX_DECOMPRESSED_ENV} must be a whole number of bytes (the most a \
                     compressed file may decompress to), not `{text}`"
                )
            })
    }

    /// The most bytes a file of `compressed` bytes may decompress to.
    #[must_use]
    pub fn bytes_for(self, compressed: u64) -> u64 {
        match self {
            DecompressedLimit::Default => compressed
                .saturating_mul(Self::RATIO)
                .saturating_add(Self::ALLOWANCE),
            DecompressedLimit::Set(bytes) => bytes,
        }
    }

    /// Where the limit of a file of `compressed` bytes comes from, in words.
    fn explain(self, compressed: u64) -> String {
        match self {
            DecompressedLimit::Default => format!(
                "the limit for a file of {compressed} compressed bytes (200 times that plus \
                 64 MiB; {MAX_DECOMPRESSED_ENV} sets another)"
            ),
            DecompressedLimit::Set(_) => format!("the limit {MAX_DECOMPRESSED_ENV} sets"),
        }
    }
}

/// A compression format pathway reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`.gz`), one or more members.
    Gzip,
    /// Zstandard (`.zst`), one or more frames.
    Zstd,
    /// bzip2 (`.bz2`), one or more streams.
    Bzip2,
    /// xz (`.xz`), one or more streams.
    Xz,
}

impl Compression {
    /// Every format, in the order their magic numbers are tried.
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ];

    /// The name used in reports (`gzip`, `zstd`, `bzip2`, `xz`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }

    /// The file-name suffix, with its dot.
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
            Compression::Bzip2 => ".bz2",
            Compression::Xz => ".xz",
        }
    }

    /// The format a file name's suffix announces (any case), if any.
    #[must_use]
    pub fn of_name(name: &str) -> Option<Compression> {
        let lower = name.to_ascii_lowercase();
        Compression::ALL
            .into_iter()
            .find(|c| lower.ends_with(c.suffix()) && lower.len() > c.suffix().len())
    }

    /// The format whose magic number `bytes` start with, if any. bzip2's three-letter magic
    /// (`BZh`) could begin a text file, so its block or end-of-stream signature is checked too.
    #[must_use]
    pub fn of_content(bytes: &[u8]) -> Option<Compression> {
        const BZIP2_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
        const BZIP2_END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if bytes.len() >= 10
            && bytes.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&bytes[3])
            && (bytes[4..10] == BZIP2_BLOCK || bytes[4..10] == BZIP2_END)
        {
            Some(Compression::Bzip2)
        } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    /// Compress `bytes` as a district's tools would (default levels, one member or frame), for
    /// tests and for preparing district files.
    ///
    /// # Errors
    /// Only when the encoder fails, which writing to memory does not.
    pub fn compress(self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write;
        match self {
            Compression::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(bytes)?;
                encoder.finish()
            }
            Compression::Zstd => zstd::stream::encode_all(bytes, 3),
            Compression::Bzip2 => {
                let mut encoder =
                    bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
                encoder.write_all(bytes)?;
                encoder.finish()
            }
            Compression::Xz => {
                let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
                encoder.write_all(bytes)?;
                encoder.finish()
            }
        }
    }

    /// Decompress a whole file, reading at most `limit` bytes of output: `None` when it holds
    /// more (the rest is never decompressed).
    ///
    /// # Errors
    /// The bytes are not a complete stream of this format; the message is the decoder's.
    pub fn decompress(self, bytes: &[u8], limit: u64) -> std::io::Result<Option<Vec<u8>>> {
        let reader: Box<dyn Read + '_> = match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(bytes)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(bytes)),
        };
        // No guess at the size up front: the output grows as it is read, up to the limit.
        let mut out = Vec::new();
        reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
        Ok((out.len() as u64 <= limit).then_some(out))
    }
}

/// `path` without its compression suffix, and the format the suffix names; `None` when the name
/// has no such suffix. `students.csv.gz` gives `students.csv` and gzip.
#[must_use]
pub fn strip_compression_suffix(path: &Path) -> Option<(PathBuf, Compression)> {
    let name = path.file_name()?.to_string_lossy();
    let compression = Compression::of_name(&name)?;
    let stem = &name[..name.len() - compression.suffix().len()];
    Some((path.with_file_name(stem), compression))
}

/// Read the file at `path` (called `shown` in messages), decompressed when its content is
/// compressed, within the limit `PATHWAY_MAX_DECOMPRESSED_BYTES` sets (or the default). Returns
/// the bytes and the format they were decompressed from.
///
/// # Errors
/// An unreadable file; a file named as compressed whose bytes are not; a compressed file that
/// does not decompress to its end, or that decompresses to more than the limit; a
/// `PATHWAY_MAX_DECOMPRESSED_BYTES` that is not a number.
pub fn read_decompressed(path: &Path, shown: &str) -> Result<(Vec<u8>, Option<Compression>)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decompress(bytes, shown)
}

/// [`read_decompressed`] on bytes already read.
///
/// # Errors
/// As [`read_decompressed`], but for the reading.
pub fn decompress(bytes: Vec<u8>, shown: &str) -> Result<(Vec<u8>, Option<Compression>)> {
    let limit = DecompressedLimit::from_env().map_err(Error::Setting)?;
    decompress_within(bytes, shown, limit)
}

/// [`decompress`] with the limit given rather than read from the environment.
///
/// # Errors
/// As [`decompress`].
pub fn decompress_within(
    bytes: Vec<u8>,
    shown: &str,
    limit: DecompressedLimit,
) -> Result<(Vec<u8>, Option<Compression>)> {
    let named = Compression::of_name(shown);
    match Compression::of_content(&bytes) {
        Some(found) => {
            let compressed = bytes.len() as u64;
            let most = limit.bytes_for(compressed);
            match found.decompress(&bytes, most) {
                Ok(Some(plain)) => Ok((plain, Some(found))),
                Ok(None) => Err(Error::TooLarge {
                    file: shown.to_owned(),
                    compression: found.name(),
                    limit: most,
                    why: limit.explain(compressed),
                }),
                Err(e) => Err(Error::Decompress {
                    file: shown.to_owned(),
                    compression: found.name(),
                    reason: e.to_string(),
                }),
            }
        }
        // An empty `.gz` is an empty file, reported as such by the reader.
        None => match named {
            Some(named) if !bytes.is_empty() => Err(Error::NotCompressed {
                file: shown.to_owned(),
                compression: named.name(),
            }),
            _ => Ok((bytes, None)),
        },
    }
}

/// Compress `bytes` as a district would, for the tests of this crate.
#[cfg(test)]
pub(crate) fn compress(compression: Compression, bytes: &[u8]) -> Vec<u8> {
    compression.compress(bytes).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"id,name\n1,Ann\n2,Bo\n";

    #[test]
    fn each_format_is_recognised_by_content_and_decompressed() {
        for compression in Compression::ALL {
            let packed = compress(compression, TEXT);
            assert_eq!(Compression::of_content(&packed), Some(compression));
            // Named or not, the content decides.
            for name in ["x.csv", &format!("x.csv{}", compression.suffix())] {
                let (plain, found) = decompress(packed.clone(), name).unwrap();
                assert_eq!(plain, TEXT, "{compression:?} {name}");
                assert_eq!(found, Some(compression));
            }
        }
    }

    #[test]
    fn several_members_are_read_whole() {
        for compression in Compression::ALL {
            let packed = [
                compress(compression, b"id\n1\n"),
                compress(compression, b"2\n"),
            ]
            .concat();
            let (plain, _) = decompress(packed, "x.csv").unwrap();
            assert_eq!(plain, b"id\n1\n2\n", "{compression:?}");
        }
    }

    #[test]
    fn truncated_and_mislabelled_files_are_rejected_with_their_name() {
        for compression in Compression::ALL {
            let packed = compress(compression, &TEXT.repeat(50));
            let truncated = packed[..packed.len() / 2].to_vec();
            let name = format!("101/students.csv{}", compression.suffix());
            let err = decompress(truncated, &name).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "`{name}` is corrupt or truncated {} data: ",
                    compression.name()
                )),
                "{err}"
            );
            let err = decompress(TEXT.to_vec(), &name).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "`{name}` is named as {0}-compressed but does not hold {0} data",
                    compression.name()
                )
            );
        }
        // Plain and empty files pass through.
        assert_eq!(
            decompress(TEXT.to_vec(), "a.csv").unwrap(),
            (TEXT.to_vec(), None)
        );
        assert_eq!(
            decompress(Vec::new(), "a.csv.gz").unwrap(),
            (Vec::new(), None)
        );
    }

    /// The message of a refusal (a file read whole would print megabytes of it).
    fn refused(read: Result<(Vec<u8>, Option<Compression>)>) -> String {
        match read {
            Err(e) => e.to_string(),
            Ok((plain, _)) => panic!("read {} bytes", plain.len()),
        }
    }

    #[test]
    fn a_file_decompressing_past_the_limit_is_refused_with_its_name_and_the_limit() {
        // 10 MB of zeros, a few kilobytes compressed: a small decompression bomb.
        let zeros = vec![0_u8; 10_000_000];
        for compression in Compression::ALL {
            let bomb = compress(compression, &zeros);
            let name = format!("101/students.csv{}", compression.suffix());
            let err = refused(decompress_within(
                bomb.clone(),
                &name,
                DecompressedLimit::Set(1_000_000),
            ));
            assert_eq!(
                err,
                format!(
                    "`{name}` is {} data that decompresses to more than 1000000 bytes, the \
                     limit PATHWAY_MAX_DECOMPRESSED_BYTES sets: not read",
                    compression.name()
                )
            );
            // Exactly at the limit is within it; one byte less is not.
            let (plain, _) =
                decompress_within(bomb.clone(), &name, DecompressedLimit::Set(10_000_000)).unwrap();
            assert_eq!(plain.len(), 10_000_000);
            let err = refused(decompress_within(
                bomb,
                &name,
                DecompressedLimit::Set(9_999_999),
            ));
            assert!(err.contains(" more than 9999999 bytes, "), "{err}");
        }
        // By default: 200 times the compressed size plus 64 MiB.
        assert_eq!(DecompressedLimit::Default.bytes_for(1000), 67_308_864);
        assert_eq!(DecompressedLimit::Default.bytes_for(0), 67_108_864);
        assert_eq!(DecompressedLimit::Default.bytes_for(u64::MAX), u64::MAX);
        let packed = compress(Compression::Gzip, &zeros);
        let (plain, _) = decompress_within(packed, "b.csv.gz", DecompressedLimit::Default).unwrap();
        assert_eq!(plain.len(), 10_000_000);
        // 68 MiB of zeros, a few kilobytes of zstd: over 64 MiB and 200 times those kilobytes.
        let bigger = compress(Compression::Zstd, &vec![0_u8; 68 * 1024 * 1024]);
        let size = bigger.len() as u64;
        assert!(size < 10_000, "{size}");
        let err = refused(decompress_within(
            bigger,
            "z.csv.zst",
            DecompressedLimit::Default,
        ));
        assert_eq!(
            err,
            format!(
                "`z.csv.zst` is zstd data that decompresses to more than {} bytes, the limit for \
                 a file of {size} compressed bytes (200 times that plus 64 MiB; \
                 PATHWAY_MAX_DECOMPRESSED_BYTES sets another): not read",
                67_108_864 + 200 * size
            )
        );
    }

    #[test]
    fn the_limit_is_a_whole_number_of_bytes() {
        assert_eq!(
            DecompressedLimit::parse(" 1000\n"),
            Ok(DecompressedLimit::Set(1000))
        );
        assert_eq!(
            DecompressedLimit::parse("64MiB"),
            Err(
                "PATHWAY_MAX_DECOMPRESSED_BYTES must be a whole number of bytes (the most a \
                 compressed file may decompress to), not `64MiB`"
                    .to_owned()
            )
        );
    }

    #[test]
    fn text_starting_like_bzip2_stays_text() {
        let text = b"BZh9,name\n1,Ann\n".to_vec();
        assert_eq!(Compression::of_content(&text), None);
        assert_eq!(decompress(text.clone(), "a.csv").unwrap(), (text, None));
    }

    #[test]
    fn suffixes_are_stripped_in_any_case() {
        let (plain, c) = strip_compression_suffix(Path::new("daily/students.csv.GZ")).unwrap();
        assert_eq!(
            (plain, c),
            (PathBuf::from("daily/students.csv"), Compression::Gzip)
        );
        assert_eq!(
            strip_compression_suffix(Path::new("a.txt.zst")).map(|(_, c)| c),
            Some(Compression::Zstd)
        );
        assert_eq!(strip_compression_suffix(Path::new("a.csv")), None);
        assert_eq!(strip_compression_suffix(Path::new(".gz")), None);
    }
}
