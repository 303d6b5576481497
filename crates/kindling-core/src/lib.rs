//! kindling-core: the backend-agnostic layer every kindling model crate builds on.
//!
//! - [`backend`]: choose flex, ndarray, wgpu or cuda at run time (`--backend`,
//!   `KINDLING_BACKEND`); each is a cargo feature, flex is on by default.
//! - [`seed`]: one seed for parameter init, data order and dropout.
//! - [`dropout`]: dropout whose masks come from the calling thread's own seeded generator.
//! - [`init`]: the classic weight initialisers, identity included.
//! - [`optim`]: SGD, Adam, AdamW and Adadelta; gradient clipping by value and global norm.
//! - [`schedule`]: constant, step-decay and reduce-on-plateau learning rates.
//! - [`train`]: the [`train::TrainStep`] contract and the [`train::Trainer`] loop with dev
//!   evaluation, early stopping, progress, JSONL logs, checkpoints and exact resume.
//! - [`ranks`]: training over several processes or machines through MPI (the `mpi` feature).
//! - [`prefetch`]: batches prepared on a background thread while the model trains.
//! - [`activation`]: `tanh` that runs vectorised on burn-flex.
//! - [`metrics`]: accuracy, macro-F1, confusion matrix, perplexity, mean loss.
//! - [`checkpoint`], [`atomic`]: verified checkpoint files and crash-safe writes.
//!
//! # Design
//!
//! burn 0.22 puts the backend in the [`burn::tensor::Device`] value, so nothing here is generic
//! over a backend: a model written once runs wherever its device lives, and switching CPU↔GPU
//! is a change of [`backend::BackendKind`]. The trainer is our own rather than burn-train's
//! `Learner`; `docs/ARCHITECTURE.md` explains why and how the two meet.

pub mod activation;
pub mod atomic;
pub mod backend;
pub mod checkpoint;
pub mod constraint;
pub mod dropout;
mod error;
pub mod fast_math;
#[cfg(feature = "flex")]
pub mod flex_tensors;
pub mod init;
pub mod loss;
pub mod memory;
pub mod metrics;
pub mod models;
pub mod optim;
pub mod prefetch;
pub mod ranks;
pub mod schedule;
pub mod seed;
pub mod train;
pub mod validate;

pub use backend::BackendKind;
pub use error::{Error, Result};

/// burn, re-exported so that model crates use the exact version kindling-core was built with.
pub use burn;
