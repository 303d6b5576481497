//! A verified container for binary files: a JSON header and named, checksummed byte sections.
//!
//! # Layout
//!
//! ```text
//! magic            8 bytes, names the kind of file
//! version          u32, little endian
//! header length    u64, little endian
//! header           JSON: {"sections": [{"name", "len", "fnv"}, …], "header": <caller's header>}
//! header checksum  u64, little endian: FNV-1a 64 of the header bytes
//! sections         the sections' bytes, back to back, in the order the header lists them
//! ```
//!
//! Reading verifies, in order: the magic, the version, that every declared length fits (with
//! checked arithmetic, so a header claiming 2^64 bytes is an error, not an overflow), the
//! header checksum (so a flipped digit anywhere in the JSON is caught), that the file ends
//! exactly where the last section does (truncated or trailing bytes), and each section's
//! checksum. Every error names the file, the byte offset and what was expected.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::fnv::fnv1a;
use crate::{Error, Problem, Result};

/// Bytes before the header: magic, version, header length.
const PREAMBLE: u64 = 8 + 4 + 8;
/// Bytes of the header checksum.
const CHECKSUM: u64 = 8;

/// What identifies a kind of container file: its magic bytes and format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// The first 8 bytes of every file of this kind.
    pub magic: [u8; 8],
    /// The format version this build writes and reads.
    pub version: u32,
}

impl FileKind {
    /// A file kind with `magic` and `version`.
    pub const fn new(magic: [u8; 8], version: u32) -> Self {
        Self { magic, version }
    }
}

/// One section as the header lists it.
#[derive(Serialize, Deserialize)]
struct SectionEntry {
    name: String,
    len: u64,
    /// FNV-1a 64 of the section, 16 lower-case hex digits.
    fnv: String,
}

#[derive(Serialize)]
struct EnvelopeOut<'a, H: ?Sized> {
    sections: Vec<SectionEntry>,
    header: &'a H,
}

#[derive(Deserialize)]
struct EnvelopeIn<H> {
    sections: Vec<SectionEntry>,
    header: H,
}

/// A container read and verified by [`decode`] or [`read`].
#[derive(Debug)]
pub struct Container<H> {
    /// The caller's header.
    pub header: H,
    bytes: Vec<u8>,
    sections: Vec<(String, Range<usize>)>,
    origin: std::path::PathBuf,
}

impl<H> Container<H> {
    /// The names of the sections, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(name, _)| name.as_str())
    }

    /// The bytes of section `name`, if the file has one.
    pub fn section(&self, name: &str) -> Option<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, range)| &self.bytes[range.clone()])
    }

    /// A copy of the bytes of section `name`.
    ///
    /// # Errors
    /// [`Problem::MissingSection`] when the file has no such section.
    pub fn take(&self, name: &str) -> Result<Vec<u8>> {
        self.section(name)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::format(&self.origin, Problem::MissingSection(name.to_string())))
    }
}

/// Lays out a container of `kind` with `header` and the named `sections`, in memory.
///
/// # Errors
/// [`Error::Json`] when the header does not serialise, [`Problem::DuplicateSection`] when two
/// sections share a name.
pub fn encode<H: Serialize + ?Sized>(
    kind: FileKind,
    header: &H,
    sections: &[(&str, &[u8])],
) -> Result<Vec<u8>> {
    encode_for(Path::new("<memory>"), kind, header, sections)
}

/// Writes a container of `kind` to `path` atomically (see [`write_atomic`]).
///
/// # Errors
/// As [`encode`], and [`Error::Io`] when writing fails.
pub fn write<H: Serialize + ?Sized>(
    path: &Path,
    kind: FileKind,
    header: &H,
    sections: &[(&str, &[u8])],
) -> Result<()> {
    write_atomic(path, &encode_for(path, kind, header, sections)?)
}

