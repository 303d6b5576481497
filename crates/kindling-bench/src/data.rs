//! Data-pipeline benchmarks.
//!
//! - [`tokenize`]: tokenise and count the State of the Union corpus (10.7 MB) single-threaded
//!   with [`KimClean`], next to Python's `re` running Kim's `clean_str` patterns on the same
//!   lines in the same run.
//! - [`batch_cost`]: the time to prepare one training batch (gather, pad, build tensors) next
//!   to one training step of a Kim-style convolutional classifier (300-d embeddings, filter
//!   widths 3/4/5 × 100, Adadelta) on SST-2 batches of 50.

use std::path::Path;
use std::time::Instant;

use kindling_core::burn::module::Module;
use kindling_core::burn::nn::conv::{Conv1d, Conv1dConfig};
use kindling_core::burn::nn::loss::CrossEntropyLossConfig;
use kindling_core::burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use kindling_core::burn::optim::GradientsParams;
use kindling_core::burn::tensor::activation::relu;
use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::optim::OptimizerConfig;
use kindling_core::seed::{SeededRng, build_seeded};
use kindling_core::train::Batcher;
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_data::source::{Encoding, Lines};
use kindling_data::tokenize::{KimClean, Tokenizer, Whitespace, Words};
use kindling_data::{DataDir, DatasetName, OnUnknown, TokenCounts, Vocab, VocabConfig};
use serde::Serialize;

use super::median;
use crate::Result;

/// One tokenizer's throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// What was measured.
    pub name: String,
    /// Median megabytes (10⁶ bytes) of UTF-8 text per second.
    pub mb_per_second: f64,
    /// Tokens counted.
    pub tokens: u64,
    /// Distinct tokens.
    pub types: usize,
}

/// Result of [`tokenize`].
#[derive(Debug, Clone, Serialize)]
pub struct TokenizeReport {
    /// Size of the text in bytes.
    pub bytes: usize,
    /// Our tokenizers, Kim's first.
    pub rust: Vec<Throughput>,
    /// Python's `re` with `clean_str`, if Python could be run.
    pub python: Option<Throughput>,
}

const CLEAN_STR_PY: &str = include_str!("clean_str.py");

/// Tokenises and counts `corpus/sotu.txt.gz` `reps` times with each tokenizer, then runs the
/// Python baseline with `python`.
///
/// # Errors
/// [`kindling_data::Error::Missing`] without the corpus; a Python failure is reported in the
/// result rather than failing the benchmark when the interpreter is absent.
pub fn tokenize(data: &DataDir, reps: usize, python: &str) -> Result<TokenizeReport> {
    let path = data.file(DatasetName::CorpusEn, "corpus/sotu.txt.gz")?;
    let mut lines = Vec::new();
    let mut reader = Lines::open(&path, Encoding::Utf8)?;
    let mut text = String::new();
    while reader.read_line(&mut text)?.is_some() {
        lines.push(std::mem::take(&mut text));
    }
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let tokenizers: [(&str, Box<dyn Tokenizer>); 3] = [
        (
            "kindling KimClean (clean_str)",
            Box::new(KimClean { lowercase: true }),
        ),
        ("kindling Words (corpus)", Box::new(Words::corpus())),
        (
            "kindling Whitespace (lowercase)",
            Box::new(Whitespace { lowercase: true }),
        ),
    ];
    let mut rust = Vec::new();
    for (name, tokenizer) in tokenizers {
        let mut times = Vec::with_capacity(reps);
        let mut counts = TokenCounts::new();
        for _ in 0..reps.max(1) {
            let started = Instant::now();
            counts = TokenCounts::new();
            for line in &lines {
                counts.add_text(tokenizer.as_ref(), line);
            }
            times.push(started.elapsed().as_secs_f64());
        }
        rust.push(Throughput {
            name: name.into(),
            mb_per_second: bytes as f64 / median(&mut times) / 1e6,
            tokens: counts.total(),
            types: counts.distinct(),
        });
    }
    let kim = KimClean { lowercase: true };
    let mut times = Vec::with_capacity(reps);
    let mut tokens = 0u64;
    for _ in 0..reps.max(1) {
        let started = Instant::now();
        tokens = 0;
        for line in &lines {
            kim.for_each_token(line, &mut |_| tokens += 1);
        }
        times.push(started.elapsed().as_secs_f64());
    }
    rust.push(Throughput {
        name: "kindling KimClean, tokenise only (no counting)".into(),
        mb_per_second: bytes as f64 / median(&mut times) / 1e6,
        tokens,
        types: 0,
    });
    Ok(TokenizeReport {
        bytes,
        rust,
        python: python_baseline(python, &path, reps)?,
    })
}

