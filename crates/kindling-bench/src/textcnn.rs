//! Training speed of Kim's CNN-rand on SST-2 next to the same model in PyTorch.
//!
//! Both tools compute the same function from the same starting point on the same batches:
//!
//! - **batches**: the trainer's length-bucketed batches (each drawn from a pool of sentences
//!   of similar length, padded to its longest sentence, at least the widest filter), in the
//!   trainer's order for each epoch, replayed for PyTorch;
//! - **model**: Kim's edge padding (the widest filter minus one zero vectors on each side of
//!   every sentence), windows that reach past a sentence's edge padding masked out of the
//!   max over time, a zero, frozen padding row on the PyTorch side (`padding_idx`), ReLU,
//!   dropout 0.5, max-norm 3 on the output layer, Adadelta (ρ 0.95, ε 10⁻⁶);
//! - **weights**: kindling initialises the model and hands its parameters to PyTorch
//!   ([`super::start_weights`]), the filter bank split into one `Conv1d` per width.
//!
//! kindling trains through its [`Trainer`] (batch preparation included in its time); PyTorch
//! trains on tensors built before its clock starts. Each side reports training sentences per
//! second, dev and test accuracy after the benchmark epochs, peak resident memory, and the
//! floating-point work it executed per second: PyTorch convolves every window of its padded
//! batches (forward, and twice that backward for the filter and word gradients); kindling
//! multiplies each real word by all filter taps once forward and back-propagates only each
//! feature map's winning window. The share of peak is against the fastest large matrix product
//! burn-flex runs on this machine, measured in the same run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use kindling_core::burn::tensor::{Device, Distribution, Tensor};
use kindling_core::optim::OptimizerConfig;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{Batcher, TrainConfig, Trainer, evaluate};
use kindling_data::DataDir;
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_textcnn::{FilterBank, TextCnnConfig};

use super::sst2::{Sst2, batches_text, padded_len};
use super::start_weights::{self, Parameter, TorchName, TorchTensor, renamed};
use serde::Serialize;

use crate::{Error, Result};

const SCRIPT: &str = concat!(
    include_str!("torch_common.py"),
    include_str!("torch_textcnn.py")
);

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Passes over SST-2's training sentences per tool.
    pub epochs: usize,
    /// Sentences per batch (Kim: 50).
    pub batch_size: usize,
    /// Threads for both tools.
    pub threads: usize,
    /// Seeds, one comparison each: the batch order, the shared initialisation and each tool's
    /// dropout.
    pub seeds: Vec<u64>,
    /// Where the batches and starting weights go.
    pub work_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 50,
            threads: 2,
            seeds: vec![1],
            work_dir: PathBuf::from("target/bench-textcnn"),
        }
    }
}

/// One tool's run.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// Which tool.
    pub tool: String,
    /// Training sentences per second.
    pub sentences_per_second: f64,
    /// Seconds of training.
    pub seconds: f64,
    /// The floating-point work this tool executed per second (see the module documentation).
    pub executed_gflops: f64,
    /// Dev accuracy after the benchmark epochs.
    pub dev_accuracy: f64,
    /// Test accuracy after the benchmark epochs.
    pub test_accuracy: f64,
    /// Peak resident memory of the process, MB.
    pub peak_rss_mb: f64,
}

/// One seed's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// kindling first, then PyTorch when it ran.
    pub timings: Vec<Timing>,
}

/// The comparison and the numbers that put it in context.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One comparison per seed, in the order of [`Settings::seeds`].
    pub runs: Vec<SeedRun>,
    /// Training sentences per epoch.
    pub sentences: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Mean sentence length in words.
    pub mean_len: f64,
    /// Mean padded length of a batch (its longest sentence, at least the widest filter).
    pub mean_padded_len: f64,
    /// The fastest large matrix product on burn-flex, GFLOP/s.
    pub gemm_gflops: f64,
    /// Settings used.
    pub settings: Settings,
}

/// Trains CNN-rand on SST-2 with kindling on `device` and with PyTorch under `python`.
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
    let sst2 = Sst2::load(data)?;
    let mut runs = Vec::with_capacity(settings.seeds.len());
    let mut padded_lens = Vec::new();
    for &seed in &settings.seeds {
        let (timings, lens) = run_seed(&sst2, device, python, settings, seed)?;
        runs.push(SeedRun { seed, timings });
        padded_lens = lens;
    }
    let train = &sst2.train;
    Ok(Report {
        runs,
        sentences: train.len(),
        batches: padded_lens.len(),
        mean_len: train.iter().map(|e| e.ids.len()).sum::<usize>() as f64 / train.len() as f64,
        mean_padded_len: padded_lens.iter().sum::<usize>() as f64 / padded_lens.len().max(1) as f64,
        gemm_gflops: gemm_gflops(device),
        settings: settings.clone(),
    })
}

