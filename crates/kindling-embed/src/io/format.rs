//! Reading and writing word vectors: word2vec text (fastText's `.vec` is the same format),
//! word2vec binary and GloVe text (no header). gzip is read transparently and written when the
//! path ends in `.gz`.
//!
//! Floats are written in Rust's shortest round-trip form, so writing and reading back gives the
//! same bits.
//!
//! Files are not trusted: NaN and infinite values are errors naming the file and line (or
//! vector), and a binary header's counts are checked with overflow-safe arithmetic. Nothing is
//! preallocated beyond what the file can hold (a gzipped file, whose size says nothing, gets a
//! bounded preallocation), so a header claiming 10^12 words fails at the first missing entry
//! instead of allocating terabytes.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use kindling_data::source::{Encoding, Lines, open};
use kindling_io::write_atomic;

use crate::vectors::WordVectors;
use crate::{Error, Result};

/// A word-vector file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorFormat {
    /// `COUNT DIM` header, then `word v1 … vD` per line (also fastText's `.vec`).
    Word2VecText,
    /// `COUNT DIM\n` header, then per word: the word, a space, `DIM` little-endian f32s and an
    /// optional newline (the original C tool's layout).
    Word2VecBinary,
    /// `word v1 … vD` per line, no header (Stanford GloVe).
    GloveText,
    /// A fastText model file (`.bin` of `fasttext skipgram|cbow`): read as the vectors of its
    /// words; see [`crate::io::fasttext_bin`] for the whole subword model, unknown words
    /// included.
    FastTextModel,
}

impl VectorFormat {
    /// The format to write a new file named `path` in: `.bin` (before any `.gz`) is binary, a
    /// name containing `glove` is GloVe text, anything else word2vec text (fastText's `.vec`).
    pub fn for_output(path: &Path) -> Self {
        if is_binary_name(path) {
            Self::Word2VecBinary
        } else if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().to_lowercase().contains("glove"))
        {
            Self::GloveText
        } else {
            Self::Word2VecText
        }
    }

    /// Guesses the format of `path`: fastText's magic number first means a fastText model;
    /// otherwise `.bin` (before any `.gz`) is word2vec binary, a first line of two integers
    /// word2vec text, anything else GloVe text.
    ///
    /// # Errors
    /// File errors from opening and reading the first line.
    pub fn detect(path: &Path) -> Result<Self> {
        let mut head = [0u8; 4];
        let read = read_head(path, &mut head)?;
        if super::fasttext_bin::is_fasttext_model(&head[..read]) {
            return Ok(Self::FastTextModel);
        }
        if is_binary_name(path) {
            return Ok(Self::Word2VecBinary);
        }
        let mut lines = Lines::open(path, Encoding::Utf8)?;
        let mut first = String::new();
        lines.read_line(&mut first)?;
        Ok(if parse_header(&first).is_some() {
            Self::Word2VecText
        } else {
            Self::GloveText
        })
    }
}

/// Reads up to `head.len()` first bytes of `path` (decompressed when gzip).
pub(crate) fn read_head(path: &Path, head: &mut [u8]) -> Result<usize> {
    let mut input = open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        let read = input
            .read(&mut head[filled..])
            .map_err(|e| Error::Data(kindling_data::Error::io("reading", path, e)))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

/// Whether `path` names a binary file: `.bin`, before any `.gz`.
fn is_binary_name(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.strip_suffix(".gz").unwrap_or(&name).ends_with(".bin")
}

fn parse_header(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.split_ascii_whitespace();
    let count = fields.next()?.parse().ok()?;
    let dim = fields.next()?.parse().ok()?;
    fields.next().is_none().then_some((count, dim))
}

/// Reads vectors in `format`, at most `limit` of them (the first ones in the file).
///
/// # Errors
/// [`Error::Format`] naming the line (entry, for binary) of a bad header, a dimension of 0, a
/// wrong number of values, a value that is not a number or is NaN or infinite, a truncated
/// file or a count that disagrees with the header; for binary files also a header whose sizes
/// overflow; [`Error::Data`] for I/O and encoding errors.
pub fn read_vectors(
    path: &Path,
    format: VectorFormat,
    limit: Option<usize>,
) -> Result<WordVectors> {
    match format {
        VectorFormat::Word2VecBinary => read_binary(path, limit),
        VectorFormat::Word2VecText => read_text(path, true, limit),
        VectorFormat::GloveText => read_text(path, false, limit),
        VectorFormat::FastTextModel => {
            let vectors = super::fasttext_bin::read_fasttext_model(path)?.vectors();
            Ok(match limit {
                Some(limit) => vectors.truncated(limit),
                None => vectors,
            })
        }
    }
}

fn format_error(path: &Path, line: usize, problem: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        line,
        problem: problem.into(),
    }
}

