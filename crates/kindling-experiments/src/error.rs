//! Errors of the experiment runner.

use std::path::PathBuf;

/// What can stop an experiment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the training layer.
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// No experiment of that name in the registry.
    #[error("no experiment named `{name}` in {dir} (run `cargo xtask experiment --list`)")]
    UnknownExperiment {
        /// The name asked for.
        name: String,
        /// The registry directory searched.
        dir: PathBuf,
    },

    /// An experiment file that does not parse.
    #[error("{path}: {message}")]
    Spec {
        /// The experiment file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A dataset file that is not where it should be.
    #[error("missing {what}: looked for {path}. {hint}")]
    MissingData {
        /// Which dataset or file.
        what: String,
        /// Where it was expected.
        path: PathBuf,
        /// How to obtain it.
        hint: String,
    },

    /// A data file with content the reader cannot accept.
    #[error("{path}:{line}: {problem}")]
    BadData {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// `Result` with the runner's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`, wrapped as a core error with context.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Core(kindling_core::Error::io(action, path, source))
    }
}
