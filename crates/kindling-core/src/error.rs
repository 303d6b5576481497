//! The one error type of kindling-core.

use std::path::PathBuf;

/// Everything that can go wrong in kindling-core, with enough context to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A backend name that kindling does not know.
    #[error("unknown backend `{name}`: expected one of flex, ndarray, wgpu, cuda")]
    UnknownBackend {
        /// The name as given.
        name: String,
    },

    /// A backend that exists but was not compiled into this build.
    #[error(
        "backend `{backend}` is not compiled in: enable the `{feature}` feature of kindling-core"
    )]
    BackendNotCompiled {
        /// The backend asked for.
        backend: &'static str,
        /// The cargo feature that enables it.
        feature: &'static str,
    },

    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, …).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON file could not be parsed or written.
    #[error("{path}: {source}")]
    Json {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// A checkpoint is truncated, corrupt, or does not belong to this model or optimizer.
    #[error("checkpoint {path}: {problem}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// The training loss became NaN or infinite.
    #[error("loss is {value} at epoch {epoch}, step {step}: training stopped")]
    NonFiniteLoss {
        /// The offending value.
        value: f64,
        /// Epoch (1-based) in which it happened.
        epoch: usize,
        /// Global optimizer step (1-based) at which it happened.
        step: u64,
    },

    /// A gradient norm, a weight or an evaluation score became NaN or infinite; the run's files
    /// keep the last good epoch.
    #[error(
        "{what} is not finite at epoch {epoch}, step {step}: training stopped (the run folder keeps the last good epoch; lower the learning rate or clip gradients)"
    )]
    NonFinite {
        /// What was found not finite, e.g. `the gradient norm (NaN)`.
        what: String,
        /// Epoch (1-based) in which it happened.
        epoch: usize,
        /// Global optimizer step (1-based) at which it happened.
        step: u64,
    },

    /// A run folder whose run has not finished: it is still training, or was stopped.
    #[error(
        "{0}: the run has not finished (it is still running, or was stopped: continue it with `--resume --out {0}`, or start again with `--overwrite`)"
    )]
    UnfinishedRun(std::path::PathBuf),

    /// Training stopped on purpose before writing a file (see
    /// [`crate::train::Trainer::with_write_limit`]).
    #[error("stopped before writing {0}")]
    Interrupted(String),

    /// Two things that must agree in shape or size do not.
    #[error("{what}: expected {expected}, found {found}")]
    Mismatch {
        /// What was compared.
        what: String,
        /// The expected value.
        expected: String,
        /// The value found.
        found: String,
    },

    /// A configuration value is out of its valid range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// Nothing to train or evaluate on.
    #[error("empty {0}: at least one example is needed")]
    Empty(&'static str),

    /// A container file (see [`kindling_io::container`]) that is not well-formed.
    #[error(transparent)]
    File(kindling_io::Error),
}

/// `Result` with kindling-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<kindling_io::Error> for Error {
    /// I/O and JSON errors keep their kind; format errors become [`Error::File`].
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
            kindling_io::Error::Json { path, source } => Self::Json { path, source },
            other => Self::File(other),
        }
    }
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Checkpoint`] for `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// An [`Error::Mismatch`].
    pub fn mismatch(
        what: impl Into<String>,
        expected: impl ToString,
        found: impl ToString,
    ) -> Self {
        Self::Mismatch {
            what: what.into(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}
