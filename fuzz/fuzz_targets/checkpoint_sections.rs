//! `Checkpoint::restore_model` and `restore_optimizer` on corrupted model and optimizer bytes
//! whose checksums are recomputed, so burn's record parsing itself is reached: `Ok` (and a
//! model that runs) or a checkpoint error, never a panic.
//!
//! The input's first byte picks the section and how it is corrupted: replaced by the rest of
//! the input, or a valid section (from a real one-epoch run) with bytes overwritten at offsets
//! the input gives, or truncated.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kindling_core::BackendKind;
use kindling_core::burn::tensor::{Tensor, TensorData};
use kindling_core::checkpoint::{Checkpoint, KIND};
use kindling_core::models::{
    DenseBatcher, DenseExample, SoftmaxRegressionConfig,
};
use kindling_core::optim::OptimizerConfig;
use kindling_core::train::{TrainConfig, Trainer};
use kindling_io::container;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const WIDTH: usize = 3;

/// The header and sections of the last checkpoint of a real run.
struct Template {
    header: Value,
    model: Vec<u8>,
    optimizer: Vec<u8>,
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        // burn's record parsing panics on some malformed sections, and kindling turns those
        // panics into errors: this hook reports each in one line without aborting (libFuzzer's
        // aborts even on a caught panic); a panic that escapes still fails the run.
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "kindling-fuzz-sections-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let device = BackendKind::Flex.train_device().unwrap();
        let examples: Vec<DenseExample> = (0..8)
            .map(|i| DenseExample {
                features: vec![i as f32, 1.0, -(i as f32)],
                label: i % 2,
            })
            .collect();
        let model = SoftmaxRegressionConfig::new(WIDTH, 2).init(&device).unwrap();
        let config = TrainConfig::new(1, 4, 1, adam());
        Trainer::new(config, &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir)
            .fit(model, &DenseBatcher { d_input: WIDTH }, &examples, None)
            .unwrap();
        let bytes = std::fs::read(dir.join("last.ckpt")).unwrap();
        let file = container::decode::<Value>(bytes, KIND, Path::new("last.ckpt")).unwrap();
        Template {
            model: file.take("model").unwrap(),
            optimizer: file.take("optimizer").unwrap(),
            header: file.header,
        }
    })
}

fn adam() -> OptimizerConfig {
    OptimizerConfig::adam(0.01)
}

/// `section` with the bytes of `edits` (pairs of offset and value) written into it.
fn overwrite(section: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = section.to_vec();
    if out.is_empty() {
        return out;
    }
    for edit in edits.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % out.len();
        out[at] = edit[2];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let template = template();
    let (mut model, mut optimizer) = (template.model.clone(), template.optimizer.clone());
    let section = if mode & 1 == 0 { &mut model } else { &mut optimizer };
    *section = match (mode >> 1) % 3 {
        0 => rest.to_vec(),
        1 => overwrite(section, rest),
        _ => {
            let keep = rest.first().map_or(0, |&b| usize::from(b)) * section.len() / 255;
            section[..keep].to_vec()
        }
    };
    let bytes = container::encode(
        KIND,
        &template.header,
        &[("model", &model[..]), ("optimizer", &optimizer[..])],
    )
    .unwrap();
    let path = Path::new("fuzz.ckpt");
    let checkpoint = Checkpoint::from_bytes(bytes, path).expect("valid checksums");
    let device = BackendKind::Flex.device().unwrap();
    let fresh = SoftmaxRegressionConfig::new(WIDTH, 2).init(&device).unwrap();
    if let Ok(restored) = checkpoint.restore_model(fresh, path) {
        let input = Tensor::<2>::from_data(TensorData::new(vec![1.0f32; 2 * WIDTH], [2, WIDTH]), &device);
        let scores = restored.forward(input).into_data();
        assert_eq!(scores.shape().to_vec(), vec![2, 2]);
    }
    let _ = checkpoint.restore_optimizer(adam().init().unwrap(), path);
});
