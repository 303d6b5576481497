//! The experiment registry runner of kindling.
//!
//! Experiments are data: `experiments/NAME.toml` names a task, its options and a
//! [`kindling_core::train::TrainConfig`]. This crate reads them ([`spec`]), finds the data
//! ([`kindling_data::DataDir`]), runs the task ([`tasks`]) and writes `metrics.json` ([`runner`]) and the run's
//! report ([`reporting`], which also renders the results page). It is driven by `cargo xtask
//! experiment`; the benchmarks live in `kindling-bench`.

mod error;
pub mod overrides;
pub mod own_data;
pub mod reporting;
pub mod runner;
pub mod spec;
pub mod tasks;

pub use error::{Error, Result};

/// Waits until no other test of this crate trains, and keeps it so until the guard drops: burn
/// seeds one generator per device, so two runs training at once on the CPU device draw each
/// other's numbers, and a test comparing runs must train alone.
#[cfg(test)]
pub(crate) fn train_alone() -> std::sync::MutexGuard<'static, ()> {
    static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TRAINING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
