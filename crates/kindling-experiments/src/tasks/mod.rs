//! Task implementations: the code an experiment's `task` field selects.

mod brown_genre;
mod embedding_eval;
pub(crate) mod textcnn;
mod train_embeddings;

use serde_json::{Map, Value};

use crate::runner::TaskContext;
use train_embeddings::Trainer;

use crate::{Error, Result};
pub(crate) use embedding_eval::evaluation_metrics;

/// The task names experiments may use.
pub const TASKS: &[&str] = &[
    "brown-genre",
    "embedding-eval",
    "word2vec",
    "subword",
    "glove",
    "textcnn",
];

/// Runs the task named by the context's experiment; returns its metrics.
pub fn run(context: &TaskContext<'_>) -> Result<Map<String, Value>> {
    match context.spec.task.as_str() {
        "brown-genre" => brown_genre::run(context),
        "embedding-eval" => embedding_eval::run(context),
        "word2vec" => train_embeddings::run(context, Trainer::Word2Vec),
        "subword" => train_embeddings::run(context, Trainer::Subword),
        "glove" => train_embeddings::run(context, Trainer::Glove),
        "textcnn" => textcnn::run(context),
        other => Err(Error::Spec {
            path: format!("experiments/{}.toml", context.spec.name).into(),
            message: format!("unknown task `{other}`; known tasks: {}", TASKS.join(", ")),
        }),
    }
}