/// Both tools on one seed: their timings, and the padded lengths of the first epoch's batches.
fn run_seed(
    sst2: &Sst2,
    device: &Device,
    python: &str,
    settings: &Settings,
    seed: u64,
) -> Result<(Vec<Timing>, Vec<usize>)> {
    let (train, dev, test) = (&sst2.train, &sst2.dev, &sst2.test);
    let (vocab_size, classes, pad) = (sst2.vocab.len(), sst2.classes, sst2.pad());
    let config = TextCnnConfig::default();
    let batcher = SequenceBatcher {
        bucket_pool: Some(20),
        ..SequenceBatcher::new(Padding {
            min_len: config.widest_filter(),
            ..Padding::new(pad)
        })
    };
    // The trainer's plans, replayed: one seeded generator across epochs, as the trainer keeps.
    let mut rng = SeededRng::new(seed);
    let plans: Vec<Vec<Vec<usize>>> = (0..settings.epochs)
        .map(|_| batcher.plan(train, settings.batch_size, Some(&mut rng)))
        .collect();
    let bank = FilterBank::new(
        config.filter_widths.clone(),
        config.feature_maps,
        config.edge_padding(),
    )?;
    let header = format!(
        "{vocab_size} {classes} {} {} {} {pad} {} {}",
        config.dim,
        config.feature_maps,
        join(&config.filter_widths),
        bank.edge_padding(),
        config.widest_filter()
    );
    let batches_file = settings.work_dir.join("sst2-batches.txt");
    super::write_text(
        &batches_file,
        &batches_text(&header, train, &plans, dev, test),
    )?;
    let padded_lens: Vec<Vec<usize>> = plans
        .iter()
        .map(|plan| {
            plan.iter()
                .map(|batch| padded_len(train, batch, config.widest_filter()))
                .collect()
        })
        .collect();
    let torch_flops: f64 = plans
        .iter()
        .zip(&padded_lens)
        .map(|(plan, lens)| {
            plan.iter()
                .zip(lens)
                .map(|(batch, &len)| convolved_flops(batch.len(), len, &bank, config.dim))
                .sum::<f64>()
        })
        .sum();
    let kindling_flops = executed_flops(train, &config) * settings.epochs as f64;

    let model = try_build_seeded(device, seed, || config.init(vocab_size, classes, device))?;
    let start = settings.work_dir.join("cnn-start");
    start_weights::write(&model, &settings.work_dir, "cnn-start", |p| {
        torch_cnn_tensors(p, &bank, config.dim)
    })?;
    let mut optimizer = OptimizerConfig::kim_adadelta();
    if let OptimizerConfig::Adadelta { sparse_rows, .. } = &mut optimizer {
        *sparse_rows = true;
    }
    let train_config = TrainConfig::new(settings.epochs, settings.batch_size, seed, optimizer);
    let started = Instant::now();
    let trained = Trainer::new(train_config, device)?
        .with_progress(false)
        .fit(model, &batcher, train, None)?;
    let seconds = trained.train_seconds.max(1e-9);
    eprintln!(
        "seed {seed}: kindling {} epochs in {seconds:.1} s ({:.1} s with setup)",
        settings.epochs,
        started.elapsed().as_secs_f64()
    );
    let accuracy = |examples: &[EncodedExample]| -> Result<f64> {
        let scores = evaluate(&trained.model, &batcher, examples, 100, device)?;
        Ok(scores
            .metric(kindling_core::metrics::Metric::Accuracy)
            .unwrap_or(f64::NAN))
    };
    let total_sentences = (settings.epochs * train.len()) as f64;
    let mut timings = vec![Timing {
        tool: "kindling (burn-flex)".into(),
        sentences_per_second: total_sentences / seconds,
        seconds,
        executed_gflops: kindling_flops / seconds / 1e9,
        dev_accuracy: accuracy(dev)?,
        test_accuracy: accuracy(test)?,
        peak_rss_mb: super::peak_rss_mb().unwrap_or(f64::NAN),
    }];

    let numbers = [settings.epochs, settings.threads, seed as usize].map(|n| n.to_string());
    let mut args = vec![batches_file.as_os_str()];
    args.extend(numbers.iter().map(std::ffi::OsStr::new));
    args.push(start.as_os_str());
    if let Some(result) = super::python_json(python, SCRIPT, &args)? {
        let number = |key: &str| super::torch_number(&result, key);
        let seconds = number("seconds")?.max(1e-9);
        timings.push(Timing {
            tool: super::torch_tool(&result),
            sentences_per_second: number("sentences")? / seconds,
            seconds,
            executed_gflops: torch_flops / seconds / 1e9,
            dev_accuracy: number("dev_accuracy")?,
            test_accuracy: number("test_accuracy")?,
            peak_rss_mb: number("peak_rss_mb")?,
        });
    }
    let first_epoch = padded_lens.into_iter().next().unwrap_or_default();
    Ok((timings, first_epoch))
}

