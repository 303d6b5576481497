//! Training speed of the recurrent models next to the same models in PyTorch, with the same
//! data in the same order:
//!
//! - the BiLSTM-max sentence classifier on SST-2 (random 300-d vectors, 150 units each way,
//!   dropout 0.5, Adam 10⁻³, batch 50): both tools get the same length-bucketed batches; kindling
//!   masks padded steps, PyTorch packs the batches (`pack_padded_sequence`); both execute the
//!   LSTM on real tokens only;
//! - the 2 × 200 LSTM language model on the Brown corpus (batch 20, BPTT 35, dropout 0.5, SGD
//!   at 20, gradients clipped to norm 0.25): the same streams cut into the same windows, the
//!   state carried across windows, the LSTM initialised as PyTorch does (`LstmInit::Pytorch`).
//!
//! Both tools start from the same weights: kindling initialises each model and writes its
//! parameters for the PyTorch side ([`super::start_weights`]), so the two runs differ only in
//! arithmetic and in their dropout draws. Every seed in [`Settings::seeds`] repeats both
//! comparisons (its own batch order, initialisation and dropout); the report gives the mean
//! and spread over seeds, since one language-model run at SGD rate 20 moves by several points
//! of perplexity with rounding alone.
//!
//! Each side reports training tokens per second (the training loop only: kindling's trainer
//! time includes batch preparation, PyTorch's loop starts from tensors built before its clock),
//! the quality after the benchmark epochs (dev and test accuracy; dev and test perplexity),
//! and peak resident memory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kindling_core::burn::tensor::Device;
use kindling_core::optim::{GradientClip, OptimizerConfig};
use kindling_core::schedule::Goal;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{Batcher, TrainConfig, Trainer, evaluate};
use kindling_data::DataDir;
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_data::bptt::{BpttBatcher, bptt_windows};
use kindling_rnn::{
    CellKind, EncoderConfig, LanguageModelConfig, LstmInit, Pooling, RnnClassifierConfig,
};

use super::sst2::{Sst2, batches_text, padded_len};
use super::start_weights::{self, renamed, renaming};
use super::{torch_number as number, torch_tool, write_text};
use kindling_rnn::streams::TokenStreams;
use serde::Serialize;

use crate::{Error, Result};

const SCRIPT: &str = concat!(
    include_str!("torch_common.py"),
    include_str!("torch_rnn.py")
);

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Passes over SST-2's training sentences per tool.
    pub classifier_epochs: usize,
    /// Passes over the Brown training stream per tool.
    pub lm_epochs: usize,
    /// Threads for PyTorch (kindling uses the machine's cores; run on a machine with this
    /// many).
    pub threads: usize,
    /// Seeds, one full comparison each: the batch order, the (shared) initialisation and
    /// each tool's dropout draws.
    pub seeds: Vec<u64>,
    /// Where the data files for PyTorch go.
    pub work_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            classifier_epochs: 3,
            lm_epochs: 1,
            threads: 2,
            seeds: vec![1],
            work_dir: PathBuf::from("target/bench-rnn"),
        }
    }
}

/// One tool on one model.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Which tool.
    pub tool: String,
    /// Training tokens per second.
    pub tokens_per_second: f64,
    /// Seconds of training.
    pub seconds: f64,
    /// Dev accuracy or perplexity after the benchmark epochs.
    pub dev: f64,
    /// Test accuracy or perplexity after the benchmark epochs.
    pub test: f64,
    /// Peak resident memory of the process, MB.
    pub peak_rss_mb: f64,
}

/// Both models, both tools, one seed.
#[derive(Debug, Clone, Serialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// The classifier: kindling, then PyTorch when it ran.
    pub classifier: Vec<Side>,
    /// The language model: kindling, then PyTorch when it ran.
    pub lm: Vec<Side>,
}

/// Both models, both tools, every seed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One comparison per seed, in the order of [`Settings::seeds`].
    pub runs: Vec<SeedRun>,
    /// Real tokens per classifier epoch.
    pub classifier_tokens: usize,
    /// Padded positions per classifier epoch (batch size × longest sentence, summed).
    pub classifier_padded: usize,
    /// Training tokens per language-model epoch.
    pub lm_tokens: usize,
    /// Language-model vocabulary size.
    pub lm_vocab: usize,
    /// Settings used.
    pub settings: Settings,
}