fn encode_for<H: Serialize + ?Sized>(
    path: &Path,
    kind: FileKind,
    header: &H,
    sections: &[(&str, &[u8])],
) -> Result<Vec<u8>> {
    for (i, (name, _)) in sections.iter().enumerate() {
        if sections[..i].iter().any(|(other, _)| other == name) {
            return Err(Error::format(
                path,
                Problem::DuplicateSection(name.to_string()),
            ));
        }
    }
    let envelope = EnvelopeOut {
        sections: sections
            .iter()
            .map(|(name, bytes)| SectionEntry {
                name: name.to_string(),
                len: bytes.len() as u64,
                fnv: format!("{:016x}", fnv1a(bytes)),
            })
            .collect(),
        header,
    };
    let json = serde_json::to_vec(&envelope).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let body: usize = sections.iter().map(|(_, bytes)| bytes.len()).sum();
    let mut out = Vec::with_capacity(PREAMBLE as usize + json.len() + CHECKSUM as usize + body);
    out.extend_from_slice(&kind.magic);
    out.extend_from_slice(&kind.version.to_le_bytes());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&fnv1a(&json).to_le_bytes());
    for (_, bytes) in sections {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// Reads the container file at `path` and verifies it (see [`decode`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, else as [`decode`].
pub fn read<H: DeserializeOwned>(path: &Path, kind: FileKind) -> Result<Container<H>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    decode(bytes, kind, path)
}

