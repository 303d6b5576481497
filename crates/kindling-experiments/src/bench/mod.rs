//! Benchmarks, each measuring kindling next to a baseline in the same run.
//!
//! - [`mlp`]: the same training step on every compiled CPU backend.
//! - [`data`]: tokenising and counting a corpus next to Python's `re` with Kim's `clean_str`,
//!   and the cost of preparing a batch next to a convolutional classifier's training step.
//! - [`embed_eval`]: analogy and WordSim-353 evaluation of GloVe vectors next to gensim.

pub mod data;
pub mod embed_eval;
pub mod mlp;

pub use mlp::{BackendTiming, StepShape, backends};