fn read_text(path: &Path, header: bool, limit: Option<usize>) -> Result<WordVectors> {
    let mut lines = Lines::open(path, Encoding::Utf8)?;
    let mut text = String::new();
    let mut declared: Option<(usize, usize)> = None;
    if header {
        if lines.read_line(&mut text)?.is_none() {
            return Err(format_error(
                path,
                1,
                "empty file: expected a `COUNT DIM` header",
            ));
        }
        let (count, dim) = parse_header(&text).ok_or_else(|| {
            format_error(
                path,
                1,
                format!("expected a `COUNT DIM` header, found `{}`", text.trim_end()),
            )
        })?;
        if dim == 0 {
            return Err(format_error(path, 1, "the header declares dimension 0"));
        }
        declared = Some((count, dim));
    }
    let mut dim = declared.map(|(_, d)| d);
    let limit = limit.unwrap_or(usize::MAX);
    let wanted = declared.map_or(limit, |(count, _)| count.min(limit));
    let mut words = Vec::new();
    let mut data = Vec::new();
    while words.len() < wanted {
        let Some(line) = lines.read_line(&mut text)? else {
            break;
        };
        let mut fields = text.split_ascii_whitespace();
        let Some(word) = fields.next() else {
            return Err(format_error(path, line, "blank line"));
        };
        let start = data.len();
        for field in fields {
            let value: f32 = field
                .parse()
                .map_err(|_| format_error(path, line, format!("`{field}` is not a number")))?;
            if !value.is_finite() {
                let component = data.len() - start + 1;
                return Err(format_error(
                    path,
                    line,
                    format!("`{word}` has the non-finite value `{field}` (component {component})"),
                ));
            }
            data.push(value);
        }
        let found = data.len() - start;
        let expected = *dim.get_or_insert(found);
        if found != expected || found == 0 {
            return Err(format_error(
                path,
                line,
                format!("`{word}` has {found} values, expected {expected}"),
            ));
        }
        words.push(word.to_string());
    }
    if let Some((count, _)) = declared {
        if words.len() < wanted {
            return Err(format_error(
                path,
                lines.number(),
                format!(
                    "the header declares {count} vectors but the file has {}",
                    words.len()
                ),
            ));
        }
        if wanted == count
            && lines
                .read_line(&mut text)?
                .is_some_and(|_| !text.trim().is_empty())
        {
            return Err(format_error(
                path,
                lines.number(),
                format!("the header declares {count} vectors but the file has more"),
            ));
        }
    }
    let dim = dim.ok_or_else(|| format_error(path, 1, "no vectors"))?;
    WordVectors::new(words, dim, data)
}

/// Values preallocated at most for a gzipped binary file, whose size says nothing about the
/// size of its content (4 MiB; the table grows as rows are actually read).
const GZIP_PREALLOCATION: usize = 1 << 20;

/// Values of a binary vector read at a time.
const READ_CHUNK: usize = 1 << 14;

/// The size of `path` when it is a plain file (not gzip, which [`open`] would decompress).
fn plain_file_size(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    (!gzip)
        .then(|| file.metadata().ok().map(|m| m.len()))
        .flatten()
}

