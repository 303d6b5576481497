//! Errors of the experiment runner.

use std::path::PathBuf;

/// What can stop an experiment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the training layer.
    #[error(transparent)]
    Core(#[from] kindling_core::Error),

    /// A benchmark that could not measure what it set out to.
    #[error("benchmark: {0}")]
    Bench(String),

    /// Datasets that failed verification.
    #[error("data check failed for: {}", .0.join(", "))]
    DataCheck(Vec<String>),

    /// An error reading, querying or evaluating word vectors.
    #[error(transparent)]
    Embed(#[from] kindling_embed::Error),

    /// An invalid text classifier or one that cannot be loaded.
    #[error(transparent)]
    TextCnn(#[from] kindling_textcnn::Error),

    /// An error from the recurrent models.
    #[error(transparent)]
    Rnn(#[from] kindling_rnn::Error),

    /// An error from the encoder–decoder models.
    #[error(transparent)]
    Seq2seq(#[from] kindling_seq2seq::Error),

    /// An error reading or preparing data.
    #[error(transparent)]
    Data(#[from] kindling_data::Error),

    /// No experiment of that name in the registry.
    #[error("no experiment named `{name}` in {dir} (run `cargo xtask experiment --list`)")]
    UnknownExperiment {
        /// The name asked for.
        name: String,
        /// The registry directory searched.
        dir: PathBuf,
    },

    /// A run's training log with a line that does not parse.
    #[error("{path}:{line}: not a training-log record: {message}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A run that `--resume` cannot continue.
    #[error("cannot resume: {path} {problem}")]
    Resume {
        /// The run's `config.json`.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },

    /// A command-line value out of its range.
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag, e.g. `--beam`.
        flag: String,
        /// What is wrong, with the allowed range.
        problem: String,
    },

    /// An experiment file that does not parse.
    #[error("{path}: {message}")]
    Spec {
        /// The experiment file.
        path: PathBuf,
        /// What is wrong.
        message: String,
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
