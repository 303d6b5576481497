//! Errors of the data layer: every one names the file (and line, where there is one).

use std::path::{Path, PathBuf};

/// What can go wrong reading, tokenising or batching data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`opening`, `reading`, …).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A read failed part-way through a file (for example a truncated gzip stream).
    #[error("{path}:{line}: {source}")]
    ReadAt {
        /// The file.
        path: PathBuf,
        /// 1-based line being read when it failed.
        line: usize,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A line that is not valid in the chosen text encoding.
    #[error(
        "{path}:{line}: invalid UTF-8 at byte {byte} of the line (the file may be Latin-1; \
         choose Encoding::Latin1 or Encoding::Lossy explicitly)"
    )]
    Encoding {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 0-based byte offset of the first invalid byte within the line.
        byte: usize,
    },

    /// A line whose content the reader cannot accept.
    #[error("{path}:{line}: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, quoting the offending text.
        problem: String,
    },

    /// A label outside the declared label set.
    #[error("{path}:{line}: unknown label `{label}` (known: {known})")]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The label found.
        label: String,
        /// The known labels, comma-separated.
        known: String,
    },

    /// A file (or a whole input) with nothing in it.
    #[error("{path}: {what} is empty")]
    Empty {
        /// The file, or a description of the input.
        path: PathBuf,
        /// What was expected in it.
        what: &'static str,
    },

    /// Line-aligned files that are not aligned.
    #[error(
        "{left} has {left_lines} lines but {right} has {right_lines}: the files are not line-aligned"
    )]
    Unaligned {
        /// The first file.
        left: PathBuf,
        /// Its line count (as far as read).
        left_lines: usize,
        /// The second file.
        right: PathBuf,
        /// Its line count (as far as read).
        right_lines: usize,
    },

    /// A dataset file that is not where it should be.
    #[error("missing {what}: looked for {path}. {hint}")]
    Missing {
        /// Which dataset file.
        what: String,
        /// Where it was expected.
        path: PathBuf,
        /// How to obtain it.
        hint: String,
    },

    /// A dataset name the registry does not know.
    #[error("unknown dataset `{0}` (known: {known})", known = crate::registry::DatasetName::names().join(", "))]
    UnknownDataset(String),

    /// A token that is not in the vocabulary, which has no unknown token to map it to.
    #[error("token `{0}` is not in the vocabulary and it has no unknown token")]
    UnknownToken(String),

    /// An id outside the vocabulary.
    #[error("id {id} is outside the vocabulary of {size} tokens")]
    UnknownId {
        /// The id.
        id: u32,
        /// The vocabulary size.
        size: usize,
    },

    /// A caller-supplied setting that cannot work.
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// Why.
        problem: String,
    },

    /// A dataset whose contents do not match what is published for it.
    #[error("{dataset}: {problem}")]
    Check {
        /// The dataset name.
        dataset: String,
        /// What differs.
        problem: String,
    },

    /// A file error from [`kindling_io`] that is not a plain I/O error.
    #[error(transparent)]
    File(kindling_io::Error),
}

impl From<kindling_io::Error> for Error {
    /// I/O errors keep their kind; anything else becomes [`Error::File`].
    fn from(e: kindling_io::Error) -> Self {
        match e {
            kindling_io::Error::Io {
                action,
                path,
                source,
            } => Self::Io {
                action,
                path,
                source,
            },
            other => Self::File(other),
        }
    }
}

/// `Result` with the data layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`, with what was being done.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A malformed line of `path` (1-based `line`).
    pub fn malformed(path: &Path, line: usize, problem: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            line,
            problem: problem.into(),
        }
    }

    /// A setting that cannot work.
    pub fn invalid(what: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            problem: problem.into(),
        }
    }
}