fn join(values: &[usize]) -> String {
    values
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Floating-point operations of one training step of a convolution over every window of a
/// batch of `sentences` padded to `len` words plus the bank's edge padding on both sides:
/// `2 · windows · width · dim · maps` per sentence and width forward, and twice that backward
/// (filter gradients and word gradients).
fn convolved_flops(sentences: usize, len: usize, bank: &FilterBank, dim: usize) -> f64 {
    let padded = len + 2 * bank.edge_padding();
    let forward: f64 = bank
        .widths()
        .iter()
        .map(|&w| 2.0 * (padded + 1 - w) as f64 * (w * dim * bank.maps()) as f64)
        .sum();
    3.0 * forward * sentences as f64
}

/// Floating-point operations of one epoch as kindling computes it on the CPU: one product of
/// the sentences' words (no padding) with all taps forward, and backward at most one window
/// per feature map, its `width` words, for the filters and again for the words.
fn executed_flops(train: &[EncodedExample], config: &TextCnnConfig) -> f64 {
    let taps: usize = config.filter_widths.iter().sum();
    let (dim, maps) = (config.dim as f64, config.feature_maps as f64);
    let words: usize = train.iter().map(|e| e.ids.len()).sum();
    let forward = 2.0 * words as f64 * dim * (taps as f64 * maps);
    let backward = 2.0 * 2.0 * train.len() as f64 * taps as f64 * maps * dim;
    forward + backward
}

/// CNN-rand's parameters as the PyTorch model names them: the filter bank (`[dim, taps ·
/// maps]`, column `tap · maps + map`) split into one `convs.K.weight` (`[maps, dim, width]`)
/// and `convs.K.bias` per width; the embedding and output layer renamed.
pub fn torch_cnn_tensors(
    parameter: &Parameter,
    bank: &FilterBank,
    dim: usize,
) -> Option<Vec<TorchTensor>> {
    let maps = bank.maps();
    match parameter.path.as_str() {
        "filters" => Some(
            bank.blocks()
                .map(|block| {
                    let mut values = Vec::with_capacity(maps * dim * block.width);
                    for map in 0..maps {
                        for d in 0..dim {
                            for tap in 0..block.width {
                                let column = (block.first_tap + tap) * maps + map;
                                values.push(parameter.values[d * bank.taps() * maps + column]);
                            }
                        }
                    }
                    TorchTensor {
                        name: format!("convs.{}.weight", block.index),
                        shape: vec![maps, dim, block.width],
                        values,
                    }
                })
                .collect(),
        ),
        "biases" => Some(
            bank.blocks()
                .map(|block| TorchTensor {
                    name: format!("convs.{}.bias", block.index),
                    shape: vec![maps],
                    values: parameter.values[block.index * maps..(block.index + 1) * maps].to_vec(),
                })
                .collect(),
        ),
        _ => renamed(parameter, |path| {
            let (name, transpose) = match path {
                "embedding.Single.weight" => ("embedding.weight", false),
                "head.output.weight" => ("output.weight", true),
                "head.output.bias" => ("output.bias", false),
                _ => return None,
            };
            Some(TorchName {
                name: name.into(),
                transpose,
            })
        }),
    }
}

/// The fastest of a few `[2048, 2048] × [2048, 2048]` products on `device`, GFLOP/s: the
/// practical peak of burn-flex's matrix kernels on this machine (the clock a virtual machine
/// reports is its base clock, so a peak computed from it can be beaten).
fn gemm_gflops(device: &Device) -> f64 {
    let n = 2048;
    let a = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let b = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        let product = a.clone().matmul(b.clone());
        let _ = product.into_data();
        best = best.min(started.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// The report as Markdown: each tool's means over the seeds (± standard deviation of the
/// accuracies), the ratio and the share of the measured peak; then every seed's numbers.
pub fn render(report: &Report) -> String {
    let seeds: Vec<String> = report.runs.iter().map(|r| r.seed.to_string()).collect();
    let mut out = format!(
        "SST-2 CNN-rand (300-d, widths 3/4/5 × 100), {} epochs of {} sentences in {} length-bucketed batches: mean sentence {:.1} words, mean padded batch length {:.1}; both tools start from the same weights; mean over seeds {}, ± standard deviation\n\n",
        report.settings.epochs,
        report.sentences,
        report.batches,
        report.mean_len,
        report.mean_padded_len,
        seeds.join(", ")
    );
    out.push_str(
        "| tool | sentences/s | × PyTorch | train s | dev acc % | test acc % | executed GFLOP/s | of gemm peak | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let Some(first) = report.runs.first() else {
        return out;
    };
    let column = |tool: usize, pick: fn(&Timing) -> f64| -> Vec<f64> {
        report
            .runs
            .iter()
            .filter_map(|run| run.timings.get(tool).map(pick))
            .collect()
    };
    let mean = |values: Vec<f64>| super::mean_sd(&values).0;
    let percent = |values: Vec<f64>| super::show_spread(&values, |v| format!("{:.2}", 100.0 * v));
    let torch = first
        .timings
        .iter()
        .position(|t| t.tool.starts_with("PyTorch"));
    for (index, t) in first.timings.iter().enumerate() {
        let rate = mean(column(index, |t| t.sentences_per_second));
        let ratio = torch.map_or("–".to_string(), |p| {
            format!("{:.2}", rate / mean(column(p, |t| t.sentences_per_second)))
        });
        let gflops = mean(column(index, |t| t.executed_gflops));
        let _ = writeln!(
            out,
            "| {} | {rate:.0} | {ratio} | {:.1} | {} | {} | {gflops:.1} | {:.1} % | {:.0} |",
            t.tool,
            mean(column(index, |t| t.seconds)),
            percent(column(index, |t| t.dev_accuracy)),
            percent(column(index, |t| t.test_accuracy)),
            100.0 * gflops / report.gemm_gflops,
            column(index, |t| t.peak_rss_mb)
                .into_iter()
                .fold(f64::NAN, f64::max)
        );
    }
    if report.runs.len() > 1 {
        out.push_str(
            "\n| seed | tool | sentences/s | × PyTorch | dev acc % | test acc % |\n|---|---|---|---|---|---|\n",
        );
        for run in &report.runs {
            let torch = run.timings.iter().find(|t| t.tool.starts_with("PyTorch"));
            for t in &run.timings {
                let ratio = torch.map_or("–".to_string(), |p| {
                    format!("{:.2}", t.sentences_per_second / p.sentences_per_second)
                });
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {ratio} | {:.2} | {:.2} |",
                    run.seed,
                    t.tool,
                    t.sentences_per_second,
                    100.0 * t.dev_accuracy,
                    100.0 * t.test_accuracy
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\nexecuted GFLOP/s: the work each tool did per second — PyTorch convolves every window of its padded batches, kindling multiplies the real words by the filters once and back-propagates each feature map's winning window only; gemm peak: the fastest [2048, 2048] product on burn-flex in this run, {:.0} GFLOP/s",
        report.gemm_gflops
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convolution_work_counts_every_window_of_the_edge_padded_batch() {
        let bank = FilterBank::new(vec![2, 3], 4, 2).unwrap();
        // 6 words + 2 · 2 edge: 9 windows of width 2, 8 of width 3; ×3 for backward.
        let forward = 2.0 * (9.0 * 2.0 + 8.0 * 3.0) * 10.0 * 4.0;
        assert_eq!(convolved_flops(5, 6, &bank, 10), 3.0 * forward * 5.0);
    }

    #[test]
    fn filter_bank_splits_into_one_convolution_per_width() {
        let bank = FilterBank::new(vec![1, 2], 2, 1).unwrap();
        let (dim, taps, maps) = (2, 3, 2);
        // Value = 100 · d + 10 · tap + map, at [d, tap · maps + map].
        let values: Vec<f32> = (0..dim * taps * maps)
            .map(|i| {
                let (d, column) = (i / (taps * maps), i % (taps * maps));
                (100 * d + 10 * (column / maps) + column % maps) as f32
            })
            .collect();
        let filters = Parameter {
            path: "filters".into(),
            shape: vec![dim, taps * maps],
            values,
        };
        let tensors = torch_cnn_tensors(&filters, &bank, dim).unwrap();
        assert_eq!(tensors[0].name, "convs.0.weight");
        assert_eq!(tensors[0].shape, [2, 2, 1]);
        // [map, d, tap]: width 1 is tap 0.
        assert_eq!(tensors[0].values, [0.0, 100.0, 1.0, 101.0]);
        assert_eq!(tensors[1].shape, [2, 2, 2]);
        // width 2 is taps 1 and 2.
        assert_eq!(
            tensors[1].values,
            [10.0, 20.0, 110.0, 120.0, 11.0, 21.0, 111.0, 121.0]
        );
        let biases = Parameter {
            path: "biases".into(),
            shape: vec![4],
            values: vec![1.0, 2.0, 3.0, 4.0],
        };
        let tensors = torch_cnn_tensors(&biases, &bank, dim).unwrap();
        assert_eq!(tensors[1].name, "convs.1.bias");
        assert_eq!(tensors[1].values, [3.0, 4.0]);
        let unknown = Parameter {
            path: "other".into(),
            shape: vec![1],
            values: vec![0.0],
        };
        assert!(torch_cnn_tensors(&unknown, &bank, dim).is_none());
    }
}
