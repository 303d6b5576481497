//! Errors of the sequence-to-sequence crate.

/// What can go wrong building, running or scoring an encoder–decoder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value outside its allowed range.
    #[error("invalid seq2seq config: `{field}` {problem}")]
    InvalidConfig {
        /// The config field.
        field: &'static str,
        /// What is wrong with its value, and what was expected.
        problem: String,
    },

    /// Inputs that do not fit together (shapes, lengths, counts).
    #[error("mismatched {what}: {problem}")]
    Mismatch {
        /// What was being matched.
        what: &'static str,
        /// How they differ.
        problem: String,
    },

    /// A saved model's description that cannot be used.
    #[error("{path}: {problem}")]
    Manifest {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// Learning or applying a subword encoding failed.
    #[error("subwords: {0}")]
    Subwords(String),

    /// An error from the recurrent layers.
    #[error(transparent)]
    Rnn(#[from] kindling_rnn::Error),

    /// An error from the core layer (initialisers, checkpoints).
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// An error from the data layer (vocabularies, files).
    #[error(transparent)]
    Data(#[from] kindling_data::Error),
}

/// `Result` with the sequence-to-sequence crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