fn read_binary(path: &Path, limit: Option<usize>) -> Result<WordVectors> {
    let mut reader = open(path)?;
    let io = |entry: usize| {
        move |e: std::io::Error| format_error(path, entry, format!("read failed: {e}"))
    };
    let mut header = Vec::new();
    reader.read_until(b'\n', &mut header).map_err(io(0))?;
    let header_len = header.len();
    let header = String::from_utf8_lossy(&header);
    let (declared, dim) = parse_header(&header).ok_or_else(|| {
        format_error(
            path,
            0,
            format!(
                "expected a `COUNT DIM` header, found `{}`",
                header.trim_end()
            ),
        )
    })?;
    if dim == 0 {
        return Err(format_error(path, 0, "the header declares dimension 0"));
    }
    let count = declared.min(limit.unwrap_or(usize::MAX));
    // Each entry holds at least a one-byte word, a space and `dim` f32s.
    let too_large = || {
        format_error(
            path,
            0,
            format!("the header declares {declared} vectors of dimension {dim}: too large"),
        )
    };
    let row_bytes = dim
        .checked_mul(4)
        .and_then(|b| b.checked_add(2))
        .ok_or_else(too_large)?;
    count.checked_mul(row_bytes).ok_or_else(too_large)?;
    count.checked_mul(dim).ok_or_else(too_large)?;
    // Preallocate no more rows than the file can hold; a short file then fails at the first
    // missing entry, naming it.
    let capacity = match plain_file_size(path) {
        Some(size) => {
            let available = size.saturating_sub(header_len as u64);
            count.min(usize::try_from(available / row_bytes as u64).unwrap_or(usize::MAX))
        }
        None => count.min(GZIP_PREALLOCATION / dim),
    };
    let mut words = Vec::with_capacity(capacity);
    let mut data = Vec::with_capacity(capacity * dim);
    let mut word = Vec::new();
    let mut values = vec![0u8; dim.min(READ_CHUNK) * 4];
    for entry in 1..=count {
        word.clear();
        loop {
            let mut byte = [0u8];
            if reader.read(&mut byte).map_err(io(entry))? == 0 {
                return Err(format_error(
                    path,
                    entry,
                    format!("file ends before vector {entry} of {count}"),
                ));
            }
            match byte[0] {
                b' ' if !word.is_empty() => break,
                b'\n' | b' ' if word.is_empty() => {}
                b => word.push(b),
            }
            if word.len() > 1 << 16 {
                return Err(format_error(
                    path,
                    entry,
                    "a word longer than 64 KiB: not a word2vec binary file",
                ));
            }
        }
        let word = String::from_utf8(std::mem::take(&mut word))
            .map_err(|_| format_error(path, entry, "the word is not valid UTF-8"))?;
        // Read in bounded pieces, so that memory grows only with the bytes really there.
        let mut component = 0;
        while component < dim {
            let take = (dim - component).min(READ_CHUNK);
            let bytes = &mut values[..take * 4];
            reader.read_exact(bytes).map_err(|_| {
                format_error(
                    path,
                    entry,
                    format!("file ends inside the vector of entry {entry} of {count}"),
                )
            })?;
            for b in bytes.chunks_exact(4) {
                let value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                component += 1;
                if !value.is_finite() {
                    return Err(format_error(
                        path,
                        entry,
                        format!(
                            "`{word}` (vector {entry}) has the non-finite value {value} \
                             (component {component})"
                        ),
                    ));
                }
                data.push(value);
            }
        }
        words.push(word);
    }
    WordVectors::new(words, dim, data)
}

