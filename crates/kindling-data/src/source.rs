//! Opening text files: gzip detected by content, lines split on `\n` only, and an explicit
//! text encoding.
//!
//! Lines are split on `\n` alone (a trailing `\r` is dropped), never on Unicode line
//! separators: MR's Latin-1 files contain byte `0x85`, which is NEL in Latin-1, inside
//! sentences.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::{Error, Result};

/// How the bytes of a text file become characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Strict UTF-8: an invalid sequence is an [`Error::Encoding`] naming file and line. A
    /// leading byte-order mark is dropped.
    #[default]
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same value. Never fails.
    Latin1,
    /// UTF-8 with invalid sequences replaced by U+FFFD. Never fails.
    Lossy,
}

impl Encoding {
    /// Decodes one line's bytes into `out` (cleared first).
    ///
    /// # Errors
    /// [`Error::Encoding`] for invalid UTF-8 under [`Encoding::Utf8`]; `path` and `line` are
    /// only used for the message.
    pub fn decode_into(
        self,
        bytes: &[u8],
        out: &mut String,
        path: &Path,
        line: usize,
    ) -> Result<()> {
        out.clear();
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(text) => out.push_str(text),
                Err(e) => {
                    return Err(Error::Encoding {
                        path: path.to_path_buf(),
                        line,
                        byte: e.valid_up_to(),
                    });
                }
            },
            Encoding::Latin1 => out.extend(bytes.iter().map(|&b| char::from(b))),
            Encoding::Lossy => out.push_str(&String::from_utf8_lossy(bytes)),
        }
        Ok(())
    }
}

/// Opens `path` for buffered reading, decompressing it when it starts with the gzip magic
/// bytes (whatever its name). The file is noted by any [`crate::fingerprint::Recording`] alive
/// on this thread.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    crate::fingerprint::record_opened(path);
    from_reader(path, file)
}

/// Wraps any reader like [`open`] does: gzip is detected from the first two bytes.
///
/// # Errors
/// [`Error::Io`] when the first bytes cannot be read.
pub fn from_reader(
    path: &Path,
    reader: impl Read + Send + 'static,
) -> Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::io("reading", path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(buffered),
        )))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Writes `bytes` to `path` through a hidden partial file in the same directory that is
/// synced and renamed over `path` (then the directory is synced), so a crash leaves the old file
/// or the new one, never a torn one. This is [`kindling_io::write_atomic`] with the data
/// layer's [`Error`].
///
/// # Errors
/// [`Error::Io`] when any step fails (the partial file is removed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(kindling_io::write_atomic(path, bytes)?)
}

/// A streaming line reader over one (possibly gzipped) file.
///
/// [`Lines::read_line`] reuses one buffer and is what the hot paths use; the [`Iterator`]
/// implementation yields owned [`Line`]s.
pub struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    encoding: Encoding,
    number: usize,
    bytes: Vec<u8>,
    max_line_bytes: usize,
}

/// The longest line [`Lines`] reads by default: far beyond any text line of a dataset, short
/// enough that a file without newlines (or a gzip bomb) is an error instead of exhausting memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// One line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The decoded text, without its line terminator.
    pub text: String,
}