/// Runs both comparisons.
///
/// # Errors
/// Missing data, write failures, or a PyTorch script that fails.
pub fn compare(
    data: &DataDir,
    device: &Device,
    python: &str,
    settings: &Settings,
) -> Result<Report> {
    std::fs::create_dir_all(&settings.work_dir)
        .map_err(|e| Error::Bench(format!("creating {}: {e}", settings.work_dir.display())))?;
    if settings.seeds.is_empty() {
        return Err(Error::Bench("no seeds to run".into()));
    }
    // Every classifier run before any language-model run: peak memory is the process's
    // high-water mark, so the classifier's would otherwise include the language model's.
    let (mut classifier_tokens, mut classifier_padded, mut lm_tokens, mut lm_vocab) = (0, 0, 0, 0);
    let sst2 = Sst2::load(data)?;
    let mut classifiers = Vec::with_capacity(settings.seeds.len());
    for &seed in &settings.seeds {
        let (sides, tokens, padded) = classifier(&sst2, device, python, settings, seed)?;
        (classifier_tokens, classifier_padded) = (tokens, padded);
        classifiers.push(sides);
    }
    let mut runs = Vec::with_capacity(settings.seeds.len());
    for (&seed, classifier) in settings.seeds.iter().zip(classifiers) {
        let (lm, tokens, vocab) = language_model(data, device, python, settings, seed)?;
        (lm_tokens, lm_vocab) = (tokens, vocab);
        runs.push(SeedRun {
            seed,
            classifier,
            lm,
        });
    }
    Ok(Report {
        runs,
        classifier_tokens,
        classifier_padded,
        lm_tokens,
        lm_vocab,
        settings: settings.clone(),
    })
}

fn adam() -> OptimizerConfig {
    OptimizerConfig::adam(0.001)
}

/// The PyTorch side's JSON, or `None` when Python could not be started. `start` names the
/// starting weights ([`start_weights::write`]'s `dir/NAME`, without extension).
fn torch(
    python: &str,
    mode: &str,
    file: &Path,
    start: &Path,
    epochs: usize,
    settings: &Settings,
    seed: u64,
) -> Result<Option<serde_json::Value>> {
    let numbers = [epochs, settings.threads, seed as usize].map(|n| n.to_string());
    let mut args = vec![std::ffi::OsStr::new(mode), file.as_os_str()];
    args.extend(numbers.iter().map(std::ffi::OsStr::new));
    args.push(start.as_os_str());
    super::python_json(python, SCRIPT, &args)
}

fn torch_side(result: &serde_json::Value, dev: &str, test: &str) -> Result<Side> {
    let seconds = number(result, "seconds")?.max(1e-9);
    Ok(Side {
        tool: torch_tool(result),
        tokens_per_second: number(result, "tokens")? / seconds,
        seconds,
        dev: number(result, dev)?,
        test: number(result, test)?,
        peak_rss_mb: number(result, "peak_rss_mb")?,
    })
}

fn classifier(
    sst2: &Sst2,
    device: &Device,
    python: &str,
    settings: &Settings,
    seed: u64,
) -> Result<(Vec<Side>, usize, usize)> {
    let (train, dev, test) = (&sst2.train, &sst2.dev, &sst2.test);
    let (vocab, classes) = (&sst2.vocab, sst2.classes);
    let (batch_size, dim, hidden) = (50, 300, 150);
    let config = RnnClassifierConfig::new(
        dim,
        EncoderConfig::new(CellKind::Lstm, hidden).with_bidirectional(true),
    )
    .with_pooling(Pooling::Max);
    let batcher = SequenceBatcher {
        bucket_pool: Some(20),
        ..SequenceBatcher::new(Padding {
            min_len: 1,
            ..Padding::new(sst2.pad())
        })
    };

    // The trainer's plans, replayed: one seeded generator across epochs, as the trainer keeps.
    let mut rng = SeededRng::new(seed);
    let plans: Vec<Vec<Vec<usize>>> = (0..settings.classifier_epochs)
        .map(|_| batcher.plan(train, batch_size, Some(&mut rng)))
        .collect();
    let header = format!("{} {classes} {dim} {hidden}", vocab.len());
    let text = batches_text(&header, train, &plans, dev, test);
    let padded: usize = plans[0]
        .iter()
        .map(|batch| batch.len() * padded_len(train, batch, 1))
        .sum();
    let file = settings.work_dir.join("sst2-batches.txt");
    write_text(&file, &text)?;
    let tokens: usize = train.iter().map(|e| e.ids.len()).sum();

    let model = try_build_seeded(device, seed, || config.init(vocab.len(), classes, device))?;
    let start = settings.work_dir.join("bilstm-start");
    start_weights::write(&model, &settings.work_dir, "bilstm-start", |p| {
        renamed(
            p,
            renaming(
                "encoder.Lstm.cells",
                "lstm",
                2,
                &[
                    ("embedding.Single.weight", "embedding.weight", false),
                    ("head.output.weight", "output.weight", true),
                    ("head.output.bias", "output.bias", false),
                ],
            ),
        )
    })?;
    let train_config = TrainConfig::new(settings.classifier_epochs, batch_size, seed, adam());
    let trained = Trainer::new(train_config, device)?
        .with_progress(false)
        .fit(model, &batcher, train, None)?;
    let seconds = trained.train_seconds.max(1e-9);
    let accuracy = |examples: &[EncodedExample]| -> Result<f64> {
        let scores = evaluate(&trained.model, &batcher, examples, 100, device)?;
        Ok(scores
            .metric(kindling_core::metrics::Metric::Accuracy)
            .unwrap_or(f64::NAN))
    };
    let mut sides = vec![Side {
        tool: "kindling (burn-flex)".into(),
        tokens_per_second: (tokens * settings.classifier_epochs) as f64 / seconds,
        seconds,
        dev: accuracy(dev)?,
        test: accuracy(test)?,
        peak_rss_mb: super::peak_rss_mb().unwrap_or(f64::NAN),
    }];
    eprintln!("seed {seed}: kindling classifier {seconds:.1} s");
    if let Some(result) = torch(
        python,
        "classifier",
        &file,
        &start,
        settings.classifier_epochs,
        settings,
        seed,
    )? {
        sides.push(torch_side(&result, "dev_accuracy", "test_accuracy")?);
    }
    Ok((sides, tokens, padded))
}

