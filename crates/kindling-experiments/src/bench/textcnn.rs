//! Training speed of Kim's CNN-rand on SST-2 next to the same model in PyTorch: the same
//! batches (same order, same padding to each batch's longest sentence), the same optimiser
//! (Adadelta ρ 0.95, max-norm 3), the same threads.
//!
//! kindling trains through its [`Trainer`] (batch preparation included in its time); PyTorch
//! trains on tensors built before its clock starts. Both report training sentences per second
//! and peak resident memory. The achieved GFLOP/s count the dense model's floating-point work —
//! every window of the padded batch forward, and the same again twice backward (filter and
//! word gradients) — so the two tools are credited with the same work.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use kindling_core::burn::tensor::Device;
use kindling_core::optim::OptimizerConfig;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{TrainConfig, Trainer};
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_data::tokenize::KimClean;
use kindling_data::{DataDir, OnUnknown};
use kindling_textcnn::TextCnnConfig;

use crate::tasks::sentence_classifier::kim_vocabulary;
use crate::{Error, Result};

const SCRIPT: &str = include_str!("torch_textcnn.py");

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Passes over SST-2's training sentences per tool.
    pub epochs: usize,
    /// Sentences per batch (Kim: 50).
    pub batch_size: usize,
    /// Threads for both tools.
    pub threads: usize,
    /// Seed of the batch order and both models' initialisation.
    pub seed: u64,
    /// Where the batches file goes.
    pub work_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 50,
            threads: 2,
            seed: 1,
            work_dir: PathBuf::from("target/bench-textcnn"),
        }
    }
}

/// One tool's timing.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Which tool.
    pub tool: String,
    /// Training sentences per second.
    pub sentences_per_second: f64,
    /// The dense model's floating-point work per second (see the module documentation).
    pub model_gflops: f64,
    /// The floating-point work the tool actually did per second, where it differs from the
    /// dense model's (kindling skips padding and computes only the winning windows' gradients).
    pub executed_gflops: Option<f64>,
    /// Peak resident memory of the process, MB.
    pub peak_rss_mb: f64,
}

/// The comparison and the numbers that put it in context.
#[derive(Debug, Clone)]
pub struct Report {
    /// kindling first, then PyTorch when it ran.
    pub timings: Vec<Timing>,
    /// Training sentences per epoch.
    pub sentences: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Mean padded length of a batch.
    pub mean_padded_len: f64,
    /// The CPU's peak single-precision GFLOP/s on `threads` cores (FMA units × vector width ×
    /// clock), when the clock could be read.
    pub peak_gflops: Option<f64>,
}

