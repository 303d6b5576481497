//! Task implementations: the code an experiment's `task` field selects.

mod brown_genre;
mod embedding_eval;
mod word2vec;

use serde_json::{Map, Value};

use crate::runner::TaskContext;
use crate::{Error, Result};

/// The task names experiments may use.
pub const TASKS: &[&str] = &["brown-genre", "embedding-eval", "word2vec"];

/// Runs the task named by the context's experiment; returns its metrics.
pub fn run(context: &TaskContext<'_>) -> Result<Map<String, Value>> {
    match context.spec.task.as_str() {
        "brown-genre" => brown_genre::run(context),
        "embedding-eval" => embedding_eval::run(context),
        "word2vec" => word2vec::run(context),
        other => Err(Error::Spec {
            path: format!("experiments/{}.toml", context.spec.name).into(),
            message: format!("unknown task `{other}`; known tasks: {}", TASKS.join(", ")),
        }),
    }
}