fn language_model(
    data: &DataDir,
    device: &Device,
    python: &str,
    settings: &Settings,
    seed: u64,
) -> Result<(Vec<Side>, usize, usize)> {
    let streams = TokenStreams::brown(data, 1, 2, None)?;
    let (rows, bptt, eval_rows) = (20, 35, 10);
    let (lr, clip, dropout) = (20.0, 0.25, 0.5);
    // PyTorch's initialisation, the one its `word_language_model` example trains from.
    let config = LanguageModelConfig::new(200, 200)
        .with_layers(2)
        .with_dropout(dropout)
        .with_lstm_init(LstmInit::Pytorch);
    let mut text = format!(
        "{} {} {} {} {rows} {bptt} {eval_rows}\n{lr} {clip} {dropout}\n",
        streams.vocab.len(),
        config.dim,
        config.hidden,
        config.layers
    );
    for stream in [&streams.train, &streams.dev, &streams.test] {
        let ids: Vec<String> = stream.iter().map(u32::to_string).collect();
        let _ = writeln!(text, "{}", ids.join(" "));
    }
    let file = settings.work_dir.join("brown-streams.txt");
    write_text(&file, &text)?;

    let train = bptt_windows(&streams.train, rows, bptt);
    let tokens: usize = train.iter().map(|w| w.rows * w.steps).sum();
    let model = try_build_seeded(device, seed, || config.init(streams.vocab.len(), device))?;
    let start = settings.work_dir.join("lm-start");
    start_weights::write(&model, &settings.work_dir, "lm-start", |p| {
        renamed(
            p,
            renaming(
                "lstm.cells",
                "lstm",
                1,
                &[
                    ("embedding", "embedding.weight", false),
                    ("output_weight", "decoder.weight", true),
                    ("output_bias", "decoder.bias", false),
                ],
            ),
        )
    })?;
    let sgd: OptimizerConfig =
        serde_json::from_value(serde_json::json!({ "kind": "sgd", "lr": lr }))
            .expect("a valid SGD config");
    let train_config = TrainConfig {
        clip: Some(GradientClip::GlobalNorm { max_norm: clip }),
        monitor: kindling_core::metrics::Metric::Perplexity,
        goal: Goal::Min,
        ..TrainConfig::new(settings.lm_epochs, rows, seed, sgd)
    };
    let trained = Trainer::new(train_config, device)?
        .with_progress(false)
        .fit(model, &BpttBatcher, &train, None)?;
    let seconds = trained.train_seconds.max(1e-9);
    let perplexity = |stream: &[u32]| -> Result<f64> {
        let windows = bptt_windows(stream, eval_rows, bptt);
        // Four windows per batch: 140 steps × 10 rows of scores (137 MB) at a time; the state
        // is carried between batches, so the perplexity does not depend on this.
        let scores = evaluate(&trained.model, &BpttBatcher, &windows, 4, device)?;
        Ok(scores
            .metric(kindling_core::metrics::Metric::Perplexity)
            .unwrap_or(f64::NAN))
    };
    let mut sides = vec![Side {
        tool: "kindling (burn-flex)".into(),
        tokens_per_second: (tokens * settings.lm_epochs) as f64 / seconds,
        seconds,
        dev: perplexity(&streams.dev)?,
        test: perplexity(&streams.test)?,
        peak_rss_mb: super::peak_rss_mb().unwrap_or(f64::NAN),
    }];
    eprintln!("seed {seed}: kindling language model {seconds:.1} s");
    if let Some(result) = torch(
        python,
        "lm",
        &file,
        &start,
        settings.lm_epochs,
        settings,
        seed,
    )? {
        sides.push(torch_side(&result, "dev_perplexity", "test_perplexity")?);
    }
    Ok((sides, tokens, streams.vocab.len()))
}

