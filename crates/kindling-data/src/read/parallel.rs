//! Line-aligned parallel files (Multi30k's `train.de.gz` / `train.en.gz`): line *n* of one is
//! the translation of line *n* of the other. Gzip is detected by content.

use std::path::Path;

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// One aligned pair of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentencePair {
    /// The source-side line.
    pub source: String,
    /// The target-side line.
    pub target: String,
    /// 1-based line number in both files.
    pub line: usize,
}

/// Streams aligned pairs from two files; ends with [`Error::Unaligned`] if one file runs out
/// first.
pub struct ParallelLines {
    source: Lines,
    target: Lines,
    done: bool,
}

impl ParallelLines {
    /// Opens both files.
    ///
    /// # Errors
    /// [`Error::Io`] when either cannot be opened.
    pub fn open(source: &Path, target: &Path, encoding: Encoding) -> Result<Self> {
        Ok(Self {
            source: Lines::open(source, encoding)?,
            target: Lines::open(target, encoding)?,
            done: false,
        })
    }

    fn unaligned(&mut self) -> Error {
        // Count the rest of the longer file so that the message gives both lengths.
        let mut scratch = String::new();
        while let Ok(Some(_)) = self.source.read_line(&mut scratch) {}
        while let Ok(Some(_)) = self.target.read_line(&mut scratch) {}
        Error::Unaligned {
            left: self.source.path().to_path_buf(),
            left_lines: self.source.number(),
            right: self.target.path().to_path_buf(),
            right_lines: self.target.number(),
        }
    }
}

impl Iterator for ParallelLines {
    type Item = Result<SentencePair>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut source = String::new();
        let mut target = String::new();
        let result = (|| {
            let s = self.source.read_line(&mut source)?;
            let t = self.target.read_line(&mut target)?;
            match (s, t) {
                (Some(line), Some(_)) => Ok(Some(SentencePair {
                    source,
                    target,
                    line,
                })),
                (None, None) => Ok(None),
                _ => Err(self.unaligned()),
            }
        })();
        match result {
            Ok(Some(pair)) => Some(Ok(pair)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads all aligned pairs of two files.
///
/// # Errors
/// [`Error::Unaligned`] when the line counts differ; [`Error::Empty`] when both are empty;
/// file and encoding errors as [`Lines`] reports them.
pub fn read_parallel(
    source: &Path,
    target: &Path,
    encoding: Encoding,
) -> Result<Vec<SentencePair>> {
    let pairs: Vec<SentencePair> =
        ParallelLines::open(source, target, encoding)?.collect::<Result<_>>()?;
    if pairs.is_empty() {
        return Err(Error::Empty {
            path: source.to_path_buf(),
            what: "parallel corpus",
        });
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{gzip, scratch_file};

    #[test]
    fn reads_aligned_gzip_pairs() {
        let de = scratch_file("train.de.gz", &gzip("Zwei Männer.\nEin Hund.\n".as_bytes()));
        let en = scratch_file("train.en", b"Two men.\nA dog.\n");
        let pairs = read_parallel(&de, &en, Encoding::Utf8).unwrap();
        assert_eq!(
            pairs[1],
            SentencePair {
                source: "Ein Hund.".into(),
                target: "A dog.".into(),
                line: 2
            }
        );
    }

    #[test]
    fn unequal_lengths_give_both_counts() {
        let de = scratch_file("a.de", b"1\n2\n3\n");
        let en = scratch_file("a.en", b"1\n");
        let err = read_parallel(&de, &en, Encoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a.de has 3 lines but") && err.contains("a.en has 1"),
            "{err}"
        );
        let empty = scratch_file("e", b"");
        assert!(matches!(
            read_parallel(&empty, &empty, Encoding::Utf8),
            Err(Error::Empty { .. })
        ));
    }
}
