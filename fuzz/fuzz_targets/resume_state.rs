//! What `Trainer::resume` reads from a run folder, corrupted: the trainer and scheduler state
//! and the run config inside `last.ckpt` (checksums recomputed, so the JSON is parsed), the
//! epoch log, and the best checkpoint. Resume must continue or fail with an error, never panic.
//!
//! The input's first byte picks what is replaced by the rest of the input.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kindling_core::BackendKind;
use kindling_core::checkpoint::Checkpoint;
use kindling_core::models::{
    DenseBatcher, DenseExample, SoftmaxRegressionConfig,
};
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::{Goal, LrSchedule};
use kindling_core::train::{TrainConfig, Trainer, files};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const WIDTH: usize = 3;

fn examples() -> Vec<DenseExample> {
    (0..8)
        .map(|i| DenseExample {
            features: vec![i as f32, 1.0, -(i as f32)],
            label: i % 2,
        })
        .collect()
}

/// Two epochs of a plateau schedule, an accuracy monitor and patience, so that every part of
/// the state is in play.
fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        schedule: LrSchedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 1,
            threshold: 0.0,
            min_lr: 1e-6,
        },
        patience: Some(3),
        monitor: kindling_core::metrics::Metric::Accuracy,
        goal: Goal::Max,
        ..TrainConfig::new(
            epochs,
            4,
            1,
            OptimizerConfig::adam(0.01),
        )
    }
}

fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        // burn's record parsing panics on some malformed sections, and kindling turns those
        // panics into errors: this hook reports each in one line without aborting (libFuzzer's
        // aborts even on a caught panic); a panic that escapes still fails the run.
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
        let root = std::env::temp_dir().join(format!("kindling-fuzz-resume-{}", std::process::id()));
        let (template, work) = (root.join("template"), root.join("work"));
        std::fs::create_dir_all(&template).unwrap();
        let device = BackendKind::Flex.train_device().unwrap();
        let model = SoftmaxRegressionConfig::new(WIDTH, 2).init(&device).unwrap();
        let data = examples();
        Trainer::new(config(2), &device)
            .unwrap()
            .with_progress(false)
            .with_output(&template)
            .fit(model, &DenseBatcher { d_input: WIDTH }, &data, Some(&data))
            .unwrap();
        (template, work)
    })
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// `last.ckpt` of `dir` with its state (or config) changed by `json`: an object's fields
/// replace the saved ones (so a few changed fields reach far into the checks), anything else
/// replaces the whole.
fn rewrite_checkpoint(dir: &Path, json: &[u8], state: bool) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(json) else {
        return false;
    };
    let path = dir.join(files::LAST);
    let mut checkpoint = Checkpoint::load(&path).unwrap();
    let saved = if state {
        &mut checkpoint.state
    } else {
        &mut checkpoint.config
    };
    match (saved.as_object_mut(), value) {
        (Some(fields), Value::Object(changes)) => fields.extend(changes),
        (_, value) => *saved = value,
    }
    checkpoint.save(&path).unwrap();
    true
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (template, work) = dirs();
    copy_dir(template, work);
    let changed = match mode % 5 {
        0 => rewrite_checkpoint(work, rest, true),
        1 => rewrite_checkpoint(work, rest, false),
        2 => std::fs::write(work.join(files::LOG), rest).is_ok(),
        3 => std::fs::write(work.join(files::BEST), rest).is_ok(),
        _ => std::fs::write(work.join(files::BEST_PENDING), rest).is_ok(),
    };
    if !changed {
        return;
    }
    let device = BackendKind::Flex.train_device().unwrap();
    let model = SoftmaxRegressionConfig::new(WIDTH, 2).init(&device).unwrap();
    let data = examples();
    let trainer = Trainer::new(config(3), &device)
        .unwrap()
        .with_progress(false)
        .with_output(work);
    let _ = trainer.resume(
        model,
        &work.join(files::LAST),
        &DenseBatcher { d_input: WIDTH },
        &data,
        Some(&data),
    );
});