/// One model's tables: each tool's means over the seeds, then every seed's numbers.
/// `per_seed` holds each seed's sides, in the same tool order for every seed.
fn model_tables(
    out: &mut String,
    title: &str,
    per_seed: &[(u64, &[Side])],
    quality: &str,
    percent: bool,
) {
    let show = |v: f64| {
        if percent {
            format!("{:.2}", 100.0 * v)
        } else {
            format!("{v:.1}")
        }
    };
    let spread = |values: &[f64]| super::show_spread(values, show);
    let Some((_, first)) = per_seed.first() else {
        return;
    };
    let column = |tool: usize, pick: fn(&Side) -> f64| -> Vec<f64> {
        per_seed
            .iter()
            .filter_map(|(_, sides)| sides.get(tool).map(pick))
            .collect()
    };
    let torch = first.iter().position(|x| x.tool.starts_with("PyTorch"));
    let mean_rate = |tool: usize| super::mean_sd(&column(tool, |x| x.tokens_per_second)).0;
    let _ = writeln!(
        out,
        "{title}; mean over {} seed(s), ± standard deviation\n\n| tool | tokens/s | × PyTorch | train s | dev {quality} | test {quality} | peak RSS MB |\n|---|---|---|---|---|---|---|",
        per_seed.len()
    );
    for (index, side) in first.iter().enumerate() {
        let ratio = torch.map_or("–".to_string(), |t| {
            format!("{:.2}", mean_rate(index) / mean_rate(t))
        });
        let _ = writeln!(
            out,
            "| {} | {:.0} | {ratio} | {:.1} | {} | {} | {:.0} |",
            side.tool,
            mean_rate(index),
            super::mean_sd(&column(index, |x| x.seconds)).0,
            spread(&column(index, |x| x.dev)),
            spread(&column(index, |x| x.test)),
            column(index, |x| x.peak_rss_mb)
                .into_iter()
                .fold(f64::NAN, f64::max),
        );
    }
    if per_seed.len() > 1 {
        let _ = writeln!(
            out,
            "\n| seed | tool | tokens/s | × PyTorch | dev {quality} | test {quality} |\n|---|---|---|---|---|---|"
        );
        for (seed, sides) in per_seed {
            let torch = sides.iter().find(|x| x.tool.starts_with("PyTorch"));
            for side in *sides {
                let ratio = torch.map_or("–".to_string(), |t| {
                    format!("{:.2}", side.tokens_per_second / t.tokens_per_second)
                });
                let _ = writeln!(
                    out,
                    "| {seed} | {} | {:.0} | {ratio} | {} | {} |",
                    side.tool,
                    side.tokens_per_second,
                    show(side.dev),
                    show(side.test)
                );
            }
        }
    }
    out.push('\n');
}

/// The report as Markdown tables with ratios against PyTorch.
pub fn render(report: &Report) -> String {
    let s = &report.settings;
    let mut out = String::new();
    let classifier: Vec<(u64, &[Side])> = report
        .runs
        .iter()
        .map(|r| (r.seed, r.classifier.as_slice()))
        .collect();
    let lm: Vec<(u64, &[Side])> = report
        .runs
        .iter()
        .map(|r| (r.seed, r.lm.as_slice()))
        .collect();
    model_tables(
        &mut out,
        &format!(
            "BiLSTM-max classifier, SST-2, {} epochs ({} real tokens per epoch in {} padded positions: {:.1} % padding, executed by neither tool's LSTM)",
            s.classifier_epochs,
            report.classifier_tokens,
            report.classifier_padded,
            100.0
                * (1.0 - report.classifier_tokens as f64 / report.classifier_padded.max(1) as f64)
        ),
        &classifier,
        "acc %",
        true,
    );
    model_tables(
        &mut out,
        &format!(
            "2 × 200 LSTM language model, Brown, {} epoch(s) ({} training tokens per epoch, vocabulary {})",
            s.lm_epochs, report.lm_tokens, report.lm_vocab
        ),
        &lm,
        "perplexity",
        false,
    );
    let _ = writeln!(
        out,
        "Both tools started each seed from the same weights and ran with the same allocator settings (`GLIBC_TUNABLES={}`: freed memory is kept for reuse, not unmapped).",
        kindling_core::memory::GLIBC_TUNABLES
    );
    out
}