fn python_baseline(python: &str, corpus: &Path, reps: usize) -> Result<Option<Throughput>> {
    let reps = reps.max(1).to_string();
    let Some(report) =
        super::python_json(python, CLEAN_STR_PY, &[corpus.as_os_str(), reps.as_ref()])?
    else {
        return Ok(None);
    };
    let number = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    Ok(Some(Throughput {
        name: format!(
            "Python {} re + clean_str + Counter",
            report["python"].as_str().unwrap_or("?")
        ),
        mb_per_second: number("bytes") / number("median_seconds") / 1e6,
        tokens: number("tokens") as u64,
        types: number("types") as usize,
    }))
}

/// Result of [`batch_cost`].
#[derive(Debug, Clone, Serialize)]
pub struct BatchCostReport {
    /// Examples per batch.
    pub batch_size: usize,
    /// Vocabulary size (SST-2 train, Kim tokenizer).
    pub vocabulary: usize,
    /// Median milliseconds to gather, pad and build the tensors of one batch.
    pub prepare_ms: f64,
    /// Median milliseconds of one training step (forward, backward, Adadelta).
    pub step_ms: f64,
}

#[derive(Module, Debug)]
struct ConvClassifier {
    embedding: Embedding,
    convs: Vec<Conv1d>,
    dropout: Dropout,
    output: Linear,
}

impl ConvClassifier {
    fn new(vocabulary: usize, dim: usize, device: &Device) -> Self {
        Self {
            embedding: EmbeddingConfig::new(vocabulary, dim).init(device),
            convs: [3, 4, 5]
                .map(|width| Conv1dConfig::new(dim, 100, width).init(device))
                .into(),
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(300, 2).init(device),
        }
    }

    /// # Shapes
    /// `[batch, len]` token ids → `[batch, 2]` logits.
    fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let x = self.embedding.forward(tokens).swap_dims(1, 2);
        let pooled: Vec<Tensor<2>> = self
            .convs
            .iter()
            .map(|conv| relu(conv.forward(x.clone())).max_dim(2).squeeze_dim(2))
            .collect();
        self.output
            .forward(self.dropout.forward(Tensor::cat(pooled, 1)))
    }
}

/// Times batch preparation and the training step on `steps` SST-2 batches of 50.
///
/// # Errors
/// [`kindling_data::Error::Missing`] without SST-2.
pub fn batch_cost(data: &DataDir, device: &Device, steps: usize) -> Result<BatchCostReport> {
    let sst = data.sst(false)?;
    let tokenizer = KimClean { lowercase: true };
    let mut counts = TokenCounts::new();
    for example in &sst.train {
        counts.add_text(&tokenizer, &example.text);
    }
    let vocab = Vocab::build(&counts, &VocabConfig::default());
    let examples =
        EncodedExample::encode_texts(&sst.train, &vocab, &tokenizer, OnUnknown::MapToUnk)?;
    let batcher = SequenceBatcher::new(Padding {
        min_len: 5,
        ..Padding::new(vocab.pad_id().expect("default specials"))
    });
    let batch_size = 50;
    let plan = batcher.plan(&examples, batch_size, Some(&mut SeededRng::new(1)));

    let model = build_seeded(device, 1, || ConvClassifier::new(vocab.len(), 300, device));
    let mut optimizer = OptimizerConfig::kim_adadelta().init()?;
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut model = model;
    let (mut prepare, mut step) = (Vec::new(), Vec::new());
    let warmup = 3;
    for (i, indices) in plan.iter().cycle().take(steps + warmup).enumerate() {
        let started = Instant::now();
        let items: Vec<EncodedExample> = indices.iter().map(|&i| examples[i].clone()).collect();
        let batch = batcher.batch(&items, device);
        let prepared = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let loss = loss_fn.forward(model.forward(batch.tokens), batch.labels);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1.0, model, grads);
        let _ = model
            .output
            .bias
            .as_ref()
            .map(|b| b.val().sum().into_scalar::<f32>());
        if i >= warmup {
            prepare.push(prepared);
            step.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(BatchCostReport {
        batch_size,
        vocabulary: vocab.len(),
        prepare_ms: median(&mut prepare) * 1e3,
        step_ms: median(&mut step) * 1e3,
    })
}