/// Trains CNN-rand on SST-2 with kindling on `device` and with PyTorch under `python`.
pub fn compare(
    data: &DataDir,
    device: &Device,
    python: &str,
    settings: &Settings,
) -> Result<Report> {
    let corpus = data.sst(false)?;
    let tokenizer = KimClean { lowercase: true };
    let vocab = kim_vocabulary(&corpus, &tokenizer);
    let mut train = corpus
        .train
        .iter()
        .map(|e| {
            Ok(EncodedExample {
                ids: vocab.encode_text(&tokenizer, &e.text, OnUnknown::Error)?,
                label: e.label,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // One fixed order, batched in sequence by both tools.
    SeededRng::new(settings.seed).shuffle(&mut train);
    let config = TextCnnConfig::default();
    let pad = vocab.pad_id().expect("<pad> is a special");
    let classes = corpus.labels.len();

    let batches_file = settings.work_dir.join("sst2-batches.txt");
    std::fs::create_dir_all(&settings.work_dir)
        .map_err(|e| Error::Bench(format!("creating {}: {e}", settings.work_dir.display())))?;
    let (padded_lens, text) = batches_text(
        &train,
        settings.batch_size,
        &config,
        pad,
        vocab.len(),
        classes,
    );
    std::fs::write(&batches_file, text)
        .map_err(|e| Error::Bench(format!("writing {}: {e}", batches_file.display())))?;
    let flops_per_epoch = dense_flops(&padded_lens, settings.batch_size, train.len(), &config);
    let executed_per_epoch = executed_flops(&train, &config);

    let model = try_build_seeded(device, settings.seed, || {
        config.init(vocab.len(), classes, device)
    })?;
    let mut optimizer = OptimizerConfig::kim_adadelta();
    if let OptimizerConfig::Adadelta { sparse_rows, .. } = &mut optimizer {
        *sparse_rows = true;
    }
    let train_config = TrainConfig {
        shuffle: false,
        ..TrainConfig::new(
            settings.epochs,
            settings.batch_size,
            settings.seed,
            optimizer,
        )
    };
    let batcher = SequenceBatcher::new(Padding {
        min_len: config.widest_filter(),
        ..Padding::new(pad)
    });
    let start = Instant::now();
    let trained = Trainer::new(train_config, device)?
        .with_progress(false)
        .fit(model, &batcher, &train, None)?;
    let seconds = trained.train_seconds.max(1e-9);
    eprintln!(
        "kindling: {} epochs in {seconds:.1} s ({:.1} s with setup)",
        settings.epochs,
        start.elapsed().as_secs_f64()
    );
    let total_sentences = (settings.epochs * train.len()) as f64;
    let total_flops = flops_per_epoch * settings.epochs as f64;
    let mut timings = vec![Timing {
        tool: "kindling (burn-flex)".into(),
        sentences_per_second: total_sentences / seconds,
        model_gflops: total_flops / seconds / 1e9,
        executed_gflops: Some(executed_per_epoch * settings.epochs as f64 / seconds / 1e9),
        peak_rss_mb: super::peak_rss_mb().unwrap_or(f64::NAN),
    }];

    let numbers =
        [settings.epochs, settings.threads, settings.seed as usize].map(|n| n.to_string());
    let mut args = vec![batches_file.as_os_str()];
    args.extend(numbers.iter().map(std::ffi::OsStr::new));
    if let Some(result) = super::python_json(python, SCRIPT, &args)? {
        let number = |key: &str| {
            result[key]
                .as_f64()
                .ok_or_else(|| Error::Bench(format!("PyTorch baseline reported no `{key}`")))
        };
        let seconds = number("seconds")?.max(1e-9);
        timings.push(Timing {
            tool: format!(
                "PyTorch {}",
                result["torch"].as_str().unwrap_or("(unknown version)")
            ),
            sentences_per_second: number("sentences")? / seconds,
            model_gflops: total_flops / seconds / 1e9,
            executed_gflops: None,
            peak_rss_mb: number("peak_rss_mb")?,
        });
    }
    Ok(Report {
        timings,
        sentences: train.len(),
        batches: padded_lens.len(),
        mean_padded_len: padded_lens.iter().sum::<usize>() as f64 / padded_lens.len() as f64,
        peak_gflops: peak_gflops(settings.threads),
    })
}

/// The batches as the PyTorch script reads them, and each batch's padded length (its longest
/// sentence, at least the widest filter, as kindling's batcher pads).
fn batches_text(
    train: &[EncodedExample],
    batch_size: usize,
    config: &TextCnnConfig,
    pad: u32,
    vocab: usize,
    classes: usize,
) -> (Vec<usize>, String) {
    let widths: Vec<String> = config.filter_widths.iter().map(usize::to_string).collect();
    let mut text = format!(
        "{vocab} {classes} {} {} {}\n",
        config.dim,
        config.feature_maps,
        widths.join(",")
    );
    let mut lens = Vec::new();
    for batch in train.chunks(batch_size) {
        let len = batch
            .iter()
            .map(|e| e.ids.len())
            .max()
            .unwrap_or(0)
            .max(config.widest_filter());
        lens.push(len);
        let _ = writeln!(text, "{} {len}", batch.len());
        for example in batch {
            let _ = write!(text, "{}", example.label);
            for t in 0..len {
                let _ = write!(text, " {}", example.ids.get(t).copied().unwrap_or(pad));
            }
            text.push('\n');
        }
    }
    (lens, text)
}

/// Floating-point operations of one epoch of the dense model: each width's windows over every
/// padded position forward (2 · windows · width · dim · maps per sentence), twice that backward.
fn dense_flops(
    padded_lens: &[usize],
    batch_size: usize,
    sentences: usize,
    config: &TextCnnConfig,
) -> f64 {
    padded_lens
        .iter()
        .enumerate()
        .map(|(b, &len)| {
            let in_batch = batch_size.min(sentences - b * batch_size) as f64;
            let forward: f64 = config
                .filter_widths
                .iter()
                .map(|&w| {
                    2.0 * (len + 1 - w) as f64 * (w * config.dim * config.feature_maps) as f64
                })
                .sum();
            3.0 * forward * in_batch
        })
        .sum()
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

/// Peak f32 GFLOP/s of `cores` cores from `/proc/cpuinfo`: two FMA units per core, 8 lanes
/// with AVX2 (16 with AVX-512), 2 operations per FMA, at the reported clock.
fn peak_gflops(cores: usize) -> Option<f64> {
    cpu_peak(&std::fs::read_to_string("/proc/cpuinfo").ok()?, cores)
}

fn cpu_peak(cpuinfo: &str, cores: usize) -> Option<f64> {
    let mhz: f64 = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))?
        .split(':')
        .nth(1)?
        .trim()
        .parse()
        .ok()?;
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let lanes = if has("avx512f") {
        16.0
    } else if has("avx2") && has("fma") {
        8.0
    } else {
        4.0
    };
    Some(cores as f64 * 2.0 * lanes * 2.0 * mhz / 1000.0)
}

/// The report as a Markdown table with the ratio and the fraction of peak.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "SST-2 CNN-rand (300-d, widths 3/4/5 × 100), {} sentences in {} batches, mean padded length {:.1}\n\n",
        report.sentences, report.batches, report.mean_padded_len
    );
    out.push_str(
        "| tool | sentences/s | model GFLOP/s | of peak | executed GFLOP/s | peak RSS MB |\n|---|---|---|---|---|---|\n",
    );
    for t in &report.timings {
        let of_peak = report
            .peak_gflops
            .map(|p| format!("{:.1} %", 100.0 * t.model_gflops / p))
            .unwrap_or_else(|| "–".into());
        let executed = t
            .executed_gflops
            .map(|g| format!("{g:.1}"))
            .unwrap_or_else(|| "same".into());
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.1} | {of_peak} | {executed} | {:.0} |",
            t.tool, t.sentences_per_second, t.model_gflops, t.peak_rss_mb
        );
    }
    if let Some(peak) = report.peak_gflops {
        let _ = writeln!(
            out,
            "\nmodel GFLOP/s: the dense model's work (every padded window, forward and backward) \
             per second, counted the same for both tools; peak of this CPU on these threads: \
             {peak:.1} GFLOP/s"
        );
    }
    if let [ours, theirs, ..] = report.timings.as_slice() {
        let _ = writeln!(
            out,
            "kindling vs {}: {:.2}x the training speed",
            theirs.tool,
            ours.sentences_per_second / theirs.sentences_per_second
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_comes_from_clock_and_vector_width() {
        let avx2 = "cpu MHz\t\t: 2500.000\nflags\t\t: sse2 avx2 fma\n";
        assert_eq!(cpu_peak(avx2, 2), Some(160.0));
        let avx512 = "cpu MHz\t: 2000\nflags\t: avx2 fma avx512f\n";
        assert_eq!(cpu_peak(avx512, 1), Some(128.0));
        assert_eq!(cpu_peak("flags: avx2", 2), None);
    }

    #[test]
    fn batches_are_padded_to_their_longest_sentence() {
        let train: Vec<EncodedExample> = [vec![4, 5], vec![6, 7, 8, 9, 10, 11], vec![3]]
            .into_iter()
            .map(|ids| EncodedExample { ids, label: 1 })
            .collect();
        let config = TextCnnConfig::default();
        let (lens, text) = batches_text(&train, 2, &config, 0, 12, 2);
        assert_eq!(lens, [6, 5]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "12 2 300 100 3,4,5");
        assert_eq!(lines[1], "2 6");
        assert_eq!(lines[2], "1 4 5 0 0 0 0");
        assert_eq!(lines[4], "1 5");
        assert_eq!(lines[5], "1 3 0 0 0 0");
        // One sentence of 6 (windows 4, 3, 2) + one of 5 (3, 2, 1), both ×3 for backward.
        let flops = dense_flops(&lens, 2, 3, &config);
        let per = |len: usize| -> f64 {
            [3usize, 4, 5]
                .iter()
                .map(|&w| 2.0 * (len + 1 - w) as f64 * (w * 300 * 100) as f64)
                .sum()
        };
        assert_eq!(flops, 3.0 * (2.0 * per(6) + per(5)));
    }
}
