//! Errors of the text CNN crate.

use std::path::PathBuf;

/// What can go wrong building, loading or running a text classifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value outside its allowed range.
    #[error("invalid model config: `{field}` {problem}")]
    InvalidConfig {
        /// The config field.
        field: &'static str,
        /// What is wrong with its value, and what was expected.
        problem: String,
    },

    /// A trained run's description (`classifier.json`) that cannot be used.
    #[error("{path}: {problem}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },

    /// An error from the training layer (checkpoints, I/O).
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// An error from the data layer (vocabulary files, encoding).
    #[error(transparent)]
    Data(#[from] kindling_data::Error),

    /// An error about word vectors (dimension mismatch, bad files).
    #[error(transparent)]
    Embed(#[from] kindling_embed::Error),

    /// An error from the recurrent layers or the recurrent classifier.
    #[error(transparent)]
    Rnn(#[from] kindling_rnn::Error),
}

/// `Result` with the text CNN crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidConfig`] for `field`.
    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            problem: problem.into(),
        }
    }
}

/// Checks that a dropout probability lies in `[0, 1)`.
pub(crate) fn check_dropout(field: &'static str, p: f64) -> Result<()> {
    kindling_core::validate::dropout(p).map_err(|problem| Error::invalid(field, problem))
}

/// Checks that a size is at least 1.
pub(crate) fn check_positive(field: &'static str, n: usize) -> Result<()> {
    kindling_core::validate::positive(n).map_err(|problem| Error::invalid(field, problem))
}

/// Checks that an optional bound is finite and positive.
pub(crate) fn check_positive_bound(field: &'static str, bound: Option<f64>) -> Result<()> {
    kindling_core::validate::positive_bound(bound).map_err(|problem| Error::invalid(field, problem))
}
