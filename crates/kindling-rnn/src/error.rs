//! Errors of the recurrent-layer crate.

/// What can go wrong building or running a recurrent layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value outside its allowed range.
    #[error("invalid recurrent config: `{field}` {problem}")]
    InvalidConfig {
        /// The config field.
        field: &'static str,
        /// What is wrong with its value, and what was expected.
        problem: String,
    },

    /// An input whose shape or lengths do not fit the layer.
    #[error("invalid recurrent input: `{what}` {problem}")]
    InvalidInput {
        /// The argument (`input`, `lengths`, `state`, …).
        what: &'static str,
        /// What is wrong with it, and what was expected.
        problem: String,
    },

    /// An error from the core layer (initialisers, checkpoints).
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// An error from the data layer (vocabularies, files).
    #[error(transparent)]
    Data(#[from] kindling_data::Error),

    /// An error building an embedding from pretrained vectors.
    #[error(transparent)]
    Embed(#[from] kindling_embed::Error),

    /// A saved model's description that cannot be used.
    #[error("{path}: {problem}")]
    Manifest {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// `Result` with the recurrent-layer crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidConfig`] for `field`.
    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            problem: problem.into(),
        }
    }

    /// An [`Error::InvalidInput`] for the argument `what`.
    pub(crate) fn input(what: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidInput {
            what,
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

/// Checks that a value is finite.
pub(crate) fn check_finite(field: &'static str, x: f64) -> Result<()> {
    kindling_core::validate::finite(x).map_err(|problem| Error::invalid(field, problem))
}
