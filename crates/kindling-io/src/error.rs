//! The error type of kindling-io: every error names the file, and format errors say where in
//! it (byte offset) and what was expected.

use std::path::{Path, PathBuf};

/// What can go wrong writing or reading a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`writing`, `renaming into place`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A value could not be serialised as JSON.
    #[error("{path}: serialising JSON: {source}")]
    Json {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// A file whose contents do not follow its format.
    #[error("{path}: {problem}")]
    Format {
        /// The file (or a description of the bytes read).
        path: PathBuf,
        /// What is wrong, and where.
        problem: Problem,
    },
}

/// What is wrong with a [`container`](crate::container) file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The file does not start with the expected magic bytes.
    #[error("not a `{expected}` file: it starts with `{found}`")]
    BadMagic {
        /// The expected magic, ASCII-escaped.
        expected: String,
        /// The first bytes found, ASCII-escaped.
        found: String,
    },

    /// A format version this build does not read.
    #[error("format version {found}, this build reads version {expected}")]
    Version {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },

    /// The file ends before a part it declares.
    #[error("truncated: {what} ends at byte {needed}, but the file has {found} bytes")]
    Truncated {
        /// The part that is cut off.
        what: String,
        /// Offset at which it should end.
        needed: u64,
        /// The file's length.
        found: u64,
    },

    /// Bytes after the last declared section.
    #[error(
        "trailing bytes: the declared contents end at byte {expected}, but the file has {found} bytes"
    )]
    TrailingBytes {
        /// Offset at which the declared contents end.
        expected: u64,
        /// The file's length.
        found: u64,
    },

    /// A declared length that does not fit in a 64-bit offset.
    #[error("{what} at byte {offset} declares {len} bytes, which overflows a 64-bit offset")]
    Overflow {
        /// The part whose length is impossible.
        what: String,
        /// Offset at which it starts.
        offset: u64,
        /// The declared length.
        len: u64,
    },

    /// Stored and computed checksums differ.
    #[error(
        "{what} at byte {offset} is corrupt: its FNV-1a checksum is {computed:016x}, \
         the file says {stored:016x}"
    )]
    Checksum {
        /// The part (`header`, or `section NAME`).
        what: String,
        /// Offset at which it starts.
        offset: u64,
        /// The checksum recorded in the file.
        stored: u64,
        /// The checksum of the bytes found.
        computed: u64,
    },

    /// A header that passes its checksum but is not the expected JSON.
    #[error("unreadable header at byte {offset}: {message}")]
    Header {
        /// Offset of the header.
        offset: u64,
        /// What the JSON parser reported.
        message: String,
    },

    /// A section the reader needs is not in the file.
    #[error("no `{0}` section")]
    MissingSection(String),

    /// Two sections of the same name.
    #[error("section `{0}` appears twice")]
    DuplicateSection(String),
}

/// `Result` with kindling-io's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] on `path`, with what was being done.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Format`] on `path`.
    pub fn format(path: impl Into<PathBuf>, problem: Problem) -> Self {
        Self::Format {
            path: path.into(),
            problem,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Json { path, .. } | Self::Format { path, .. } => path,
        }
    }
}
