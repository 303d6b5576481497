//! Errors of the embedding layer.

use std::path::PathBuf;

/// What can go wrong reading, writing or querying word vectors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the data layer (opening files, lines, encodings).
    #[error(transparent)]
    Data(#[from] kindling_data::Error),

    /// An error from the tensor layer.
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// A model file that cannot be written, or is not a verified kindling model file.
    #[error(transparent)]
    File(#[from] kindling_io::Error),

    /// A vector file whose content is not what its format says.
    #[error("{path}:{line}: {problem}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line of a text file, or 1-based entry of a binary one (the header is entry 0).
        line: usize,
        /// What is wrong.
        problem: String,
    },

    /// Vectors of different lengths, or a query of the wrong length.
    #[error("dimension mismatch: expected {expected}, found {found}")]
    Dimension {
        /// The vectors' dimension.
        expected: usize,
        /// What was given.
        found: usize,
    },

    /// A word that is not in the vocabulary.
    #[error("word `{0}` is not in the vocabulary")]
    UnknownWord(String),

    /// A request that cannot be answered (e.g. too few words).
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// Which input.
        what: &'static str,
        /// Why.
        problem: String,
    },
}

/// `Result` with the embedding layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