/// Verifies `bytes` as a container of `kind`; `origin` names them in errors.
///
/// # Errors
/// [`Error::Format`] with a [`Problem`] for a wrong magic or version, a length that overflows,
/// a truncated file, trailing bytes, a checksum mismatch (header or section), a header that is
/// not the expected JSON, or a section name used twice.
pub fn decode<H: DeserializeOwned>(
    bytes: Vec<u8>,
    kind: FileKind,
    origin: &Path,
) -> Result<Container<H>> {
    let fail = |problem| Error::format(origin, problem);
    let file_len = bytes.len() as u64;
    if bytes.get(..8) != Some(&kind.magic[..]) {
        return Err(fail(Problem::BadMagic {
            expected: kind.magic.escape_ascii().to_string(),
            found: bytes[..bytes.len().min(8)].escape_ascii().to_string(),
        }));
    }
    let (Some(version), Some(header_len)) = (
        bytes.get(8..12).and_then(|b| b.try_into().ok()),
        bytes.get(12..20).and_then(|b| b.try_into().ok()),
    ) else {
        return Err(fail(Problem::Truncated {
            what: "the preamble (magic, version, header length)".into(),
            needed: PREAMBLE,
            found: file_len,
        }));
    };
    let version = u32::from_le_bytes(version);
    if version != kind.version {
        return Err(fail(Problem::Version {
            found: version,
            expected: kind.version,
        }));
    }
    let header_len = u64::from_le_bytes(header_len);
    let header_end = PREAMBLE
        .checked_add(header_len)
        .and_then(|end| end.checked_add(CHECKSUM))
        .ok_or_else(|| {
            fail(Problem::Overflow {
                what: "the header".into(),
                offset: PREAMBLE,
                len: header_len,
            })
        })?;
    if header_end > file_len {
        return Err(fail(Problem::Truncated {
            what: "the header and its checksum".into(),
            needed: header_end,
            found: file_len,
        }));
    }
    // Every offset from here on is at most `file_len`, so it fits in a usize.
    let json_range = PREAMBLE as usize..(header_end - CHECKSUM) as usize;
    let json = &bytes[json_range.clone()];
    let stored = u64::from_le_bytes(
        bytes[json_range.end..header_end as usize]
            .try_into()
            .expect("checked: 8 bytes"),
    );
    let computed = fnv1a(json);
    if stored != computed {
        return Err(fail(Problem::Checksum {
            what: "the header".into(),
            offset: PREAMBLE,
            stored,
            computed,
        }));
    }
    let envelope: EnvelopeIn<H> = serde_json::from_slice(json).map_err(|e| {
        fail(Problem::Header {
            offset: PREAMBLE,
            message: e.to_string(),
        })
    })?;

    let mut spans = Vec::with_capacity(envelope.sections.len());
    let mut offset = header_end;
    for entry in envelope.sections {
        if spans.iter().any(|(name, _, _)| *name == entry.name) {
            return Err(fail(Problem::DuplicateSection(entry.name)));
        }
        let stored = u64::from_str_radix(&entry.fnv, 16)
            .ok()
            .filter(|_| entry.fnv.len() == 16)
            .ok_or_else(|| {
                fail(Problem::Header {
                    offset: PREAMBLE,
                    message: format!(
                        "section `{}` has checksum `{}`, expected 16 hex digits",
                        entry.name, entry.fnv
                    ),
                })
            })?;
        let end = offset.checked_add(entry.len).ok_or_else(|| {
            fail(Problem::Overflow {
                what: format!("section `{}`", entry.name),
                offset,
                len: entry.len,
            })
        })?;
        if end > file_len {
            return Err(fail(Problem::Truncated {
                what: format!("section `{}`", entry.name),
                needed: end,
                found: file_len,
            }));
        }
        spans.push((entry.name, offset..end, stored));
        offset = end;
    }
    if offset != file_len {
        return Err(fail(Problem::TrailingBytes {
            expected: offset,
            found: file_len,
        }));
    }
    let mut sections = Vec::with_capacity(spans.len());
    for (name, span, stored) in spans {
        let range = span.start as usize..span.end as usize;
        let computed = fnv1a(&bytes[range.clone()]);
        if computed != stored {
            return Err(fail(Problem::Checksum {
                what: format!("section `{name}`"),
                offset: span.start,
                stored,
                computed,
            }));
        }
        sections.push((name, range));
    }
    Ok(Container {
        header: envelope.header,
        bytes,
        sections,
        origin: origin.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: FileKind = FileKind::new(*b"KNDLTEST", 3);
    const ORIGIN: &str = "test.bin";

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Meta {
        epoch: u64,
        rng: u64,
    }

    fn sample() -> Vec<u8> {
        encode(
            KIND,
            &Meta {
                epoch: 7,
                rng: 123_456_789,
            },
            &[("model", b"model bytes"), ("optimizer", b"optimizer state")],
        )
        .unwrap()
    }

    fn problem(bytes: Vec<u8>) -> Problem {
        match decode::<Meta>(bytes, KIND, Path::new(ORIGIN)).unwrap_err() {
            Error::Format { path, problem } => {
                assert_eq!(path, Path::new(ORIGIN));
                problem
            }
            other => panic!("not a format error: {other}"),
        }
    }

    /// Offset of the first occurrence of `needle` in `bytes`.
    fn find(bytes: &[u8], needle: &[u8]) -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    #[test]
    fn round_trips_header_and_sections() {
        let file = decode::<Meta>(sample(), KIND, Path::new(ORIGIN)).unwrap();
        assert_eq!(
            file.header,
            Meta {
                epoch: 7,
                rng: 123_456_789
            }
        );
        assert_eq!(file.names().collect::<Vec<_>>(), ["model", "optimizer"]);
        assert_eq!(file.section("model").unwrap(), b"model bytes");
        assert_eq!(file.take("optimizer").unwrap(), b"optimizer state");
        let err = file.take("vocab").unwrap_err().to_string();
        assert_eq!(err, "test.bin: no `vocab` section");
    }

    #[test]
    fn writes_and_reads_a_file() {
        let path = std::env::temp_dir()
            .join(format!("kindling-io-{}-container", std::process::id()))
            .join("file.bin");
        write(&path, KIND, &Meta { epoch: 1, rng: 2 }, &[("a", b"xyz")]).unwrap();
        let file = read::<Meta>(&path, KIND).unwrap();
        assert_eq!(file.section("a").unwrap(), b"xyz");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        let err = read::<Meta>(&path, KIND).unwrap_err().to_string();
        assert!(
            err.starts_with("reading ") && err.contains("file.bin"),
            "{err}"
        );
    }

    #[test]
    fn flipped_header_digit_fails_the_header_checksum() {
        let mut bytes = sample();
        let at = find(&bytes, b"123456789");
        bytes[at] = b'9';
        let p = problem(bytes);
        assert!(
            matches!(&p, Problem::Checksum { what, offset: 20, .. } if what == "the header"),
            "{p}"
        );
    }

    #[test]
    fn flipped_section_byte_names_the_section() {
        let mut bytes = sample();
        let at = find(&bytes, b"optimizer state");
        bytes[at + 3] ^= 0x01;
        let p = problem(bytes);
        assert!(
            matches!(&p, Problem::Checksum { what, offset, .. }
                if what == "section `optimizer`" && *offset == at as u64),
            "{p}"
        );
    }

    #[test]
    fn flipped_header_checksum_is_detected() {
        let mut bytes = sample();
        let at = find(&bytes, b"model bytes") - 1;
        bytes[at] ^= 0x80;
        assert!(matches!(problem(bytes), Problem::Checksum { .. }));
    }

    #[test]
    fn truncated_file_names_the_cut_section() {
        let mut bytes = sample();
        let full = bytes.len() as u64;
        bytes.pop();
        let p = problem(bytes);
        assert_eq!(
            p,
            Problem::Truncated {
                what: "section `optimizer`".into(),
                needed: full,
                found: full - 1,
            }
        );
        assert!(p.to_string().starts_with("truncated: section `optimizer`"));
        for len in [0, 5, 8, 15, 20, 40] {
            let mut bytes = sample();
            bytes.truncate(len);
            let p = problem(bytes);
            assert!(
                matches!(p, Problem::Truncated { .. } | Problem::BadMagic { .. }),
                "{len}: {p}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut bytes = sample();
        let full = bytes.len() as u64;
        bytes.extend_from_slice(b"junk");
        assert_eq!(
            problem(bytes),
            Problem::TrailingBytes {
                expected: full,
                found: full + 4
            }
        );
    }

    #[test]
    fn huge_header_length_is_an_overflow_not_a_panic() {
        let mut bytes = sample();
        bytes[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(problem(bytes), Problem::Overflow { .. }));
        let mut bytes = sample();
        bytes[12..20].copy_from_slice(&(u64::MAX - 30).to_le_bytes());
        assert!(matches!(problem(bytes), Problem::Truncated { .. }));
    }

    #[test]
    fn huge_section_length_is_an_overflow_not_a_panic() {
        // A header whose checksum is right but whose section claims 2^64 - 1 bytes.
        let json = format!(
            r#"{{"sections":[{{"name":"a","len":1,"fnv":"{:016x}"}},{{"name":"b","len":{},"fnv":"0000000000000000"}}],"header":{{"epoch":1,"rng":2}}}}"#,
            fnv1a(b"x"),
            u64::MAX
        );
        let mut bytes = KIND.magic.to_vec();
        bytes.extend_from_slice(&KIND.version.to_le_bytes());
        bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
        bytes.extend_from_slice(json.as_bytes());
        bytes.extend_from_slice(&fnv1a(json.as_bytes()).to_le_bytes());
        bytes.push(b'x');
        let p = problem(bytes);
        assert!(
            matches!(&p, Problem::Overflow { what, len: u64::MAX, .. } if what == "section `b`"),
            "{p}"
        );
    }

    #[test]
    fn wrong_magic_and_version_are_named() {
        let mut bytes = sample();
        bytes[..8].copy_from_slice(b"SOMETHIN");
        assert_eq!(
            problem(bytes).to_string(),
            "not a `KNDLTEST` file: it starts with `SOMETHIN`"
        );
        let mut bytes = sample();
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let err = decode::<Meta>(bytes, KIND, Path::new(ORIGIN))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "test.bin: format version 2, this build reads version 3"
        );
    }

    #[test]
    fn duplicate_sections_are_refused() {
        let err = encode(KIND, &Meta { epoch: 0, rng: 0 }, &[("a", b""), ("a", b"")]);
        assert!(matches!(
            err,
            Err(Error::Format {
                problem: Problem::DuplicateSection(_),
                ..
            })
        ));
    }

    #[test]
    fn a_header_of_the_wrong_shape_is_unreadable() {
        let bytes = encode(KIND, &"just a string", &[]).unwrap();
        assert!(matches!(problem(bytes), Problem::Header { offset: 20, .. }));
    }
}
