//! Training: the [`TrainStep`] contract models implement, the [`TrainConfig`], and the
//! [`Trainer`] loop with checkpoints and exact resume.

mod config;
mod facts;
mod log;
mod progress;
mod step;
mod trainer;
mod workers;

pub use config::TrainConfig;
pub use facts::TrainingFacts;
pub use step::{Batcher, Outcome, StepOutput, TrainStep, shuffled_batches};
pub use trainer::{
    Trained, Trainer, ensure_finished, evaluate, files, mark_finished, mark_unfinished,
};
pub use workers::MAX_WORKERS;