/// Writes `vectors` in `format` atomically; gzip-compressed when `path` ends in `.gz`.
///
/// # Errors
/// [`Error::Invalid`] for [`VectorFormat::FastTextModel`] (a whole model, not vectors), a word
/// that the format cannot hold (empty, or containing whitespace)
/// or a vector with a value that is not finite (which no reader accepts back); [`Error::Data`]
/// when writing fails.
pub fn write_vectors(vectors: &WordVectors, path: &Path, format: VectorFormat) -> Result<()> {
    if format == VectorFormat::FastTextModel {
        return Err(Error::Invalid {
            what: "format",
            problem: format!(
                "{}: a fastText model file holds a whole subword model, not vectors alone; write one with `write_fasttext_model`",
                path.display()
            ),
        });
    }
    let mut out = Vec::with_capacity(vectors.len() * (vectors.dim() * 10 + 12));
    if format != VectorFormat::GloveText {
        writeln!(out, "{} {}", vectors.len(), vectors.dim()).expect("writing to memory");
    }
    for (i, word) in vectors.words().iter().enumerate() {
        if word.is_empty() || word.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(Error::Invalid {
                what: "word",
                problem: format!("{word:?} is empty or contains whitespace"),
            });
        }
        if let Some(value) = vectors.row(i).iter().find(|v| !v.is_finite()) {
            return Err(Error::Invalid {
                what: "vector",
                problem: format!(
                    "the vector of {word:?} holds {value}; nothing was written to {} (training diverged: lower the learning rate)",
                    path.display()
                ),
            });
        }
        out.extend_from_slice(word.as_bytes());
        match format {
            VectorFormat::Word2VecBinary => {
                out.push(b' ');
                for value in vectors.row(i) {
                    out.extend_from_slice(&value.to_le_bytes());
                }
            }
            VectorFormat::Word2VecText | VectorFormat::GloveText | VectorFormat::FastTextModel => {
                for value in vectors.row(i) {
                    write!(out, " {value}").expect("writing to memory");
                }
            }
        }
        out.push(b'\n');
    }
    if path.extension().is_some_and(|e| e == "gz") {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&out).expect("writing to memory");
        out = encoder.finish().expect("writing to memory");
    }
    Ok(write_atomic(path, &out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, content: &[u8]) -> std::path::PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kindling-embed-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn sample() -> WordVectors {
        WordVectors::new(
            vec!["the".into(), "café".into(), "x".into()],
            3,
            vec![
                0.1,
                -2.5e-8,
                3.0,
                f32::MIN_POSITIVE,
                1.0 / 3.0,
                -0.0,
                7.0,
                8.5,
                1e30,
            ],
        )
        .unwrap()
    }

    #[test]
    fn every_format_round_trips_exactly_plain_and_gzipped() {
        let vectors = sample();
        for format in [
            VectorFormat::Word2VecText,
            VectorFormat::Word2VecBinary,
            VectorFormat::GloveText,
        ] {
            for name in ["v.bin", "v.txt.gz"] {
                let path = scratch(name, b"");
                write_vectors(&vectors, &path, format).unwrap();
                let back = read_vectors(&path, format, None).unwrap();
                assert_eq!(back.words(), vectors.words(), "{format:?} {name}");
                let bits =
                    |v: &WordVectors| v.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&back), bits(&vectors), "{format:?} {name}");
                assert_eq!(read_vectors(&path, format, Some(2)).unwrap().len(), 2);
            }
        }
    }

    #[test]
    fn detect_tells_formats_apart() {
        let vectors = sample();
        for (name, format) in [
            ("a.bin.gz", VectorFormat::Word2VecBinary),
            ("a.vec", VectorFormat::Word2VecText),
            ("a.txt", VectorFormat::GloveText),
        ] {
            let path = scratch(name, b"");
            write_vectors(&vectors, &path, format).unwrap();
            assert_eq!(VectorFormat::detect(&path).unwrap(), format, "{name}");
        }
    }

    #[test]
    fn malformed_text_files_name_the_line() {
        let cases: [(&[u8], VectorFormat, &str); 7] = [
            (
                b"2 2\na 1 2\nb 1\n",
                VectorFormat::Word2VecText,
                ":3: `b` has 1 values, expected 2",
            ),
            (
                b"a 1 2\nb 1 x\n",
                VectorFormat::GloveText,
                ":2: `x` is not a number",
            ),
            (
                b"2 2\na 1 2\n",
                VectorFormat::Word2VecText,
                "declares 2 vectors but the file has 1",
            ),
            (
                b"1 2\na 1 2\nb 3 4\n",
                VectorFormat::Word2VecText,
                "declares 1 vectors but the file has more",
            ),
            (
                b"hello\n",
                VectorFormat::Word2VecText,
                ":1: expected a `COUNT DIM` header",
            ),
            (b"a 1\n\nb 2\n", VectorFormat::GloveText, ":2: blank line"),
            (b"", VectorFormat::GloveText, "no vectors"),
        ];
        for (content, format, expected) in cases {
            let err = read_vectors(&scratch("bad.txt", content), format, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err} / {expected}");
        }
    }

    #[test]
    fn truncated_binary_names_the_entry() {
        let path = scratch("v.bin", b"");
        write_vectors(&sample(), &path, VectorFormat::Word2VecBinary).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cut = scratch("cut.bin", &bytes[..bytes.len() - 7]);
        let err = read_vectors(&cut, VectorFormat::Word2VecBinary, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cut.bin:3: file ends inside the vector of entry 3 of 3"),
            "{err}"
        );
        let cut = scratch("cut2.bin", &bytes[..bytes.len() - 14]);
        let err = read_vectors(&cut, VectorFormat::Word2VecBinary, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cut2.bin:3: file ends before vector 3 of 3"),
            "{err}"
        );
        let err = read_vectors(
            &scratch("h.bin", b"x y\n"),
            VectorFormat::Word2VecBinary,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("h.bin:0: expected a `COUNT DIM` header"),
            "{err}"
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A word2vec binary file: `header`, then each word with its values.
    fn binary(header: &str, rows: &[(&str, &[f32])]) -> Vec<u8> {
        let mut bytes = header.as_bytes().to_vec();
        for (word, values) in rows {
            bytes.extend_from_slice(word.as_bytes());
            bytes.push(b' ');
            for v in *values {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.push(b'\n');
        }
        bytes
    }

    fn binary_error(name: &str, content: &[u8]) -> String {
        read_vectors(&scratch(name, content), VectorFormat::Word2VecBinary, None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn binary_headers_larger_than_the_file_are_errors() {
        // Whatever the header claims, memory grows only with the rows really there, and reading
        // stops at the first missing one.
        let row: &[f32] = &[1.0, 2.0];
        for gzipped in [false, true] {
            let file = |content: Vec<u8>| if gzipped { gzip(&content) } else { content };
            let name = if gzipped { "many.bin.gz" } else { "many.bin" };
            let err = binary_error(name, &file(binary("1000000000000 2\n", &[("a", row)])));
            assert!(
                err.contains(&format!(
                    "{name}:2: file ends before vector 2 of 1000000000000"
                )),
                "{err}"
            );
            let name = if gzipped { "wide.bin.gz" } else { "wide.bin" };
            let err = binary_error(name, &file(binary("1 1000000000000\n", &[("a", row)])));
            assert!(
                err.contains(&format!(
                    "{name}:1: file ends inside the vector of entry 1 of 1"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn binary_headers_that_overflow_or_have_no_dimension_are_errors() {
        let huge = format!("{} {}\n", usize::MAX / 2, usize::MAX / 2);
        let err = binary_error("overflow.bin", huge.as_bytes());
        assert!(
            err.contains("overflow.bin:0:") && err.contains("too large"),
            "{err}"
        );
        let err = binary_error("overflow.bin.gz", &gzip(huge.as_bytes()));
        assert!(
            err.contains("overflow.bin.gz:0:") && err.contains("too large"),
            "{err}"
        );
        let dim = format!("2 {}\n", usize::MAX / 4 + 1);
        let err = binary_error("dim.bin", dim.as_bytes());
        assert!(
            err.contains("dim.bin:0:") && err.contains("too large"),
            "{err}"
        );
        let err = binary_error("zero.bin", &binary("1 0\n", &[("a", &[])]));
        assert!(
            err.contains("zero.bin:0: the header declares dimension 0"),
            "{err}"
        );
    }

    #[test]
    fn non_finite_binary_values_name_the_vector() {
        for (bad, shown) in [
            (f32::NAN, "NaN"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ] {
            let rows: [(&str, &[f32]); 2] = [("ok", &[1.0, 2.0]), ("bad", &[3.0, bad])];
            let content = binary("2 2\n", &rows);
            for name in ["nan.bin", "nan.bin.gz"] {
                let content = if name.ends_with(".gz") {
                    gzip(&content)
                } else {
                    content.clone()
                };
                let err = binary_error(name, &content);
                assert!(
                    err.contains(&format!(
                        "{name}:2: `bad` (vector 2) has the non-finite value {shown} (component 2)"
                    )),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn non_finite_text_values_name_the_line() {
        let cases: [(&[u8], VectorFormat, &str); 5] = [
            (
                b"2 2\na 1 2\nb nan 1\n",
                VectorFormat::Word2VecText,
                ":3: `b` has the non-finite value `nan` (component 1)",
            ),
            (
                b"a 1 2\nb 3 inf\n",
                VectorFormat::GloveText,
                ":2: `b` has the non-finite value `inf` (component 2)",
            ),
            (
                b"a -infinity 2\n",
                VectorFormat::GloveText,
                ":1: `a` has the non-finite value `-infinity` (component 1)",
            ),
            (
                b"1 3\nword 0.5 NaN 1e39\n",
                VectorFormat::Word2VecText,
                ":2: `word` has the non-finite value `NaN` (component 2)",
            ),
            // Too large for an f32: parses as infinity.
            (
                b"a 1 1e39\n",
                VectorFormat::GloveText,
                ":1: `a` has the non-finite value `1e39` (component 2)",
            ),
        ];
        for (content, format, expected) in cases {
            for name in ["bad.vec", "bad.vec.gz"] {
                let content = if name.ends_with(".gz") {
                    gzip(content)
                } else {
                    content.to_vec()
                };
                let err = read_vectors(&scratch(name, &content), format, None)
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains(&format!("{name}{expected}")),
                    "{err} / {expected}"
                );
            }
        }
    }

    #[test]
    fn a_text_header_with_dimension_zero_is_an_error() {
        let err = read_vectors(
            &scratch("zero.vec", b"2 0\na\nb\n"),
            VectorFormat::Word2VecText,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("zero.vec:1: the header declares dimension 0"),
            "{err}"
        );
    }

    #[test]
    fn vectors_that_are_not_finite_are_never_written() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            // As a diverged training run hands them out.
            let v = WordVectors::from_training(
                vec!["ok".into(), "bad".into()],
                2,
                vec![1.0, 2.0, 0.5, bad],
            )
            .unwrap();
            for format in [
                VectorFormat::Word2VecText,
                VectorFormat::Word2VecBinary,
                VectorFormat::GloveText,
            ] {
                let path = scratch("nan.vec", b"before");
                let err = write_vectors(&v, &path, format).unwrap_err().to_string();
                assert!(
                    err.contains("\"bad\"") && err.contains(&bad.to_string()),
                    "{err}"
                );
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    b"before",
                    "the file was touched"
                );
            }
        }
    }

    #[test]
    fn output_formats_follow_the_name() {
        let format = |name: &str| VectorFormat::for_output(Path::new(name));
        assert_eq!(format("out/vectors.bin"), VectorFormat::Word2VecBinary);
        assert_eq!(format("vectors.bin.gz"), VectorFormat::Word2VecBinary);
        assert_eq!(format("my-GloVe.50d.txt.gz"), VectorFormat::GloveText);
        assert_eq!(format("vectors.vec"), VectorFormat::Word2VecText);
    }

    #[test]
    fn words_with_spaces_cannot_be_written() {
        let v = WordVectors::new(vec!["a b".into()], 1, vec![1.0]).unwrap();
        assert!(write_vectors(&v, &scratch("w.txt", b""), VectorFormat::GloveText).is_err());
    }
}