impl Lines {
    /// Opens `path` (gzip or plain) for reading line by line in `encoding`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(path: &Path, encoding: Encoding) -> Result<Self> {
        Ok(Self::new(path, open(path)?, encoding))
    }

    /// Reads lines from an already opened reader; `path` names it in errors.
    pub fn new(path: &Path, reader: Box<dyn BufRead + Send>, encoding: Encoding) -> Self {
        Self {
            path: path.to_path_buf(),
            reader,
            encoding,
            number: 0,
            bytes: Vec::new(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Refuses lines longer than `bytes` (decompressed, terminator excluded) with an error
    /// naming file and line, instead of [`DEFAULT_MAX_LINE_BYTES`].
    pub fn with_max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes;
        self
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of the last line read (0 before the first).
    pub fn number(&self) -> usize {
        self.number
    }

    /// Reads the next line into `out` and returns its 1-based number, or `None` at the end.
    ///
    /// # Errors
    /// [`Error::ReadAt`] when reading fails (a truncated gzip stream, say),
    /// [`Error::Malformed`] for a line longer than the limit (see
    /// [`Lines::with_max_line_bytes`]) and [`Error::Encoding`] for a line that is not valid in
    /// the encoding.
    pub fn read_line(&mut self, out: &mut String) -> Result<Option<usize>> {
        self.bytes.clear();
        // The terminator (`\r\n` at most) and one byte more than the limit: enough to tell a
        // line that is too long.
        let budget = self.max_line_bytes.saturating_add(3) as u64;
        let read = (&mut self.reader)
            .take(budget)
            .read_until(b'\n', &mut self.bytes)
            .map_err(|source| Error::ReadAt {
                path: self.path.clone(),
                line: self.number + 1,
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = self.bytes.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        if line.len() > self.max_line_bytes {
            return Err(Error::malformed(
                &self.path,
                self.number,
                format!(
                    "a line longer than {} bytes: not a text file of lines, or a line far longer than any dataset's",
                    self.max_line_bytes
                ),
            ));
        }
        if self.number == 1 && self.encoding == Encoding::Utf8 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        self.encoding
            .decode_into(line, out, &self.path, self.number)?;
        Ok(Some(self.number))
    }
}

impl Iterator for Lines {
    type Item = Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut text = String::new();
        match self.read_line(&mut text) {
            Ok(Some(number)) => Some(Ok(Line { number, text })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Reads every line of `path`; a convenience for small files.
///
/// # Errors
/// As [`Lines::read_line`], plus [`Error::Io`] when the file cannot be opened.
pub fn read_lines(path: &Path, encoding: Encoding) -> Result<Vec<Line>> {
    Lines::open(path, encoding)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_limit_is_an_error_naming_file_and_line() {
        let dir = std::env::temp_dir().join(format!("kindling-long-line-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("long.txt");
        std::fs::write(&path, format!("short\n{}\nafter\n", "x".repeat(100))).unwrap();
        let mut lines = Lines::open(&path, Encoding::Utf8)
            .unwrap()
            .with_max_line_bytes(10);
        let mut text = String::new();
        assert_eq!(lines.read_line(&mut text).unwrap(), Some(1));
        let err = lines.read_line(&mut text).unwrap_err().to_string();
        assert!(
            err.contains("long.txt:2") && err.contains("longer than 10 bytes"),
            "{err}"
        );
        // Exactly at the limit, with either terminator, is fine.
        std::fs::write(&path, format!("{}\r\n{}", "y".repeat(10), "z".repeat(10))).unwrap();
        let read: Vec<String> = Lines::open(&path, Encoding::Utf8)
            .unwrap()
            .with_max_line_bytes(10)
            .map(|l| l.unwrap().text)
            .collect();
        assert_eq!(read, ["y".repeat(10), "z".repeat(10)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    use crate::testing::{gzip, scratch_file};

    fn texts(path: &Path, encoding: Encoding) -> Vec<String> {
        read_lines(path, encoding)
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn splits_on_newline_only_and_drops_carriage_returns() {
        let path = scratch_file("lines.txt", b"\xEF\xBB\xBFa b\r\n\nc\x0Bd\nlast");
        assert_eq!(texts(&path, Encoding::Utf8), ["a b", "", "c\u{b}d", "last"]);
    }

    #[test]
    fn empty_file_has_no_lines() {
        let path = scratch_file("empty.txt", b"");
        assert!(texts(&path, Encoding::Utf8).is_empty());
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let path = scratch_file("plain-name.txt", &gzip("één\ntwee\n".as_bytes()));
        assert_eq!(texts(&path, Encoding::Utf8), ["één", "twee"]);
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_short_file() {
        let mut data = gzip(&b"a line of text that compresses\n".repeat(2000));
        data.truncate(data.len() / 2);
        let path = scratch_file("truncated.gz", &data);
        let err = read_lines(&path, Encoding::Utf8).unwrap_err();
        assert!(matches!(err, Error::ReadAt { .. }), "{err}");
        assert!(err.to_string().contains("truncated.gz:"), "{err}");
    }

    #[test]
    fn invalid_utf8_names_file_line_and_byte_unless_another_encoding_is_chosen() {
        let path = scratch_file("latin1.txt", b"ok\nna\xefve \x85 caf\xe9\n");
        let err = read_lines(&path, Encoding::Utf8).unwrap_err().to_string();
        assert!(
            err.contains("latin1.txt:2: invalid UTF-8 at byte 2"),
            "{err}"
        );
        assert_eq!(
            texts(&path, Encoding::Latin1),
            ["ok", "na\u{ef}ve \u{85} caf\u{e9}"]
        );
        assert_eq!(
            texts(&path, Encoding::Lossy),
            ["ok", "na\u{FFFD}ve \u{FFFD} caf\u{FFFD}"]
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_nothing_behind() {
        let path = scratch_file("target.txt", b"old");
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["target.txt"]);
        let err = write_atomic(Path::new("/proc/kindling/x"), b"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/proc/kindling"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Lines::open(Path::new("/nonexistent/x.txt"), Encoding::Utf8)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("opening /nonexistent/x.txt"), "{err}");
    }
}
